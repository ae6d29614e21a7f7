package workflows_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/policy"
)

// The tests of mail refused for good (issue 15): the step does not wait for a deadline its
// assignee never heard of.

// The CISO's address is refused. Where the town's rules let the GISO decide on escalation,
// the review goes to the GISO at once, saying why, and the process goes on with their decision.
func TestUndeliverableEscalatesAtOnceToTheDeputy(t *testing.T) {
	r := newRegister(t, monday)
	rules := policy.Delegation{Version: "test", Rules: []policy.DelegationRule{{
		Steps: []string{"exception.ciso_review"}, Deputy: policy.RoleGISO, On: []string{policy.OnEscalation},
		Review: policy.ReviewNotice, Basis: "事務決裁規程 第5条 (test)",
	}}}
	r.acts.Delegation = &rules
	r.refused["C1"] = true
	deputy := r.decideAt(monday.Add(time.Hour), review1, "reject", "G1")
	res := r.run(normal())
	if !deputy.accepted {
		t.Fatalf("the GISO could not decide at once: %v", deputy.rejected)
	}
	equal(t, "status", res.Status, "rejected")
	equal(t, "task row", len(r.opened), 1)
	i := slices.IndexFunc(r.mails, func(m mailed) bool { return m.kind == activities.KindUnreachableEscalation })
	if i < 0 || r.mails[i].to != "G1" || r.mails[i].task != review1 || r.mails[i].at.After(monday.Add(time.Minute)) {
		t.Fatalf("mails = %v, want the escalation to G1 at once, saying why", r.mails)
	}
	equal(t, "decided by", r.decisions[0].DeciderID, "G1")
	equal(t, "for", r.decisions[0].OnBehalfOf, "C1")
}

// Where nobody may stand in for the CISO, the GISO is told at once that the CISO cannot be
// reached (not that they are overdue), nobody mails the CISO again, and the step expires at
// the end of its grace period as the step says.
func TestUndeliverableTellsWhomTheTownNames(t *testing.T) {
	r := newRegister(t, monday)
	r.refused["C1"] = true
	res := r.run(normal())
	equal(t, "status", res.Status, "expired")
	if !slices.ContainsFunc(r.notices, func(n mailed) bool {
		return n.kind == activities.NoticeUnreachable && n.to == "G1" && !n.at.After(monday.Add(time.Minute))
	}) {
		t.Errorf("notices = %v, want the unreachable notice to G1 at once", r.notices)
	}
	for _, m := range r.mails {
		if m.to == "C1" {
			t.Errorf("the unreachable CISO was mailed again: %v", m)
		}
	}
	equal(t, "review", r.closed[review1], "expired")
}

// When the escalation's recipient cannot be reached either, nothing is left to wait for: the
// step takes its timeout outcome at once, on the record.
func TestUndeliverableEverywhereTimesOutAtOnce(t *testing.T) {
	r := newRegister(t, monday)
	r.refused["C1"], r.refused["G1"] = true, true
	res := r.run(normal())
	equal(t, "status", res.Status, "expired")
	equal(t, "review", r.closed[review1], "expired")
	if !slices.ContainsFunc(r.notes, func(n string) bool { return strings.Contains(n, "takes its timeout outcome now") }) {
		t.Errorf("notes = %v, want the reason on the record", r.notes)
	}
	if end := r.env.Now(); end.After(monday.Add(time.Hour)) {
		t.Errorf("the process ended at %v: it waited for nobody", end)
	}
}
