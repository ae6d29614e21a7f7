package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

// offboardingBody is an offboarding as POST /offboardings (and each bulk item) takes it.
type offboardingBody struct {
	EmployeeID    string `json:"employee_id"`
	Reason        string `json:"reason"`
	EffectiveDate string `json:"effective_date"`
	NewDepartment string `json:"new_department,omitempty"`
	Note          string `json:"note,omitempty"`
}

// Bulk limits: at most MaxBulkOffboardings items per request; up to bulkInline of them are
// answered in the request, a larger batch in the background by bulkWorkers goroutines.
const (
	MaxBulkOffboardings = 10000
	bulkInline          = 100
	bulkWorkers         = 8
)

// offboardingID derives the process (and workflow) ID from (employee_id, effective_date):
// a retry, even a concurrent one, names the same process, and the register's primary key
// and Temporal's workflow ID both refuse a second one.
func offboardingID(employeeID, date string) string {
	sum := sha256.Sum256([]byte(employeeID + "\n" + date))
	return "OFB-" + strings.ReplaceAll(date, "-", "") + "-" + base32.StdEncoding.EncodeToString(sum[:])[:12]
}

// validate checks the fields of one offboarding (400 validation_failed).
func (b offboardingBody) validate() fieldErrors {
	f := fieldErrors{}
	f.id("employee_id", b.EmployeeID)
	_, err := policy.ParseLeaveReason(b.Reason)
	f.check(err == nil, "reason", "must be retirement, transfer or secondment")
	_, err = time.Parse(policy.DateLayout, b.EffectiveDate)
	f.check(err == nil, "effective_date", "must be a date YYYY-MM-DD")
	if b.Reason == string(policy.Transfer) {
		f.check(b.NewDepartment != "", "new_department", "is required for a transfer")
	} else {
		f.check(b.NewDepartment == "", "new_department", "is only for a transfer")
	}
	if b.NewDepartment != "" {
		f.id("new_department", b.NewDepartment)
	}
	f.text("note", b.Note, false, 1000)
	return f
}

// offboardResult is the outcome of one start: a body with 201 or 200, or an error.
type offboardResult struct {
	status int
	body   startedBody
	err    *Error
}

