package activities

import (
	"context"
	"sync"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/models"
)

// BatchRunner starts the items of a bulk batch of offboardings with exactly the checks and
// start of POST /offboardings, and records each result (internal/offboarding.Starter; an
// interface here because that package starts workflows, and workflows import activities).
type BatchRunner interface {
	RunItems(ctx context.Context, items []models.OffboardingBatchItem, keepPending bool, done func()) error
}

// BatchPage asks for the next page of a batch's pending items.
type BatchPage struct {
	BatchID string
	Size    int
}

// BatchProgress is where a batch stands after a page.
type BatchProgress struct {
	// Settled is how many items the page settled (started, existing or rejected).
	Settled int
	// Pending is how many items of the batch are still pending.
	Pending int
}

// RunBatchPage takes the next Size pending items of a batch, starts each as one offboarding
// would be started (a rule's refusal is recorded as rejected), records each result, and
// returns how many are still pending. It heartbeats after each item. An outage fails the
// page with the items it could not settle left pending; the retry takes them up again, and
// a start is idempotent on (employee_id, effective_date), so no item is started twice.
func (a *Activities) RunBatchPage(ctx context.Context, p BatchPage) (BatchProgress, error) {
	if a.Batches == nil {
		return BatchProgress{}, badInput("the worker has no batch runner")
	}
	items, err := a.Store.PendingBatchItems(ctx, p.BatchID, p.Size)
	if err != nil {
		return BatchProgress{}, err
	}
	var mu sync.Mutex
	settled := 0
	runErr := a.Batches.RunItems(ctx, items, true, func() {
		mu.Lock()
		defer mu.Unlock()
		settled++
		activity.RecordHeartbeat(ctx, settled)
	})
	if runErr != nil {
		return BatchProgress{}, temporal.NewApplicationErrorWithCause("batch page interrupted", "BatchOutage", runErr)
	}
	pending, err := a.Store.BatchPending(ctx, p.BatchID)
	if err != nil {
		return BatchProgress{}, err
	}
	return BatchProgress{Settled: settled, Pending: pending}, nil
}

// FinishBatch marks a batch whose items are all settled done.
func (a *Activities) FinishBatch(ctx context.Context, batchID string) error {
	return a.Store.FinishBatch(ctx, batchID, a.now())
}

// CancelBatch marks a batch cancelled and its pending items cancelled: they are never
// started. The items already started keep their processes (cancel those one by one).
func (a *Activities) CancelBatch(ctx context.Context, batchID string) error {
	return a.Store.CancelBatch(ctx, batchID, a.now())
}
