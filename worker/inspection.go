package worker

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

// InspectionScheduleID is the Temporal Schedule that starts the fiscal year's self-inspection
// campaign (§9.1).
const InspectionScheduleID = "policyflow-inspection"

// InspectionSchedule is when the yearly self-inspection starts.
type InspectionSchedule struct {
	// Start is the day of the year, "MM-DD", at 09:00 in TimeZone (a town setting,
	// POLICYFLOW_INSPECTION_START); "off" removes the schedule.
	Start    string
	TimeZone string
}

// InspectionCron is the cron expression of a yearly start "MM-DD": 09:00 on that day.
func InspectionCron(start string) (string, error) {
	m, d, err := policy.ParseMonthDay(start)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("0 9 %d %d *", d, m), nil
}

// EnsureInspectionSchedule creates the self-inspection's Schedule, or updates it to the given
// day: idempotent, so every worker may call it at start. A run that finds the fiscal year's
// campaign started already (by the GISO through the API) ends at once as skipped.
func EnsureInspectionSchedule(ctx context.Context, c client.Client, s InspectionSchedule) error {
	if s.Start == "off" {
		return removeSchedule(ctx, c, InspectionScheduleID, "the inspection schedule")
	}
	cron, err := InspectionCron(s.Start)
	if err != nil {
		return fmt.Errorf("inspection schedule: %w", err)
	}
	spec := client.ScheduleSpec{CronExpressions: []string{cron}, TimeZoneName: s.TimeZone}
	action := &client.ScheduleWorkflowAction{
		ID: "INS-scheduled", Workflow: "InspectionWorkflow", TaskQueue: workflows.TaskQueue,
		Args: []any{workflows.InspectionInput{
			Header: workflows.Header{Kind: models.KindInspection, TimeZone: s.TimeZone},
		}},
		StaticSummary: "Yearly self-inspection of every system and department, reported to the security committee (§9.1)",
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.ProcessKind.ValueSet(models.KindInspection), workflows.ProcessStage.ValueSet("submitted")),
	}
	return ensureSchedule(ctx, c, schedule{id: InspectionScheduleID, what: "the inspection schedule",
		note: "policyflow: yearly (POLICYFLOW_INSPECTION_START)", spec: spec, action: action, overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL})
}