// startOffboarding answers POST /offboardings.
func (s *Server) startOffboarding(c echo.Context) error {
	var b offboardingBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	r := s.offboard(c.Request().Context(), b)
	if r.err != nil {
		return r.err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/processes/"+r.body.ID)
	return c.JSON(r.status, r.body)
}

// offboard validates one offboarding and starts it, or finds the one it repeats. Checked in
// order: fields (400); an offboarding of this employee with this effective date exists
// (200, the same process); the employee is unknown or no longer employed (422); the new
// department is the current one (422); another offboarding of the employee is open (409).
// Between the repeat and the directory, an effective date outside the town's bounds is 422
// (dates.go): a repeat still finds its process after the bound has moved past it.
func (s *Server) offboard(ctx context.Context, b offboardingBody) offboardResult {
	if f := b.validate(); len(f) > 0 {
		return offboardResult{err: invalid(f)}
	}
	if r, ok := s.existingOffboarding(ctx, b); ok {
		return r
	}
	if err := s.offboardingDateWithin(b.EffectiveDate); err != nil {
		return offboardResult{err: err}
	}
	person, err := s.Store.Person(ctx, b.EmployeeID)
	if errors.Is(err, models.ErrNotFound) {
		return offboardResult{err: &Error{Status: 422, Code: "policy_violation", Message: "the employee is not in the directory",
			Fields: map[string]string{"employee_id": "unknown employee"}}}
	} else if err != nil {
		return offboardResult{err: s.storeErrOf(err)}
	}
	if person.Status != models.StatusEmployed {
		return offboardResult{err: &Error{Status: 422, Code: "policy_violation", Message: "the employee has already left (" + person.Status + ")",
			Fields: map[string]string{"employee_id": "already " + person.Status}}}
	}
	if b.NewDepartment == person.DepartmentID {
		return offboardResult{err: &Error{Status: 422, Code: "policy_violation", Message: "a transfer must be to another department",
			Fields: map[string]string{"new_department": "is the employee's current department"}}}
	}
	if r, open := s.openOffboarding(ctx, b); open {
		return r
	}

	id := offboardingID(b.EmployeeID, b.EffectiveDate)
	input, _ := json.Marshal(b)
	emp := b.EmployeeID
	summary := fmt.Sprintf("Offboarding of %s (%s), effective %s", b.EmployeeID, b.Reason, b.EffectiveDate)
	p := models.Process{ID: id, Kind: models.KindOffboarding, Status: "starting", Stage: "submitted", WorkflowID: id,
		DepartmentID: person.DepartmentID, EmployeeID: b.EmployeeID, Summary: summary, Input: string(input)}
	o := models.Offboarding{ProcessID: id, EmployeeID: b.EmployeeID, EffectiveDate: b.EffectiveDate, OriginalDate: b.EffectiveDate,
		Reason: b.Reason, FormerDepartment: person.DepartmentID, NewDepartment: b.NewDepartment, OpenEmployeeID: &emp}
	switch err := s.Store.CreateOffboarding(ctx, &p, &o); {
	case errors.Is(err, models.ErrDuplicate):
		if r, ok := s.existingOffboarding(ctx, b); ok {
			return r
		}
		return offboardResult{err: apiError("conflict", "the offboarding is being started by another request; try again")}
	case errors.Is(err, models.ErrOpenOffboarding):
		if r, open := s.openOffboarding(ctx, b); open {
			return r
		}
		return offboardResult{err: apiError("conflict", "another offboarding of this employee is open")}
	case err != nil:
		return offboardResult{err: s.storeErrOf(err)}
	}
	details := fmt.Sprintf("**Account offboarding** (§5.1(1)8, §6.2(1)2–3)\n\n- employee: `%s`\n- reason: %s\n- effective date: %s (access ends at the end of the day, Asia/Tokyo)\n- former department: `%s`\n- new department: `%s`\n\nThe accounts, assets and HR's note are in the register (GET /api/v1/processes/{id}).",
		b.EmployeeID, b.Reason, b.EffectiveDate, person.DepartmentID, orDash(b.NewDepartment))
	_, err = s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueue, StaticSummary: summary, StaticDetails: details,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.ProcessKind.ValueSet(models.KindOffboarding), workflows.ProcessStage.ValueSet("submitted"),
			workflows.Department.ValueSet(person.DepartmentID)),
	}, workflows.OffboardingWorkflow, workflows.OffboardingInput{
		Header:     workflows.Header{ProcessID: id, Kind: models.KindOffboarding, Department: person.DepartmentID, TimeZone: s.TimeZone},
		EmployeeID: b.EmployeeID, Reason: policy.LeaveReason(b.Reason), EffectiveDate: b.EffectiveDate,
		FormerDepartment: person.DepartmentID, NewDepartment: b.NewDepartment,
	})
	if err != nil {
		s.Log.Warn("start workflow failed", "process", id, "err", err)
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if derr := s.Store.DeleteUnstartedOffboarding(cleanup, id); derr != nil {
			s.Log.Error("remove unstarted offboarding", "process", id, "err", derr)
		}
		return offboardResult{err: errUnavailable}
	}
	return offboardResult{status: http.StatusCreated, body: startedBody{ID: id, Kind: models.KindOffboarding, WorkflowID: id, Status: "started"}}
}

