package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/workflows"
)

// ReconciliationScheduleID is the Temporal Schedule that runs the reconciliation of accounts
// against HR's roster (§6.2(1)2(ウ)).
const ReconciliationScheduleID = "policyflow-reconciliation"

// ReconciliationSchedule is how often the reconciliation runs.
type ReconciliationSchedule struct {
	// Cron is a cron expression in TimeZone, e.g. "0 9 1 * *" (09:00 on the 1st of each
	// month); "off" removes the schedule.
	Cron        string
	TimeZone    string
	UnusedAfter time.Duration
}

// EnsureReconciliationSchedule creates the reconciliation's Schedule, or updates it to the
// given spec: idempotent, so every worker may call it at start. Runs never overlap (a run
// still open when the next is due makes it skip).
func EnsureReconciliationSchedule(ctx context.Context, c client.Client, s ReconciliationSchedule) error {
	h := c.ScheduleClient().GetHandle(ctx, ReconciliationScheduleID)
	if s.Cron == "off" {
		err := h.Delete(ctx)
		var nf *serviceerror.NotFound
		if err != nil && !errors.As(err, &nf) {
			return fmt.Errorf("remove the reconciliation schedule: %w", err)
		}
		return nil
	}
	spec := client.ScheduleSpec{CronExpressions: []string{s.Cron}, TimeZoneName: s.TimeZone}
	action := &client.ScheduleWorkflowAction{
		ID: "REC-scheduled", Workflow: "ReconciliationWorkflow", TaskQueue: workflows.TaskQueue,
		Args: []any{workflows.ReconciliationInput{
			Header:      workflows.Header{Kind: models.KindReconciliation, TimeZone: s.TimeZone},
			UnusedAfter: s.UnusedAfter,
		}},
		StaticSummary: "Scheduled reconciliation of every active account against the HR roster (§6.2(1)2(ウ))",
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.ProcessKind.ValueSet(models.KindReconciliation), workflows.ProcessStage.ValueSet("submitted")),
	}
	_, err := h.Describe(ctx)
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		_, err = c.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID: ReconciliationScheduleID, Spec: spec, Action: action, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
			Note: "policyflow: monthly by default (POLICYFLOW_RECONCILIATION_CRON)",
		})
		if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
			return nil // another worker created it just now
		}
		if err != nil {
			return fmt.Errorf("create the reconciliation schedule: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("describe the reconciliation schedule: %w", err)
	}
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		sched := in.Description.Schedule
		sched.Spec = &spec
		sched.Action = action
		if sched.Policy != nil {
			sched.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
		}
		return &client.ScheduleUpdate{Schedule: &sched}, nil
	}})
	if err != nil {
		return fmt.Errorf("update the reconciliation schedule: %w", err)
	}
	return nil
}
