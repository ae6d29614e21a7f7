package workflows_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

const incID = "INC-TEST"

func incTask(step string, n int) string {
	return incID + "/" + step + "/" + string(rune('0'+n))
}

// incidentRegister is the fake register of the exception tests, with the incident's own
// activities added: the report's registration and the hops of the reporting chain.
type incidentRegister struct {
	*register
	hops []activities.IncidentHop
	// plan is the town's emergency response plan; nil means the default.
	plan *policy.IncidentPlan
	// committee are the security committee's members; reports are the reports asked of
	// ReportToCommittee, with when.
	committee []string
	reports   []committeeReport
	// moves are the departments the incident was passed on to (MoveIncident).
	moves []string
}

type committeeReport struct {
	activities.CommitteeReport
	at time.Time
}

func newIncidentRegister(t *testing.T, start time.Time) *incidentRegister {
	r := &incidentRegister{register: newRegister(t, start), committee: []string{"C1", "G1", "D1", "I1"}}
	r.env.RegisterWorkflow(workflows.IncidentWorkflow)
	r.env.RegisterActivityWithOptions(func(_ context.Context, ref activities.IncidentRef) (activities.IncidentSetup, error) {
		setup := activities.IncidentSetup{Members: []string{"D1", "S1"}, Contacts: []string{"police", "vendor"}}
		if ref.Resident {
			setup.Departments = []string{"residents", "welfare"}
		}
		return setup, nil
	}, activity.RegisterOptions{Name: "RegisterIncident"})
	r.env.RegisterActivityWithOptions(func(context.Context, string) (policy.IncidentPlan, error) {
		plan := policy.DefaultIncidentPlan()
		r.lock(func() {
			if r.plan != nil {
				plan = *r.plan
			}
		})
		return plan, nil
	}, activity.RegisterOptions{Name: "CurrentIncidentPlan"})
	r.env.RegisterActivityWithOptions(func(_ context.Context, h activities.IncidentHop) error {
		r.lock(func() { r.hops = append(r.hops, h) })
		return nil
	}, activity.RegisterOptions{Name: "RecordIncidentHop"})
	r.env.RegisterActivityWithOptions(func(_ context.Context, c activities.CommitteeReport) (activities.CommitteeReported, error) {
		r.lock(func() { r.reports = append(r.reports, committeeReport{c, r.env.Now().In(tokyo)}) })
		return activities.CommitteeReported{Members: r.committee}, nil
	}, activity.RegisterOptions{Name: "ReportToCommittee"})
	r.env.RegisterActivityWithOptions(func(_ context.Context, m activities.IncidentMove) error {
		r.lock(func() { r.moves = append(r.moves, m.Department) })
		return nil
	}, activity.RegisterOptions{Name: "MoveIncident"})
	return r
}

// decide sends a decision with form values at a workflow time.
func (r *incidentRegister) decide(at time.Time, task, choice, by string, values map[string]string) *updateResult {
	res := &updateResult{}
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(workflows.UpdateDecide, fmt.Sprintf("%s|%s|%s|%s", task, by, choice, at.Format(time.RFC3339)), &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { res.rejected = err },
			OnAccept:   func() { res.accepted = true },
			OnComplete: func(v any, err error) { res.value, res.err = v, err },
		}, signed(workflows.DecideRequest{TaskID: task, Choice: choice, DeciderID: by, Values: values, RequestID: "req-" + task + "-" + by, DecidedAt: at.UTC()}))
	}, at.Sub(r.env.Now()))
	return res
}

func (r *incidentRegister) start(in workflows.IncidentInput) workflows.Result {
	r.t.Helper()
	in.Header = workflows.Header{ProcessID: incID, Kind: "incident", Department: "residents", TimeZone: "Asia/Tokyo"}
	if in.Source == "" {
		in.Source = "staff"
	}
	if in.Category == "" {
		in.Category = policy.CategoryLeak
	}
	in.ReceivedAt = r.env.Now()
	in.DiscoveredAt = r.env.Now().Add(-30 * time.Minute)
	r.env.ExecuteWorkflow(workflows.IncidentWorkflow, in)
	if !r.env.IsWorkflowCompleted() {
		r.t.Fatal("workflow did not complete")
	}
	if err := r.env.GetWorkflowError(); err != nil {
		r.t.Fatalf("workflow failed: %v", err)
	}
	var res workflows.Result
	if err := r.env.GetWorkflowResult(&res); err != nil {
		r.t.Fatal(err)
	}
	return res
}

func (r *incidentRegister) hopNames() []string {
	var out []string
	for _, h := range r.hops {
		out = append(out, h.Hop)
	}
	return out
}

func (r *incidentRegister) hop(name string) (activities.IncidentHop, bool) {
	for _, h := range r.hops {
		if h.Hop == name {
			return h, true
		}
	}
	return activities.IncidentHop{}, false
}

func (r *incidentRegister) openedTask(id string) (opened, bool) {
	for _, o := range r.opened {
		if o.spec.ID == id {
			return o, true
		}
	}
	return opened{}, false
}

func triageValues(sev, plan, ciso string) map[string]string {
	return map[string]string{"severity": sev, "plan": plan, "ciso": ciso}
}

var contacted = map[string]string{"contact_police": "contacted", "contact_vendor": "not_needed"}

// shortRootCause is the end of an incident outside the plan (§5.3(3)): from from, the
// department's officer and the system's manager give their part, the GISO reports the
// cause with no measure, and the CISO accepts, ten minutes apart.
func (r *incidentRegister) shortRootCause(from time.Time) {
	r.causes(from)
	r.decide(from.Add(10*time.Minute), incTask("root_cause", 1), "submit", "G1", nil)
	r.decide(from.Add(20*time.Minute), incTask("root_cause_review", 1), "accept", "C1", nil)
}

// causes has the department's officer and the system's manager give their part of the
// root cause (§5.3(3)1) at a workflow time.
func (r *incidentRegister) causes(at time.Time) {
	r.decide(at, incTask("cause_department", 1), "submit", "D1", nil)
	r.decide(at, incTask("cause_system", 1), "submit", "I1", nil)
}

// afterTriage decides the plan's steps, the root cause, its acceptance and one measure,
// each ten minutes after the one before, from from.
func (r *incidentRegister) planToClosure(from time.Time, ciso string) {
	r.planToClosureBy(from, ciso, "G1", "I1")
}

// planToClosureBy is planToClosure with the contact and the evidence steps decided by the
// given handlers.
func (r *incidentRegister) planToClosureBy(from time.Time, ciso, contact, evidence string) {
	at := func(n int) time.Time { return from.Add(time.Duration(n) * 10 * time.Minute) }
	r.decide(at(1), incTask("contact", 1), "done", contact, contacted)
	r.decide(at(1), incTask("evidence", 1), "done", evidence, nil)
	r.decide(at(2), incTask("containment", 1), "done", "I1", nil)
	r.decide(at(3), incTask("recovery", 1), "done", "I1", nil)
	r.causes(at(3).Add(5 * time.Minute))
	r.decide(at(4), incTask("root_cause", 1), "submit", "G1", map[string]string{"owner_1": "D1"})
	r.decide(at(5), incTask("root_cause_review", 1), "accept", ciso, nil)
	r.decide(at(6), incTask("measure_1", 1), "done", "D1", nil)
}