// existingOffboarding finds the offboarding of this employee and date (current or as first
// given): HR retrying gets the same process.
func (s *Server) existingOffboarding(ctx context.Context, b offboardingBody) (offboardResult, bool) {
	o, err := s.Store.OffboardingByDate(ctx, b.EmployeeID, b.EffectiveDate)
	if errors.Is(err, models.ErrNotFound) {
		return offboardResult{}, false
	} else if err != nil {
		return offboardResult{err: s.storeErrOf(err)}, true
	}
	p, err := s.Store.Process(ctx, o.ProcessID)
	if err != nil {
		return offboardResult{err: s.storeErrOf(err)}, true
	}
	return offboardResult{status: http.StatusOK, body: startedBody{ID: p.ID, Kind: p.Kind, WorkflowID: p.WorkflowID, Status: p.Status}}, true
}

// openOffboarding answers for an employee with an open offboarding: the same process when
// it has this date (a concurrent retry got there first), a 409 that names it otherwise.
func (s *Server) openOffboarding(ctx context.Context, b offboardingBody) (offboardResult, bool) {
	open, err := s.Store.OpenOffboarding(ctx, b.EmployeeID)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return offboardResult{}, false
	case err != nil:
		return offboardResult{err: s.storeErrOf(err)}, true
	case open.EffectiveDate == b.EffectiveDate || open.OriginalDate == b.EffectiveDate:
		return s.existingOffboarding(ctx, b)
	}
	return offboardResult{err: openConflict(open)}, true
}

func openConflict(open models.Offboarding) *Error {
	return &Error{Status: 409, Code: "conflict",
		Message: fmt.Sprintf("an offboarding of this employee effective %s is open (%s): move its date (POST /api/v1/offboardings/%s/move-date) or cancel it", open.EffectiveDate, open.ProcessID, open.ProcessID),
		Fields:  map[string]string{"effective_date": "differs from the open offboarding " + open.ProcessID + " (" + open.EffectiveDate + ")"}}
}

// storeErrOf is storeErr as an *Error.
func (s *Server) storeErrOf(err error) *Error {
	var e *Error
	if errors.As(s.storeErr(err), &e) {
		return e
	}
	return errUnavailable
}

// bulkItemResult is one item's result in a bulk answer.
type bulkItemResult struct {
	Index         int    `json:"index"`
	EmployeeID    string `json:"employee_id,omitempty"`
	EffectiveDate string `json:"effective_date,omitempty"`
	Result        string `json:"result"`
	ProcessID     string `json:"process_id,omitempty"`
	Error         *Error `json:"error,omitempty"`
}

// startOffboardingsBulk answers POST /offboardings/bulk: each item is validated and started
// on its own; a bad item never stops the others. Up to bulkInline items are answered at
// once (200); a larger batch answers 202 with its batch ID and goes on in the background.
func (s *Server) startOffboardingsBulk(c echo.Context) error {
	var b struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if len(b.Items) == 0 || len(b.Items) > MaxBulkOffboardings {
		return invalid(fieldErrors{"items": fmt.Sprintf("give 1-%d offboardings", MaxBulkOffboardings)})
	}
	ctx := c.Request().Context()
	id := newBatchID()
	items := make([]models.OffboardingBatchItem, len(b.Items))
	for i, raw := range b.Items {
		var ob offboardingBody
		_ = json.Unmarshal(raw, &ob)
		items[i] = models.OffboardingBatchItem{BatchID: id, Seq: i, EmployeeID: truncate(ob.EmployeeID, 200), EffectiveDate: truncate(ob.EffectiveDate, 32),
			Body: string(raw), Result: models.ItemPending}
	}
	batch := models.OffboardingBatch{ID: id, Status: models.BatchRunning, Total: len(items), CreatedBy: callerOf(c).Name}
	if err := s.Store.CreateBatch(ctx, batch, items); err != nil {
		return s.storeErr(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/offboardings/bulk/"+id)
	if len(items) <= bulkInline {
		s.runBatch(ctx, id, items)
		return s.writeBatch(c, id, http.StatusOK)
	}
	go s.runBatch(context.WithoutCancel(ctx), id, items)
	return s.writeBatch(c, id, http.StatusAccepted)
}

func newBatchID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "BATCH-" + base32.StdEncoding.EncodeToString(b)
}

// runBatch starts a batch's items with bulkWorkers goroutines and records each result.
func (s *Server) runBatch(ctx context.Context, id string, items []models.OffboardingBatchItem) {
	work := make(chan models.OffboardingBatchItem)
	var wg sync.WaitGroup
	for range min(bulkWorkers, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				s.runBatchItem(ctx, it)
			}
		}()
	}
	for _, it := range items {
		work <- it
	}
	close(work)
	wg.Wait()
	if err := s.Store.FinishBatch(ctx, id, s.now()); err != nil {
		s.Log.Error("finish batch", "batch", id, "err", err)
	}
}

