package worker

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/workflows"
)

// DigestScheduleID is the Temporal Schedule that sends the CISO and the GISO the monthly
// digest.
const DigestScheduleID = "policyflow-monthly-digest"

// DigestSchedule is when the monthly digest goes out: at DigestHour on Day of each month in
// TimeZone. Day is a town setting (POLICYFLOW_DIGEST_DAY, 1–28 so that every month has it,
// default 1); 0 removes the schedule.
type DigestSchedule struct {
	Day      int
	TimeZone string
}

// DigestHour is the hour of the day the digest goes out, in the town's zone: 09:00.
const DigestHour = 9

// EnsureDigestSchedule creates the digest's Schedule or updates it to the given day:
// idempotent, so every worker calls it at start, like EnsureReconciliationSchedule. A run
// still open when the next is due is skipped; a month's digest is sent once however often
// the Schedule fires (workflows.MonthlyDigestWorkflow).
func EnsureDigestSchedule(ctx context.Context, c client.Client, s DigestSchedule) error {
	h := c.ScheduleClient().GetHandle(ctx, DigestScheduleID)
	if s.Day == 0 {
		err := h.Delete(ctx)
		var nf *serviceerror.NotFound
		if err != nil && !errors.As(err, &nf) {
			return fmt.Errorf("remove the digest schedule: %w", err)
		}
		return nil
	}
	if s.Day < 1 || s.Day > 28 {
		return fmt.Errorf("digest schedule: day %d is not 1-28", s.Day)
	}
	spec := client.ScheduleSpec{
		Calendars: []client.ScheduleCalendarSpec{{
			Second: []client.ScheduleRange{{Start: 0}}, Minute: []client.ScheduleRange{{Start: 0}},
			Hour: []client.ScheduleRange{{Start: DigestHour}}, DayOfMonth: []client.ScheduleRange{{Start: s.Day}},
			Month: []client.ScheduleRange{{Start: 1, End: 12}}, DayOfWeek: []client.ScheduleRange{{Start: 0, End: 6}},
		}},
		TimeZoneName: s.TimeZone,
	}
	action := &client.ScheduleWorkflowAction{
		ID: "DIG-scheduled", Workflow: "MonthlyDigestWorkflow", TaskQueue: workflows.TaskQueue,
		Args:          []any{workflows.DigestInput{TimeZone: s.TimeZone}},
		StaticSummary: "Monthly digest to the CISO and the GISO: overdue steps, dates coming due, absences",
	}
	_, err := h.Describe(ctx)
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		_, err = c.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID: DigestScheduleID, Spec: spec, Action: action, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
			Note: "policyflow: monthly digest (POLICYFLOW_DIGEST_DAY)",
		})
		if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("create the digest schedule: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("describe the digest schedule: %w", err)
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
		return fmt.Errorf("update the digest schedule: %w", err)
	}
	return nil
}