func TestIncidentHighRunsPlanToClosure(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("high", "no", "no"))
	r.decide(monday.Add(20*time.Minute), incTask("ciso_instruction", 1), "instruct", "C1", nil)
	r.planToClosure(monday.Add(20*time.Minute), "C1")
	res := r.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}})

	equal(t, "status", res.Status, "closed")
	want := []string{"triage/triage", "ciso_instruction/ciso_instruction", "responding/ciso_instructed",
		"responding/contact+evidence", "responding/containment", "responding/recovery",
		"root_cause/cause_department", "root_cause/root_cause", "root_cause/root_cause_review", "measures/measures", "closed/closed"}
	if !slices.Equal(r.stageNames(), want) {
		t.Errorf("stages = %v\nwant %v", r.stageNames(), want)
	}
	// The officer triages on clock hours: an hour, from the moment of the report.
	tri, _ := r.openedTask(incTask("triage", 1))
	equal(t, "triage assignee", tri.spec.AssigneeID, "D1")
	equal(t, "triage due", tri.spec.DueAt.In(tokyo), monday.Add(time.Hour))
	equal(t, "triage opened at once", tri.at, monday)
	// The GISO and the system managers are told at once (§5.3(1)2).
	var told []string
	for _, n := range r.notices {
		if n.kind == activities.NoticeIncidentReported {
			told = append(told, n.to)
			equal(t, "told at", n.at, monday)
		}
	}
	slices.Sort(told) // mailed side by side
	if !slices.Equal(told, []string{"G1", "I1", "I2"}) {
		t.Errorf("told of the report: %v", told)
	}
	// Contact and evidence open side by side, containment after both, recovery last.
	c, _ := r.openedTask(incTask("contact", 1))
	e, _ := r.openedTask(incTask("evidence", 1))
	k, _ := r.openedTask(incTask("containment", 1))
	equal(t, "contact and evidence together", c.at, e.at)
	equal(t, "containment after", k.at, monday.Add(30*time.Minute))
	equal(t, "contact handled by the GISO", c.spec.AssigneeID, "G1")
	equal(t, "evidence handled by the system manager", e.spec.AssigneeID, "I1")
	equal(t, "contact due in 2 h", c.spec.DueAt.Sub(c.at), 2*time.Hour)
	equal(t, "contact list fields", len(c.spec.Form), 3)
	equal(t, "no malware checklist for a leak", len(k.spec.Form), 1)
	// Every hop of the chain is recorded with its time.
	for _, h := range []string{"discovered", "received", "giso_notified", "ism_notified", "triage_requested", "triaged", "ciso_asked",
		"ciso_instructed", "contact_done", "evidence_done", "containment_done", "recovery_done", "root_cause_reported", "root_cause_accepted", "measure_1_done", "closed"} {
		if _, ok := r.hop(h); !ok {
			t.Errorf("hop %q not recorded; hops = %v", h, r.hopNames())
		}
	}
	d, _ := r.hop("discovered")
	equal(t, "discovered at", d.At.In(tokyo), monday.Add(-30*time.Minute))
	tr, _ := r.hop("triaged")
	equal(t, "triaged at", tr.At.In(tokyo), monday.Add(10*time.Minute))
	equal(t, "triaged by", tr.ActorID, "D1")
	m, _ := r.openedTask(incTask("measure_1", 1))
	equal(t, "measure owner", m.spec.AssigneeID, "D1")
}

func TestIncidentCriticalMalwareListsDisconnection(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(5*time.Minute), incTask("triage", 1), "record", "D1", triageValues("critical", "yes", "yes"))
	r.decide(monday.Add(20*time.Minute), incTask("ciso_instruction", 1), "instruct", "C1", nil)
	// The malware checklist is required: a containment without it is refused.
	bad := r.decide(monday.Add(35*time.Minute), incTask("containment", 1), "done", "I1", nil)
	checks := map[string]string{"disconnect_lan_cable": "done", "disconnect_wireless": "not_applicable", "disconnect_power": "not_applicable", "disconnect_mobile": "not_applicable"}
	r.decide(monday.Add(30*time.Minute), incTask("contact", 1), "done", "G1", contacted)
	r.decide(monday.Add(30*time.Minute), incTask("evidence", 1), "done", "I1", nil)
	r.decide(monday.Add(40*time.Minute), incTask("containment", 1), "done", "I1", checks)
	r.decide(monday.Add(50*time.Minute), incTask("recovery", 1), "done", "I1", nil)
	r.causes(monday.Add(55 * time.Minute))
	r.decide(monday.Add(60*time.Minute), incTask("root_cause", 1), "submit", "G1", map[string]string{"owner_1": "I1", "owner_2": "D1"})
	r.decide(monday.Add(70*time.Minute), incTask("root_cause_review", 1), "accept", "C1", nil)
	r.decide(monday.Add(80*time.Minute), incTask("measure_1", 1), "done", "I1", nil)
	r.decide(monday.Add(90*time.Minute), incTask("measure_2", 1), "done", "D1", nil)
	res := r.start(workflows.IncidentInput{ReporterID: "S1", Category: policy.CategoryMalware, SystemIDs: []string{"SYS1"}})
	equal(t, "status", res.Status, "closed")
	if bad.rejected == nil {
		t.Error("a containment without the disconnection checklist was accepted")
	}
	k, _ := r.openedTask(incTask("containment", 1))
	var names []string
	for _, f := range k.spec.Form {
		names = append(names, f.Name)
		if strings.HasPrefix(f.Name, "disconnect_") && !strings.Contains(f.Label.Ja, "§6.4(3)7") {
			t.Errorf("field %s does not cite §6.4(3)7: %q", f.Name, f.Label.Ja)
		}
	}
	if !slices.Equal(names, []string{"disconnect_lan_cable", "disconnect_wireless", "disconnect_power", "disconnect_mobile", "actions"}) {
		t.Errorf("containment form = %v", names)
	}
	if _, ok := r.openedTask(incTask("measure_2", 1)); !ok {
		t.Error("the second measure was not tracked")
	}
}

func TestIncidentMediumWithoutCISO(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", map[string]string{
		"severity": "medium", "plan": "yes", "ciso": "no", "handler_contact": "D1", "handler_recovery": "S1"})
	r.planToClosure(monday.Add(10*time.Minute), "C1")
	// planToClosure has the GISO decide the contact step; here the officer named D1.
	r.decide(monday.Add(15*time.Minute), incTask("contact", 1), "done", "D1", contacted)
	r.decide(monday.Add(35*time.Minute), incTask("recovery", 1), "done", "S1", nil)
	res := r.start(workflows.IncidentInput{ReporterID: "S1"})
	equal(t, "status", res.Status, "closed")
	if _, ok := r.openedTask(incTask("ciso_instruction", 1)); ok {
		t.Error("a medium incident went to the CISO though the officer did not ask")
	}
	c, _ := r.openedTask(incTask("contact", 1))
	equal(t, "contact handler named by the officer", c.spec.AssigneeID, "D1")
	equal(t, "contact escalates to the GISO", c.spec.ExpiresAt.Sub(c.spec.DueAt), 2*time.Hour)
	rec, _ := r.openedTask(incTask("recovery", 1))
	equal(t, "recovery handler named by the officer", rec.spec.AssigneeID, "S1")
}

