package bench

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
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

// MinimalShape is how many activities a minimal workflow runs: ordinary ones and local ones.
type MinimalShape struct {
	Activities, Local int
	// Upsert, when set, upserts one search attribute first (as workflow.GetVersion does).
	Upsert bool
}

// MinimalWorkflow runs no-op activities one after the other: first the local ones, then the
// ordinary ones. Scenario 2 compares the bulk start with it, at the same number of
// activities of each kind as an offboarding runs up to its first mail.
func MinimalWorkflow(ctx workflow.Context, shape MinimalShape) error {
	if shape.Upsert {
		if err := workflow.UpsertTypedSearchAttributes(ctx, temporal.NewSearchAttributeKeyKeyword("PolicyStage").ValueSet("in_progress")); err != nil {
			return err
		}
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute})
	for range shape.Local {
		if err := workflow.ExecuteLocalActivity(lctx, Noop).Get(ctx, nil); err != nil {
			return err
		}
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for range shape.Activities {
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
