package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/policy"
)

// DigestInput is what the monthly digest's Schedule starts MonthlyDigestWorkflow with.
type DigestInput struct {
	// TimeZone is the town's zone, in which the month is read; empty means Asia/Tokyo.
	TimeZone string
}

// DigestMonthInput names the month of a digest, YYYY-MM, and the town's zone.
type DigestMonthInput struct {
	Month    string
	TimeZone string
}

// DigestOutcome says what became of a month's digest: sent to whom, sent before (by an
// earlier attempt), or not run again because the month's digest has run already.
type DigestOutcome struct {
	Month      string
	AlreadyRun bool
	Sent       []string
	Before     []string
}

// DigestWorkflowID is the workflow ID of a month's digest, e.g. "DIG-2026-12": one per
// month, so a second start for the month is refused by Temporal.
func DigestWorkflowID(month string) string { return "DIG-" + month }

// MonthlyDigestWorkflow is what the Schedule runs each month: it reads the month from
// workflow time in the town's zone and runs that month's DigestMonthWorkflow as a child
// under the month's own workflow ID. A completed month's ID is never used again
// (ALLOW_DUPLICATE_FAILED_ONLY), so a Schedule that fires twice in a month (a catch-up after
// an outage, a changed day) sends nothing the second time; a month whose run failed may run
// again, and the activity's sent markers skip whoever was mailed already.
func MonthlyDigestWorkflow(ctx workflow.Context, in DigestInput) (DigestOutcome, error) {
	tz := in.TimeZone
	if tz == "" {
		tz = "Asia/Tokyo"
	}
	loc, err := zone(tz)
	if err != nil {
		return DigestOutcome{}, err
	}
	month := workflow.Now(ctx).In(loc).Format("2006-01")
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            DigestWorkflowID(month),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		StaticSummary:         "Monthly digest to the CISO and the GISO for " + month,
	})
	var out DigestOutcome
	err = workflow.ExecuteChildWorkflow(cctx, DigestMonthWorkflow, DigestMonthInput{Month: month, TimeZone: tz}).Get(ctx, &out)
	// The server answers ChildWorkflowExecutionAlreadyStartedError, the test environment a
	// WorkflowExecutionAlreadyStarted; both mean the month's digest ran.
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		workflow.GetLogger(ctx).Info("the month's digest has run already", "month", month)
		return DigestOutcome{Month: month, AlreadyRun: true}, nil
	}
	return out, err
}

// DigestMonthWorkflow mails the month's digest to the CISO and the GISO, once per month and
// recipient (activities.SendMonthlyDigest). When the Schedule's day is not a business day of
// the town (a weekend, a holiday, the year-end closure: 1 January with the default day), it
// waits until the same hour of the next business day, when the offices read their mail.
func DigestMonthWorkflow(ctx workflow.Context, in DigestMonthInput) (DigestOutcome, error) {
	tz := in.TimeZone
	if tz == "" {
		tz = "Asia/Tokyo"
	}
	loc, err := zone(tz)
	if err != nil {
		return DigestOutcome{}, err
	}
	cal := policy.NewCalendar(loc)
	if now := workflow.Now(ctx).In(loc); !cal.IsBusinessDay(now) {
		next := cal.AddBusinessDays(now, 1)
		err := workflow.NewTimerWithOptions(ctx, next.Sub(now), workflow.TimerOptions{
			Summary: "Wait for the next business day, " + next.Format("2006-01-02 15:04 MST"),
		}).Get(ctx, nil)
		if err != nil {
			return DigestOutcome{Month: in.Month}, err
		}
	}
	var res activities.DigestResult
	err = workflow.ExecuteActivity(withSummary(ctx, "Mail the CISO and the GISO the digest of "+in.Month),
		acts.SendMonthlyDigest, activities.DigestRequest{Month: in.Month}).Get(ctx, &res)
	if err != nil {
		return DigestOutcome{Month: in.Month}, err
	}
	return DigestOutcome{Month: in.Month, Sent: res.Sent, Before: res.Before}, nil
}