func (s *Server) runBatchItem(ctx context.Context, it models.OffboardingBatchItem) {
	var b offboardingBody
	var r offboardResult
	dec := json.NewDecoder(strings.NewReader(it.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		r.err = apiError("bad_request", "malformed item: "+describeJSONError(err))
	} else {
		ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
		r = s.offboard(ictx, b)
		cancel()
	}
	it.Result = models.ItemStarted
	switch {
	case r.err != nil:
		it.Result, it.ErrorCode, it.ErrorMessage = models.ItemRejected, r.err.Code, truncate(r.err.Message, 500)
		if len(r.err.Fields) > 0 {
			f, _ := json.Marshal(r.err.Fields)
			it.ErrorFields = string(f)
		}
	case r.status == http.StatusOK:
		it.Result, it.ProcessID = models.ItemExisting, r.body.ID
	default:
		it.ProcessID = r.body.ID
	}
	if err := s.Store.SetBatchItem(ctx, it); err != nil {
		s.Log.Error("record batch item", "batch", it.BatchID, "seq", it.Seq, "err", err)
	}
}

// getOffboardingBatch answers GET /offboardings/bulk/{batch_id}: progress and per-item results.
func (s *Server) getOffboardingBatch(c echo.Context) error {
	return s.writeBatch(c, c.Param("batch_id"), http.StatusOK)
}

func (s *Server) writeBatch(c echo.Context, id string, status int) error {
	b, items, err := s.Store.Batch(c.Request().Context(), id)
	if errors.Is(err, models.ErrNotFound) {
		return apiError("not_found", "no batch "+id)
	} else if err != nil {
		return s.storeErr(err)
	}
	counts := map[string]int{models.ItemPending: 0, models.ItemStarted: 0, models.ItemExisting: 0, models.ItemRejected: 0}
	out := make([]bulkItemResult, 0, len(items))
	for _, it := range items {
		counts[it.Result]++
		r := bulkItemResult{Index: it.Seq, EmployeeID: it.EmployeeID, EffectiveDate: it.EffectiveDate, Result: it.Result, ProcessID: it.ProcessID}
		if it.ErrorCode != "" {
			r.Error = &Error{Code: it.ErrorCode, Message: it.ErrorMessage}
			if it.ErrorFields != "" {
				_ = json.Unmarshal([]byte(it.ErrorFields), &r.Error.Fields)
			}
		}
		out = append(out, r)
	}
	return c.JSON(status, map[string]any{"batch_id": b.ID, "status": b.Status, "total": b.Total,
		"done": b.Total - counts[models.ItemPending], "counts": counts, "created_at": b.CreatedAt.In(s.Loc),
		"finished_at": s.local(b.FinishedAt), "items": out})
}

// offboardingOf loads an offboarding process for HR's changes, or answers why not.
func (s *Server) offboardingOf(c echo.Context) (models.Process, error) {
	p, err := s.Store.Process(c.Request().Context(), c.Param("id"))
	if errors.Is(err, models.ErrNotFound) || (err == nil && p.Kind != models.KindOffboarding) {
		return p, apiError("not_found", "no offboarding "+c.Param("id"))
	} else if err != nil {
		return p, s.storeErr(err)
	}
	if p.ClosedAt != nil {
		return p, apiError("conflict", "the offboarding is closed ("+p.Status+")")
	}
	if p.Stage != "submitted" && p.Stage != "awaiting_effective_date" {
		return p, apiError("conflict", "the effective date has passed and the offboarding is under way; only an admin may cancel it (POST /api/v1/processes/"+p.ID+"/cancel)")
	}
	return p, nil
}

// moveOffboardingDate answers POST /offboardings/{id}/move-date: HR moves the effective date
// while the process waits (the Update move_date; the reason goes to the register).
func (s *Server) moveOffboardingDate(c echo.Context) error {
	var b struct {
		EffectiveDate string `json:"effective_date"`
		Reason        string `json:"reason"`
	}
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	f := fieldErrors{}
	_, err := time.Parse(policy.DateLayout, b.EffectiveDate)
	f.check(err == nil, "effective_date", "must be a date YYYY-MM-DD")
	f.text("reason", b.Reason, true, 1000)
	if err := f.err(); err != nil {
		return err
	}
	p, err := s.offboardingOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	o, err := s.Store.OffboardingOf(ctx, p.ID)
	if err != nil {
		return s.storeErr(err)
	}
	if o.EffectiveDate == b.EffectiveDate {
		return c.JSON(http.StatusOK, s.summarize(p))
	}
	if err := s.offboardingDateWithin(b.EffectiveDate); err != nil {
		return err
	}
	if other, err := s.Store.OffboardingByDate(ctx, o.EmployeeID, b.EffectiveDate); err == nil && other.ProcessID != p.ID {
		return apiError("conflict", "another offboarding of this employee has that date ("+other.ProcessID+")")
	}
	by := callerOf(c).Name
	uctx, cancel := context.WithTimeout(ctx, s.UpdateTimeout)
	defer cancel()
	h, err := s.Temporal.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		UpdateID: "move-date/" + newRequestID(), WorkflowID: p.WorkflowID, UpdateName: workflows.UpdateMoveDate,
		Args: []any{workflows.MoveDateRequest{EffectiveDate: b.EffectiveDate, By: by}}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(uctx, nil)
	}
	if err != nil {
		var app *temporal.ApplicationError
		switch {
		case errors.As(err, &app) && app.Type() == "NotWaiting":
			return apiError("conflict", "the effective date has passed and the offboarding is under way")
		case errors.As(err, &app) && app.Type() == "SameDate":
			// A retry of a move the workflow already made: nothing to do.
			return c.JSON(http.StatusOK, map[string]any{"process": s.summarize(p), "effective_date": b.EffectiveDate, "previous_date": o.EffectiveDate})
		}
		return s.temporalErr(err, "move date of "+p.ID)
	}
	if err := s.Store.AddDateMove(ctx, models.OffboardingDateMove{ProcessID: p.ID, FromDate: o.EffectiveDate, ToDate: b.EffectiveDate,
		Reason: strings.TrimSpace(b.Reason), By: by, At: s.now()}); err != nil {
		return s.storeErr(err)
	}
	// The workflow records the date in the register; answer with what it holds now.
	if p, err = s.Store.Process(ctx, p.ID); err != nil {
		return s.storeErr(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"process": s.summarize(p), "effective_date": b.EffectiveDate, "previous_date": o.EffectiveDate})
}