func TestIncidentLowRecordedThenShortRootCause(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("low", "no", "no"))
	r.decide(monday.Add(40*time.Minute), incTask("record", 1), "record", "D1", nil)
	r.shortRootCause(monday.Add(50 * time.Minute))
	res := r.start(workflows.IncidentInput{ReporterID: "S1", Category: policy.CategoryMisdeliveredMail})
	equal(t, "status", res.Status, "closed")
	want := []string{"triage/triage", "recording/record", "root_cause/cause_department", "root_cause/root_cause",
		"root_cause/root_cause_review", "closed/closed"}
	if !slices.Equal(r.stageNames(), want) {
		t.Errorf("stages = %v, want %v", r.stageNames(), want)
	}
	// triage, record, the department's and the system's part, the root cause, its review.
	equal(t, "tasks", len(r.opened), 6)
	// §5.3(3)1: the department's officer and the system's manager give their part.
	for step, who := range map[string]string{"cause_department": "D1", "cause_system": "I1"} {
		o, ok := r.openedTask(incTask(step, 1))
		if !ok {
			t.Fatalf("%s not asked", step)
		}
		equal(t, step+" asked of", o.spec.AssigneeID, who)
		if h, ok := r.hop(step + "_given"); !ok || h.ActorID != who {
			t.Errorf("%s not on the record: %v", step, r.hopNames())
		}
	}
	// A short record: no measure is required outside the plan.
	rc, _ := r.openedTask(incTask("root_cause", 1))
	for _, f := range rc.spec.Form {
		if strings.HasPrefix(f.Name, "measure_") && f.Required {
			t.Errorf("a low incident's root cause requires %s", f.Name)
		}
	}
	// §5.3(3)2: the CISO accepts it.
	acc, ok := r.hop("root_cause_accepted")
	if !ok || acc.ActorID != "C1" {
		t.Errorf("the root cause was not accepted by the CISO: %+v", acc)
	}
	var closedTo []string
	for _, n := range r.notices {
		if n.kind == activities.NoticeIncidentClosed {
			closedTo = append(closedTo, n.to)
		}
	}
	if !slices.Equal(closedTo, []string{"G1"}) {
		t.Errorf("the GISO was not told of the closure: %v", r.notices)
	}
}

// The CISO does not answer: at the deadline the task escalates to the GISO, who decides on
// own judgement (§2(2)5), and the register's stage and hops say so.
func TestIncidentCISOAbsentGISODecides(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("high", "yes", "yes"))
	// The CISO's task is due at 11:10 (2 h); the GISO decides at 11:30.
	early := r.decide(monday.Add(30*time.Minute), incTask("ciso_instruction", 1), "instruct", "G1", nil)
	r.decide(monday.Add(2*time.Hour+30*time.Minute), incTask("ciso_instruction", 1), "instruct", "G1", nil)
	r.planToClosure(monday.Add(2*time.Hour+30*time.Minute), "C1")
	res := r.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}})
	equal(t, "status", res.Status, "closed")
	if early.rejected == nil {
		t.Error("the GISO decided in the CISO's place before the escalation")
	}
	if !slices.Contains(r.stageNames(), "responding/giso_judgement") {
		t.Errorf("stages = %v", r.stageNames())
	}
	for _, s := range r.stages {
		if s.Stage == "giso_judgement" && !strings.Contains(s.Note, "§2(2)5") {
			t.Errorf("note %q does not cite §2(2)5", s.Note)
		}
	}
	h, ok := r.hop("giso_own_judgement")
	equal(t, "hop recorded", ok, true)
	equal(t, "hop by", h.ActorID, "G1")
	equal(t, "hop at", h.At.In(tokyo), monday.Add(2*time.Hour+30*time.Minute))
	want := []mailed{{"reminder-1", incTask("ciso_instruction", 1), "C1", monday.Add(70 * time.Minute)},
		{"escalation", incTask("ciso_instruction", 1), "G1", monday.Add(130 * time.Minute)}}
	var got []mailed
	for _, m := range r.mails {
		if m.task == incTask("ciso_instruction", 1) {
			got = append(got, m)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("mails = %v, want %v", got, want)
	}
	for _, d := range r.decisions {
		if d.Step == "ciso_instruction" && d.DeciderID != "G1" {
			t.Errorf("decision by %s", d.DeciderID)
		}
	}
}

// The evidence step is not done by its deadline: reminded, escalated to the GISO, who
// confirms it in the grace period.
func TestIncidentStepOverdueEscalated(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("medium", "yes", "no"))
	r.decide(monday.Add(20*time.Minute), incTask("contact", 1), "done", "G1", contacted)
	// Evidence opened at 09:10, due at 13:10; the GISO confirms at 14:00.
	r.decide(monday.Add(5*time.Hour), incTask("evidence", 1), "done", "G1", nil)
	r.planToClosure(monday.Add(5*time.Hour), "C1")
	res := r.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}})
	equal(t, "status", res.Status, "closed")
	var got []mailed
	for _, m := range r.mails {
		if m.task == incTask("evidence", 1) {
			got = append(got, m)
		}
	}
	want := []mailed{{"reminder-1", incTask("evidence", 1), "I1", monday.Add(3*time.Hour + 10*time.Minute)},
		{"escalation", incTask("evidence", 1), "G1", monday.Add(4*time.Hour + 10*time.Minute)}}
	if !slices.Equal(got, want) {
		t.Errorf("mails = %v, want %v", got, want)
	}
	k, _ := r.openedTask(incTask("containment", 1))
	equal(t, "containment waits for evidence", k.at, monday.Add(5*time.Hour))
	h, _ := r.hop("evidence_done")
	equal(t, "done by the GISO", h.ActorID, "G1")
}

// A step nobody confirms at all is recorded overdue, and the plan goes on.
func TestIncidentStepExpiresAndPlanGoesOn(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("medium", "yes", "no"))
	r.decide(monday.Add(20*time.Minute), incTask("evidence", 1), "done", "I1", nil)
	// Contact: due 11:10, escalation to the CISO until 13:10; nobody decides.
	r.planToClosure(monday.Add(4*time.Hour+10*time.Minute), "C1")
	res := r.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}})
	equal(t, "status", res.Status, "closed")
	equal(t, "contact task", r.closed[incTask("contact", 1)], "expired")
	if _, ok := r.hop("contact_overdue"); !ok {
		t.Errorf("hops = %v", r.hopNames())
	}
	k, _ := r.openedTask(incTask("containment", 1))
	equal(t, "containment after the contact step expired", k.at, monday.Add(4*time.Hour+10*time.Minute))
}

