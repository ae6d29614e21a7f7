package worker

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

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
	if s.Day == 0 {
		return removeSchedule(ctx, c, DigestScheduleID, "the digest schedule")
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
	return ensureSchedule(ctx, c, schedule{id: DigestScheduleID, what: "the digest schedule",
		note: "policyflow: monthly digest (POLICYFLOW_DIGEST_DAY)", spec: spec, action: action, overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP})
}
