package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/workflows"
)

// batchEnv runs OffboardingBatchWorkflow over a fake batch of pending items: each page
// settles up to its size at once, except that with block the second page waits until it is
// cancelled (or 10 s pass).
type batchEnv struct {
	env                *testsuite.TestWorkflowEnvironment
	pending            int
	pages              []int // the size asked for, per page
	finished, canceled int
}

func newBatchEnv(t *testing.T, pending int, block bool) *batchEnv {
	var s testsuite.WorkflowTestSuite
	b := &batchEnv{env: s.NewTestWorkflowEnvironment(), pending: pending}
	b.env.RegisterWorkflow(workflows.OffboardingBatchWorkflow)
	reg := func(name string, fn any) { b.env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name}) }
	reg("RunBatchPage", func(ctx context.Context, p activities.BatchPage) (activities.BatchProgress, error) {
		b.pages = append(b.pages, p.Size)
		if block && len(b.pages) == 2 {
			select {
			case <-ctx.Done():
				return activities.BatchProgress{}, ctx.Err()
			case <-time.After(10 * time.Second):
				t.Error("the page in flight was not cancelled")
			}
		}
		n := min(p.Size, b.pending)
		b.pending -= n
		return activities.BatchProgress{Settled: n, Pending: b.pending}, nil
	})
	reg("FinishBatch", func(context.Context, string) error { b.finished++; return nil })
	reg("CancelBatch", func(context.Context, string) error { b.canceled++; return nil })
	return b
}

// A batch is worked through page by page, and continues as new after PagesPerRun pages,
// carrying the count of settled items; the last run marks it done.
func TestBatchPagesAndContinueAsNew(t *testing.T) {
	b := newBatchEnv(t, 5, false)
	b.env.ExecuteWorkflow(workflows.OffboardingBatchWorkflow, workflows.BatchInput{BatchID: "B1", PageSize: 2, PagesPerRun: 2})
	var can *workflow.ContinueAsNewError
	if !errors.As(b.env.GetWorkflowError(), &can) {
		t.Fatalf("after 2 pages: %v, want continue-as-new", b.env.GetWorkflowError())
	}
	if len(b.pages) != 2 || b.pending != 1 || b.finished != 0 {
		t.Fatalf("first run: pages %v, pending %d, finished %d", b.pages, b.pending, b.finished)
	}
	var next workflows.BatchInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.BatchID != "B1" || next.Settled != 4 || next.PageSize != 2 || next.PagesPerRun != 2 {
		t.Fatalf("continued with %+v", next)
	}

	// The next run, on the same batch, ends it.
	b2 := newBatchEnv(t, 1, false)
	b2.env.ExecuteWorkflow(workflows.OffboardingBatchWorkflow, next)
	var res workflows.BatchResult
	if err := b2.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != models.BatchDone || res.Settled != 5 || b2.finished != 1 || b2.canceled != 0 || len(b2.pages) != 1 {
		t.Fatalf("last run: %+v, finished %d, cancelled %d, pages %v", res, b2.finished, b2.canceled, b2.pages)
	}
}

// The defaults: 100 items a page, 20 pages a run; 250 items take three pages and one run.
func TestBatchDefaults(t *testing.T) {
	b := newBatchEnv(t, 250, false)
	b.env.ExecuteWorkflow(workflows.OffboardingBatchWorkflow, workflows.BatchInput{BatchID: "B2"})
	var res workflows.BatchResult
	if err := b.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if len(b.pages) != 3 || b.pages[0] != workflows.DefaultBatchPageSize || res.Settled != 250 || b.finished != 1 {
		t.Fatalf("pages %v, result %+v, finished %d", b.pages, res, b.finished)
	}
}

// A cancel stops the page in flight (the activity sees its context cancelled), marks the
// pending items cancelled, and ends the workflow without marking the batch done; the Update
// completes after the items are marked.
func TestBatchCancel(t *testing.T) {
	b := newBatchEnv(t, 1000, true)
	updated := false
	b.env.RegisterDelayedCallback(func() {
		b.env.UpdateWorkflow(workflows.UpdateCancelBatch, "cancel/B3", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { t.Errorf("cancel refused: %v", err) },
			OnAccept:   func() {},
			OnComplete: func(_ any, err error) { updated = err == nil && b.canceled == 1 },
		})
	}, 100*time.Millisecond)
	b.env.ExecuteWorkflow(workflows.OffboardingBatchWorkflow, workflows.BatchInput{BatchID: "B3"})
	var res workflows.BatchResult
	if err := b.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != models.BatchCancelled || b.canceled != 1 || b.finished != 0 || !updated {
		t.Fatalf("result %+v, cancelled %d, finished %d, update completed after the marking: %v", res, b.canceled, b.finished, updated)
	}
	if len(b.pages) != 2 || b.pending != 900 {
		t.Fatalf("pages %v, pending %d: want the first page done and the second cut short", b.pages, b.pending)
	}
}
