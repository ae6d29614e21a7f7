package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

// openLink resolves a task link. An unknown or altered token is 404; the token's shape is
// checked first so that garbage never reaches the database.
func (s *Server) openLink(c echo.Context) (models.TaskLink, models.Task, models.Process, error) {
	token := c.Param("token")
	if len(token) != 43 || strings.Trim(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return models.TaskLink{}, models.Task{}, models.Process{}, errLinkNotFound
	}
	l, t, p, err := s.Store.TaskLinkByHash(c.Request().Context(), activities.HashToken(token))
	if errors.Is(err, models.ErrNotFound) {
		return l, t, p, errLinkNotFound
	}
	if err != nil {
		return l, t, p, s.storeErr(err)
	}
	c.Set(logProcessKey, p.ID)
	return l, t, p, nil
}

var errLinkNotFound = apiError("not_found", "this link is not valid: check that it was copied whole")

// closedErr explains why a task no longer takes decisions: who decided what and when, or
// that it expired or was cancelled (410).
func (s *Server) closedErr(ctx context.Context, t models.Task, lang string) error {
	if t.Status == models.TaskDecided || t.Status == models.TaskOpen {
		d, err := s.Store.DecisionOn(ctx, t.ID)
		if err == nil {
			names, _ := s.Store.Recipients(ctx, []string{d.DeciderID})
			who := names[d.DeciderID].Name
			if who == "" {
				who = d.DeciderID
			}
			return apiError("gone", pick(lang,
				"既に記録済みです: "+activities.ChoiceLabel(d.Choice, lang)+"（"+who+"、"+activities.FormatTime(d.DecidedAt, s.Loc)+"）",
				"already recorded: "+d.Choice+" by "+who+" at "+activities.FormatTime(d.DecidedAt, s.Loc)))
		}
	}
	if t.Status == models.TaskCancelled {
		return apiError("gone", pick(lang, "この手続は取り消されたため、リンクは無効です。", "this process was cancelled; the link no longer works"))
	}
	return apiError("gone", pick(lang, "このリンクは期限切れです（期限 "+activities.FormatTime(t.ExpiresAt, s.Loc)+"）。",
		"this link has expired (it was valid until "+activities.FormatTime(t.ExpiresAt, s.Loc)+")"))
}

func pick(lang, ja, en string) string {
	if lang == "en" {
		return en
	}
	return ja
}

// openLinkWithPeople resolves a task link and the people its page names: the link's holder
// (whose locale the page speaks), the assignee and the requester.
func (s *Server) openLinkWithPeople(c echo.Context) (models.TaskLink, models.Task, models.Process, map[string]models.Person, error) {
	l, t, p, err := s.openLink(c)
	if err != nil {
		return l, t, p, nil, err
	}
	people, err := s.Store.Recipients(c.Request().Context(), []string{l.PersonID, t.AssigneeID, p.RequesterID})
	if err != nil {
		return l, t, p, nil, s.storeErr(err)
	}
	return l, t, p, people, nil
}

// taskPage shows what is asked, of whom, by when, with the choices. It changes nothing:
// mail scanners and link previews fetch every URL in a mail (TASK-ENGINE.md invariant 1).
func (s *Server) taskPage(c echo.Context) error {
	l, t, p, people, err := s.openLinkWithPeople(c)
	if err != nil {
		return s.pageError(c, err, "ja")
	}
	ctx := c.Request().Context()
	lang := people[l.PersonID].Locale
	if l.RevokedAt != nil {
		return s.pageError(c, revokedErr(l, t, people, lang), lang)
	}
	if t.Status != models.TaskOpen || !s.now().Before(t.ExpiresAt) {
		return s.pageError(c, s.closedErr(ctx, t, lang), lang)
	}
	if err := s.mayDecide(ctx, l, t, people, lang); err != nil {
		return s.pageError(c, err, lang)
	}
	form := taskForm(t)
	returned, ret := s.returnOf(ctx, t, lang)
	var current map[string]string
	if revises(form) {
		current = startValues(p, form, ret)
	} else {
		current = s.previousRecord(ctx, t, form)
	}
	if wantsJSON(c) {
		body := map[string]any{"task_id": t.ID, "step": t.Step, "title": t.TitleEn, "title_ja": t.TitleJa,
			"process_id": p.ID, "kind": p.Kind, "summary": visibleSummary(p, t.Step), "choices": t.ChoiceList(), "due_at": t.DueAt.In(s.Loc),
			"expires_at": t.ExpiresAt.In(s.Loc), "assignee_id": t.AssigneeID, "you": l.PersonID, "form": form}
		if returned != nil {
			body["returned"] = map[string]any{"by": returned.By, "at": returned.At, "comment": returned.Comment, "clauses": returned.Clauses}
		}
		if current != nil {
			body["values"] = current
		}
		return c.JSON(http.StatusOK, body)
	}
	v := s.taskView(t, p, l, people, lang, "")
	v.Returned, v.Values = returned, current
	v.Details = append(v.Details, s.revisionDetails(ctx, p, t.Step, lang)...)
	return s.render(c, http.StatusOK, v)
}

