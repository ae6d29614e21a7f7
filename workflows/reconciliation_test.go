package workflows_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

func TestReconciliationFindingsGoToEachManager(t *testing.T) {
	r := newOffboarding(t, jst("2026-11-02 09:00"))
	r.env.RegisterWorkflow(workflows.ReconciliationWorkflow)
	var applied []activities.FindingDecisions
	var asked activities.FindingsRequest
	reg := func(name string, fn any) { r.env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name}) }
	reg("OpenReconciliation", func(context.Context, activities.ReconciliationStart) error { return nil })
	reg("FindReconciliationFindings", func(_ context.Context, req activities.FindingsRequest) (activities.Findings, error) {
		asked = req
		return activities.Findings{Checked: 40, GISO: "G1", HR: "H1", Managers: []activities.ManagerFindings{
			{ISM: "", Findings: []activities.FindingRef{{SystemID: "orphan", AccountID: "x", Kind: "unknown_holder"}}},
			{ISM: "I1", Findings: []activities.FindingRef{
				{SystemID: "tax", AccountID: "retired1", Kind: "not_employed"},
				{SystemID: "tax", AccountID: "batch", Kind: "unused"},
			}},
		}}, nil
	})
	reg("ApplyFindingDecisions", func(_ context.Context, d activities.FindingDecisions) error {
		r.lock(func() { applied = append(applied, d) })
		return nil
	})
	reg("SendReconciliationNotice", func(_ context.Context, n activities.Notice) error {
		r.lock(func() { r.notices = append(r.notices, mailed{n.Kind, n.Key, n.RecipientID, r.env.Now().In(tokyo)}) })
		return nil
	})
	const task1, task2 = wfID + "/reconcile_accounts/1", wfID + "/reconcile_accounts/2"
	// A decision without a value for every finding is refused.
	incomplete := r.decide(jst("2026-11-02 10:00"), task2, "done", "I1", map[string]string{"finding:tax/retired1": "disable"})
	r.decide(jst("2026-11-02 11:00"), task2, "done", "I1", map[string]string{
		"finding:tax/retired1": "disable", "finding:tax/batch": "keep"}) // the justification is free text: it stays in the register
	giso := r.decide(jst("2026-11-03 11:00"), task1, "done", "G1", map[string]string{"finding:orphan/x": "disable"})
	r.env.ExecuteWorkflow(workflows.ReconciliationWorkflow, workflows.ReconciliationInput{
		Header: workflows.Header{ProcessID: wfID, Kind: "reconciliation", TimeZone: "Asia/Tokyo"}})
	if err := r.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res workflows.Result
	_ = r.env.GetWorkflowResult(&res)
	if giso.rejected != nil {
		t.Errorf("the GISO's decision was refused: %v", giso.rejected)
	}
	equal(t, "status", res.Status, "completed")
	equal(t, "unused threshold", asked.UnusedAfter, 90*24*time.Hour)
	equal(t, "incomplete form refused", incomplete.rejected != nil, true)
	by := r.openedBy()
	equal(t, "system without a manager goes to the GISO", by[task1].spec.AssigneeID, "G1")
	equal(t, "manager's task", by[task2].spec.AssigneeID, "I1")
	// §6.2(1)2(ウ): keeping the retired holder's ID needs its own written reason; the unused
	// batch ID does not.
	form := by[task2].spec.Form
	equal(t, "one select per finding, a reason for the retired holder's, a justification", len(form), 4)
	equal(t, "reason field", form[2].Name, "reason:tax/retired1")
	equal(t, "required when kept", fmt.Sprint(*form[2].RequiredIf), fmt.Sprint(activities.Condition{Field: "finding:tax/retired1", Values: []string{"keep"}}))
	if bad := activities.CheckValues(form, map[string]string{"finding:tax/retired1": "keep", "finding:tax/batch": "keep"}); bad["reason:tax/retired1"] == "" || len(bad) != 1 {
		t.Errorf("keeping the retired holder's ID without a reason: %v, want the reason required", bad)
	}
	if bad := activities.CheckValues(form, map[string]string{"finding:tax/retired1": "disable", "finding:tax/batch": "keep"}); len(bad) != 0 {
		t.Errorf("disabling it needs no reason: %v", bad)
	}
	equal(t, "the GISO's task asks a reason for the unknown holder's ID", len(by[task1].spec.Form), 3)
	equal(t, "decisions applied", len(applied), 2)
	for _, d := range applied {
		if d.By == "I1" {
			got := []string{d.Decisions[0].Decision, d.Decisions[1].Decision}
			if !slices.Equal(got, []string{"disable", "keep"}) {
				t.Errorf("I1's decisions = %v", got)
			}
		}
	}
	var to []string
	for _, n := range r.noticesOf(activities.NoticeReconciliationSummary) {
		to = append(to, n.to)
	}
	slices.Sort(to)
	if !slices.Equal(to, []string{"G1", "H1"}) {
		t.Errorf("summary to %v", to)
	}
}

