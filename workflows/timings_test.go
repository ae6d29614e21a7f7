package workflows_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

// townTimings is the default file with another version and the exception's renewal notice
// (two weeks by default) set to days.
func townTimings(version string, days int) *policy.Timings {
	t := policy.DefaultTimings()
	t.Version = version
	t.Exception.RenewalNotice = policy.Duration(time.Duration(days) * 24 * time.Hour)
	return &t
}

// A process copies the town's timings when it starts and keeps them: the worker loading a
// changed file (here an hour after the start) changes nothing for it. The renewal notice,
// the last deadline the exception computes, months later, is still the one of the file it
// started under (issue 14).
func TestTimingsCopiedAtStartOutlastAChangedFile(t *testing.T) {
	r := newRegister(t, monday)
	r.timings = townTimings("town-1", 7)
	r.env.RegisterDelayedCallback(func() {
		r.lock(func() { r.timings = townTimings("town-2", 30) })
	}, time.Hour)
	r.decideAt(monday.Add(2*time.Hour), review1, "approve", "C1")
	r.decideAt(jst("2026-09-01 10:00"), restore1, "done", "I1")
	r.decideAt(jst("2026-09-01 11:00"), restore2, "done", "I2")
	res := r.run(normal())

	equal(t, "status", res.Status, "completed")
	equal(t, "notices", len(r.notices), 1)
	// The exception ends at the end of 31 August: seven days before, as town-1 says (town-2
	// would say 2 August, the code's default 18 August).
	equal(t, "renewal notice at", r.notices[0].at, jst("2026-08-25 00:00"))
	if len(r.timingsNotes) != 1 || !strings.Contains(r.timingsNotes[0], `version "town-1"`) {
		t.Errorf("the timeline does not name the timings version town-1 once: %q", r.timingsNotes)
	}
}

// A process started after the change runs under the changed file.
func TestTimingsOfAProcessStartedAfterTheChange(t *testing.T) {
	r := newRegister(t, monday)
	r.timings = townTimings("town-2", 30)
	r.decideAt(monday.Add(2*time.Hour), review1, "approve", "C1")
	r.decideAt(jst("2026-09-01 10:00"), restore1, "done", "I1")
	r.decideAt(jst("2026-09-01 11:00"), restore2, "done", "I2")
	r.run(normal())
	equal(t, "renewal notice at", r.notices[0].at, jst("2026-08-02 00:00"))
}

// The embedded file says what the code said before the town had one: a process started on
// it runs as one started before changeTimings does. A field added to a Timing (with a value in
// its Default*Timing) and not to policy/timings.json fails here.
func TestDefaultTimingsFileIsTheCodesDefaults(t *testing.T) {
	d := policy.DefaultTimings()
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"exception", workflows.ExceptionTimingOf(d), workflows.DefaultExceptionTiming},
		{"outsourcing", workflows.OutsourcingTimingOf(d), workflows.DefaultOutsourcingTiming},
		{"cloud", workflows.CloudTimingOf(d), workflows.DefaultCloudTiming},
		{"offboarding", workflows.OffboardingTimingOf(d), workflows.DefaultOffboardingTiming},
		{"reconciliation", workflows.ReconciliationTimingOf(d), workflows.DefaultReconciliationTiming},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: the embedded file gives %+v, the code %+v", c.what, c.got, c.want)
		}
	}
}
