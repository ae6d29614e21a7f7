package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/workflows"
)

// idPrefix gives each kind's process IDs a prefix a person recognises.
var idPrefix = map[string]string{
	models.KindException: "EXC", models.KindIncident: "INC", models.KindOutsourcingReview: "OUT",
	models.KindCloudAssessment: "CLD", models.KindOffboarding: "OFB",
	models.KindReconciliation: "REC", models.KindInspection: "INS",
}

// newProcessID returns e.g. EXC-20261127-K3M9Q2XA: kind, day in the town's zone, 40 random bits.
func (s *Server) newProcessID(kind string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return idPrefix[kind] + "-" + s.now().In(s.Loc).Format("20060102") + "-" + base32.StdEncoding.EncodeToString(b)
}

// startSpec describes a process to start from a validated request.
type startSpec struct {
	Kind, Department, RequesterID, EmployeeID string
	// ID, if set, is the process's ID instead of a new one (a self-inspection campaign is
	// named by its fiscal year); a process with this ID already registered is a conflict.
	ID string
	// Summary is one line without personal data: it becomes the workflow's static summary.
	Summary string
	// Details is Markdown for the Temporal UI, also without personal data.
	Details string
	// Input is the validated request, kept in the register.
	Input any
	// Request, if set, is what identifies the request under an idempotency key instead of
	// Input: Input without what the server adds on receiving it (an incident's receive
	// time), so that a retry of the same body is a repeat, not a conflict.
	Request  any
	Workflow any
	// Args builds the workflow's input once the process ID is known.
	Args func(h workflows.Header) any
	// Save, if set, stores the process's own records once its register row exists and
	// before its workflow starts (e.g. an outsourcing review and its vendor contact).
	Save func(ctx context.Context, processID string) error
}

// startedBody is the answer to a start request (API.md).
type startedBody struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	WorkflowID string `json:"workflow_id"`
	Status     string `json:"status"`
}

// startProcess registers the process, starts its workflow, and answers 201; a repeat with
// the same Idempotency-Key and body answers 200 with the same process. If Temporal is
// unreachable the register entry is removed again and the caller gets 503.
func (s *Server) startProcess(c echo.Context, st startSpec) error {
	var key *string
	if k := c.Request().Header.Get("Idempotency-Key"); k != "" {
		if len(k) > 150 || !validHeaderToken(k) {
			return invalid(fieldErrors{"Idempotency-Key": "must be 1-150 printable ASCII characters"})
		}
		k = st.Kind + ":" + k
		key = &k
	}
	p, repeated, err := s.start(c.Request().Context(), st, key)
	if err != nil {
		return err
	}
	if repeated {
		return s.repeat(c, p, st)
	}
	c.Set(logProcessKey, p.ID)
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/processes/"+p.ID)
	return c.JSON(http.StatusCreated, startedBody{ID: p.ID, Kind: st.Kind, WorkflowID: p.ID, Status: "started"})
}

// requestHash is what tells a repeat of a start request from another request under the
// same idempotency key: a hash of the kind and the validated request (startSpec.Request,
// or Input), and the register's copy of the input.
func requestHash(st startSpec) (string, []byte, error) {
	input, err := json.Marshal(st.Input)
	if err != nil {
		return "", nil, err
	}
	hashed := input
	if st.Request != nil {
		if hashed, err = json.Marshal(st.Request); err != nil {
			return "", nil, err
		}
	}
	sum := sha256.Sum256(append([]byte(st.Kind+"\n"), hashed...))
	return hex.EncodeToString(sum[:]), input, nil
}