// The CISO returns the root-cause record once; the GISO's second record is accepted.
func TestIncidentRootCauseReturnedOnce(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("high", "yes", "no"))
	r.decide(monday.Add(20*time.Minute), incTask("ciso_instruction", 1), "instruct", "C1", nil)
	at := func(n int) time.Time { return monday.Add(20*time.Minute + time.Duration(n)*10*time.Minute) }
	r.decide(at(1), incTask("contact", 1), "done", "G1", contacted)
	r.decide(at(1), incTask("evidence", 1), "done", "I1", nil)
	r.decide(at(2), incTask("containment", 1), "done", "I1", nil)
	r.decide(at(3), incTask("recovery", 1), "done", "I1", nil)
	r.causes(at(3).Add(5 * time.Minute))
	r.decide(at(4), incTask("root_cause", 1), "submit", "G1", map[string]string{"owner_1": "D1"})
	r.decide(at(5), incTask("root_cause_review", 1), "return", "C1", nil)
	// The measure of the first record is never opened.
	r.decide(at(6), incTask("root_cause", 2), "submit", "G1", map[string]string{"owner_1": "I1", "owner_2": "I2"})
	r.decide(at(7), incTask("root_cause_review", 2), "accept", "C1", nil)
	r.decide(at(8), incTask("measure_1", 1), "done", "I1", nil)
	r.decide(at(9), incTask("measure_2", 1), "done", "I2", nil)
	res := r.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}})
	equal(t, "status", res.Status, "closed")
	if _, ok := r.hop("root_cause_returned"); !ok {
		t.Errorf("hops = %v", r.hopNames())
	}
	m1, _ := r.openedTask(incTask("measure_1", 1))
	equal(t, "measures of the accepted record", m1.spec.AssigneeID, "I1")
	rc, _ := r.openedTask(incTask("root_cause", 1))
	equal(t, "root cause due in 5 business days", rc.spec.DueAt.In(tokyo), jst("2026-05-08 17:15"))
	// The second record's task names the CISO's return, so it shows who returned the first
	// and the instructions (issue 14).
	rc2, _ := r.openedTask(incTask("root_cause", 2))
	equal(t, "round 2 answers the return", rc2.spec.ReturnOf, incTask("root_cause_review", 1))
	equal(t, "round 1 answers none", rc.spec.ReturnOf, "")
	var got []string
	for _, o := range r.opened {
		if strings.Contains(o.spec.ID, "root_cause") || strings.Contains(o.spec.ID, "measure") {
			got = append(got, strings.TrimPrefix(o.spec.ID, incID+"/")+"@"+o.spec.AssigneeID)
		}
	}
	want := []string{"root_cause/1@G1", "root_cause_review/1@C1", "root_cause/2@G1", "root_cause_review/2@C1"}
	if len(got) != 6 || !slices.Equal(got[:4], want) {
		t.Errorf("tasks = %v", got)
	}
	// The close waits for the last measure; the committee's report follows it.
	last := r.hops[len(r.hops)-2]
	equal(t, "closed last", last.Hop, "closed")
	equal(t, "closed at", last.At.In(tokyo), at(9))
}

// A resident's report (§5.3(2)) goes to the GISO's office for triage, escalating to the
// CISO; the GISO is not told twice.
func TestIncidentResidentReport(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "G1", map[string]string{
		"severity": "low", "plan": "no", "ciso": "no", "department": "unknown"})
	r.decide(monday.Add(20*time.Minute), incTask("record", 1), "record", "G1", nil)
	r.shortRootCause(monday.Add(30 * time.Minute))
	res := r.start(workflows.IncidentInput{Source: "resident", Category: policy.CategoryOther})
	if _, ok := r.hop("passed_on"); ok {
		t.Error("a report whose department is not known was passed on")
	}
	equal(t, "status", res.Status, "closed")
	tri, _ := r.openedTask(incTask("triage", 1))
	equal(t, "triage by the GISO", tri.spec.AssigneeID, "G1")
	equal(t, "escalates", tri.spec.ExpiresAt.Sub(tri.spec.DueAt), time.Hour)
	for _, n := range r.notices {
		if n.kind == activities.NoticeIncidentReported && n.to == "G1" {
			t.Error("the GISO, who triages, was also told of the report")
		}
	}
	h, _ := r.hop("received")
	equal(t, "received from", h.Note, "report received from resident")
}

// Nobody triages: the officer is reminded, the GISO is given the task, and when neither
// decides the incident is handled as high severity.
func TestIncidentUntriagedIsHandledAsHigh(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(2*time.Hour+10*time.Minute), incTask("ciso_instruction", 1), "instruct", "C1", nil)
	r.planToClosure(monday.Add(2*time.Hour+10*time.Minute), "C1")
	res := r.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}})
	equal(t, "status", res.Status, "closed")
	equal(t, "triage expired", r.closed[incTask("triage", 1)], "expired")
	want := []mailed{{"reminder-1", incTask("triage", 1), "D1", monday.Add(30 * time.Minute)},
		{"escalation", incTask("triage", 1), "G1", monday.Add(time.Hour)}}
	if !slices.Equal(r.mails[:2], want) {
		t.Errorf("mails = %v", r.mails)
	}
	c, _ := r.openedTask(incTask("ciso_instruction", 1))
	equal(t, "CISO asked at the end of the escalation", c.at, monday.Add(2*time.Hour))
}

var disconnected = map[string]string{"disconnect_lan_cable": "done", "disconnect_wireless": "not_applicable",
	"disconnect_power": "not_applicable", "disconnect_mobile": "not_applicable"}

// §6.4(3)7 「即時」: a malware report opens the disconnection tasks for the reporter and the
// system's manager at the moment it is received, before the triage is decided, and their
// confirmations (who, when, which actions) are on the record before the triage.
func TestIncidentMalwareDisconnectionAtOnce(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(5*time.Minute), incTask(policy.StepDisconnection, 1), "done", "S1", disconnected)
	r.decide(monday.Add(8*time.Minute), incTask(policy.StepDisconnectionCheck, 1), "done", "I1", disconnected)
	r.decide(monday.Add(40*time.Minute), incTask("triage", 1), "record", "D1", triageValues("low", "no", "no"))
	r.decide(monday.Add(50*time.Minute), incTask("record", 1), "record", "D1", nil)
	r.shortRootCause(monday.Add(60 * time.Minute))
	res := r.start(workflows.IncidentInput{ReporterID: "S1", Category: policy.CategoryMalware, SystemIDs: []string{"SYS1"}})
	equal(t, "status", res.Status, "closed")
	for step, who := range map[string]string{policy.StepDisconnection: "S1", policy.StepDisconnectionCheck: "I1"} {
		o, ok := r.openedTask(incTask(step, 1))
		if !ok {
			t.Fatalf("%s was not opened", step)
		}
		equal(t, step+" opened at the report", o.at, monday)
		equal(t, step+" assignee", o.spec.AssigneeID, who)
		equal(t, step+" due in 15 min", o.spec.DueAt.Sub(o.at), policy.DisconnectionDeadline)
		h, ok := r.hop(step + "_confirmed")
		if !ok {
			t.Fatalf("%s confirmation not recorded: %v", step, r.hopNames())
		}
		equal(t, step+" confirmed by", h.ActorID, who)
		if !strings.Contains(h.Note, "lan_cable=done") || !strings.Contains(h.Note, "mobile=not_applicable") {
			t.Errorf("%s note does not say which actions: %q", step, h.Note)
		}
	}
	tri, _ := r.openedTask(incTask("triage", 1))
	equal(t, "triage opened at the report too", tri.at, monday)
	names := r.hopNames()
	if c, tr := slices.Index(names, "disconnection_confirmed"), slices.Index(names, "triaged"); c < 0 || tr < 0 || c > tr {
		t.Errorf("the disconnection was not confirmed before the triage: %v", names)
	}
	d, _ := r.hop("disconnection_confirmed")
	equal(t, "confirmed at", d.At.In(tokyo), monday.Add(5*time.Minute))
}

