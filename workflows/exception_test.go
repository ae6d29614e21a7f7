package workflows_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

const (
	review1   = wfID + "/ciso_review/1"
	review2   = wfID + "/ciso_review/2"
	revision1 = wfID + "/requester_revision/1"
	ratify1   = wfID + "/ciso_ratification/1"
	restore1  = wfID + "/restore_compliance/1"
	restore2  = wfID + "/restore_compliance/2"
)

// monday is the start of every test: Monday 27 April 2026, 09:00 in Tokyo, two days
// before Golden Week (29 April, 3–6 May).
var monday = jst("2026-04-27 09:00")

func normal() workflows.ExceptionInput {
	return workflows.ExceptionInput{RequesterID: "I1", RequesterRole: policy.RoleISM,
		StartDate: "2026-05-11", EndDate: "2026-08-31", SystemIDs: []string{"S1", "S2"}}
}

func equal[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestExceptionApprovedRunsToRestoration(t *testing.T) {
	r := newRegister(t, monday)
	r.decideAt(monday.Add(2*time.Hour), review1, "approve", "C1")
	// The exception ends at the end of 31 August; both confirmations come on 1 September.
	r.decideAt(jst("2026-09-01 10:00"), restore1, "done", "I1")
	r.decideAt(jst("2026-09-01 11:00"), restore2, "done", "I2")
	res := r.run(normal())

	equal(t, "status", res.Status, "completed")
	want := []string{"pending/ciso_review", "approved/awaiting_start", "in_effect/in_effect", "restoring/restore_compliance", "completed/closed"}
	if !slices.Equal(r.stageNames(), want) {
		t.Errorf("stages = %v, want %v", r.stageNames(), want)
	}
	// The CISO had five business days: Golden Week (29 April, 3–6 May) does not count.
	equal(t, "review due", r.opened[0].spec.DueAt.In(tokyo), jst("2026-05-08 17:15"))
	equal(t, "review assignee", r.opened[0].spec.AssigneeID, "C1")
	// Restoration asks the requester and the other system manager, at the end date.
	equal(t, "restore tasks", len(r.opened), 3)
	equal(t, "restore opened", r.opened[1].at, jst("2026-09-01 00:00"))
	got := []string{r.opened[1].spec.AssigneeID, r.opened[2].spec.AssigneeID}
	slices.Sort(got) // opened side by side
	if !slices.Equal(got, []string{"I1", "I2"}) {
		t.Errorf("restore assignees = %v", got)
	}
	// The renewal notice goes out two weeks before the end.
	equal(t, "notices", len(r.notices), 1)
	equal(t, "notice at", r.notices[0].at, jst("2026-08-18 00:00"))
	equal(t, "notice to", r.notices[0].to, "I1")
	equal(t, "decisions recorded", len(r.decisions), 3)
	equal(t, "no reminder before the early decision", len(r.mails), 0)
}

func TestExceptionRejected(t *testing.T) {
	r := newRegister(t, monday)
	r.decideAt(monday.Add(time.Hour), review1, "reject", "C1")
	res := r.run(normal())
	equal(t, "status", res.Status, "rejected")
	equal(t, "tasks", len(r.opened), 1)
	equal(t, "decision", r.decisions[0].Choice, "reject")
}

func TestExceptionReturnedThenResubmittedAndApproved(t *testing.T) {
	r := newRegister(t, monday)
	r.decideAt(monday.Add(time.Hour), review1, "return", "C1")
	r.decideAt(monday.Add(3*time.Hour), revision1, "resubmit", "I1")
	r.decideAt(monday.Add(5*time.Hour), review2, "approve", "C1")
	r.decideAt(jst("2026-09-01 10:00"), restore1, "done", "I1")
	r.decideAt(jst("2026-09-01 10:00"), restore2, "done", "I2")
	res := r.run(normal())
	equal(t, "status", res.Status, "completed")
	want := []string{review1 + "@C1", revision1 + "@I1", review2 + "@C1", restore1 + "@I1", restore2 + "@I2"}
	got := r.taskIDs()
	slices.Sort(got[3:]) // the two restoration tasks open side by side
	if !slices.Equal(got, want) {
		t.Errorf("tasks = %v, want %v", got, want)
	}
	equal(t, "revision escalates to the department officer", r.opened[1].spec.ExpiresAt.After(r.opened[1].spec.DueAt), true)
}

func TestExceptionReturnedThenWithdrawn(t *testing.T) {
	r := newRegister(t, monday)
	r.decideAt(monday.Add(time.Hour), review1, "return", "C1")
	r.decideAt(monday.Add(2*time.Hour), revision1, "withdraw", "I1")
	res := r.run(normal())
	equal(t, "status", res.Status, "withdrawn")
	equal(t, "tasks", len(r.opened), 2)
}

func TestExceptionRemindersEscalationAndExpiry(t *testing.T) {
	r := newRegister(t, monday)
	res := r.run(normal())
	equal(t, "status", res.Status, "expired")
	want := []mailed{
		// 48 h and 4 h before the deadline of Friday 8 May 17:15.
		{"reminder-1", review1, "C1", jst("2026-05-06 17:15")},
		{"reminder-2", review1, "C1", jst("2026-05-08 13:15")},
		// At the deadline the CISO is told that only they may decide (§7.4(1)).
		{"overdue", review1, "C1", jst("2026-05-08 17:15")},
	}
	if !slices.Equal(r.mails, want) {
		t.Errorf("mails =\n%v\nwant\n%v", r.mails, want)
	}
	// The GISO is told, as pressure: a notice, never a link.
	if !slices.Contains(r.notices, mailed{"escalation_notice", review1, "G1", jst("2026-05-08 17:15")}) {
		t.Errorf("notices = %v; want an escalation notice to the GISO at the deadline", r.notices)
	}
	// Three more business days for the CISO: 11, 12, 13 May.
	equal(t, "expires", r.opened[0].spec.ExpiresAt.In(tokyo), jst("2026-05-13 17:15"))
	equal(t, "task closed", r.closed[review1], "expired")
	equal(t, "closed at", r.env.Now().In(tokyo).Before(jst("2026-05-13 17:16")), true)
}

// §7.4(1) 「CISOの許可を得て」: the GISO is not the CISO. The CISO's silence makes the GISO
// neither able to approve nor to reject; the request expires.
func TestExceptionCISOSilenceNeverLetsTheGISODecide(t *testing.T) {
	r := newRegister(t, monday)
	early := r.decideAt(jst("2026-05-07 10:00"), review1, "approve", "G1")
	late := r.decideAt(jst("2026-05-11 10:00"), review1, "reject", "G1")
	cisoLate := r.decideAt(jst("2026-05-12 10:00"), review1, "approve", "C1")
	r.decideAt(jst("2026-09-01 10:00"), restore1, "done", "I1")
	r.decideAt(jst("2026-09-01 11:00"), restore2, "done", "I2")
	res := r.run(normal())
	if early.rejected == nil || late.rejected == nil {
		t.Errorf("the GISO decided an exception in the CISO's place: early %v, late %v", early.rejected, late.rejected)
	}
	if cisoLate.rejected != nil {
		t.Errorf("the CISO's own decision after the deadline was refused: %v", cisoLate.rejected)
	}
	equal(t, "status", res.Status, "completed")
	equal(t, "decided by", r.decisions[0].DeciderID, "C1")
	equal(t, "for nobody", r.decisions[0].OnBehalfOf, "")
}

func TestExceptionDecisionValidation(t *testing.T) {
	r := newRegister(t, monday)
	bad := r.decideAt(monday.Add(time.Hour), review1, "ratify", "C1")      // not offered
	stranger := r.decideAt(monday.Add(time.Hour), review1, "approve", "X") // not the assignee
	unknown := r.decideAt(monday.Add(time.Hour), wfID+"/nope/1", "approve", "C1")
	r.decideAt(monday.Add(2*time.Hour), review1, "reject", "C1")
	again := r.decideAt(monday.Add(3*time.Hour), review1, "approve", "C1") // closed by then (workflow ended)
	res := r.run(normal())
	equal(t, "status", res.Status, "rejected")
	for name, u := range map[string]*updateResult{"bad choice": bad, "stranger": stranger, "unknown task": unknown} {
		if u.rejected == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if again.accepted {
		t.Error("a second decision on a decided task was accepted")
	}
	equal(t, "one decision", len(r.decisions), 1)
}

func TestEmergencyExceptionRatified(t *testing.T) {
	r := newRegister(t, monday)
	in := normal()
	in.Emergency, in.StartDate = true, "2026-04-27"
	r.decideAt(monday.Add(3*time.Hour), ratify1, "ratify", "C1")
	r.decideAt(jst("2026-09-01 09:00"), restore1, "done", "I1")
	r.decideAt(jst("2026-09-01 09:00"), restore2, "done", "I2")
	res := r.run(in)
	equal(t, "status", res.Status, "completed")
	want := []string{"in_effect/ciso_ratification", "in_effect/in_effect", "restoring/restore_compliance", "completed/closed"}
	if !slices.Equal(r.stageNames(), want) {
		t.Errorf("stages = %v, want %v", r.stageNames(), want)
	}
	// Two business days to ratify: 28 and 30 April (29 April is Shōwa Day).
	equal(t, "ratify due", r.opened[0].spec.DueAt.In(tokyo), jst("2026-04-30 17:15"))
}

func TestEmergencyExceptionRevokedRestoresAtOnce(t *testing.T) {
	r := newRegister(t, monday)
	in := normal()
	in.Emergency, in.StartDate = true, "2026-04-27"
	r.decideAt(monday.Add(3*time.Hour), ratify1, "revoke", "C1")
	r.decideAt(monday.Add(5*time.Hour), restore1, "done", "I1")
	r.decideAt(monday.Add(6*time.Hour), restore2, "done", "I2")
	res := r.run(in)
	equal(t, "status", res.Status, "revoked")
	equal(t, "restore opened at once", r.opened[1].at, monday.Add(3*time.Hour))
	equal(t, "finished the same day", r.env.Now().In(tokyo).Before(jst("2026-04-27 23:59")), true)
}

func TestEmergencyExceptionNeverRatifiedExpires(t *testing.T) {
	r := newRegister(t, monday)
	in := normal()
	in.Emergency, in.StartDate = true, "2026-04-27"
	res := r.run(in) // nobody answers anything: ratification and restoration both time out
	equal(t, "status", res.Status, "restoration_unconfirmed")
	equal(t, "ratification closed", r.closed[ratify1], "expired")
	equal(t, "stage before the end", r.stages[len(r.stages)-2].Stage, "restore_compliance")
}

func TestExceptionCancelledWhileUnderReview(t *testing.T) {
	r := newRegister(t, monday)
	var rejected error
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(workflows.UpdateCancel, "cancel", &testUpdate{onReject: func(err error) { rejected = err }},
			workflows.CancelRequest{By: "admin-token"})
	}, 4*time.Hour)
	res := r.run(normal())
	if rejected != nil {
		t.Fatalf("cancel refused: %v", rejected)
	}
	equal(t, "status", res.Status, "cancelled")
	equal(t, "task closed", r.closed[review1], "cancelled")
	equal(t, "ended when cancelled", r.env.Now().Sub(monday) < 5*time.Hour, true)
}

