package workflows_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

const insID = "INS-FY2026"

// inspectionRegister is the register for a self-inspection campaign: two systems (S1 of d1,
// managed by I1; S2 of d2, managed by I2) and two departments (d1 with its officer D1, d2
// with D2), against a checklist of two system items and one department item.
type inspectionRegister struct {
	*register
	setup     activities.InspectionSetup
	recorded  []activities.InspectionRecord
	statuses  []activities.InspectionTargetStatus
	measures  []activities.MeasureUpdate
	reports   []string
	reportErr error
	// yearReports are the requests to mail the committee the fiscal year's report, with the
	// workflow time; committee is who is on the committee (nobody: ErrNoRecipients).
	yearReports []string
	committee   []string
}

func newInspection(t *testing.T, start time.Time) *inspectionRegister {
	r := &inspectionRegister{register: newRegister(t, start)}
	r.dir.set("diso/d2", "D2")
	r.env.RegisterWorkflow(workflows.InspectionWorkflow)
	r.env.RegisterWorkflow(workflows.InspectionTargetWorkflow)
	r.setup = activities.InspectionSetup{
		Checklist: policy.Checklist{Version: "test-1", Items: []policy.ChecklistItem{
			{ID: "sys-a", AppliesTo: policy.TargetSystem, Clause: "§6.1(2)", Ja: "バックアップ", En: "Backups"},
			{ID: "sys-b", AppliesTo: policy.TargetSystem, Clause: "§6.2(1)2", Ja: "ID管理", En: "User IDs"},
			{ID: "dept-a", AppliesTo: policy.TargetDepartment, Clause: "§5.2(1)", Ja: "研修", En: "Training"},
		}},
		Targets: []activities.InspectionTargetRef{
			{Kind: policy.TargetSystem, TargetID: "S1", Department: "d1", Inspector: "I1", DISO: "D1", Members: []string{"I1", "U1"}},
			{Kind: policy.TargetSystem, TargetID: "S2", Department: "d2", Inspector: "I2", DISO: "D2", Members: []string{"I2", "U2"}},
			{Kind: policy.TargetDepartment, TargetID: "d1", Department: "d1", Inspector: "D1", DISO: "D1", Members: []string{"D1", "U1"}},
			{Kind: policy.TargetDepartment, TargetID: "d2", Department: "d2", Inspector: "D2", DISO: "D2", Members: []string{"D2", "U2"}},
		},
	}
	reg := func(name string, fn any) { r.env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name}) }
	reg("OpenInspection", func(_ context.Context, s activities.InspectionStart) (activities.InspectionSetup, error) {
		return r.setup, nil
	})
	reg("RecordInspection", func(_ context.Context, x activities.InspectionRecord) error {
		r.lock(func() { r.recorded = append(r.recorded, x) })
		return nil
	})
	reg("SetInspectionTargetStatus", func(_ context.Context, x activities.InspectionTargetStatus) error {
		r.lock(func() { r.statuses = append(r.statuses, x) })
		return nil
	})
	reg("RecordMeasure", func(_ context.Context, x activities.MeasureUpdate) error {
		r.lock(func() { r.measures = append(r.measures, x) })
		return nil
	})
	reg("ReportInspection", func(_ context.Context, x activities.InspectionReport) (int, error) {
		r.lock(func() { r.reports = append(r.reports, x.Round+"@"+r.env.Now().In(tokyo).Format("2006-01-02 15:04")) })
		return 3, r.reportErr
	})
	r.committee = []string{"C1", "G1"}
	reg("MailCommitteeReport", func(_ context.Context, x activities.CommitteeReportRequest) (activities.CommitteeReportResult, error) {
		var members []string
		r.lock(func() {
			r.yearReports = append(r.yearReports, fmt.Sprintf("%d %s @%s", x.FiscalYear, x.Reason, r.env.Now().In(tokyo).Format("2006-01-02 15:04")))
			members = r.committee
		})
		if len(members) == 0 {
			return activities.CommitteeReportResult{}, temporal.NewNonRetryableApplicationError("no member", activities.ErrNoRecipients, nil)
		}
		return activities.CommitteeReportResult{Mailed: members}, nil
	})
	return r
}