// start registers a validated request's process and starts its workflow. With an
// idempotency key (already prefixed with the kind) that a process was started under, it
// starts nothing and returns that process, repeated. Both the API and the staff pages file
// requests through here, after the same validation (checkException, checkIncident, ...).
func (s *Server) start(ctx context.Context, st startSpec, key *string) (models.Process, bool, error) {
	reqHash, input, err := requestHash(st)
	if err != nil {
		return models.Process{}, false, err
	}
	if key != nil {
		if p, err := s.Store.ProcessByIdempotencyKey(ctx, *key); err == nil {
			return p, true, nil
		} else if !errors.Is(err, models.ErrNotFound) {
			return p, false, s.storeErr(err)
		}
	}
	id := s.newProcessID(st.Kind)
	if st.ID != "" {
		id = st.ID
	}
	p := models.Process{
		ID: id, Kind: st.Kind, Status: "starting", Stage: "submitted", WorkflowID: id,
		DepartmentID: st.Department, RequesterID: st.RequesterID, EmployeeID: st.EmployeeID,
		Summary: st.Summary, Input: string(input), IdempotencyKey: key, RequestHash: reqHash,
	}
	if err := s.Store.CreateProcess(ctx, &p); errors.Is(err, models.ErrDuplicate) && key != nil {
		if p, err := s.Store.ProcessByIdempotencyKey(ctx, *key); err == nil {
			return p, true, nil
		}
		return p, false, s.storeErr(err)
	} else if errors.Is(err, models.ErrDuplicate) && st.ID != "" {
		return p, false, apiError("conflict", "process "+st.ID+" exists already")
	} else if err != nil {
		return p, false, s.storeErr(err)
	}
	if st.Save != nil {
		if err := st.Save(ctx, id); err != nil {
			cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = s.Store.DeleteProcess(cleanup, id)
			return p, false, s.storeErr(err)
		}
	}
	h := workflows.Header{ProcessID: id, Kind: st.Kind, Department: st.Department, TimeZone: s.TimeZone}
	_, err = s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:            id,
		TaskQueue:     workflows.TaskQueue,
		StaticSummary: st.Summary,
		StaticDetails: st.Details,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.ProcessKind.ValueSet(st.Kind), workflows.ProcessStage.ValueSet("submitted"),
			workflows.Department.ValueSet(st.Department)),
	}, st.Workflow, st.Args(h))
	if err != nil {
		s.Log.Warn("start workflow failed", "process", id, "err", err)
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if derr := s.Store.DeleteProcess(cleanup, id); derr != nil {
			s.Log.Error("remove unstarted process", "process", id, "err", derr)
		}
		return p, false, errUnavailable
	}
	return p, false, nil
}

func (s *Server) repeat(c echo.Context, p models.Process, st startSpec) error {
	reqHash, _, err := requestHash(st)
	if err != nil {
		return err
	}
	if p.RequestHash != reqHash {
		return apiError("conflict", "this Idempotency-Key was used for a different request ("+p.ID+")")
	}
	// The same body as the first answer; the process's current status is in GET /processes/{id}.
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/processes/"+p.ID)
	return c.JSON(http.StatusOK, startedBody{ID: p.ID, Kind: p.Kind, WorkflowID: p.WorkflowID, Status: "started"})
}

func validHeaderToken(s string) bool {
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return s != ""
}