type testUpdate struct{ onReject func(error) }

func (u *testUpdate) Accept()             {}
func (u *testUpdate) Reject(err error)    { u.onReject(err) }
func (u *testUpdate) Complete(any, error) {}

// A register outage only delays a process: its register writes (local activities) are
// retried past their first attempts' timeouts, on timers, until the database is back.
func TestExceptionRegisterOutageOnlyDelays(t *testing.T) {
	r := newRegister(t, monday)
	r.registerDownUntil = monday.Add(3 * time.Hour)
	r.decideAt(monday.Add(5*time.Hour), review1, "reject", "C1")
	res := r.run(normal())

	equal(t, "status", res.Status, "rejected")
	if len(r.stages) == 0 || r.stages[0].Stage != "ciso_review" {
		t.Fatalf("stages = %v", r.stageNames())
	}
	// The review was opened only once its stage was in the register, after the outage.
	if len(r.opened) != 1 || r.opened[0].at.Before(r.registerDownUntil) {
		t.Errorf("review opened at %v, the register was down until %v", r.opened[0].at, r.registerDownUntil)
	}
}

// A return can be acted on (issue 14): the revision task names the return it answers (its
// mail and page show who returned it, when and the comment), is a form holding what the
// requester may change, the resubmission is kept as the request's next version before the
// next round, and the process goes on with the revised period.
func TestExceptionReturnRevisedWithNewPeriodThenApproved(t *testing.T) {
	r := newRegister(t, monday)
	r.decideAt(monday.Add(time.Hour), review1, "return", "C1")
	r.decideWith(monday.Add(3*time.Hour), revision1, "resubmit", "I1", map[string]string{"start_date": "2026-06-01", "end_date": "2026-07-31"})
	r.decideAt(monday.Add(5*time.Hour), review2, "approve", "C1")
	r.decideAt(jst("2026-08-01 10:00"), restore1, "done", "I1")
	r.decideAt(jst("2026-08-01 10:00"), restore2, "done", "I2")
	res := r.run(normal())
	equal(t, "status", res.Status, "completed")

	rev := r.opened[1].spec
	equal(t, "revision task", rev.ID, revision1)
	equal(t, "the revision names the return it answers", rev.ReturnOf, review1)
	var fields []string
	for _, f := range rev.Form {
		if f.Revises {
			fields = append(fields, f.Name)
		}
	}
	if want := []string{"alternative", "reason", "start_date", "end_date"}; !slices.Equal(fields, want) {
		t.Errorf("revision form revises %v, want %v", fields, want)
	}
	if len(r.revisions) != 1 || r.revisions[0].TaskID != revision1 || r.revisions[0].ReturnOf != review1 || r.revisions[0].ProcessID != wfID {
		t.Errorf("revisions kept = %+v, want the resubmission of %s answering %s", r.revisions, revision1, review1)
	}
	equal(t, "next round", r.opened[2].spec.ID, review2)
	equal(t, "the second review is no revision", r.opened[2].spec.ReturnOf, "")
	// The revised period holds: in effect from 1 June, restored after 31 July.
	for _, s := range r.stages {
		if s.Stage == "awaiting_start" {
			equal(t, "awaiting start", s.Note, "approved; takes effect on 2026-06-01")
		}
	}
	equal(t, "restoration opened", r.opened[3].at, jst("2026-08-01 00:00"))
}