// decideIn sends a decision to a target's child workflow at a workflow time.
func (r *inspectionRegister) decideIn(at time.Time, target, task, by string, values map[string]string, choice string) *updateResult {
	res := &updateResult{}
	r.env.RegisterDelayedCallback(func() {
		err := r.env.UpdateWorkflowByID(insID+"/"+target, workflows.UpdateDecide, task+"|"+by+"|"+fmt.Sprint(values), &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { res.rejected = err },
			OnAccept:   func() { res.accepted = true },
			OnComplete: func(v any, err error) { res.value, res.err = v, err },
		}, signed(workflows.DecideRequest{TaskID: task, Choice: choice, DeciderID: by, Values: values,
			RequestID: "req-" + task + "-" + by, DecidedAt: at.UTC()}))
		if err != nil {
			res.rejected = err
		}
	}, at.Sub(r.env.Now()))
	return res
}

func (r *inspectionRegister) run() workflows.Result {
	r.t.Helper()
	r.env.ExecuteWorkflow(workflows.InspectionWorkflow, workflows.InspectionInput{
		Header:     workflows.Header{ProcessID: insID, Kind: "inspection", TimeZone: "Asia/Tokyo"},
		FiscalYear: 2026, Occasion: workflows.OccasionYearly,
	})
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

// TestInspectionCampaign runs §9.1 end to end: four targets inspect, one system manager is
// late and escalated to the department's officer, one item not kept gets an improvement
// measure that its owner completes, and the compiled results go to the committee.
func TestInspectionCampaign(t *testing.T) {
	r := newInspection(t, jst("2026-10-01 09:00"))
	const (
		taskS1 = insID + "/system/S1/inspect_system/1"
		taskS2 = insID + "/system/S2/inspect_system/1"
		taskD1 = insID + "/department/d1/inspect_department/1"
		taskD2 = insID + "/department/d2/inspect_department/1"
		taskM  = insID + "/system/S1/improvement_measure/1"
	)
	// §9.1(2): an item not kept needs its improvement measure: without owner and due date the
	// form is refused.
	noMeasure := r.decideIn(jst("2026-10-02 10:00"), "system/S1", taskS1, "I1",
		map[string]string{"answer:sys-a": "compliant", "answer:sys-b": "not"}, "submit")
	pastDue := r.decideIn(jst("2026-10-02 10:30"), "system/S1", taskS1, "I1",
		map[string]string{"answer:sys-a": "compliant", "answer:sys-b": "not", "owner:sys-b": "U1", "due:sys-b": "2026-09-30"}, "submit")
	s1 := r.decideIn(jst("2026-10-02 11:00"), "system/S1", taskS1, "I1",
		map[string]string{"answer:sys-a": "compliant", "answer:sys-b": "not", "owner:sys-b": "U1", "due:sys-b": "2026-11-30"}, "submit")
	d1 := r.decideIn(jst("2026-10-05 10:00"), "department/d1", taskD1, "D1", map[string]string{"answer:dept-a": "compliant"}, "submit")
	d2 := r.decideIn(jst("2026-10-06 10:00"), "department/d2", taskD2, "D2", map[string]string{"answer:dept-a": "not_applicable"}, "submit")
	// The manager of S2 answers only after the deadline, once escalated.
	s2 := r.decideIn(jst("2026-11-05 10:00"), "system/S2", taskS2, "I2",
		map[string]string{"answer:sys-a": "compliant", "answer:sys-b": "partly", "owner:sys-b": "U2", "due:sys-b": "2026-12-10"}, "submit")
	m1 := r.decideIn(jst("2026-11-10 15:00"), "system/S1", taskM, "U1", nil, "done")
	// U2 never does the measure on S2.
	res := r.run()

	for name, u := range map[string]*updateResult{"S1": s1, "S2": s2, "d1": d1, "d2": d2, "measure": m1} {
		if u.rejected != nil || !u.accepted {
			t.Errorf("the decision on %s was refused: %v", name, u.rejected)
		}
	}
	equal(t, "a measure without owner and due date is refused", noMeasure.rejected != nil, true)
	equal(t, "a due date before the task opened is refused", pastDue.rejected != nil, true)

	by := map[string]activities.TaskSpec{}
	for _, o := range r.opened {
		by[o.spec.ID] = o.spec
	}
	equal(t, "S1 asked of its manager", by[taskS1].AssigneeID, "I1")
	equal(t, "S2 asked of its manager", by[taskS2].AssigneeID, "I2")
	equal(t, "d1 asked of its officer", by[taskD1].AssigneeID, "D1")
	equal(t, "d2 asked of its officer", by[taskD2].AssigneeID, "D2")
	equal(t, "the campaign's register entry", by[taskS2].ProcessID, insID)
	equal(t, "the task is decided in the target's workflow", by[taskS2].WorkflowID, insID+"/system/S2")
	equal(t, "system form: five fields per item", len(by[taskS1].Form), 10)
	equal(t, "department form", len(by[taskD1].Form), 5)
	equal(t, "measure owner", by[taskM].AssigneeID, "U1")
	equal(t, "measure due at the close of the day the inspector set", by[taskM].DueAt.In(tokyo).Format("2006-01-02"), "2026-11-30")

	// The late manager: reminded, told at the deadline that only they may decide, and the
	// department's officer told (§9.1, escalation as every step).
	var overdue, told bool
	for _, m := range r.mails {
		if m.task == taskS2 && m.kind == "overdue" && m.to == "I2" {
			overdue = true
		}
	}
	for _, n := range r.notices {
		if n.task == taskS2 && n.kind == activities.NoticeEscalation && n.to == "D2" {
			told = true
		}
	}
	equal(t, "the late manager told it is overdue", overdue, true)
	equal(t, "the department's officer told", told, true)

	equal(t, "four inspections recorded", len(r.recorded), 4)
	equal(t, "no target overdue", len(r.statuses), 0)
	var done, late []string
	for _, m := range r.measures {
		switch m.Status {
		case "done":
			done = append(done, m.TargetID+"/"+m.ItemID)
		case "overdue":
			late = append(late, m.TargetID+"/"+m.ItemID)
		}
	}
	equal(t, "measure done", fmt.Sprint(done), "[S1/sys-b]")
	equal(t, "measure never done", fmt.Sprint(late), "[S2/sys-b]")
	equal(t, "the measure's task escalated to the officer of d2", slices.ContainsFunc(r.notices, func(n mailed) bool {
		return n.task == insID+"/system/S2/improvement_measure/1" && n.to == "D2"
	}), true)

	// §9.1(2): the results and the measures planned are reported once every target is
	// inspected (S2's manager answered last), how the measures ended once both have.
	equal(t, "reports", fmt.Sprint(r.reports), "[results@2026-11-05 10:00 measures@2026-12-24 17:15]")
	// Issue 16: at the end of the campaign the committee gets the link to the whole year's
	// report, after the final round of §9.1(2).
	equal(t, "the year's report mailed once, at the end", fmt.Sprint(r.yearReports), "[2026 self-inspection INS-FY2026 completed @2026-12-24 17:15]")
	equal(t, "the timeline says to whom", slices.Contains(r.notes,
		"the link to the report of fiscal year 2026 was mailed to 2 members of the security committee (C1, G1)"), true)
	equal(t, "status", res.Status, "incomplete")
	stages := r.stageNames()
	equal(t, "stages", fmt.Sprint(stages), "[in_progress/inspection in_progress/report_results in_progress/measures in_progress/report_measures incomplete/closed]")
}

// TestInspectionLateInspectorIsRecordedOverdue: an inspector silent past the escalation's
// grace leaves the target overdue in the register, and the report still goes out.
func TestInspectionLateInspectorIsRecordedOverdue(t *testing.T) {
	r := newInspection(t, jst("2026-10-01 09:00"))
	r.setup.Targets = r.setup.Targets[:1]
	res := r.run()
	equal(t, "target overdue", fmt.Sprint(r.statuses), fmt.Sprint([]activities.InspectionTargetStatus{{ProcessID: insID, Kind: "system",
		TargetID: "S1", Status: "overdue", TaskID: insID + "/system/S1/inspect_system/1"}}))
	equal(t, "reported twice: results, then measures", len(r.reports), 2)
	equal(t, "status", res.Status, "incomplete")
}

// TestInspectionCancelClosesTargetTasks: a cancelled campaign stops its targets, whose open
// tasks are closed as cancelled; nothing is reported.
func TestInspectionCancelClosesTargetTasks(t *testing.T) {
	r := newInspection(t, jst("2026-10-01 09:00"))
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(workflows.UpdateCancel, "cancel-1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("cancel refused: %v", err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, workflows.CancelRequest{By: "admin"})
	}, 2*24*time.Hour)
	res := r.run()
	equal(t, "status", res.Status, "cancelled")
	equal(t, "S1's task cancelled", r.closed[insID+"/system/S1/inspect_system/1"], "cancelled")
	equal(t, "d2's task cancelled", r.closed[insID+"/department/d2/inspect_department/1"], "cancelled")
	equal(t, "nothing reported", len(r.reports), 0)
	equal(t, "no year's report for a cancelled campaign", len(r.yearReports), 0)
}