// decide records the decision a link's holder POSTs. The workflow validates and accepts it
// through an Update whose ID is the task's ID; the answer comes only once it has.
func (s *Server) decide(c echo.Context) error {
	if s.DecisionKeys == nil {
		return errors.New("api: Server.DecisionKeys is not set: decisions cannot be signed")
	}
	l, t, p, people, err := s.openLinkWithPeople(c)
	if err != nil {
		return s.pageError(c, err, "ja")
	}
	ctx := c.Request().Context()
	lang := people[l.PersonID].Locale
	// Only the body counts: a decision never rides in a URL.
	choice, comment := c.Request().PostFormValue("decision"), c.Request().PostFormValue("comment")
	if l.RevokedAt != nil {
		return s.pageError(c, revokedErr(l, t, people, lang), lang)
	}
	if t.Status == models.TaskDecided {
		if d, ok := s.recordedRetry(ctx, t, l.PersonID, choice); ok {
			// This person was told "try again" and their decision went through meanwhile.
			return s.recorded(c, t, p, l, people, lang, d.Choice, d.DecidedAt)
		}
	}
	if t.Status != models.TaskOpen || !s.now().Before(t.ExpiresAt) {
		return s.pageError(c, s.closedErr(ctx, t, lang), lang)
	}
	if err := s.mayDecide(ctx, l, t, people, lang); err != nil {
		return s.pageError(c, err, lang)
	}
	f := fieldErrors{}
	f.check(contains(t.ChoiceList(), choice), "decision", "must be one of "+strings.Join(t.ChoiceList(), ", "))
	f.check(utf8.ValidString(comment), "comment", "must be valid UTF-8")
	f.text("comment", comment, false, 4000)
	form := taskForm(t)
	values := map[string]string{}
	for _, field := range form {
		if v := strings.TrimSpace(c.Request().PostFormValue(field.Name)); v != "" {
			values[field.Name] = v
		}
	}
	for name, msg := range activities.CheckDecision(form, choice, values) {
		f.check(false, name, msg)
	}
	for name, msg := range activities.CheckChoice(form, choice, values) {
		f.check(false, name, msg)
	}
	// The page posts decision, comment and the task's form fields, nothing else: another
	// field is a mistake of the client, refused with its name rather than dropped.
	known := map[string]bool{"decision": true, "comment": true}
	for _, field := range form {
		known[field.Name] = true
	}
	r := c.Request()
	for name := range r.PostForm {
		f.check(known[name], name, "is not a field of this form")
	}
	if r.MultipartForm != nil {
		for name := range r.MultipartForm.File {
			f.check(false, name, "is not a field of this form")
		}
	}
	// A resubmission of a returned request is checked as its filing is (issue 14).
	var bounds error
	if len(f) == 0 {
		var rf fieldErrors
		if rf, bounds = s.checkRevision(ctx, t, p, form, choice, values); bounds == nil {
			for name, msg := range rf {
				f.check(false, name, msg)
			}
		}
	}
	if len(f) > 0 || bounds != nil {
		status, message := http.StatusBadRequest, pick(lang, "入力内容を確認してください: ", "Please check what you entered: ")+describeFields(f)
		var e *Error
		if errors.As(bounds, &e) {
			if wantsJSON(c) {
				return e
			}
			status, message, f = e.Status, e.Message, e.Fields
		} else if bounds != nil {
			return s.pageError(c, bounds, lang)
		} else if wantsJSON(c) {
			return invalid(f)
		}
		v := s.taskView(t, p, l, people, lang, message)
		v.Values, v.FieldErrors = values, f
		var ret *activities.Return
		v.Returned, ret = s.returnOf(ctx, t, lang)
		if revises(form) {
			// What was posted over what the form started from: nothing typed is lost.
			v.Values = startValues(p, form, ret)
			for _, field := range form {
				if field.EmptyClears {
					delete(v.Values, field.Name) // emptied on purpose: it stays empty
				}
			}
			for k, x := range values {
				v.Values[k] = x
			}
		}
		return s.render(c, status, v)
	}
	valuesJSON := ""
	if len(values) > 0 {
		b, _ := json.Marshal(values)
		valuesJSON = string(b)
	}
	req := models.DecisionRequest{RequestID: newRequestID(), TaskID: t.ID, Choice: choice, DeciderID: l.PersonID,
		Comment: strings.TrimSpace(comment), ClientIP: c.RealIP(), UserAgent: truncate(c.Request().UserAgent(), 500), Values: valuesJSON}
	if err := s.Store.SaveDecisionRequest(ctx, req); err != nil {
		return s.pageError(c, s.storeErr(err), lang)
	}
	uctx, cancel := context.WithTimeout(ctx, s.UpdateTimeout)
	defer cancel()
	var won workflows.Decision
	dr := workflows.DecideRequest{TaskID: t.ID, Choice: choice, DeciderID: l.PersonID,
		Values: activities.SteeringValues(form, values), RequestID: req.RequestID, DecidedAt: s.now().UTC()}
	dr.Proof = s.DecisionKeys.Sign(dr)
	h, err := s.Temporal.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		UpdateID: t.ID, WorkflowID: t.WorkflowID, UpdateName: workflows.UpdateDecide,
		Args: []any{dr}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(uctx, &won)
	}
	if err != nil {
		if isUnavailable(err) {
			s.Log.Warn("decision not delivered: Temporal or the worker is unreachable", "task", t.ID)
			// The server may still hold the Update and apply it when the worker returns.
			mctx, mcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer mcancel()
			_ = s.Store.MarkUnanswered(mctx, req.RequestID)
			return s.pageError(c, apiError("unavailable", pick(lang,
				"ただいま記録できません。このリンクは引き続き有効です。しばらくしてからもう一度送信してください。",
				"The decision could not be recorded right now. The link still works: please try again in a few minutes.")), lang)
		}
		if isRefusal(err, "NotFromAPI") {
			// The worker does not accept this API's proof: the two are configured with
			// different POLICYFLOW_DECISION_KEYS. Nothing was recorded; the link still works.
			s.Log.Error("decision refused: the worker does not accept the API's proof; serve and worker need the same POLICYFLOW_DECISION_KEYS", "task", t.ID)
			return s.pageError(c, apiError("unavailable", pick(lang,
				"ただいま記録できません。このリンクは引き続き有効です。しばらくしてからもう一度送信してください。",
				"The decision could not be recorded right now. The link still works: please try again later.")), lang)
		}
		// Rejected by the workflow's validator, or the process has ended: the task is closed.
		s.Log.Info("decision refused by the workflow", "task", t.ID, "err", err)
		t2, _, _ := s.Store.TaskWithProcess(ctx, t.ID)
		if t2.Status == models.TaskOpen {
			t2.Status = models.TaskExpired
		}
		return s.pageError(c, s.closedErr(ctx, t2, lang), lang)
	}
	if won.RequestID != req.RequestID && s.isRetryOf(ctx, won, req) {
		// An earlier attempt of this same decision was told "try again" but went through
		// once the worker came back: this retry succeeded.
		req.RequestID = won.RequestID
		if err := s.Store.AnswerRequests(ctx, t.ID, req.DeciderID); err != nil {
			s.Log.Warn("mark decision requests answered", "task", t.ID, "err", err)
		}
	}
	if won.RequestID != req.RequestID {
		// A concurrent POST decided first; this one is told who won.
		_ = s.Store.RecordDecision(ctx, models.Decision{TaskID: t.ID, ProcessID: p.ID, Step: t.Step, Choice: won.Choice,
			DeciderID: won.DeciderID, DecidedAt: won.DecidedAt}, won.RequestID)
		t.Status = models.TaskDecided
		return s.pageError(c, s.closedErr(ctx, t, lang), lang)
	}
	if err := s.Store.EnsureDecision(ctx, models.Decision{TaskID: t.ID, ProcessID: p.ID, Step: t.Step, Choice: choice,
		DeciderID: l.PersonID, DecidedAt: won.DecidedAt}, req.RequestID); err != nil {
		// The workflow has the decision and its activity records it; the register catches up.
		s.Log.Warn("decision accepted but not yet in the register", "task", t.ID, "err", err)
	}
	return s.recorded(c, t, p, l, people, lang, choice, won.DecidedAt)
}

