package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// staffRoutes are the staff pages (issue 17). Every page but the sign-in's needs a session.
func (s *Server) staffRoutes(e *echo.Echo) {
	e.GET("/staff/sign-in", s.signInForm)
	e.POST("/staff/sign-in", s.askSignIn, limitBody(PublicReportMaxBody))
	e.GET("/staff/sign-in/:token", s.signInLinkPage)
	e.POST("/staff/sign-in/:token", s.useSignInLink, limitBody(PublicReportMaxBody))
	g := e.Group("/staff", s.requireStaff)
	g.GET("", s.staffHome)
	g.POST("/sign-out", s.signOut)
	g.POST("/tasks/open", s.openStaffTask)
	g.GET("/requests/:id", s.staffRequest)
	g.POST("/requests/:id/withdraw", s.withdrawRequest)
	g.GET("/new/:kind", s.newRequestForm)
	g.POST("/new/:kind", s.fileRequest)
}

type taskRow struct {
	ID, Title, Kind, ProcessID, Due string
	Overdue                         bool
}

type requestRow struct {
	ID, Kind, Stage, Status, Summary, Created string
	Closed                                    bool
}

type formLink struct{ Kind, Label string }

type homeData struct {
	Tasks    []taskRow
	Requests []requestRow
	Forms    []formLink
}

// staffKinds are the requests the staff pages file, in the order the home page offers them.
var staffKinds = []string{models.KindIncident, models.KindException, models.KindOutsourcingReview, models.KindCloudAssessment}

// staffHome lists the person's open tasks, their requests, and the forms they may use.
func (s *Server) staffHome(c echo.Context) error {
	ss := sessionOf(c)
	ctx := c.Request().Context()
	lang, me := ss.Person.Locale, ss.Person.EmployeeID
	now := s.now()
	tasks, err := s.Store.OpenTasksOf(ctx, me, now)
	if err != nil {
		return s.storeErr(err)
	}
	var d homeData
	ids := make([]string, 0, len(tasks))
	for _, t := range tasks {
		ids = append(ids, t.ProcessID)
	}
	procs, err := s.Store.ProcessesByID(ctx, ids)
	if err != nil {
		return s.storeErr(err)
	}
	for _, t := range tasks {
		d.Tasks = append(d.Tasks, taskRow{ID: t.ID, Title: activities.Text{Ja: t.TitleJa, En: t.TitleEn}.In(lang),
			Kind: activities.KindLabel(procs[t.ProcessID].Kind, lang), ProcessID: t.ProcessID,
			Due: activities.FormatTime(t.DueAt, s.Loc), Overdue: now.After(t.DueAt)})
	}
	ps, err := s.Store.ProcessesOf(ctx, me, 100)
	if err != nil {
		return s.storeErr(err)
	}
	for _, p := range ps {
		summary := ""
		if p.RequesterID == me {
			summary = p.Summary
		} else if steps, err := s.Store.StepsOf(ctx, p.ID, me); err == nil {
			for _, st := range steps {
				if v := visibleSummary(p, st); v != "" {
					summary = v
				}
			}
		}
		d.Requests = append(d.Requests, requestRow{ID: p.ID, Kind: activities.KindLabel(p.Kind, lang),
			Stage: activities.StageLabel(p.Stage, lang), Status: activities.StatusLabel(p.Status, lang),
			Summary: summary, Created: activities.FormatTime(p.CreatedAt, s.Loc), Closed: p.ClosedAt != nil})
	}
	for _, k := range staffKinds {
		if policy.MayStart(k, ss.Person.RoleNames()) {
			d.Forms = append(d.Forms, formLink{Kind: k, Label: activities.KindLabel(k, lang)})
		}
	}
	v := ss.view(pick(lang, "職員用ページ", "Staff pages"))
	v.Data = d
	if n := c.QueryParam("filed"); n != "" && validID(n) {
		v.Notice = pick(lang, "申請を受け付けました: ", "Your request was filed: ") + n
	}
	return s.staffPage(c, http.StatusOK, "home", v)
}