// TestInspectionYearReportWithoutCommittee: with nobody on the security committee the link to
// the year's report cannot go out (activities.ErrNoRecipients); the campaign's timeline says
// so and the campaign still completes, its work being done.
func TestInspectionYearReportWithoutCommittee(t *testing.T) {
	r := newInspection(t, jst("2026-10-01 09:00"))
	r.committee = nil
	r.setup.Targets = r.setup.Targets[2:3]
	d1 := r.decideIn(jst("2026-10-05 10:00"), "department/d1", insID+"/department/d1/inspect_department/1", "D1", map[string]string{"answer:dept-a": "compliant"}, "submit")
	res := r.run()
	if d1.rejected != nil {
		t.Fatalf("the answers refused: %v", d1.rejected)
	}
	equal(t, "the mail was asked for", len(r.yearReports), 1)
	equal(t, "status", res.Status, "completed")
	equal(t, "the timeline says nobody was mailed", slices.Contains(r.notes,
		"the link to the report of fiscal year 2026 was not mailed: the directory names no member of the security committee (role committee)"), true)
}

// TestInspectionWithoutAManagerIsTheGISOs: a system nobody managed when the campaign started
// is inspected by the GISO (§9.1(1)1) instead of waiting for a post nobody holds.
func TestInspectionWithoutAManagerIsTheGISOs(t *testing.T) {
	r := newInspection(t, jst("2026-10-01 09:00"))
	r.setup.Targets = []activities.InspectionTargetRef{{Kind: policy.TargetSystem, TargetID: "S9", Department: "d9",
		Inspector: "G1", InspectorRole: "giso", Members: []string{"G1"}}}
	const task = insID + "/system/S9/inspect_system/1"
	giso := r.decideIn(jst("2026-10-02 10:00"), "system/S9", task, "G1", map[string]string{"answer:sys-a": "compliant", "answer:sys-b": "compliant"}, "submit")
	res := r.run()
	if giso.rejected != nil {
		t.Fatalf("the GISO's answers refused: %v", giso.rejected)
	}
	var spec activities.TaskSpec
	for _, o := range r.opened {
		if o.spec.ID == task {
			spec = o.spec
		}
	}
	equal(t, "asked of the GISO", spec.AssigneeID, "G1")
	equal(t, "the GISO's post", spec.PostRole, "giso")
	equal(t, "status", res.Status, "completed")
}
