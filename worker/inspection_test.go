package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/policyflow/policyflow/internal/testenv"
	"github.com/policyflow/policyflow/worker"
)

// The self-inspection's Schedule runs once a year, at 09:00 Tokyo time on the town's day
// (§9.1 毎年度), follows a new day, and goes with "off"; a malformed day is refused.
func TestEnsureInspectionSchedule(t *testing.T) {
	ctx := context.Background()
	tc := testenv.TemporalClient(t)
	jst := time.FixedZone("JST", 9*3600)
	for range 2 {
		if err := worker.EnsureInspectionSchedule(ctx, tc, worker.InspectionSchedule{Start: "10-01", TimeZone: "Asia/Tokyo"}); err != nil {
			t.Fatal(err)
		}
	}
	h := tc.ScheduleClient().GetHandle(ctx, worker.InspectionScheduleID)
	d, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next := d.Info.NextActionTimes
	if len(next) == 0 || next[0].In(jst).Format("01-02 15:04") != "10-01 09:00" {
		t.Errorf("next runs: %v, want 1 October at 09:00", next)
	}
	if len(next) > 1 && next[1].Sub(next[0]) < 364*24*time.Hour {
		t.Errorf("runs more than once a year: %v", next)
	}
	if err := worker.EnsureInspectionSchedule(ctx, tc, worker.InspectionSchedule{Start: "06-15", TimeZone: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	if d, err = h.Describe(ctx); err != nil || len(d.Info.NextActionTimes) == 0 || d.Info.NextActionTimes[0].In(jst).Format("01-02") != "06-15" {
		t.Errorf("after the update: %v, %v", d.Info.NextActionTimes, err)
	}
	if err := worker.EnsureInspectionSchedule(ctx, tc, worker.InspectionSchedule{Start: "02-29", TimeZone: "Asia/Tokyo"}); err == nil {
		t.Error("02-29 accepted")
	}
	if err := worker.EnsureInspectionSchedule(ctx, tc, worker.InspectionSchedule{Start: "off"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Describe(ctx); err == nil {
		t.Error("the schedule is still there after off")
	}
}
