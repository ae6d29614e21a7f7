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

// The embedded plan's deadlines say what DefaultIncidentTiming says, so that a town that does
// not edit its plan sees incidents run as before incident-rules 5; a field added to
// IncidentTiming and not to the plan's deadlines fails here.
func TestDefaultIncidentPlanDeadlinesAreTheCodes(t *testing.T) {
	if got := workflows.IncidentTimingOf(policy.DefaultIncidentPlan()); !reflect.DeepEqual(got, workflows.DefaultIncidentTiming) {
		t.Errorf("the embedded plan gives %+v,\nthe code %+v", got, workflows.DefaultIncidentTiming)
	}
}

// cloudTimings is the default file with another version and the officer's assessment
// deadline (ten business days by default) set to days.
func cloudTimings(version string, days int) *policy.Timings {
	t := policy.DefaultTimings()
	t.Version = version
	t.Cloud.Assess = policy.Period{BusinessDays: days}
	return &t
}

// A cloud service carries the timings it copied into each fiscal year's run: the worker
// having loaded another file by then changes nothing for it, and the next run copies nothing.
func TestTimingsCarriedIntoTheNextFiscalYear(t *testing.T) {
	c := newCloudRegister(t, monday, japanService(3))
	c.timings = cloudTimings("town-1", 7)
	c.assessAt(monday.Add(time.Hour), assess1, "D1")
	_, next := c.start(workflows.CloudInput{})
	if next == nil {
		t.Fatal("the first year did not continue as new")
	}
	cal := policy.NewCalendar(tokyo)
	equal(t, "assessment due", c.opened[0].spec.DueAt.In(tokyo), workflows.Deadline{BusinessDays: 7}.From(cal, monday))
	equal(t, "timing carried", next.Timing.Assess, workflows.Deadline{BusinessDays: 7})

	april := policy.FiscalYearStart(2027, tokyo)
	c2 := newCloudRegister(t, april, japanService(3))
	c2.timings = cloudTimings("town-2", 3)
	c2.assessAt(april.Add(9*time.Hour), assess2, "D1")
	if _, n := c2.start(*next); n == nil || n.Timing.Assess != (workflows.Deadline{BusinessDays: 7}) {
		t.Fatalf("FY2027 did not continue as new with its timing: %+v", n)
	}
	equal(t, "reassessment due", c2.opened[0].spec.DueAt.In(tokyo), workflows.Deadline{BusinessDays: 7}.From(cal, april))
	equal(t, "copies in the next run", len(c2.timingsNotes), 0)
}

// A run continued from a service started before the town's timings were copied (it carries
// none) keeps the code's defaults, as the service ran; it copies nothing.
func TestTimingsOfARunContinuedFromBeforeTheCopy(t *testing.T) {
	april := policy.FiscalYearStart(2027, tokyo)
	c := newCloudRegister(t, april, japanService(3))
	c.timings = cloudTimings("town-1", 3)
	c.assessAt(april.Add(9*time.Hour), assess2, "D1")
	_, next := c.start(workflows.CloudInput{InUse: true, FiscalYear: 2027, Carry: workflows.CloudCarry{Events: 4, Tasks: map[string]int{"diso_assessment": 1}, Evaluations: 1}})
	if next == nil {
		t.Fatal("FY2027 did not continue as new")
	}
	equal(t, "reassessment due", c.opened[0].spec.DueAt.In(tokyo), workflows.Deadline{BusinessDays: 10}.From(policy.NewCalendar(tokyo), april))
	equal(t, "copies", len(c.timingsNotes), 0)
	equal(t, "timing carried", next.Timing.Assess, workflows.Deadline{})
}

// An outsourcing contract carries the timings it copied into the run it continues as new.
func TestTimingsCarriedIntoAContractsNextRun(t *testing.T) {
	r := newOutRegister(t, monday)
	town := policy.DefaultTimings()
	town.Version, town.Outsourcing.ReportsPerRun, town.Outsourcing.Report = "town-1", 2, policy.Period{BusinessDays: 12}
	r.timings = &town
	r.approveAll(monday)
	for k := 1; k <= 2; k++ {
		due := jst("2026-06-01 09:00").AddDate(0, 3*k, 0)
		r.decideWith(due.Add(26*time.Hour), outTask("periodic_report", k), "submit", contact,
			reportValues(due.AddDate(0, -3, 0).Format("2006-01-02"), due.AddDate(0, 0, -1).Format("2006-01-02"), "none"))
	}
	in := outsourcing(policy.Level1, "2026-06-01", "2029-05-31")
	in.Timing = workflows.OutsourcingTiming{}
	_, next := r.execute(in)
	if next == nil {
		t.Fatal("the contract did not continue as new after two reports")
	}
	equal(t, "reports per run carried", next.Timing.ReportsPerRun, 2)
	equal(t, "report deadline carried", next.Timing.Report, workflows.Deadline{BusinessDays: 12})
	equal(t, "copies", len(r.timingsNotes), 1)
}