// revokedErr explains that a link was revoked, by the engine handing the task over to the
// new holder of its post or to a deputy (410): to whom, and the reason it recorded.
func revokedErr(l models.TaskLink, t models.Task, people map[string]models.Person, lang string) error {
	msg := pick(lang, "この件は他の担当者に引き継がれたため、このリンクは使用できません。", "This task was handed over to someone else, so this link no longer works.")
	if name := people[t.AssigneeID].Name; name != "" && t.AssigneeID != l.PersonID {
		msg = pick(lang, "この件は後任の"+name+"さんに引き継がれたため、このリンクは使用できません。",
			"This task was handed over to "+name+", so this link no longer works.")
	}
	if why := strings.TrimSpace(l.RevokedWhy); why != "" {
		msg += pick(lang, "（理由: "+why+"）", " (reason: "+why+")")
	}
	return apiError("gone", msg+pick(lang, "判断は記録されていません。", " Nothing was recorded."))
}

// mayDecide refuses a link's holder who may no longer decide the task (issue 12, item 5):
// someone no longer employed, or the assignee of a task for a post (Task.PostRole) who no
// longer holds it (403). A deputy (Task.OnBehalfOf) and an escalation's recipient need only
// be employed for now; the workflow checks that they are among the task's deciders.
func (s *Server) mayDecide(ctx context.Context, l models.TaskLink, t models.Task, people map[string]models.Person, lang string) error {
	if people[l.PersonID].Status != models.StatusEmployed {
		return apiError("forbidden", pick(lang,
			"あなたは現在在職していない（退職・転出等）ため、この件を判断できません。判断は記録されていません。",
			"You no longer work for the town (retired, transferred or seconded), so you cannot decide this task. Nothing was recorded."))
	}
	if t.PostRole == "" || l.PersonID != t.AssigneeID || t.OnBehalfOf != "" {
		return nil
	}
	holds, err := s.Store.HoldsPost(ctx, l.PersonID, t.PostRole, t.PostScope)
	if err != nil {
		return s.storeErr(err)
	}
	if !holds {
		post := policy.Role(t.PostRole).Title(lang)
		return apiError("forbidden", pick(lang,
			"この件は"+post+"が判断するものですが、あなたは現在その職にないため判断できません。判断は記録されていません。",
			"This task is for the "+post+", a post you no longer hold, so you cannot decide it. Nothing was recorded."))
	}
	return nil
}