// cancelOffboarding answers POST /offboardings/{id}/cancel: HR cancels an offboarding that
// still waits for its effective date (after it, only an admin may, through
// /processes/{id}/cancel).
func (s *Server) cancelOffboarding(c echo.Context) error {
	if _, err := s.offboardingOf(c); err != nil {
		return err
	}
	return s.cancelProcess(c)
}

// assetBody is a lent asset as PUT /people/{employee_id}/assets/{asset_id} takes it.
type assetBody struct {
	AssetID     string `json:"asset_id,omitempty"`
	EmployeeID  string `json:"employee_id,omitempty"`
	Kind        string `json:"kind"`
	Description string `json:"description"`
	Status      string `json:"status,omitempty"`
}

// putAsset registers an information asset lent to a person (§5.1(1)8): a device, media, an
// ID card or a document, which the person returns on leaving.
func (s *Server) putAsset(c echo.Context) error {
	var b assetBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	emp, id := c.Param("employee_id"), c.Param("asset_id")
	if b.Status == "" {
		b.Status = models.AssetLent
	}
	f := fieldErrors{}
	f.id("asset_id", id)
	f.check(b.AssetID == "" || b.AssetID == id, "asset_id", "must match the URL")
	f.check(b.EmployeeID == "" || b.EmployeeID == emp, "employee_id", "must match the URL")
	f.check(contains(models.AssetKinds, b.Kind), "kind", "must be one of "+strings.Join(models.AssetKinds, ", "))
	f.text("description", b.Description, false, 500)
	f.check(contains([]string{models.AssetLent, models.AssetReturned, models.AssetMissing}, b.Status), "status", "must be lent, returned or missing")
	if err := f.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := s.Store.Person(ctx, emp); errors.Is(err, models.ErrNotFound) {
		return apiError("not_found", "no person "+emp)
	} else if err != nil {
		return s.storeErr(err)
	}
	created, err := s.Store.PutAsset(ctx, models.Asset{ID: id, HolderEmployeeID: emp, Kind: b.Kind, Description: strings.TrimSpace(b.Description), Status: b.Status})
	if err != nil {
		return s.storeErr(err)
	}
	b.AssetID, b.EmployeeID = id, emp
	return c.JSON(map[bool]int{true: http.StatusCreated, false: http.StatusOK}[created], b)
}