// processSummary is a process in a list.
type processSummary struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	Status      string     `json:"status"`
	Stage       string     `json:"stage"`
	WorkflowID  string     `json:"workflow_id"`
	Department  string     `json:"department"`
	RequesterID string     `json:"requester_id,omitempty"`
	EmployeeID  string     `json:"employee_id,omitempty"`
	Summary     string     `json:"summary"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
}

func (s *Server) summarize(p models.Process) processSummary {
	out := processSummary{ID: p.ID, Kind: p.Kind, Status: p.Status, Stage: p.Stage, WorkflowID: p.WorkflowID,
		Department: p.DepartmentID, RequesterID: p.RequesterID, EmployeeID: p.EmployeeID, Summary: p.Summary,
		CreatedAt: p.CreatedAt.In(s.Loc), UpdatedAt: p.UpdatedAt.In(s.Loc)}
	if p.ClosedAt != nil {
		t := p.ClosedAt.In(s.Loc)
		out.ClosedAt = &t
	}
	return out
}

var kinds = []string{models.KindException, models.KindIncident, models.KindOutsourcingReview, models.KindCloudAssessment, models.KindOffboarding,
	models.KindReconciliation, models.KindInspection}

// listProcesses answers GET /processes with filters and cursor paging, newest first.
func (s *Server) listProcesses(c echo.Context) error {
	q := c.QueryParams()
	f := fieldErrors{}
	filter := models.ProcessFilter{Kind: q.Get("kind"), Status: q.Get("status"), Department: q.Get("department"), EmployeeID: q.Get("employee_id"), Limit: 50}
	f.check(filter.Kind == "" || contains(kinds, filter.Kind), "kind", "must be one of "+strings.Join(kinds, ", "))
	f.check(filter.Status == "" || validID(filter.Status), "status", "is not a status")
	f.check(filter.Department == "" || validID(filter.Department), "department", "is not a department ID")
	f.check(filter.EmployeeID == "" || validID(filter.EmployeeID), "employee_id", "is not an employee ID")
	for name, dst := range map[string]*time.Time{"from": &filter.From, "to": &filter.To} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			f.check(err == nil, name, "must be an RFC 3339 time such as 2026-04-01T00:00:00+09:00")
			*dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		f.check(err == nil && n >= 1 && n <= 200, "limit", "must be 1-200")
		filter.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		at, id, ok := decodeCursor(v)
		f.check(ok, "cursor", "is not a cursor this API gave")
		filter.AfterCreated, filter.AfterID = at, id
	}
	if err := f.err(); err != nil {
		return err
	}
	ps, err := s.Store.ListProcesses(c.Request().Context(), filter)
	if err != nil {
		return s.storeErr(err)
	}
	items := make([]processSummary, 0, len(ps))
	for _, p := range ps {
		items = append(items, s.summarize(p))
	}
	body := map[string]any{"items": items}
	if len(ps) == filter.Limit {
		last := ps[len(ps)-1]
		body["next_cursor"] = encodeCursor(last.CreatedAt, last.ID)
	}
	return c.JSON(http.StatusOK, body)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeCursor(s string) (time.Time, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", false
	}
	at, id, ok := strings.Cut(string(b), "|")
	t, err := time.Parse(time.RFC3339Nano, at)
	return t, id, ok && err == nil && validID(id)
}

// getProcess answers GET /processes/{id}: the register's whole record of one process.
func (s *Server) getProcess(c echo.Context) error {
	d, err := s.Store.ProcessDetail(c.Request().Context(), c.Param("id"))
	if errors.Is(err, models.ErrNotFound) {
		return apiError("not_found", "no process "+c.Param("id"))
	} else if err != nil {
		return s.storeErr(err)
	}
	var input any
	_ = json.Unmarshal([]byte(d.Process.Input), &input)
	reminders := map[string]int{}
	notes := make([]map[string]any, 0, len(d.Notifications))
	for _, n := range d.Notifications {
		if strings.HasPrefix(n.Kind, "reminder") && n.Status == models.NotificationSent {
			reminders[n.TaskID]++
		}
		notes = append(notes, map[string]any{"kind": n.Kind, "task_id": n.TaskID, "recipient_id": n.RecipientID,
			"to": n.To, "subject": n.Subject, "status": n.Status, "sent_at": s.local(n.SentAt)})
	}
	tasks := make([]map[string]any, 0, len(d.Tasks))
	for _, t := range d.Tasks {
		tasks = append(tasks, map[string]any{"id": t.ID, "step": t.Step, "title": t.TitleEn, "title_ja": t.TitleJa,
			"assignee_id": t.AssigneeID, "escalated_to_id": t.EscalatedToID, "choices": t.ChoiceList(),
			"status": t.Status, "due_at": t.DueAt.In(s.Loc), "expires_at": t.ExpiresAt.In(s.Loc),
			"reminders_sent": reminders[t.ID], "escalated": t.Escalated, "created_at": t.CreatedAt.In(s.Loc), "closed_at": s.local(t.ClosedAt),
			"return_of": t.ReturnOf})
	}
	decisions := make([]map[string]any, 0, len(d.Decisions))
	for _, x := range d.Decisions {
		decisions = append(decisions, map[string]any{"task_id": x.TaskID, "step": x.Step, "decision": x.Choice,
			"decider_id": x.DeciderID, "decider_name": d.Names[x.DeciderID], "on_behalf_of": x.OnBehalfOf, "basis": x.Basis, "comment": x.Comment,
			"client_ip": x.ClientIP, "user_agent": x.UserAgent, "decided_at": x.DecidedAt.In(s.Loc), "values": jsonValues(x.Values)})
	}
	timeline := make([]map[string]any, 0, len(d.Events))
	for _, e := range d.Events {
		timeline = append(timeline, map[string]any{"at": e.At.In(s.Loc), "status": e.Status, "stage": e.Stage, "note": e.Note})
	}
	body := map[string]any{"process": s.summarize(d.Process), "input": input, "tasks": tasks,
		"decisions": decisions, "notifications": notes, "timeline": timeline,
		// Every version of a request that was returned and revised, and what each changed.
		"versions": s.versionsBody(d)}
	if d.Process.Kind == models.KindOutsourcingReview {
		if body["outsourcing"], err = s.outsourcingDetail(c.Request().Context(), d.Process.ID); err != nil {
			return s.storeErr(err)
		}
	}
	if d.Process.CancelReason != "" {
		body["cancellation"] = map[string]string{"reason": d.Process.CancelReason, "by": d.Process.CancelledBy}
	}
	return c.JSON(http.StatusOK, body)
}

func (s *Server) local(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	l := t.In(s.Loc)
	return &l
}

// cancelProcess stops a running process with a reason: the reason goes to the register,
// the cancellation to the workflow as an Update, which closes the open tasks.
func (s *Server) cancelProcess(c echo.Context) error {
	p, reason, err := s.runningWithReason(c, "")
	if err != nil {
		return err
	}
	if p, err = s.cancelRunning(c.Request().Context(), p, reason, callerOf(c).Name); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.summarize(p))
}

// cancelRunning cancels a running process for by, with a reason, and returns it as it is
// afterwards. The API's cancel and the staff pages' withdraw both come through here.
func (s *Server) cancelRunning(ctx context.Context, p models.Process, reason, by string) (models.Process, error) {
	if err := s.Store.SetCancelReason(ctx, p.ID, reason, by); err != nil {
		return p, s.storeErr(err)
	}
	err := s.update(ctx, p.WorkflowID, "cancel", workflows.UpdateCancel, workflows.CancelRequest{By: by})
	var app *temporal.ApplicationError
	switch {
	case err == nil:
	case errors.As(err, &app) && app.Type() == "AlreadyCancelled":
		// A repeat (say after a 503 whose Update went through meanwhile): the process is
		// being cancelled, as asked.
	case isUnavailable(err):
		// The Update may still be applied when the worker returns; the reason stays recorded.
		return p, s.temporalErr(err, "cancel "+p.ID)
	default:
		// Refused (the process ended meanwhile): the reason must not stand.
		if cerr := s.Store.SetCancelReason(ctx, p.ID, "", ""); cerr != nil {
			s.Log.Error("clear cancel reason", "process", p.ID, "err", cerr)
		}
		return p, s.temporalErr(err, "cancel "+p.ID)
	}
	// The workflow closes its tasks and records the end; give it a moment so the answer
	// shows the final state.
	wctx, wcancel := context.WithTimeout(ctx, s.UpdateTimeout)
	defer wcancel()
	_ = s.Temporal.GetWorkflow(wctx, p.WorkflowID, "").Get(wctx, nil)
	if p, err = s.Store.Process(ctx, p.ID); err != nil {
		return p, s.storeErr(err)
	}
	return p, nil
}

// temporalErr maps a failure to reach or use Temporal to an API error: unreachable or too
// slow is 503 (retry later), anything else is logged.
func (s *Server) temporalErr(err error, what string) error {
	s.Log.Warn("temporal call failed", "what", what, "err", err)
	if isUnavailable(err) {
		return errUnavailable
	}
	return apiError("conflict", "the process no longer accepts this request")
}

func jsonValues(s string) map[string]string {
	if s == "" {
		return nil
	}
	var v map[string]string
	_ = json.Unmarshal([]byte(s), &v)
	return v
}

// runningWithReason reads a {"reason": "..."} body and the running process it is about (of
// kind, unless kind is empty): 400 without a reason, 404 for no such process, 409 when the
// process has already closed.
func (s *Server) runningWithReason(c echo.Context, kind string) (models.Process, string, error) {
	var b struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(c, &b); err != nil {
		return models.Process{}, "", err
	}
	f := fieldErrors{}
	f.text("reason", b.Reason, true, 1000)
	if err := f.err(); err != nil {
		return models.Process{}, "", err
	}
	p, err := s.Store.Process(c.Request().Context(), c.Param("id"))
	if errors.Is(err, models.ErrNotFound) || (err == nil && kind != "" && p.Kind != kind) {
		return p, "", apiError("not_found", "no such process "+c.Param("id"))
	} else if err != nil {
		return p, "", s.storeErr(err)
	}
	if p.ClosedAt != nil {
		return p, "", apiError("conflict", "the process is already closed ("+p.Status+")")
	}
	return p, strings.TrimSpace(b.Reason), nil
}

// update sends a Workflow Update and waits, at most UpdateTimeout, until the workflow has
// handled it. The update ID makes a repeat (a retried request) the same update.
func (s *Server) update(ctx context.Context, workflowID, updateID, name string, arg any) error {
	uctx, cancel := context.WithTimeout(ctx, s.UpdateTimeout)
	defer cancel()
	h, err := s.Temporal.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		UpdateID: updateID, WorkflowID: workflowID, UpdateName: name,
		Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return h.Get(uctx, nil)
}