// isRefusal reports whether err is the workflow's refusal of the given type.
func isRefusal(err error, kind string) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == kind
}

// recorded answers a decision that was recorded: JSON for programs, a page for people.
func (s *Server) recorded(c echo.Context, t models.Task, p models.Process, l models.TaskLink, people map[string]models.Person, lang, choice string, at time.Time) error {
	if wantsJSON(c) {
		return c.JSON(http.StatusOK, map[string]string{"status": "recorded", "decision": choice})
	}
	v := s.taskView(t, p, l, people, lang, "")
	v.Recorded = activities.ChoiceLabel(choice, lang)
	v.DecidedAt = activities.FormatTime(at, s.Loc)
	return s.render(c, http.StatusOK, v)
}

// recordedRetry reports whether a POST on a decided task repeats, by the same person with
// the same choice, a decision whose request was answered 503 and was applied once the
// worker came back: the retry is told it succeeded, not that the link is used.
func (s *Server) recordedRetry(ctx context.Context, t models.Task, personID, choice string) (models.Decision, bool) {
	d, err := s.Store.DecisionOn(ctx, t.ID)
	if err != nil || d.DeciderID != personID || d.Choice != choice {
		return d, false
	}
	n, err := s.Store.UnansweredRequests(ctx, t.ID, personID, choice)
	if err != nil || n == 0 {
		return d, false
	}
	// Told once; a later POST is told the link is used.
	if err := s.Store.AnswerRequests(ctx, t.ID, personID); err != nil {
		s.Log.Warn("mark decision requests answered", "task", t.ID, "err", err)
	}
	return d, true
}

// isRetryOf reports whether req repeats the winning decision, made through the same link's
// holder with the same choice, by a request that was answered 503.
func (s *Server) isRetryOf(ctx context.Context, won workflows.Decision, req models.DecisionRequest) bool {
	if won.DeciderID != req.DeciderID || won.Choice != req.Choice {
		return false
	}
	first, err := s.Store.DecisionRequestByID(ctx, won.RequestID)
	return err == nil && first.Unanswered
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// isUnavailable tells an outage (retry later) from a refusal.
func isUnavailable(err error) bool {
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	var timeout *temporal.TimeoutError
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return false
	case errors.As(err, &unavailable), errors.As(err, &deadline), errors.As(err, &timeout),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return true
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return false
	}
	var wfNotReady *serviceerror.WorkflowNotReady
	return errors.As(err, &wfNotReady) || strings.Contains(err.Error(), "connection")
}

func wantsJSON(c echo.Context) bool {
	return strings.Contains(c.Request().Header.Get(echo.HeaderAccept), echo.MIMEApplicationJSON)
}

// taskForm decodes the form a task asks for beside its choice.
func taskForm(t models.Task) []activities.Field {
	var form []activities.Field
	if t.Form != "" {
		_ = json.Unmarshal([]byte(t.Form), &form)
	}
	return form
}

func describeFields(f fieldErrors) string {
	parts := make([]string, 0, len(f))
	for name, msg := range f {
		parts = append(parts, name+" "+msg)
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
