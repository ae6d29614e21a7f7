package api

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

// MaxAbsence is the longest absence the town registers (its own limit): a longer one is a
// change of post, for the directory (PUT /people), not an absence.
const MaxAbsence = 366 * 24 * time.Hour

// maxAbsenceReason is the longest reason, in characters.
const maxAbsenceReason = 1000

// absenceBody is an absence as POST /people/{employee_id}/absences and the link page take
// it. from and to are RFC 3339 instants with an offset, or dates (YYYY-MM-DD in the town's
// zone): from the start of the first day, to the end of the last.
type absenceBody struct {
	From     string `json:"from"`
	To       string `json:"to"`
	DeputyID string `json:"deputy_id,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// absenceJSON is an absence as the API answers it.
type absenceJSON struct {
	ID           uint       `json:"id"`
	EmployeeID   string     `json:"employee_id"`
	From         time.Time  `json:"from"`
	To           time.Time  `json:"to"`
	DeputyID     string     `json:"deputy_id"`
	Status       string     `json:"status"`
	Reason       string     `json:"reason,omitempty"`
	RegisteredBy string     `json:"registered_by,omitempty"`
	RegisteredAt *time.Time `json:"registered_at,omitempty"`
	CancelledAt  *time.Time `json:"cancelled_at,omitempty"`
}

func (s *Server) absenceJSON(a models.Absence) absenceJSON {
	out := absenceJSON{ID: a.ID, EmployeeID: a.EmployeeID, From: a.From.In(s.Loc), To: a.To.In(s.Loc), DeputyID: a.DeputyID,
		Status: a.StatusAt(s.now()), Reason: a.Reason, RegisteredBy: a.RegisteredBy}
	if !a.CreatedAt.IsZero() {
		at := a.CreatedAt.In(s.Loc)
		out.RegisteredAt = &at
	}
	if a.CancelledAt != nil {
		at := a.CancelledAt.In(s.Loc)
		out.CancelledAt = &at
	}
	return out
}

// absenceTime reads from or to: an RFC 3339 instant with an offset, or a date meaning the
// start of that day (from) or the end of it (to, exclusive: the next midnight) in the town's
// zone.
func (s *Server) absenceTime(v string, end bool) (time.Time, bool) {
	if len(v) == len(policy.DateLayout) {
		d, err := policy.ParseDate(v, s.Loc)
		if err != nil {
			return time.Time{}, false
		}
		if end {
			return policy.NewCalendar(s.Loc).EndOfDay(d), true
		}
		return d, true
	}
	t, err := time.Parse(time.RFC3339, v)
	return t, err == nil
}

// checkAbsence validates an absence of employeeID: the request's shape (400), the person
// (404), then the town's rules (422). It changes nothing.
func (s *Server) checkAbsence(ctx context.Context, employeeID string, b absenceBody) (models.Absence, models.Person, error) {
	f := fieldErrors{}
	from, okFrom := s.absenceTime(strings.TrimSpace(b.From), false)
	to, okTo := s.absenceTime(strings.TrimSpace(b.To), true)
	f.check(okFrom, "from", "must be an RFC 3339 time with an offset or a date (YYYY-MM-DD)")
	f.check(okTo, "to", "must be an RFC 3339 time with an offset or a date (YYYY-MM-DD)")
	b.DeputyID = strings.TrimSpace(b.DeputyID)
	if b.DeputyID != "" {
		f.id("deputy_id", b.DeputyID)
	}
	f.text("reason", b.Reason, false, maxAbsenceReason)
	if err := f.err(); err != nil {
		return models.Absence{}, models.Person{}, err
	}
	p, err := s.Store.Person(ctx, employeeID)
	if errors.Is(err, models.ErrNotFound) {
		return models.Absence{}, p, apiError("not_found", "no person "+employeeID+" in the directory")
	} else if err != nil {
		return models.Absence{}, p, s.storeErr(err)
	}
	rule := fieldErrors{}
	rule.check(p.Status == models.StatusEmployed, "employee_id", "is not employed (status "+p.Status+"): only staff in post are absent")
	rule.check(to.After(from), "to", "must be after from")
	rule.check(to.Sub(from) <= MaxAbsence, "to", "an absence may last at most 366 days; a longer one is a change of post (PUT /people)")
	rule.check(to.After(s.now()), "to", "is past: the absence has already ended")
	if b.DeputyID != "" {
		d, err := s.Store.Person(ctx, b.DeputyID)
		switch {
		case b.DeputyID == employeeID:
			rule.check(false, "deputy_id", "must be someone else")
		case errors.Is(err, models.ErrNotFound):
			rule.check(false, "deputy_id", "unknown employee_id")
		case err != nil:
			return models.Absence{}, p, s.storeErr(err)
		case d.Status != models.StatusEmployed:
			rule.check(false, "deputy_id", "is not employed (status "+d.Status+")")
		case d.HasRole(string(policy.RoleVendor)):
			rule.check(false, "deputy_id", "is a vendor's person, who cannot stand in for the town's staff")
		}
	}
	if len(rule) > 0 {
		return models.Absence{}, p, &Error{Status: http.StatusUnprocessableEntity, Code: "policy_violation",
			Message: "the absence cannot be registered: " + describeFields(rule), Fields: rule}
	}
	return models.Absence{EmployeeID: employeeID, From: from.UTC(), To: to.UTC(), DeputyID: b.DeputyID,
		Reason: strings.TrimSpace(b.Reason)}, p, nil
}

// registerAbsence stores a checked absence and starts its workflow (AbsenceWorkflow), which
// hands the person's open tasks over when it starts. If the workflow cannot be started the
// absence is removed again and the caller gets 503: nothing changes.
func (s *Server) registerAbsence(ctx context.Context, a *models.Absence, p models.Person) error {
	if err := s.Store.CreateAbsence(ctx, a); err != nil {
		return s.storeErr(err)
	}
	id := workflows.AbsenceWorkflowID(a.ID)
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: workflows.TaskQueue,
		// The ID is the register's absence ID, never reused; a run that holds it anyway
		// belongs to an absence the register no longer has (a database restored from a
		// backup), so it gives way.
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING,
		StaticSummary:            fmt.Sprintf("Absence %d of %s", a.ID, a.EmployeeID),
		StaticDetails: fmt.Sprintf("**Absence** (issue 12) of `%s`, from %s until %s: the open tasks of `%s` are handed over when it starts, "+
			"and the processes are told when it ends. Deputy and reason are in the register.",
			a.EmployeeID, activities.FormatTime(a.From, s.Loc), activities.FormatTime(a.To, s.Loc), a.EmployeeID),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.ProcessKind.ValueSet(workflows.KindAbsence), workflows.Department.ValueSet(p.DepartmentID)),
	}, workflows.AbsenceWorkflow, workflows.AbsenceInput{AbsenceID: a.ID, EmployeeID: a.EmployeeID, From: a.From.In(s.Loc), To: a.To.In(s.Loc)})
	if err != nil {
		s.Log.Warn("start absence workflow failed", "absence", a.ID, "err", err)
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if derr := s.Store.DeleteAbsence(cleanup, a.ID); derr != nil {
			s.Log.Error("remove absence whose workflow did not start", "absence", a.ID, "err", derr)
		}
		return errUnavailable
	}
	return nil
}

// postAbsence registers an absence of a person (scope directory).
func (s *Server) postAbsence(c echo.Context) error {
	var b absenceBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	a, p, err := s.checkAbsence(ctx, c.Param("employee_id"), b)
	if err != nil {
		return err
	}
	a.RegisteredBy = "token:" + callerOf(c).Name
	if err := s.registerAbsence(ctx, &a, p); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s.absenceJSON(a))
}

// listAbsences lists a person's absences, the latest to start first (scope directory or
// auditor).
func (s *Server) listAbsences(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("employee_id")
	if _, err := s.Store.Person(ctx, id); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return apiError("not_found", "no person "+id+" in the directory")
		}
		return s.storeErr(err)
	}
	as, err := s.Store.Absences(ctx, id)
	if err != nil {
		return s.storeErr(err)
	}
	items := make([]absenceJSON, 0, len(as))
	for _, a := range as {
		items = append(items, s.absenceJSON(a))
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// deleteAbsence withdraws an absence that has not ended (scope directory). The register
// marks it withdrawn first, so that a process told by the cancelled workflow that the
// absence ended reads it so; then its workflow is cancelled. If Temporal is unreachable the
// withdrawal is undone and the caller gets 503: nothing changes. Withdrawing one already
// withdrawn answers the same.
func (s *Server) deleteAbsence(c echo.Context) error {
	ctx := c.Request().Context()
	employeeID := c.Param("employee_id")
	n, err := strconv.ParseUint(c.Param("absence_id"), 10, 32)
	if err != nil || n == 0 {
		return apiError("not_found", "no such absence")
	}
	a, err := s.Store.PersonAbsence(ctx, employeeID, uint(n))
	if errors.Is(err, models.ErrNotFound) {
		return apiError("not_found", "no absence "+c.Param("absence_id")+" of "+employeeID)
	} else if err != nil {
		return s.storeErr(err)
	}
	if a.CancelledAt != nil {
		return c.JSON(http.StatusOK, s.absenceJSON(a))
	}
	if !s.now().Before(a.To) {
		return apiError("conflict", "the absence has ended; it stays in the register as it was")
	}
	withdrawn, err := s.Store.CancelAbsence(ctx, employeeID, a.ID, s.now().UTC())
	if err != nil {
		return s.storeErr(err)
	}
	err = s.Temporal.CancelWorkflow(ctx, workflows.AbsenceWorkflowID(a.ID), "")
	var gone *serviceerror.NotFound
	if err != nil && !errors.As(err, &gone) {
		s.Log.Warn("cancel absence workflow failed", "absence", a.ID, "err", err)
		undo, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if rerr := s.Store.RestoreAbsence(undo, employeeID, a.ID); rerr != nil {
			s.Log.Error("undo the withdrawal of an absence whose workflow runs on", "absence", a.ID, "err", rerr)
		}
		return errUnavailable
	}
	return c.JSON(http.StatusOK, s.absenceJSON(withdrawn))
}

// ---- the link holder's own page ----

var absenceTemplate = template.Must(template.ParseFS(pageFiles, "pages/absence.html"))

// absenceWords are the fixed words of the absence page.
type absenceWords struct {
	Heading, Intro, From, To, Deputy, DeputyHint, Reason, Submit, Registered, Current, Back, YouAre, Footer string
}

var absenceText = map[string]absenceWords{
	"ja": {
		Heading: "不在の登録", Intro: "不在の期間を登録すると、その間に届く判断の依頼は、認められる場合に代理の方へ回ります。不在が始まった時点で未処理の依頼も引き継がれます。",
		From: "初日", To: "最終日", Deputy: "代理の方の職員番号（任意）", DeputyHint: "空欄の場合は町の代決規程が定める方に回ります。",
		Reason: "理由（任意）", Submit: "登録する", Registered: "不在を登録しました", Current: "登録済みの不在",
		Back: "依頼のページに戻る", YouAre: "このリンクの持ち主:", Footer: "情報セキュリティポリシー運用",
	},
	"en": {
		Heading: "Register an absence", Intro: "While you are away, requests that reach you go to a deputy where one may stand in. Requests still open when your absence starts are handed over too.",
		From: "First day", To: "Last day", Deputy: "Deputy's employee ID (optional)", DeputyHint: "If empty, the town's delegation rules name the deputy.",
		Reason: "Reason (optional)", Submit: "Register", Registered: "Your absence is registered", Current: "Absences registered",
		Back: "Back to the request", YouAre: "This link belongs to", Footer: "information-security policy processes",
	},
}

// absenceView is what the absence page shows.
type absenceView struct {
	Lang, Error, Back, You string
	W                      absenceWords
	Done                   *absenceLine
	Form                   absenceBody
	Absences               []absenceLine
}

// absenceLine is one registered absence on the page.
type absenceLine struct {
	From, To, Deputy, Status string
}

// absenceStatusText names an absence's status on the page.
var absenceStatusText = map[string][2]string{
	models.AbsenceUpcoming: {"予定", "upcoming"}, models.AbsenceInForce: {"不在中", "in force"},
}

func (s *Server) absenceLine(a models.Absence, lang string) absenceLine {
	st := absenceStatusText[a.StatusAt(s.now())]
	return absenceLine{From: activities.FormatTime(a.From, s.Loc), To: activities.FormatTime(a.To, s.Loc), Deputy: a.DeputyID, Status: pick(lang, st[0], st[1])}
}

// openAbsenceLink resolves the link for the absence page: it must be valid, not handed over,
// and its task open; its holder must be staff in the directory. It returns the holder and
// the page's language.
func (s *Server) openAbsenceLink(c echo.Context) (models.Person, string, error) {
	l, t, _, err := s.openLink(c)
	if err != nil {
		return models.Person{}, "ja", err
	}
	ctx := c.Request().Context()
	people, err := s.Store.Recipients(ctx, []string{l.PersonID})
	if err != nil {
		return models.Person{}, "ja", s.storeErr(err)
	}
	holder := people[l.PersonID]
	lang := pick(holder.Locale, "ja", "en")
	if l.RevokedAt != nil {
		return holder, lang, apiError("gone", pick(lang, "このリンクは使用できなくなりました。", "this link no longer works"))
	}
	if t.Status != models.TaskOpen || !s.now().Before(t.ExpiresAt) {
		return holder, lang, s.closedErr(ctx, t, lang)
	}
	if models.IsContactID(l.PersonID) || holder.EmployeeID == "" {
		return holder, lang, apiError("forbidden", pick(lang, "不在の登録は町の職員のみ行えます。", "only the town's staff register absences"))
	}
	return holder, lang, nil
}

// absencePage shows the link holder a form to register an absence. Like the task page it
// changes nothing (mail scanners fetch links), and it needs no JavaScript.
func (s *Server) absencePage(c echo.Context) error {
	holder, lang, err := s.openAbsenceLink(c)
	if err != nil {
		return s.pageError(c, err, lang)
	}
	return s.renderAbsence(c, http.StatusOK, s.absenceView(c, holder, lang, absenceBody{}, ""))
}

// postAbsencePage registers an absence for the link's holder. The link is not used up: it
// still decides its task.
func (s *Server) postAbsencePage(c echo.Context) error {
	holder, lang, err := s.openAbsenceLink(c)
	if err != nil {
		return s.pageError(c, err, lang)
	}
	ctx := c.Request().Context()
	r := c.Request()
	b := absenceBody{From: r.PostFormValue("from"), To: r.PostFormValue("to"), DeputyID: r.PostFormValue("deputy_id"), Reason: r.PostFormValue("reason")}
	a, _, err := s.checkAbsence(ctx, holder.EmployeeID, b)
	if err == nil {
		a.RegisteredBy = "link:" + holder.EmployeeID
		err = s.registerAbsence(ctx, &a, holder)
	}
	var e *Error
	if err != nil && errors.As(err, &e) && (e.Status == http.StatusBadRequest || e.Status == http.StatusUnprocessableEntity) && !wantsJSON(c) {
		msg := pick(lang, "入力内容を確認してください: ", "Please check what you entered: ") + describeFields(e.Fields)
		return s.renderAbsence(c, e.Status, s.absenceView(c, holder, lang, b, msg))
	}
	if err != nil {
		return s.pageError(c, err, lang)
	}
	if wantsJSON(c) {
		return c.JSON(http.StatusCreated, s.absenceJSON(a))
	}
	v := s.absenceView(c, holder, lang, absenceBody{}, "")
	done := s.absenceLine(a, lang)
	v.Done = &done
	return s.renderAbsence(c, http.StatusCreated, v)
}

func (s *Server) absenceView(c echo.Context, holder models.Person, lang string, form absenceBody, errText string) absenceView {
	v := absenceView{Lang: lang, W: absenceText[lang], Error: errText, Form: form, You: holder.Name,
		Back: "../" + c.Param("token")}
	as, err := s.Store.Absences(c.Request().Context(), holder.EmployeeID)
	if err != nil {
		s.Log.Warn("read absences for the absence page", "err", err)
	}
	for _, a := range as {
		if st := a.StatusAt(s.now()); st == models.AbsenceUpcoming || st == models.AbsenceInForce {
			v.Absences = append(v.Absences, s.absenceLine(a, lang))
		}
	}
	return v
}

func (s *Server) renderAbsence(c echo.Context, status int, v absenceView) error {
	var b strings.Builder
	if err := absenceTemplate.Execute(&b, v); err != nil {
		return fmt.Errorf("render the absence page: %w", err)
	}
	return c.HTML(status, b.String())
}