// Nobody confirms the disconnection: it escalates to the GISO at the deadline, and after the
// grace the record says it is overdue; the incident still closes, after it.
func TestIncidentDisconnectionOverdue(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("low", "no", "no"))
	r.decide(monday.Add(12*time.Minute), incTask("record", 1), "record", "D1", nil)
	r.shortRootCause(monday.Add(20 * time.Minute))
	res := r.start(workflows.IncidentInput{ReporterID: "S1", Category: policy.CategoryMalware, SystemIDs: []string{"SYS1"}})
	equal(t, "status", res.Status, "closed")
	for _, h := range []string{"disconnection_overdue", "disconnection_check_overdue"} {
		if _, ok := r.hop(h); !ok {
			t.Errorf("hop %q not recorded: %v", h, r.hopNames())
		}
	}
	o, _ := r.openedTask(incTask(policy.StepDisconnection, 1))
	equal(t, "escalation to the GISO for 15 min", o.spec.ExpiresAt.Sub(o.spec.DueAt), policy.DisconnectionGrace)
	names := r.hopNames()
	if slices.Index(names, "disconnection_overdue") > slices.Index(names, "closed") {
		t.Errorf("the incident closed before the first-hour path ended: %v", names)
	}
}

// A leak has no first-hour path.
func TestIncidentLeakHasNoDisconnection(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("low", "no", "no"))
	r.decide(monday.Add(12*time.Minute), incTask("record", 1), "record", "D1", nil)
	r.shortRootCause(monday.Add(20 * time.Minute))
	r.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}})
	if _, ok := r.openedTask(incTask(policy.StepDisconnection, 1)); ok {
		t.Error("a leak opened a disconnection task")
	}
}

// §2(3)5, §2(2)8: the CISO is told at triage of every incident the plan applies to, with its
// severity, even when the CISO's instructions are not asked for.
func TestIncidentCISOToldAtTriage(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("medium", "yes", "no"))
	r.planToClosure(monday.Add(10*time.Minute), "C1")
	res := r.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}})
	equal(t, "status", res.Status, "closed")
	var told []mailed
	for _, n := range r.notices {
		if n.kind == activities.NoticeIncidentTriaged {
			told = append(told, n)
		}
	}
	if len(told) != 1 || told[0].to != "C1" {
		t.Fatalf("the CISO was not told at triage: %v", r.notices)
	}
	equal(t, "told at the triage", told[0].at, monday.Add(10*time.Minute))
	p := r.params[told[0].task]
	if !strings.Contains(p["severity"], "Medium") || !strings.Contains(p["instruction"], "not asked") {
		t.Errorf("the notice does not give the severity: %v", p)
	}
	h, ok := r.hop("ciso_notified")
	if !ok {
		t.Fatalf("hop ciso_notified not recorded: %v", r.hopNames())
	}
	equal(t, "notified at", h.At.In(tokyo), monday.Add(10*time.Minute))
	if _, ok := r.openedTask(incTask("ciso_instruction", 1)); ok {
		t.Error("the CISO's instructions were asked though nobody asked for them")
	}
}

// Outside the plan the CISO is not troubled at triage.
func TestIncidentCISONotToldOutsideThePlan(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("medium", "no", "no"))
	r.decide(monday.Add(20*time.Minute), incTask("record", 1), "record", "D1", nil)
	r.start(workflows.IncidentInput{ReporterID: "S1"})
	for _, n := range r.notices {
		if n.kind == activities.NoticeIncidentTriaged {
			t.Errorf("the CISO was told of an incident outside the plan: %v", n)
		}
	}
}

// §7.2(2): a policy violation found by staff is reported to both the GISO and the
// department's officer, and the GISO judges (triages) whether the plan applies.
func TestIncidentPolicyViolationTriagedByGISO(t *testing.T) {
	r := newIncidentRegister(t, monday)
	wrong := r.decide(monday.Add(5*time.Minute), incTask("triage", 1), "record", "D1", triageValues("low", "no", "no"))
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "G1", triageValues("low", "no", "no"))
	r.decide(monday.Add(20*time.Minute), incTask("record", 1), "record", "G1", nil)
	r.start(workflows.IncidentInput{ReporterID: "S1", Category: policy.CategoryPolicyViolation, SystemIDs: []string{"SYS1"}})
	tri, _ := r.openedTask(incTask("triage", 1))
	equal(t, "triaged by the GISO (§7.2(2)2)", tri.spec.AssigneeID, "G1")
	equal(t, "the GISO's post", tri.spec.PostRole, string(policy.RoleGISO))
	if wrong.rejected == nil {
		t.Error("the department's officer triaged a policy violation")
	}
	h, ok := r.hop("diso_notified")
	if !ok {
		t.Fatalf("the department's officer was not told (§7.2(2)1): %v", r.hopNames())
	}
	equal(t, "officer told", h.ActorID, "D1")
	equal(t, "told at the report", h.At.In(tokyo), monday)
	tr, _ := r.hop("triaged")
	equal(t, "triaged by", tr.ActorID, "G1")
}

// §6.5(2): an attack notice goes to the CISO and the GISO. The GISO triages it and cannot
// call it low; the CISO is told at once and always instructs, deciding whether systems stop.
func TestIncidentAttackNoticeGoesToCISOAndGISO(t *testing.T) {
	r := newIncidentRegister(t, monday)
	low := r.decide(monday.Add(5*time.Minute), incTask("triage", 1), "record", "G1", triageValues("low", "no", "no"))
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "G1", triageValues("medium", "no", "no"))
	r.decide(monday.Add(20*time.Minute), incTask("ciso_instruction", 1), "instruct", "C1", map[string]string{"stop_systems": "yes"})
	r.decide(monday.Add(30*time.Minute), incTask("record", 1), "record", "G1", nil)
	r.start(workflows.IncidentInput{ReporterID: "S1", Category: policy.CategoryAttackNotice, SystemIDs: []string{"SYS1"}})
	tri, _ := r.openedTask(incTask("triage", 1))
	equal(t, "triaged by the GISO", tri.spec.AssigneeID, "G1")
	for _, f := range tri.spec.Form {
		if f.Name == "severity" && slices.ContainsFunc(f.Options, func(o activities.Option) bool { return o.Value == "low" }) {
			t.Error("an attack notice may be triaged as low")
		}
	}
	if low.rejected == nil {
		t.Error("an attack notice was closed as low")
	}
	c, ok := r.hop("ciso_notified")
	if !ok {
		t.Fatalf("the CISO was not told of the attack notice: %v", r.hopNames())
	}
	equal(t, "CISO told at the report", c.At.In(tokyo), monday)
	ci, ok := r.openedTask(incTask("ciso_instruction", 1))
	if !ok {
		t.Fatal("the CISO was not asked for instructions on an attack notice")
	}
	if !slices.ContainsFunc(ci.spec.Form, func(f activities.Field) bool { return f.Name == "stop_systems" && f.Required }) {
		t.Errorf("the CISO's form has no decision on stopping systems: %v", ci.spec.Form)
	}
	s, ok := r.hop("stop_systems_decided")
	if !ok || s.ActorID != "C1" || !strings.Contains(s.Note, "yes") {
		t.Errorf("the decision to stop systems is not on the record: %+v %v", s, r.hopNames())
	}
}

