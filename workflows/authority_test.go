package workflows_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

// The tests of the authority rules (issue 12), one rule each. They run the real AssignTask
// and the default delegation rules on the fake directory of harness_test.go.

// Rule 1: a post is resolved when the step opens. The CISO changed between filing and the
// review: the review goes to the new CISO.
func TestAuthorityPostResolvedWhenTheStepOpens(t *testing.T) {
	r := newRegister(t, monday)
	r.dir.set("ciso", "C2") // the roster read at filing still says C1
	r.decideAt(monday.Add(time.Hour), review1, "approve", "C2")
	r.decideAt(jst("2026-09-01 10:00"), restore1, "done", "I1")
	r.decideAt(jst("2026-09-01 11:00"), restore2, "done", "I2")
	res := r.run(normal())
	equal(t, "status", res.Status, "completed")
	equal(t, "review assignee", r.opened[0].spec.AssigneeID, "C2")
	equal(t, "post", r.opened[0].spec.PostRole, "ciso")
	equal(t, "decided by", r.decisions[0].DeciderID, "C2")
}

// Rule 1: an open task follows a change of post. The CISO changes while the review is open;
// the reassess signal hands it over: the new CISO is mailed, the old one can no longer decide.
func TestAuthorityOpenTaskFollowsAChangeOfPost(t *testing.T) {
	r := newRegister(t, monday)
	r.env.RegisterDelayedCallback(func() {
		r.dir.set("ciso", "C2")
		r.env.SignalWorkflow(workflows.SignalReassess, workflows.Reassess{PersonID: "C1", Why: "directory"})
	}, 2*time.Hour)
	old := r.decideAt(monday.Add(3*time.Hour), review1, "approve", "C1")
	r.decideAt(monday.Add(4*time.Hour), review1, "reject", "C2")
	res := r.run(normal())
	if old.rejected == nil {
		t.Error("the former CISO decided after the task was handed over")
	}
	equal(t, "status", res.Status, "rejected")
	equal(t, "decided by", r.decisions[0].DeciderID, "C2")
	if len(r.handovers) != 1 || r.handovers[0].From != "C1" || r.handovers[0].To != "C2" {
		t.Fatalf("handovers = %+v, want one from C1 to C2", r.handovers)
	}
	if !slices.Contains(r.mails, mailed{"handover-1", review1, "C2", monday.Add(2 * time.Hour)}) {
		t.Errorf("mails = %v, want the hand-over mailed to C2", r.mails)
	}
}

// Rule 1: a signal about someone else changes nothing.
func TestAuthorityReassessAboutSomeoneElseChangesNothing(t *testing.T) {
	r := newRegister(t, monday)
	r.env.RegisterDelayedCallback(func() {
		r.dir.set("giso", "G2")
		r.env.SignalWorkflow(workflows.SignalReassess, workflows.Reassess{PersonID: "G1", Why: "directory"})
	}, time.Hour)
	r.decideAt(monday.Add(2*time.Hour), review1, "reject", "C1")
	res := r.run(normal())
	equal(t, "status", res.Status, "rejected")
	equal(t, "handovers", len(r.handovers), 0)
}

// Rule 2: where the town's rules name a deputy for escalation, the deputy decides for the
// holder (代決), the decision says so, and the holder gets it to review (後閲).
func TestAuthorityTownRuleLetsADeputyDecideWithAfterReview(t *testing.T) {
	r := newRegister(t, monday)
	rules := policy.Delegation{Version: "test", Rules: []policy.DelegationRule{{
		Steps: []string{"exception.ciso_review"}, Deputy: policy.RoleGISO, On: []string{policy.OnEscalation},
		Review: policy.ReviewNotice, Basis: "事務決裁規程 第5条 (test)",
	}}}
	r.acts.Delegation = &rules
	early := r.decideAt(jst("2026-05-07 10:00"), review1, "approve", "G1")
	r.decideAt(jst("2026-05-11 10:00"), review1, "reject", "G1")
	res := r.run(normal())
	if early.rejected == nil {
		t.Error("the deputy decided before the deadline")
	}
	equal(t, "status", res.Status, "rejected")
	d := r.decisions[0]
	equal(t, "decided by", d.DeciderID, "G1")
	equal(t, "for", d.OnBehalfOf, "C1")
	equal(t, "basis", d.Basis, "事務決裁規程 第5条 (test)")
	if !slices.Contains(r.mails, mailed{"escalation", review1, "G1", jst("2026-05-08 17:15")}) {
		t.Errorf("mails = %v, want the escalation link to the GISO", r.mails)
	}
	if !slices.Contains(r.notices, mailed{"after_review", review1, "C1", jst("2026-05-11 10:00")}) {
		t.Errorf("notices = %v, want the after-the-fact review (後閲) to C1", r.notices)
	}
}