// accountAccess loads the account and person of a known-by route.
func (s *Server) accountAccess(c echo.Context) (models.AccountAccess, error) {
	a := models.AccountAccess{SystemID: c.Param("system_id"), AccountID: c.Param("account_id"), EmployeeID: c.Param("employee_id")}
	ctx := c.Request().Context()
	acc, err := s.Store.Account(ctx, a.SystemID, a.AccountID)
	if errors.Is(err, models.ErrNotFound) {
		return a, apiError("not_found", "no account "+a.AccountID+" on "+a.SystemID)
	} else if err != nil {
		return a, s.storeErr(err)
	}
	if !acc.Shared && !acc.Privileged {
		return a, &Error{Status: 422, Code: "policy_violation", Message: "only the passwords of shared or privileged accounts are tracked (§6.2(1)3)"}
	}
	if _, err := s.Store.Person(ctx, a.EmployeeID); errors.Is(err, models.ErrNotFound) {
		return a, apiError("not_found", "no person "+a.EmployeeID)
	} else if err != nil {
		return a, s.storeErr(err)
	}
	return a, nil
}

// putAccountAccess records that a person knows the password of a shared or privileged
// account, so that it is changed when they leave.
func (s *Server) putAccountAccess(c echo.Context) error {
	a, err := s.accountAccess(c)
	if err != nil {
		return err
	}
	if err := s.Store.PutAccountAccess(c.Request().Context(), a); err != nil {
		return s.storeErr(err)
	}
	return c.JSON(http.StatusOK, map[string]string{"system_id": a.SystemID, "account_id": a.AccountID, "employee_id": a.EmployeeID})
}

// deleteAccountAccess forgets that a person knows an account's password (it was changed).
func (s *Server) deleteAccountAccess(c echo.Context) error {
	a, err := s.accountAccess(c)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteAccountAccess(c.Request().Context(), a); err != nil {
		return s.storeErr(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// offboardingDateWithin bounds an effective date by the town's settings (dates.go).
func (s *Server) offboardingDateWithin(date string) *Error {
	d := s.dateBounds()
	return s.dateWithin("effective_date", date, d.OffboardingDaysPast, d.OffboardingDaysAhead,
		"POLICYFLOW_OFFBOARDING_MAX_DAYS_PAST/AHEAD")
}