// The GISO, who wrote the root-cause record of a low incident, cannot accept it in the
// CISO's place: the engine refuses the author, a party to the review (§5.3(3)2).
func TestIncidentShortRootCauseNotAcceptedByAuthor(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("low", "no", "no"))
	r.decide(monday.Add(20*time.Minute), incTask("record", 1), "record", "D1", nil)
	r.causes(monday.Add(30 * time.Minute))
	r.decide(monday.Add(40*time.Minute), incTask("root_cause", 1), "submit", "G1", nil)
	self := r.decide(monday.Add(50*time.Minute), incTask("root_cause_review", 1), "accept", "G1", nil)
	r.decide(monday.Add(60*time.Minute), incTask("root_cause_review", 1), "accept", "C1", nil)
	res := r.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}})
	equal(t, "status", res.Status, "closed")
	if self.rejected == nil {
		t.Error("the author of the root-cause record accepted it")
	}
	acc, _ := r.hop("root_cause_accepted")
	equal(t, "accepted by", acc.ActorID, "C1")
}

// §5.3(2)1–2: the GISO's office names the department concerned at triage; the report is
// passed on to its security officer, who then gives the department's part of the cause.
func TestIncidentResidentReportPassedOnToTheDepartment(t *testing.T) {
	r := newIncidentRegister(t, monday)
	missing := r.decide(monday.Add(5*time.Minute), incTask("triage", 1), "record", "G1", triageValues("low", "no", "no"))
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "G1", map[string]string{
		"severity": "low", "plan": "no", "ciso": "no", "department": "welfare"})
	r.decide(monday.Add(20*time.Minute), incTask("record", 1), "record", "G1", nil)
	r.shortRootCause(monday.Add(30 * time.Minute))
	res := r.start(workflows.IncidentInput{Source: "resident", Category: policy.CategoryOther})
	equal(t, "status", res.Status, "closed")
	if missing.rejected == nil {
		t.Error("a resident's report was triaged without saying whether the department is known")
	}
	h, ok := r.hop("passed_on")
	if !ok {
		t.Fatalf("the report was not passed on: %v", r.hopNames())
	}
	equal(t, "passed on to", h.ActorID, "D1")
	equal(t, "passed on at the triage", h.At.In(tokyo), monday.Add(10*time.Minute))
	if !strings.Contains(h.Note, "welfare") {
		t.Errorf("the record does not name the department: %q", h.Note)
	}
	told := false
	for _, n := range r.notices {
		told = told || n.kind == activities.NoticeIncidentReported && n.to == "D1" && strings.Contains(n.task, "/passed_on/")
	}
	if !told {
		t.Errorf("the department's officer was not told: %v", r.notices)
	}
	c, _ := r.openedTask(incTask("cause_department", 1))
	equal(t, "the department concerned's part of the cause", c.spec.PostScope, "welfare")
}

// §7.3: the plan is the town's data. An incident copies the town's plan when it starts,
// runs its steps and first-hour deadlines, and its timeline names the version.
func TestIncidentRunsTheTownsPlan(t *testing.T) {
	r := newIncidentRegister(t, monday)
	plan := policy.DefaultIncidentPlan()
	plan.Version = "town-2027-04"
	plan.Disconnection.Deadline = policy.Duration(10 * time.Minute)
	plan.Steps[0].Deadline = policy.Duration(time.Hour) // contact within an hour
	route := plan.Categories[policy.CategoryLeak]
	route.Immediate = true // the town marks leaks for the first hour too
	plan.Categories[policy.CategoryLeak] = route
	r.plan = &plan
	r.decide(monday.Add(5*time.Minute), incTask(policy.StepDisconnection, 1), "done", "S1", disconnected)
	r.decide(monday.Add(6*time.Minute), incTask(policy.StepDisconnectionCheck, 1), "done", "I1", disconnected)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("medium", "yes", "no"))
	r.planToClosure(monday.Add(10*time.Minute), "C1")
	res := r.start(workflows.IncidentInput{ReporterID: "S1", Category: policy.CategoryLeak, SystemIDs: []string{"SYS1"}})
	equal(t, "status", res.Status, "closed")
	d, ok := r.openedTask(incTask(policy.StepDisconnection, 1))
	if !ok {
		t.Fatal("the town's plan marks leaks for the first hour, but no disconnection task opened")
	}
	equal(t, "the plan's first-hour deadline", d.spec.DueAt.Sub(d.at), 10*time.Minute)
	c, _ := r.openedTask(incTask("contact", 1))
	equal(t, "the plan's contact deadline", c.spec.DueAt.Sub(c.at), time.Hour)
	if !slices.ContainsFunc(r.notes, func(n string) bool { return strings.Contains(n, "town-2027-04") }) {
		t.Errorf("the timeline does not name the plan's version: %v", r.notes)
	}
}

// A system's manager who reports malware on their own system gets one disconnection task.
func TestIncidentManagerReportingGetsOneDisconnectionTask(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(5*time.Minute), incTask(policy.StepDisconnection, 1), "done", "I1", disconnected)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("low", "no", "no"))
	r.decide(monday.Add(20*time.Minute), incTask("record", 1), "record", "D1", nil)
	r.shortRootCause(monday.Add(30 * time.Minute))
	res := r.start(workflows.IncidentInput{ReporterID: "I1", Category: policy.CategoryMalware, SystemIDs: []string{"SYS1"}})
	equal(t, "status", res.Status, "closed")
	if _, ok := r.openedTask(incTask(policy.StepDisconnectionCheck, 1)); ok {
		t.Error("the reporting manager got a second task")
	}
}