// §6.1(1), §6.2(1)2(イ)(ウ): an ID left on the former section's system after a transfer
// between two sections goes to that system's manager like the other findings, named as such
// in both languages, and keeping it needs a written reason of its own.
func TestReconciliationFormerSectionFindingNeedsAReasonToKeep(t *testing.T) {
	r := newOffboarding(t, jst("2026-11-02 09:00"))
	r.env.RegisterWorkflow(workflows.ReconciliationWorkflow)
	var applied []activities.FindingDecisions
	reg := func(name string, fn any) { r.env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name}) }
	reg("OpenReconciliation", func(context.Context, activities.ReconciliationStart) error { return nil })
	reg("FindReconciliationFindings", func(context.Context, activities.FindingsRequest) (activities.Findings, error) {
		return activities.Findings{Checked: 3, GISO: "G1", HR: "H1", Managers: []activities.ManagerFindings{
			{ISM: "I1", Findings: []activities.FindingRef{{SystemID: "tax", AccountID: "p1", Kind: policy.FindingFormerSection}}},
		}}, nil
	})
	reg("ApplyFindingDecisions", func(_ context.Context, d activities.FindingDecisions) error {
		r.lock(func() { applied = append(applied, d) })
		return nil
	})
	reg("SendReconciliationNotice", func(context.Context, activities.Notice) error { return nil })
	const task = wfID + "/reconcile_accounts/1"
	r.decide(jst("2026-11-02 11:00"), task, "done", "I1", map[string]string{"finding:tax/p1": "keep"}) // the reason stays in the register
	r.env.ExecuteWorkflow(workflows.ReconciliationWorkflow, workflows.ReconciliationInput{
		Header: workflows.Header{ProcessID: wfID, Kind: "reconciliation", TimeZone: "Asia/Tokyo"}})
	if err := r.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res workflows.Result
	_ = r.env.GetWorkflowResult(&res)
	equal(t, "status", res.Status, "completed")
	by := r.openedBy()
	equal(t, "to the system's manager", by[task].spec.AssigneeID, "I1")
	form := by[task].spec.Form
	equal(t, "a select, a reason, a justification", len(form), 3)
	equal(t, "label (ja)", form[0].Label.Ja, "tax / p1（異動前の課室のシステム）")
	equal(t, "label (en)", form[0].Label.En, "tax / p1 (former_section)")
	equal(t, "reason field", form[1].Name, "reason:tax/p1")
	if bad := activities.CheckValues(form, map[string]string{"finding:tax/p1": "keep"}); bad["reason:tax/p1"] == "" {
		t.Errorf("keeping the ID left on the former section's system without a reason: %v, want the reason required", bad)
	}
	if bad := activities.CheckValues(form, map[string]string{"finding:tax/p1": "keep", "reason:tax/p1": "引継ぎ期間中（3月末まで）"}); len(bad) != 0 {
		t.Errorf("kept with a reason: %v", bad)
	}
	if len(applied) != 1 || applied[0].Decisions[0] != (models.FindingDecision{SystemID: "tax", AccountID: "p1", Decision: "keep"}) {
		t.Errorf("decisions applied %+v", applied)
	}
}