// openStaffTask opens one of the person's open tasks on the same page its mailed link
// opens: a fresh link of theirs to it, only if they hold one already. Nothing new decides.
func (s *Server) openStaffTask(c echo.Context) error {
	ss := sessionOf(c)
	ctx := c.Request().Context()
	// Task IDs hold slashes, so the ID comes as a form field.
	id := c.Request().PostFormValue("task")
	lang, me := ss.Person.Locale, ss.Person.EmployeeID
	notYours := func() error {
		return s.staffPage(c, http.StatusNotFound, "message", staffView{Lang: lang, Name: ss.Person.Name,
			Title: pick(lang, "この件は開けません", "This task cannot be opened"),
			Error: pick(lang, "あなたの未処理の件ではないか、既に終わっています。", "It is not one of your open tasks, or it has closed."), Data: "/staff"})
	}
	if id == "" || len(id) > 191 {
		return notYours()
	}
	t, _, err := s.Store.TaskWithProcess(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return notYours()
	} else if err != nil {
		return s.storeErr(err)
	}
	holds, err := s.Store.HoldsTaskLink(ctx, id, me)
	if err != nil {
		return s.storeErr(err)
	}
	if !holds || t.Status != models.TaskOpen || !s.now().Before(t.ExpiresAt) {
		return notYours()
	}
	token, hash, err := activities.NewToken()
	if err != nil {
		return err
	}
	if err := s.Store.AddTaskLink(ctx, models.TaskLink{TokenHash: hash, TaskID: id, PersonID: me,
		NotificationKey: "staff-page/" + id + "/" + me, CreatedAt: s.now()}); err != nil {
		return s.storeErr(err)
	}
	return c.Redirect(http.StatusSeeOther, "/tasks/"+token)
}

type waitRow struct{ Step, Who, Due string }

type decisionRow struct{ Step, Choice, Who, At string }

type requestData struct {
	ID, Kind, Stage, Status, Created, Closed, Summary string
	Details                                           []labelled
	Waiting                                           []waitRow
	Decisions                                         []decisionRow
	CanWithdraw                                       bool
	Reason                                            string
}

// staffRequest shows one of the person's processes: its stage, whom it waits for and until
// when, the decisions so far, and of the request what their part in it lets them see
// (policy.Visible, as on task pages). Another process is not found.
func (s *Server) staffRequest(c echo.Context) error {
	ss := sessionOf(c)
	d, status, err := s.requestData(c, ss)
	if err != nil {
		return err
	}
	lang := ss.Person.Locale
	if status != http.StatusOK {
		return s.staffPage(c, status, "message", staffView{Lang: lang, Name: ss.Person.Name,
			Title: pick(lang, "見つかりません", "Not found"), Error: pick(lang, "あなたの申請又は関わった手続ではありません。", "This is not a request of yours or a process you take part in."), Data: "/staff"})
	}
	v := ss.view(d.Kind + " " + d.ID)
	v.Data = d
	return s.staffPage(c, http.StatusOK, "request", v)
}