// When an incident closes, the security committee gets its report (§7.3(2)2, §7.3(3)):
// after the last hop of the response, with the triage's severity, the outcome and the
// plan's version; the timeline says whom it went to.
func TestIncidentClosesWithReportToTheCommittee(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("high", "no", "no"))
	r.decide(monday.Add(20*time.Minute), incTask("ciso_instruction", 1), "instruct", "C1", nil)
	r.planToClosure(monday.Add(20*time.Minute), "C1")
	res := r.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}})
	equal(t, "status", res.Status, "closed")
	if len(r.reports) != 1 {
		t.Fatalf("reports to the committee = %+v, want one", r.reports)
	}
	rep := r.reports[0]
	equal(t, "report of", rep.ProcessID, incID)
	equal(t, "severity", rep.Severity, policy.SeverityHigh)
	equal(t, "outcome", rep.Outcome, workflows.IncidentClosed)
	equal(t, "plan version", rep.PlanVersion, policy.DefaultIncidentPlan().Version)
	closed, _ := r.hop("closed")
	equal(t, "reported once the last measure is done", rep.at, closed.At.In(tokyo))
	last := r.hops[len(r.hops)-1]
	equal(t, "last hop", last.Hop, "committee_reported")
	if !strings.Contains(last.Note, "4 members") || !strings.Contains(last.Note, "C1, G1, D1, I1") {
		t.Errorf("committee hop note = %q", last.Note)
	}
}

// A committee without members does not keep the incident open, and the record says that
// nobody was told.
func TestIncidentCommitteeWithoutMembersIsOnTheRecord(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.committee = nil
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("low", "no", "no"))
	r.decide(monday.Add(40*time.Minute), incTask("record", 1), "record", "D1", nil)
	r.shortRootCause(monday.Add(50 * time.Minute))
	res := r.start(workflows.IncidentInput{ReporterID: "S1", Category: policy.CategoryMisdeliveredMail})
	equal(t, "status", res.Status, "closed")
	equal(t, "reports", len(r.reports), 1)
	equal(t, "severity", r.reports[0].Severity, policy.SeverityLow)
	h, ok := r.hop("committee_reported")
	if !ok || !strings.Contains(h.Note, "no members") {
		t.Errorf("committee hop = %+v (found %t)", h, ok)
	}
}

// The town's plan says which steps run for which severity and from which severity it always
// applies (§7.3): with plan_from medium and evidence only for high and critical, a medium
// leak runs the plan without the officer asking for it, and skips evidence, on the record.
// The contact step lists the plan's contact list (§7.3(2)1), with how to reach each entry,
// before the GISO's list in the register.
func TestIncidentPlanRunsTheSeveritysSteps(t *testing.T) {
	r := newIncidentRegister(t, monday)
	plan := policy.DefaultIncidentPlan()
	plan.PlanFrom = policy.SeverityMedium
	for i, s := range plan.Steps {
		if s.Name == policy.StepEvidence {
			plan.Steps[i].Severities = []policy.Severity{policy.SeverityHigh, policy.SeverityCritical}
		}
	}
	plan.Contacts = []policy.PlanContact{
		{ID: "vendor", Name: "保守業者", Role: "vendor", Phone: "03-0000-0000"},
		{ID: "fire", Name: "消防", Phone: "119", Categories: []policy.Category{policy.CategoryMalware}},
	}
	r.plan = &plan
	at := func(n int) time.Time { return monday.Add(time.Duration(n) * 10 * time.Minute) }
	r.decide(at(1), incTask("triage", 1), "record", "D1", triageValues("medium", "no", "no"))
	r.decide(at(2), incTask("contact", 1), "done", "G1", map[string]string{"contact_vendor": "contacted", "contact_police": "not_needed"})
	r.decide(at(3), incTask("containment", 1), "done", "I1", nil)
	r.decide(at(4), incTask("recovery", 1), "done", "I1", nil)
	r.causes(at(4).Add(5 * time.Minute))
	r.decide(at(5), incTask("root_cause", 1), "submit", "G1", map[string]string{"owner_1": "D1"})
	r.decide(at(6), incTask("root_cause_review", 1), "accept", "C1", nil)
	r.decide(at(7), incTask("measure_1", 1), "done", "D1", nil)
	res := r.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}})
	equal(t, "status", res.Status, "closed")
	if _, ok := r.openedTask(incTask("evidence", 1)); ok {
		t.Error("evidence runs only for high and critical, but it opened for a medium incident")
	}
	for _, step := range []string{"contact", "containment", "recovery"} {
		if _, ok := r.openedTask(incTask(step, 1)); !ok {
			t.Errorf("%s did not open: the plan applies from medium", step)
		}
	}
	if h, ok := r.hop("plan_steps_skipped"); !ok || !strings.Contains(h.Note, "evidence") {
		t.Errorf("the skipped step is not on the record: %v", r.hopNames())
	}
	c, _ := r.openedTask(incTask("contact", 1))
	var fields []string
	for _, f := range c.spec.Form {
		fields = append(fields, f.Name+"="+f.Label.Ja)
	}
	want := []string{"contact_vendor=緊急連絡先（計画）：保守業者 / vendor / 03-0000-0000", "contact_police=連絡先 police", "actions=実施内容"}
	if !slices.Equal(fields, want) {
		t.Errorf("contact form = %v\nwant %v", fields, want)
	}
}

// When the first hour's disconnection was confirmed (§6.4(3)7), the containment step of a
// malware incident does not ask the checklist again: its title says who confirmed it and when.
func TestIncidentContainmentShowsTheFirstHoursDisconnection(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(5*time.Minute), incTask(policy.StepDisconnection, 1), "done", "S1", disconnected)
	r.decide(monday.Add(8*time.Minute), incTask(policy.StepDisconnectionCheck, 1), "done", "I1", disconnected)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("high", "yes", "no"))
	r.decide(monday.Add(20*time.Minute), incTask("ciso_instruction", 1), "instruct", "C1", nil)
	r.planToClosure(monday.Add(20*time.Minute), "C1") // containment done with no checklist
	res := r.start(workflows.IncidentInput{ReporterID: "S1", Category: policy.CategoryMalware, SystemIDs: []string{"SYS1"}})
	equal(t, "status", res.Status, "closed")
	k, ok := r.openedTask(incTask("containment", 1))
	if !ok {
		t.Fatal("containment did not open")
	}
	for _, f := range k.spec.Form {
		if strings.HasPrefix(f.Name, "disconnect_") {
			t.Errorf("containment asks %s again after the first hour confirmed it", f.Name)
		}
	}
	for _, want := range []string{"confirmed by S1 at 2026-04-27 09:05 JST", "by I1 at 2026-04-27 09:08 JST"} {
		if !strings.Contains(k.spec.Title.En, want) {
			t.Errorf("containment title = %q, want %q", k.spec.Title.En, want)
		}
	}
	if !strings.Contains(k.spec.Title.Ja, "S1 が 2026-04-27 09:05 JST に確認") {
		t.Errorf("containment title = %q", k.spec.Title.Ja)
	}
	if h, ok := r.hop("containment_done"); !ok || h.ActorID != "I1" {
		t.Errorf("containment not done: %v", r.hopNames())
	}
}

