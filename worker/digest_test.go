package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/policyflow/policyflow/internal/testenv"
	"github.com/policyflow/policyflow/worker"
)

// The digest's Schedule fires on the town's day at 09:00 in Tokyo, is updated to a new day
// by the next worker start, left as it is by a repeat, and removed with day 0 ("off"); a day
// that not every month has is refused.
func TestEnsureDigestSchedule(t *testing.T) {
	ctx := context.Background()
	tc := testenv.TemporalClient(t)
	jst := time.FixedZone("JST", 9*3600)
	spec := worker.DigestSchedule{Day: 1, TimeZone: "Asia/Tokyo"}
	for range 2 {
		if err := worker.EnsureDigestSchedule(ctx, tc, spec); err != nil {
			t.Fatal(err)
		}
	}
	h := tc.ScheduleClient().GetHandle(ctx, worker.DigestScheduleID)
	d, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next := d.Info.NextActionTimes
	if len(next) == 0 {
		t.Fatal("no next run")
	}
	for _, at := range next {
		if l := at.In(jst); l.Day() != 1 || l.Hour() != worker.DigestHour || l.Minute() != 0 {
			t.Errorf("a run at %v, want the 1st at 09:00 in Tokyo", l)
		}
	}
	spec.Day = 15
	if err := worker.EnsureDigestSchedule(ctx, tc, spec); err != nil {
		t.Fatal(err)
	}
	if d, err = h.Describe(ctx); err != nil {
		t.Fatal(err)
	}
	if next := d.Info.NextActionTimes; len(next) == 0 || next[0].In(jst).Day() != 15 {
		t.Errorf("next runs after the update: %v", next)
	}
	if err := worker.EnsureDigestSchedule(ctx, tc, worker.DigestSchedule{Day: 31, TimeZone: "Asia/Tokyo"}); err == nil {
		t.Error("day 31 accepted")
	}
	if err := worker.EnsureDigestSchedule(ctx, tc, worker.DigestSchedule{Day: 0}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Describe(ctx); err == nil {
		t.Error("the schedule is still there after off")
	}
}
