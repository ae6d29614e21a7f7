package worker

import (
	"context"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
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
	if s.Cron == "off" {
		return removeSchedule(ctx, c, ReconciliationScheduleID, "the reconciliation schedule")
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
	return ensureSchedule(ctx, c, schedule{id: ReconciliationScheduleID, what: "the reconciliation schedule",
		note: "policyflow: monthly by default (POLICYFLOW_RECONCILIATION_CRON)", spec: spec, action: action, overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP})
}