// Rule 3: nobody decides their own case. The requester is also the CISO (a town where the
// deputy mayor manages a system): nobody may permit the exception, and the record says so.
func TestAuthorityRequesterNeverDecidesTheirOwnRequest(t *testing.T) {
	r := newRegister(t, monday)
	r.dir.set("ciso", "I1") // normal()'s requester
	self := r.decideAt(monday.Add(time.Hour), review1, "approve", "I1")
	res := r.run(normal())
	if self.rejected == nil && self.accepted {
		t.Error("the requester approved their own exception")
	}
	equal(t, "status", res.Status, "expired")
	equal(t, "tasks opened", len(r.opened), 0)
	if len(r.notes) == 0 || !strings.Contains(r.notes[0], "party") {
		t.Errorf("notes = %v, want the reason on the record", r.notes)
	}
}

// Rule 3: the author of a root-cause record never reviews it. The town's rules (in this
// test) let the CISO write the record for a silent GISO; the CISO, its author, then may not
// accept it, and nobody else may: the review is refused on the record, round after round.
func TestAuthorityRootCauseAuthorNeverReviewsIt(t *testing.T) {
	r := newIncidentRegister(t, monday)
	rules := policy.Delegation{Version: "test", Rules: []policy.DelegationRule{{
		Steps: []string{"incident.root_cause"}, Deputy: policy.RoleCISO, On: []string{policy.OnEscalation},
		Review: policy.ReviewNotice, Basis: "town rule (test)",
	}}}
	r.acts.Delegation = &rules
	at := func(n int) time.Time { return monday.Add(time.Duration(n) * 10 * time.Minute) }
	r.decide(at(1), incTask("triage", 1), "record", "D1", triageValues("high", "yes", "yes"))
	r.decide(at(2), incTask("ciso_instruction", 1), "instruct", "C1", nil)
	r.decide(at(3), incTask("contact", 1), "done", "G1", contacted)
	r.decide(at(3), incTask("evidence", 1), "done", "I1", nil)
	r.decide(at(4), incTask("containment", 1), "done", "I1", nil)
	r.decide(at(5), incTask("recovery", 1), "done", "I1", nil)
	r.causes(at(6))
	// The GISO's record was due on 8 May; on 11 May the CISO writes it in the GISO's place.
	wrote := r.decide(jst("2026-05-11 10:00"), incTask("root_cause", 1), "submit", "C1", map[string]string{"owner_1": "D1"})
	review := r.decide(jst("2026-05-11 11:00"), incTask("root_cause_review", 1), "accept", "C1", nil)
	res := r.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}})
	if !wrote.accepted {
		t.Fatalf("the CISO could not write the record for the GISO: %v", wrote.rejected)
	}
	if review.accepted {
		t.Error("the author of the root-cause record accepted it")
	}
	equal(t, "status", res.Status, workflows.IncidentRootCauseMissing)
	found := false
	for _, n := range r.notes {
		found = found || strings.Contains(n, "root_cause_review") && strings.Contains(n, "party")
	}
	if !found {
		t.Errorf("notes = %v, want the review's refusal on the record", r.notes)
	}
}

// Rule 4: a registered absence of the CISO is §2(2)5's "CISO absent": the GISO gets the
// instructions at once and decides on own judgement; the record says it was an absence.
func TestAuthorityRegisteredAbsenceSendsTheCISOsIncidentStepToTheGISO(t *testing.T) {
	r := newIncidentRegister(t, monday)
	r.dir.absent("C1", monday.Add(-time.Hour), monday.Add(48*time.Hour), "")
	r.decide(monday.Add(10*time.Minute), incTask("triage", 1), "record", "D1", triageValues("high", "yes", "yes"))
	r.decide(monday.Add(20*time.Minute), incTask("ciso_instruction", 1), "instruct", "G1", nil)
	r.planToClosure(monday.Add(30*time.Minute), "C1")
	res := r.start(workflows.IncidentInput{ReporterID: "S1", SystemIDs: []string{"SYS1"}})
	equal(t, "status", res.Status, "closed")
	var spec activities.TaskSpec
	for _, o := range r.opened {
		if o.spec.Step == "ciso_instruction" {
			spec = o.spec
		}
	}
	equal(t, "instructions asked of", spec.AssigneeID, "G1")
	equal(t, "for", spec.OnBehalfOf, "C1")
	h, ok := r.hop("giso_own_judgement")
	equal(t, "hop recorded", ok, true)
	equal(t, "hop says absent", strings.Contains(h.Note, "registered absent"), true)
	var rec activities.DecisionRecord
	for _, d := range r.decisions {
		if d.Step == "ciso_instruction" {
			rec = d
		}
	}
	equal(t, "decision for", rec.OnBehalfOf, "C1")
	if !slices.ContainsFunc(r.notices, func(m mailed) bool { return m.kind == "after_review" && m.to == "C1" }) {
		t.Errorf("notices = %v, want the 後閲 notice to C1", r.notices)
	}
}

