package worker

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
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
	h := c.ScheduleClient().GetHandle(ctx, InspectionScheduleID)
	if s.Start == "off" {
		err := h.Delete(ctx)
		var nf *serviceerror.NotFound
		if err != nil && !errors.As(err, &nf) {
			return fmt.Errorf("remove the inspection schedule: %w", err)
		}
		return nil
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
	_, err = h.Describe(ctx)
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		_, err = c.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID: InspectionScheduleID, Spec: spec, Action: action, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
			Note: "policyflow: yearly (POLICYFLOW_INSPECTION_START)",
		})
		if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
			return nil // another worker created it just now
		}
		if err != nil {
			return fmt.Errorf("create the inspection schedule: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("describe the inspection schedule: %w", err)
	}
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		sched := in.Description.Schedule
		sched.Spec = &spec
		sched.Action = action
		return &client.ScheduleUpdate{Schedule: &sched}, nil
	}})
	if err != nil {
		return fmt.Errorf("update the inspection schedule: %w", err)
	}
	return nil
}
