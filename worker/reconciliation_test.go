package worker_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/policyflow/policyflow/internal/testenv"
	"github.com/policyflow/policyflow/worker"
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.NeedTemporal))
}

// The reconciliation's Schedule is created at the first start, updated to a new spec by
// the next, left as it is by a repeat, and removed with "off".
func TestEnsureReconciliationSchedule(t *testing.T) {
	ctx := context.Background()
	tc := testenv.TemporalClient(t)
	spec := worker.ReconciliationSchedule{Cron: "0 9 1 * *", TimeZone: "Asia/Tokyo", UnusedAfter: 90 * 24 * time.Hour}
	for range 2 {
		if err := worker.EnsureReconciliationSchedule(ctx, tc, spec); err != nil {
			t.Fatal(err)
		}
	}
	h := tc.ScheduleClient().GetHandle(ctx, worker.ReconciliationScheduleID)
	d, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Schedule.Spec.TimeZoneName != "Asia/Tokyo" || len(d.Schedule.Spec.Calendars)+len(d.Schedule.Spec.CronExpressions) == 0 {
		t.Errorf("spec %+v", d.Schedule.Spec)
	}
	if next := d.Info.NextActionTimes; len(next) == 0 || next[0].In(time.FixedZone("JST", 9*3600)).Day() != 1 {
		t.Errorf("next runs: %v, want the 1st of a month", next)
	}
	spec.Cron = "30 8 15 * *"
	if err := worker.EnsureReconciliationSchedule(ctx, tc, spec); err != nil {
		t.Fatal(err)
	}
	if d, err = h.Describe(ctx); err != nil {
		t.Fatal(err)
	}
	next := d.Info.NextActionTimes
	if len(next) == 0 || next[0].In(time.FixedZone("JST", 9*3600)).Day() != 15 {
		t.Errorf("next runs after the update: %v", next)
	}
	if !slices.ContainsFunc(next, func(t time.Time) bool { return t.UTC().Hour() == 23 && t.UTC().Minute() == 30 }) {
		t.Errorf("next runs are not at 08:30 in Tokyo: %v", next)
	}
	spec.Cron = "off"
	if err := worker.EnsureReconciliationSchedule(ctx, tc, spec); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Describe(ctx); err == nil {
		t.Error("the schedule is still there after off")
	} else if _, ok := err.(*serviceerror.NotFound); !ok {
		t.Logf("describe after delete: %v", err)
	}
}