func (s *Server) requestData(c echo.Context, ss staffSession) (requestData, int, error) {
	ctx := c.Request().Context()
	lang, me := ss.Person.Locale, ss.Person.EmployeeID
	id := c.Param("id")
	if !validID(id) {
		return requestData{}, http.StatusNotFound, nil
	}
	det, err := s.Store.ProcessDetail(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return requestData{}, http.StatusNotFound, nil
	} else if err != nil {
		return requestData{}, 0, s.storeErr(err)
	}
	p := det.Process
	steps, err := s.Store.StepsOf(ctx, id, me)
	if err != nil {
		return requestData{}, 0, s.storeErr(err)
	}
	mine := p.RequesterID == me
	if !mine && len(steps) == 0 {
		return requestData{}, http.StatusNotFound, nil
	}
	if mine {
		// The requester sees their request as they see it when asked to revise it.
		steps = append(steps, "requester_revision")
	}
	ids := []string{p.RequesterID}
	for _, t := range det.Tasks {
		ids = append(ids, t.AssigneeID)
	}
	for _, x := range det.Decisions {
		ids = append(ids, x.DeciderID)
	}
	people, err := s.Store.Recipients(ctx, ids)
	if err != nil {
		return requestData{}, 0, s.storeErr(err)
	}
	d := requestData{ID: p.ID, Kind: activities.KindLabel(p.Kind, lang),
		Stage: activities.StageLabel(p.Stage, lang), Status: activities.StatusLabel(p.Status, lang),
		Created:     activities.FormatTime(p.CreatedAt, s.Loc),
		CanWithdraw: mine && p.ClosedAt == nil && policy.Withdrawable(p.Kind, p.Status)}
	if p.ClosedAt != nil {
		d.Closed = activities.FormatTime(*p.ClosedAt, s.Loc)
	}
	if mine {
		// The summary is made of the fields the requester gave: theirs to see.
		d.Summary = p.Summary
	}
	seen := map[string]bool{}
	for _, st := range steps {
		if v := visibleSummary(p, st); v != "" {
			d.Summary = v
		}
		for _, l := range details(p, st, people, lang) {
			if !seen[l.Label] {
				seen[l.Label] = true
				d.Details = append(d.Details, l)
			}
		}
	}
	slices.SortStableFunc(d.Details, func(a, b labelled) int { return labelOrder(a.Label, lang) - labelOrder(b.Label, lang) })
	title := map[string]string{}
	for _, t := range det.Tasks {
		title[t.ID] = activities.Text{Ja: t.TitleJa, En: t.TitleEn}.In(lang)
		if t.Status == models.TaskOpen {
			who := people[t.AssigneeID].Name
			if who == "" {
				who = t.AssigneeID
			}
			d.Waiting = append(d.Waiting, waitRow{Step: title[t.ID], Who: who, Due: activities.FormatTime(t.DueAt, s.Loc)})
		}
	}
	for _, x := range det.Decisions {
		who := people[x.DeciderID].Name
		if who == "" {
			who = x.DeciderID
		}
		d.Decisions = append(d.Decisions, decisionRow{Step: title[x.TaskID], Choice: activities.ChoiceLabel(x.Choice, lang),
			Who: who, At: activities.FormatTime(x.DecidedAt, s.Loc)})
	}
	return d, http.StatusOK, nil
}

func labelOrder(label, lang string) int {
	for i, f := range fieldLabels {
		if pick(lang, f.ja, f.en) == label {
			return i
		}
	}
	return len(fieldLabels)
}

// withdrawRequest withdraws the person's own running request, with a reason, through the
// same cancellation as the API's POST /processes/{id}/cancel. Only a kind that may be
// withdrawn (policy.Withdrawable), only by its requester, only while it runs.
func (s *Server) withdrawRequest(c echo.Context) error {
	ss := sessionOf(c)
	ctx := c.Request().Context()
	lang := ss.Person.Locale
	d, status, err := s.requestData(c, ss)
	if err != nil {
		return err
	}
	if status != http.StatusOK || !d.CanWithdraw {
		return s.staffPage(c, http.StatusConflict, "message", staffView{Lang: lang, Name: ss.Person.Name,
			Title: pick(lang, "取り下げられません", "This cannot be withdrawn"),
			Error: pick(lang, "取り下げられるのは、あなたの申請で、まだ決定されていないものだけです。何も変更していません。",
				"Only a request of yours that is not decided yet can be withdrawn. Nothing was changed."), Data: "/staff"})
	}
	reason := strings.TrimSpace(c.Request().PostFormValue("reason"))
	f := fieldErrors{}
	f.text("reason", reason, true, 1000)
	if len(f) > 0 {
		v := ss.view(d.Kind + " " + d.ID)
		v.Error = pick(lang, "取り下げる理由を入力してください（1000字以内）。", "Please give a reason for withdrawing (at most 1000 characters).")
		v.Data = d
		return s.staffPage(c, http.StatusBadRequest, "request", v)
	}
	p, err := s.Store.Process(ctx, d.ID)
	if err != nil {
		return s.storeErr(err)
	}
	if _, err := s.cancelRunning(ctx, p, reason, ss.Person.EmployeeID); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return s.staffPage(c, e.Status, "message", staffView{Lang: lang, Name: ss.Person.Name,
				Title: pick(lang, "取り下げられませんでした", "The request was not withdrawn"),
				Error: pick(lang, "手続が既に終わっているか、ただいま取り下げられません。しばらくしてからもう一度お試しください。",
					"The process has ended, or it cannot be withdrawn right now. Please try again in a few minutes."), Data: "/staff/requests/" + d.ID})
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff/requests/"+d.ID)
}
