package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
)

// KindOffboardingBatch is the PolicyProcess search attribute of a bulk batch's workflow, so
// that the Temporal UI lists the batches apart from the processes
// (PolicyProcess="offboarding_batch").
const KindOffboardingBatch = "offboarding_batch"

// UpdateCancelBatch cancels a bulk batch: the items not yet started never are.
const UpdateCancelBatch = "cancel_batch"

// ErrBatchFinished is the Update failure type for a cancel that comes after the batch is
// done or cancelled.
const ErrBatchFinished = "BatchFinished"

// BatchWorkflowID is the workflow ID of a batch: one workflow per stored batch, so that
// starting it twice finds the one that runs.
func BatchWorkflowID(batchID string) string { return "offboarding-batch-" + batchID }

// Defaults of BatchInput.
const (
	DefaultBatchPageSize    = 100
	DefaultBatchPagesPerRun = 20
)

// BatchInput names a stored bulk batch of offboardings (models.OffboardingBatch).
type BatchInput struct {
	BatchID string
	// PageSize is how many items one activity takes; PagesPerRun how many pages one run
	// works through before it continues as new. Zero means the defaults.
	PageSize, PagesPerRun int
	// Settled counts the items settled by the runs before this one.
	Settled int
}

// BatchResult is how a batch ended.
type BatchResult struct {
	BatchID string
	Status  string // models.BatchDone or models.BatchCancelled
	Settled int
}

// OffboardingBatchWorkflow works through a bulk batch of offboardings (POST
// /offboardings/bulk with more than 100 items, the April 1 reshuffle) that the API stored:
// page by page, an activity takes the next pending items and starts each with exactly the
// checks and start of POST /offboardings, recording each result in the register, where GET
// /offboardings/bulk/{batch_id} reads the progress. The batch survives any restart of the
// API (which only stores it and starts this workflow) and of the worker (a page interrupted
// is retried; the items it settled stay settled, and a start is idempotent on (employee_id,
// effective_date)).
//
// Why an activity starts the offboardings with a Temporal client, not this workflow as
// child workflows: the checks and the register row must come before the start and be
// undone if the start fails, exactly as the API does it; that is one function
// (internal/offboarding.Starter.Start) only if the start is in the same place. Child
// workflows would split it in two over an activity and the workflow, cost this history
// about three events per item, and make each offboarding the child of a batch, which it is
// not (cancelling a batch never touches a started offboarding).
//
// Every PagesPerRun pages the workflow continues as new, so 10,000 items keep its history
// short. The Update UpdateCancelBatch stops it: the page in flight is cancelled (the items it
// was starting finish, no new one begins), then the pending items are marked cancelled.
func OffboardingBatchWorkflow(ctx workflow.Context, in BatchInput) (BatchResult, error) {
	size, perRun := in.PageSize, in.PagesPerRun
	if size <= 0 {
		size = DefaultBatchPageSize
	}
	if perRun <= 0 {
		perRun = DefaultBatchPagesPerRun
	}
	var a *activities.Activities
	var cancelRequested, pageRunning, closed bool
	pageCtx, cancelPage := workflow.WithCancel(ctx)
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancelBatch,
		func(ctx workflow.Context) error {
			if cancelRequested { // a second cancel waits for the first
				return workflow.Await(ctx, func() bool { return closed })
			}
			cancelRequested = true
			cancelPage()
			if err := workflow.Await(ctx, func() bool { return !pageRunning }); err != nil {
				return err
			}
			err := workflow.ExecuteActivity(withSummary(ctx, "cancel the pending items"), a.CancelBatch, in.BatchID).Get(ctx, nil)
			closed = true
			return err
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context) error {
			if closed {
				return temporal.NewApplicationError("the batch is finished", ErrBatchFinished)
			}
			return nil
		}},
	); err != nil {
		return BatchResult{}, err
	}
	cancelled := func() (BatchResult, error) {
		if err := workflow.Await(ctx, func() bool { return closed && workflow.AllHandlersFinished(ctx) }); err != nil {
			return BatchResult{}, err
		}
		return BatchResult{BatchID: in.BatchID, Status: models.BatchCancelled, Settled: in.Settled}, nil
	}
	opts := workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		WaitForCancellation: true,
		RetryPolicy:         retryPolicy(),
		Summary:             "start the next page of offboardings",
	}
	for page := 0; ; page++ {
		if cancelRequested {
			return cancelled()
		}
		if page == perRun {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return BatchResult{}, err
			}
			if cancelRequested {
				return cancelled()
			}
			return BatchResult{}, workflow.NewContinueAsNewError(ctx, OffboardingBatchWorkflow, in)
		}
		var p activities.BatchProgress
		pageRunning = true
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(pageCtx, opts), a.RunBatchPage,
			activities.BatchPage{BatchID: in.BatchID, Size: size}).Get(ctx, &p)
		pageRunning = false
		if cancelRequested {
			return cancelled()
		}
		var canceled *temporal.CanceledError
		if err != nil && !errors.As(err, &canceled) {
			return BatchResult{}, err
		}
		in.Settled += p.Settled
		if p.Pending == 0 {
			closed = true // a cancel from now on is refused: nothing is left to cancel
			if err := workflow.ExecuteActivity(withSummary(ctx, "mark the batch done"), a.FinishBatch, in.BatchID).Get(ctx, nil); err != nil {
				return BatchResult{}, err
			}
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return BatchResult{}, err
			}
			return BatchResult{BatchID: in.BatchID, Status: models.BatchDone, Settled: in.Settled}, nil
		}
	}
}
