package api

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/internal/offboarding"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

// offboardingBody is an offboarding as POST /offboardings (and each bulk item) takes it.
type offboardingBody = offboarding.Body

// Bulk limits: at most MaxBulkOffboardings items per request; up to bulkInline of them are
// answered in the request, a larger batch by the batch workflow (OffboardingBatchWorkflow).
const (
	MaxBulkOffboardings = 10000
	bulkInline          = 100
)

// starter starts offboardings with the rules the batch workflow's activity uses too.
func (s *Server) starter() *offboarding.Starter {
	d := s.dateBounds()
	return &offboarding.Starter{Store: s.Store, Temporal: s.Temporal, TimeZone: s.TimeZone, Log: s.Log,
		DaysAhead: d.OffboardingDaysAhead, DaysPast: d.OffboardingDaysPast, Now: s.Now}
}

// startOffboarding answers POST /offboardings: 201 with the process started, 200 with the
// one it repeats, or the error (internal/offboarding.Starter.Start says which, in order).
func (s *Server) startOffboarding(c echo.Context) error {
	var b offboardingBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	r, err := s.starter().Start(c.Request().Context(), b)
	var rej *offboarding.Rejection
	if errors.As(err, &rej) {
		return &Error{Status: rej.Status, Code: rej.Code, Message: rej.Message, Fields: rej.Fields}
	} else if err != nil {
		return s.storeErr(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/processes/"+r.ID)
	return c.JSON(map[bool]int{true: http.StatusCreated, false: http.StatusOK}[r.Created],
		startedBody{ID: r.ID, Kind: r.Kind, WorkflowID: r.WorkflowID, Status: r.Status})
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
// once (200); a larger batch answers 202 with its batch ID and is worked through by its
// workflow (OffboardingBatchWorkflow), which no restart of the API stops.
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
		_ = s.starter().RunItems(ctx, items, false, nil)
		if err := s.Store.FinishBatch(context.WithoutCancel(ctx), id, s.now()); err != nil {
			s.Log.Error("finish batch", "batch", id, "err", err)
		}
		return s.writeBatch(c, id, http.StatusOK)
	}
	wid := workflows.BatchWorkflowID(id)
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: wid, TaskQueue: workflows.TaskQueue,
		StaticSummary:            fmt.Sprintf("Bulk offboarding batch %s: %d items", id, len(items)),
		StaticDetails:            "Progress and each item's result: GET /api/v1/offboardings/bulk/" + id + "; cancel: POST /api/v1/offboardings/bulk/" + id + "/cancel",
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    temporal.NewSearchAttributes(workflows.ProcessKind.ValueSet(workflows.KindOffboardingBatch)),
	}, workflows.OffboardingBatchWorkflow, workflows.BatchInput{BatchID: id})
	if err != nil {
		s.Log.Warn("start batch workflow failed", "batch", id, "err", err)
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if derr := s.Store.DeleteBatch(cleanup, id); derr != nil {
			s.Log.Error("remove unstarted batch", "batch", id, "err", derr)
		}
		c.Response().Header().Del(echo.HeaderLocation)
		return errUnavailable
	}
	return s.writeBatch(c, id, http.StatusAccepted)
}

func newBatchID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "BATCH-" + base32.StdEncoding.EncodeToString(b)
}

// getOffboardingBatch answers GET /offboardings/bulk/{batch_id}: progress and per-item results.
func (s *Server) getOffboardingBatch(c echo.Context) error {
	return s.writeBatch(c, c.Param("batch_id"), http.StatusOK)
}

// cancelOffboardingBatch answers POST /offboardings/bulk/{batch_id}/cancel: the batch's
// workflow stops, its pending items are marked cancelled and never started (the Update
// cancel_batch), and the answer is the batch as GET shows it. The offboardings already
// started go on; each is cancelled on its own (POST /offboardings/{id}/cancel).
func (s *Server) cancelOffboardingBatch(c echo.Context) error {
	id := c.Param("batch_id")
	ctx := c.Request().Context()
	b, err := s.Store.BatchOf(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return apiError("not_found", "no batch "+id)
	} else if err != nil {
		return s.storeErr(err)
	}
	if b.Status != models.BatchRunning {
		return apiError("conflict", "the batch is "+b.Status)
	}
	uctx, cancel := context.WithTimeout(ctx, s.UpdateTimeout)
	defer cancel()
	h, err := s.Temporal.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		UpdateID: "cancel/" + id, WorkflowID: workflows.BatchWorkflowID(id), UpdateName: workflows.UpdateCancelBatch,
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(uctx, nil)
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == workflows.ErrBatchFinished {
		return apiError("conflict", "the batch has finished")
	} else if err != nil {
		return s.temporalErr(err, "cancel batch "+id)
	}
	return s.writeBatch(c, id, http.StatusOK)
}

func (s *Server) writeBatch(c echo.Context, id string, status int) error {
	b, items, err := s.Store.Batch(c.Request().Context(), id)
	if errors.Is(err, models.ErrNotFound) {
		return apiError("not_found", "no batch "+id)
	} else if err != nil {
		return s.storeErr(err)
	}
	counts := map[string]int{models.ItemPending: 0, models.ItemStarted: 0, models.ItemExisting: 0, models.ItemRejected: 0, models.ItemCancelled: 0}
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

// offboardingDateWithin bounds an effective date by the town's settings, as a start does
// (internal/offboarding.Starter.CheckEffectiveDate).
func (s *Server) offboardingDateWithin(date string) *Error {
	if r := s.starter().CheckEffectiveDate(date); r != nil {
		return &Error{Status: r.Status, Code: r.Code, Message: r.Message, Fields: r.Fields}
	}
	return nil
}