// A resident's report passed on to the department concerned (§5.3(2)1–2) becomes that
// department's: the register's row is moved and the Department search attribute says so,
// before its security officer is told.
func TestIncidentPassedOnMovesTheDepartment(t *testing.T) {
	r := newIncidentRegister(t, monday)
	var departments []string
	r.env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Run(func(args mock.Arguments) {
		if v, ok := args.Get(0).(temporal.SearchAttributes).GetKeyword(workflows.Department); ok {
			departments = append(departments, v)
		}
	})
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "G1", map[string]string{
		"severity": "low", "plan": "no", "ciso": "no", "department": "welfare"})
	r.decide(monday.Add(20*time.Minute), incTask("record", 1), "record", "G1", nil)
	r.shortRootCause(monday.Add(30 * time.Minute))
	res := r.start(workflows.IncidentInput{Source: "resident", Category: policy.CategoryOther})
	equal(t, "status", res.Status, "closed")
	if !slices.Equal(r.moves, []string{"welfare"}) {
		t.Errorf("register moves = %v, want [welfare]", r.moves)
	}
	if len(departments) == 0 || departments[len(departments)-1] != "welfare" {
		t.Errorf("Department search attribute upserts = %v, want the last to be welfare", departments)
	}
}

// A report whose department is not known stays with the GISO's office.
func TestIncidentNotPassedOnKeepsTheDepartment(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "G1", map[string]string{
		"severity": "low", "plan": "no", "ciso": "no", "department": "unknown"})
	r.decide(monday.Add(20*time.Minute), incTask("record", 1), "record", "G1", nil)
	r.shortRootCause(monday.Add(30 * time.Minute))
	res := r.start(workflows.IncidentInput{Source: "resident", Category: policy.CategoryOther})
	equal(t, "status", res.Status, "closed")
	if len(r.moves) != 0 {
		t.Errorf("moved to %v", r.moves)
	}
}

// townPlan is the default plan with another version, triage in half an hour and the CISO's
// instructions in three hours.
func townPlan(version string) *policy.IncidentPlan {
	p := policy.DefaultIncidentPlan()
	p.Version = version
	p.Deadlines.Triage = policy.Period{Clock: policy.Duration(30 * time.Minute)}
	p.Deadlines.TriageRemind = []policy.Duration{policy.Duration(10 * time.Minute)}
	p.Deadlines.CISO = policy.Period{Clock: policy.Duration(3 * time.Hour)}
	return &p
}

// §7.3(1), (3): the deadlines are the plan's, and an incident keeps those of the plan it
// copied at its start. Here the worker loads a revised plan ten minutes after the report:
// the running incident's triage stays due in an hour, and the CISO's instructions, asked
// after the revision, are still due in two hours as the old plan said; an incident reported
// after the revision gets the revised deadlines (half an hour, three hours).
func TestIncidentKeepsThePlansDeadlinesItStartedWith(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.env.RegisterDelayedCallback(func() {
		r.lock(func() { r.plan = townPlan("town-2") })
	}, 10*time.Minute)
	r.decide(monday.Add(20*time.Minute), incTask("triage", 1), "record", "D1", triageValues("high", "yes", "no"))
	r.decide(monday.Add(30*time.Minute), incTask("ciso_instruction", 1), "instruct", "C1", nil)
	r.planToClosure(monday.Add(30*time.Minute), "C1")
	equal(t, "status", r.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}}).Status, "closed")
	tri, _ := r.openedTask(incTask("triage", 1))
	equal(t, "triage due as the plan copied at the start says", tri.spec.DueAt.Sub(tri.at), time.Hour)
	c, _ := r.openedTask(incTask("ciso_instruction", 1))
	equal(t, "CISO opened after the revision", c.at, monday.Add(20*time.Minute))
	equal(t, "CISO due as the plan copied at the start says", c.spec.DueAt.Sub(c.at), 2*time.Hour)

	n := newIncidentRegister(t, monday)
	n.plan = townPlan("town-2")
	n.decide(monday.Add(20*time.Minute), incTask("triage", 1), "record", "D1", triageValues("high", "yes", "no"))
	n.decide(monday.Add(30*time.Minute), incTask("ciso_instruction", 1), "instruct", "C1", nil)
	n.planToClosure(monday.Add(30*time.Minute), "C1")
	equal(t, "status", n.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}}).Status, "closed")
	tri, _ = n.openedTask(incTask("triage", 1))
	equal(t, "triage due as the revised plan says", tri.spec.DueAt.Sub(tri.at), 30*time.Minute)
	c, _ = n.openedTask(incTask("ciso_instruction", 1))
	equal(t, "CISO due as the revised plan says", c.spec.DueAt.Sub(c.at), 3*time.Hour)
	if !slices.Contains(n.mails, mailed{"reminder-1", incTask("triage", 1), "D1", monday.Add(20 * time.Minute)}) {
		t.Errorf("the revised plan's triage reminder (10 min before) was not sent: %v", n.mails)
	}
}

// The plan says from which severity the CISO always instructs (ciso_from; §5.3(1)3
// 「必要に応じて」): a town that sets medium has a medium incident go to the CISO though the
// officer did not ask, and the triage's question says so.
func TestIncidentCISOFromThePlan(t *testing.T) {
	r := newIncidentRegister(t, monday)
	plan := policy.DefaultIncidentPlan()
	plan.CISOFrom = policy.SeverityMedium
	r.plan = &plan
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("medium", "yes", "no"))
	r.decide(monday.Add(20*time.Minute), incTask("ciso_instruction", 1), "instruct", "C1", nil)
	r.planToClosure(monday.Add(20*time.Minute), "C1")
	equal(t, "status", r.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}}).Status, "closed")
	if _, ok := r.openedTask(incTask("ciso_instruction", 1)); !ok {
		t.Error("a medium incident did not go to the CISO though the plan says ciso_from medium")
	}
	tri, _ := r.openedTask(incTask("triage", 1))
	for _, f := range tri.spec.Form {
		if f.Name == "ciso" && !strings.Contains(f.Label.En, "always for medium, high, critical") {
			t.Errorf("the triage's question does not say which severities always go: %q", f.Label.En)
		}
	}
}

// The plan names each step's owner (§7.3(1): the plan is the town's): a plan that gives the
// contact step to the department's officer and the evidence to the GISO has them handle
// those steps when the triager names nobody.
func TestIncidentPlanStepOwners(t *testing.T) {
	r := newIncidentRegister(t, monday)
	plan := policy.DefaultIncidentPlan()
	for i := range plan.Steps {
		switch plan.Steps[i].Name {
		case policy.StepContact:
			plan.Steps[i].Owner = policy.RoleDISO
		case policy.StepEvidence:
			plan.Steps[i].Owner = policy.RoleGISO
		}
	}
	r.plan = &plan
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("high", "no", "no"))
	r.decide(monday.Add(20*time.Minute), incTask("ciso_instruction", 1), "instruct", "C1", nil)
	r.planToClosureBy(monday.Add(20*time.Minute), "C1", "D1", "G1")
	equal(t, "status", r.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}}).Status, "closed")
	c, _ := r.openedTask(incTask("contact", 1))
	e, _ := r.openedTask(incTask("evidence", 1))
	k, _ := r.openedTask(incTask("containment", 1))
	equal(t, "contact handled by the plan's owner, the department's officer", c.spec.AssigneeID, "D1")
	equal(t, "evidence handled by the plan's owner, the GISO", e.spec.AssigneeID, "G1")
	equal(t, "containment handled by the system's manager", k.spec.AssigneeID, "I1")
}