// Rule 4: an absence with no deputy allowed (the CISO's permission, §7.4(1)) leaves the task
// with the holder, and the record says why.
func TestAuthorityAbsenceWithoutADeputyWaitsForTheHolder(t *testing.T) {
	r := newRegister(t, monday)
	r.dir.absent("C1", monday.Add(-time.Hour), monday.Add(72*time.Hour), "G1")
	r.decideAt(monday.Add(80*time.Hour), review1, "reject", "C1")
	res := r.run(normal())
	equal(t, "status", res.Status, "rejected")
	equal(t, "asked", r.opened[0].spec.AssigneeID, "C1")
	if len(r.notes) == 0 || !strings.Contains(r.notes[0], "no deputy may decide") {
		t.Errorf("notes = %v, want why the task waits for the holder", r.notes)
	}
}

// Rule 4: an absence that starts while a task is open hands it to the deputy the rules allow
// (a restoration of compliance: the GISO, by the default town rules).
func TestAuthorityAbsenceStartingHandsTheOpenTaskOver(t *testing.T) {
	r := newRegister(t, monday)
	r.decideAt(monday.Add(time.Hour), review1, "approve", "C1")
	r.env.RegisterDelayedCallback(func() {
		r.dir.absent("I2", jst("2026-09-01 09:00"), jst("2026-09-30 00:00"), "")
		r.env.SignalWorkflow(workflows.SignalReassess, workflows.Reassess{PersonID: "I2", Why: "absence"})
	}, jst("2026-09-01 09:00").Sub(monday))
	r.decideAt(jst("2026-09-01 10:00"), restore1, "done", "I1")
	refused := r.decideAt(jst("2026-09-01 10:30"), restore2, "done", "I2")
	r.decideAt(jst("2026-09-01 11:00"), restore2, "done", "G1")
	res := r.run(normal())
	equal(t, "status", res.Status, "completed")
	if refused.rejected == nil {
		t.Error("the absent manager decided after the hand-over")
	}
	if len(r.handovers) != 1 || r.handovers[0].To != "G1" || r.handovers[0].OnBehalfOf != "I2" {
		t.Errorf("handovers = %+v, want I2's task to G1 for I2", r.handovers)
	}
}

// Rule 3 for the offboarding: a leaver who manages a system never confirms their own
// accounts' removal nor changes the passwords they knew; the GISO does, for them, under the
// town's rule and §6.2(1)3(イ).
func TestAuthorityLeaverNeverConfirmsTheirOwnOffboarding(t *testing.T) {
	r := newOffboarding(t, jst("2026-03-25 09:00"))
	r.dir.set("ism/tax", "L1") // the leaver manages the tax system
	r.decide(jst("2026-04-01 10:00"), disable1, "done", "I2", map[string]string{"account:l1": "disabled"})
	self := r.decide(jst("2026-04-01 10:05"), disable2, "done", "L1", map[string]string{"account:l1": "deleted"})
	r.decide(jst("2026-04-01 10:10"), disable2, "done", "G1", map[string]string{"account:l1": "deleted"})
	r.decide(jst("2026-04-01 10:20"), rotate1, "done", "G1", nil)
	r.decide(jst("2026-04-01 10:30"), assets1, "done", "D1", map[string]string{"asset:PC-1": "returned", "asset:CARD-1": "returned"})
	r.decide(jst("2026-04-01 10:40"), secrecy1, "acknowledge", "L1", nil)
	res := r.start(policy.Retirement, "2026-03-31")
	equal(t, "status", res.Status, "completed")
	if self.accepted {
		t.Error("the leaver confirmed the removal of their own accounts")
	}
	for _, o := range r.opened {
		if o.spec.AssigneeID == "L1" && o.spec.Step != "secrecy_acknowledgement" {
			t.Errorf("the leaver was asked %s", o.spec.ID)
		}
	}
	equal(t, "tax asked of", r.openedBy()[disable2].spec.AssigneeID, "G1")
	equal(t, "for", r.openedBy()[disable2].spec.OnBehalfOf, "L1")
	for _, d := range r.decisions {
		if d.TaskID == disable2 && d.OnBehalfOf != "L1" {
			t.Errorf("decision on the tax system = %+v, want it recorded for L1 (代決)", d)
		}
	}
}
