package workflows_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/workflows"
)

// firings stands in for the Schedule: it starts MonthlyDigestWorkflow at each of the given
// offsets from its start, as the Schedule would (each run with a workflow ID of its own).
func firings(ctx workflow.Context, offsets []time.Duration) ([]workflows.DigestOutcome, error) {
	var out []workflows.DigestOutcome
	start := workflow.Now(ctx)
	for i, off := range offsets {
		if d := start.Add(off).Sub(workflow.Now(ctx)); d > 0 {
			if err := workflow.Sleep(ctx, d); err != nil {
				return out, err
			}
		}
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: "DIG-scheduled-" + string(rune('a'+i))})
		var o workflows.DigestOutcome
		if err := workflow.ExecuteChildWorkflow(cctx, workflows.MonthlyDigestWorkflow, workflows.DigestInput{TimeZone: "Asia/Tokyo"}).Get(ctx, &o); err != nil {
			return out, err
		}
		out = append(out, o)
	}
	return out, nil
}

// A month's digest is sent once, however often the Schedule fires in the month (a catch-up
// after an outage, the day changed in the settings); the next month's goes out again. The
// month is read in Tokyo: 1 December 08:00 JST is still 30 November in UTC.
func TestDigestOncePerMonth(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(jst("2026-12-01 08:00"))
	env.RegisterWorkflow(firings)
	env.RegisterWorkflow(workflows.MonthlyDigestWorkflow)
	env.RegisterWorkflow(workflows.DigestMonthWorkflow)
	var mu sync.Mutex
	calls := map[string]int{}
	failedOnce := false
	env.RegisterActivityWithOptions(func(_ context.Context, r activities.DigestRequest) (activities.DigestResult, error) {
		mu.Lock()
		defer mu.Unlock()
		calls[r.Month]++
		if !failedOnce {
			failedOnce = true
			return activities.DigestResult{}, errors.New("dial tcp: connection refused") // retried
		}
		return activities.DigestResult{Sent: []string{"C1", "G1"}}, nil
	}, activity.RegisterOptions{Name: "SendMonthlyDigest"})

	env.ExecuteWorkflow(firings, []time.Duration{0, time.Hour, 10 * 24 * time.Hour, 31 * 24 * time.Hour})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var out []workflows.DigestOutcome
	if err := env.GetWorkflowResult(&out); err != nil {
		t.Fatal(err)
	}
	if len(out) != 4 {
		t.Fatalf("%d outcomes", len(out))
	}
	for i, want := range []struct {
		month string
		again bool
	}{{"2026-12", false}, {"2026-12", true}, {"2026-12", true}, {"2027-01", false}} {
		if out[i].Month != want.month || out[i].AlreadyRun != want.again {
			t.Errorf("firing %d: %+v, want month %s, already run %t", i, out[i], want.month, want.again)
		}
	}
	if len(out[0].Sent) != 2 {
		t.Errorf("first firing sent %v", out[0].Sent)
	}
	// December's activity ran twice (its first attempt failed and was retried), January's once;
	// the later firings of December ran no digest at all.
	if calls["2026-12"] != 2 || calls["2027-01"] != 1 || len(calls) != 2 {
		t.Errorf("activity calls by month: %v", calls)
	}
}

// A digest due on a day the offices are closed goes out at the same hour of the next
// business day: 1 January 2027 (a holiday in the year-end closure, then a weekend) waits
// until Monday 4 January, 09:00; it is still January's digest.
func TestDigestWaitsForABusinessDay(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(jst("2027-01-01 09:00"))
	env.RegisterWorkflow(workflows.MonthlyDigestWorkflow)
	env.RegisterWorkflow(workflows.DigestMonthWorkflow)
	var sentAt time.Time
	var month string
	env.RegisterActivityWithOptions(func(_ context.Context, r activities.DigestRequest) (activities.DigestResult, error) {
		sentAt, month = env.Now().In(tokyo), r.Month
		return activities.DigestResult{Sent: []string{"C1"}}, nil
	}, activity.RegisterOptions{Name: "SendMonthlyDigest"})
	env.ExecuteWorkflow(workflows.MonthlyDigestWorkflow, workflows.DigestInput{TimeZone: "Asia/Tokyo"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if !sentAt.Equal(jst("2027-01-04 09:00")) || month != "2027-01" {
		t.Errorf("sent at %v for %s, want 2027-01-04 09:00 JST for 2027-01", sentAt, month)
	}
}
