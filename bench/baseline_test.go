package bench

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/workflow"
)

// The baselines: Temporal's own floor, measured in the same run on the same server, with a
// worker that has policyflow's options (worker.Options) but none of its code.

// TrivialUpdateWorkflow waits for one "decide" Update, whose handler answers at once, and
// ends. Scenario 1 compares a person's decision with a bare UpdateWorkflow call on it.
func TrivialUpdateWorkflow(ctx workflow.Context) error {
	done := false
	if err := workflow.SetUpdateHandler(ctx, "decide", func(ctx workflow.Context, choice string) (string, error) {
		done = true
		return choice, nil
	}); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return done })
}

// MinimalWorkflow runs n activities that do nothing, one after the other. Scenario 2
// compares the bulk start with it, at the same number of activities.
func MinimalWorkflow(ctx workflow.Context, n int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for range n {
		if err := workflow.ExecuteActivity(ctx, "BenchNoop").Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// Noop is the minimal workflow's activity.
func Noop(ctx context.Context) error { return nil }

func activityOptions(name string) activity.RegisterOptions {
	return activity.RegisterOptions{Name: name}
}