// What becomes of an emergency exception nobody ratified is the town's rule (the policy does
// not say, §7.4(2)): under "in_effect" it stays in effect to its end date, recorded as never
// ratified; the ratification's title names the rule as the town's.
func TestEmergencyExceptionNeverRatifiedUnderTheTownsRuleStaysInEffect(t *testing.T) {
	r := newRegister(t, monday)
	town := policy.DefaultTimings()
	town.Exception.Unratified = policy.UnratifiedInEffect
	r.timings = &town
	in := normal()
	in.Emergency, in.StartDate = true, "2026-04-27"
	r.decideAt(jst("2026-09-01 09:00"), restore1, "done", "I1")
	r.decideAt(jst("2026-09-01 09:00"), restore2, "done", "I2")
	res := r.run(in)
	equal(t, "status", res.Status, "completed")
	equal(t, "ratification closed", r.closed[ratify1], "expired")
	want := []string{"in_effect/ciso_ratification", "in_effect/in_effect", "restoring/restore_compliance", "completed/closed"}
	if !slices.Equal(r.stageNames(), want) {
		t.Errorf("stages = %v, want %v", r.stageNames(), want)
	}
	if !strings.Contains(r.opened[0].spec.Title.En, "stays in effect to its end date: the town's rule") {
		t.Errorf("the ratification does not name the town's rule: %q", r.opened[0].spec.Title.En)
	}
	if !slices.ContainsFunc(r.notes, func(n string) bool { return strings.Contains(n, "never ratified") }) {
		t.Errorf("not recorded as never ratified: %v", r.notes)
	}
}

// The default rule restores compliance at once, and the ratification says so.
func TestEmergencyExceptionRatificationNamesTheDefaultRule(t *testing.T) {
	r := newRegister(t, monday)
	in := normal()
	in.Emergency, in.StartDate = true, "2026-04-27"
	res := r.run(in)
	equal(t, "status", res.Status, "restoration_unconfirmed")
	if !strings.Contains(r.opened[0].spec.Title.Ja, "原状回復：町の規則") {
		t.Errorf("the ratification does not name the town's rule: %q", r.opened[0].spec.Title.Ja)
	}
}
