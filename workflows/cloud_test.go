package workflows_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

const cloudID = "CLD-TEST"

const (
	assess1       = cloudID + "/diso_assessment/1"
	assess2       = cloudID + "/diso_assessment/2"
	assess3       = cloudID + "/diso_assessment/3"
	approve1      = cloudID + "/ciso_approval/1"
	denialReview1 = cloudID + "/denial_review/1"
	referral1     = cloudID + "/ciso_referral/1"
	exit1         = cloudID + "/exit_confirmation/1"
	renew1        = cloudID + "/certificate_renewal/1"
)

// cloudRegister is the fake register with the cloud activities: the rules are the real
// default table, applied to the service held here.
type cloudRegister struct {
	*register
	svc      policy.CloudService
	statuses []activities.CloudStatus
	evals    []policy.CloudEvaluation
	renewals []activities.CertificateRenewal
}

func newCloudRegister(t *testing.T, start time.Time, svc policy.CloudService) *cloudRegister {
	c := &cloudRegister{register: newRegister(t, start), svc: svc}
	c.env.RegisterWorkflow(workflows.CloudWorkflow)
	reg := func(name string, fn any) { c.env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name}) }
	reg("OpenCloudService", func(context.Context, string) error { return nil })
	reg("EvaluateCloudService", func(_ context.Context, req activities.CloudEvaluationRequest) (policy.CloudEvaluation, error) {
		day, err := policy.ParseDate(req.AsOf, tokyo)
		if err != nil {
			return policy.CloudEvaluation{}, err
		}
		var e policy.CloudEvaluation
		c.lock(func() {
			e = policy.EvaluateCloud(policy.DefaultCloudRules(), c.svc, day)
			c.evals = append(c.evals, e)
		})
		return e, nil
	})
	reg("SetCloudStatus", func(_ context.Context, s activities.CloudStatus) error {
		c.lock(func() { c.statuses = append(c.statuses, s) })
		return nil
	})
	reg("RenewCloudCertificate", func(_ context.Context, r activities.CertificateRenewal) error {
		c.lock(func() {
			c.renewals = append(c.renewals, r)
			c.svc.Certifications = slices.DeleteFunc(c.svc.Certifications, func(x policy.Certification) bool { return x.Kind == r.Kind })
			c.svc.Certifications = append(c.svc.Certifications, policy.Certification{Kind: r.Kind, IssuedOn: r.IssuedOn, ValidUntil: r.ValidUntil})
		})
		return nil
	})
	return c
}

func cloudHeader() workflows.Header {
	return workflows.Header{ProcessID: cloudID, Kind: "cloud_assessment", Department: "residents", TimeZone: "Asia/Tokyo"}
}

// start runs the workflow to its end or its Continue-As-New; it returns the result, or the
// next run's input.
func (c *cloudRegister) start(in workflows.CloudInput) (workflows.Result, *workflows.CloudInput) {
	c.t.Helper()
	in.Header = cloudHeader()
	if in.RequesterID == "" {
		in.RequesterID = "E1"
	}
	c.env.ExecuteWorkflow(workflows.CloudWorkflow, in)
	if !c.env.IsWorkflowCompleted() {
		c.t.Fatal("workflow did not complete")
	}
	err := c.env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if errors.As(err, &can) {
		var next workflows.CloudInput
		if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
			c.t.Fatal(err)
		}
		if can.WorkflowType.Name != "CloudWorkflow" {
			c.t.Errorf("continued as %q", can.WorkflowType.Name)
		}
		return workflows.Result{}, &next
	}
	if err != nil {
		c.t.Fatalf("workflow failed: %v", err)
	}
	var res workflows.Result
	if err := c.env.GetWorkflowResult(&res); err != nil {
		c.t.Fatal(err)
	}
	return res, nil
}

// finish runs a workflow that must end (not continue as new).
func (c *cloudRegister) finish(in workflows.CloudInput) workflows.Result {
	c.t.Helper()
	res, next := c.start(in)
	if next != nil {
		c.t.Fatalf("continued as new: %+v", next)
	}
	return res
}

// assessAt submits the department security officer's form: every criterion pass unless
// named in fail.
func (c *cloudRegister) assessAt(at time.Time, task, by string, fail ...string) *updateResult {
	values := map[string]string{}
	for _, k := range policy.CloudCriteria {
		values[k.Name] = "pass"
		if slices.Contains(fail, k.Name) {
			values[k.Name] = "fail"
		}
	}
	return c.decideWith(at, task, workflows.ChoiceAssessed, by, values)
}

func (c *cloudRegister) decideWith(at time.Time, task, choice, by string, values map[string]string) *updateResult {
	res := &updateResult{}
	c.env.RegisterDelayedCallback(func() {
		c.env.UpdateWorkflow(workflows.UpdateDecide, task+"|"+by+"|"+choice+"|"+at.Format(time.RFC3339), &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { res.rejected = err },
			OnAccept:   func() { res.accepted = true },
			OnComplete: func(v any, err error) { res.value, res.err = v, err },
		}, signed(workflows.DecideRequest{TaskID: task, Choice: choice, DeciderID: by, Values: values, RequestID: "req-" + task, DecidedAt: at.UTC()}))
	}, at.Sub(c.env.Now()))
	return res
}

func (c *cloudRegister) terminateAt(at time.Time) *updateResult {
	res := &updateResult{}
	c.env.RegisterDelayedCallback(func() {
		c.env.UpdateWorkflow(workflows.UpdateTerminateCloud, "terminate-"+at.Format("0102150405"), &testsuite.TestUpdateCallback{
			OnReject: func(err error) { res.rejected = err }, OnAccept: func() { res.accepted = true }, OnComplete: func(any, error) {},
		}, workflows.TerminateRequest{By: "officer-token"})
	}, at.Sub(c.env.Now()))
	return res
}

func (c *cloudRegister) exitAt(at time.Time, task string) *updateResult {
	return c.decideWith(at, task, workflows.ChoiceDone, "D1", map[string]string{"data_migrated": "migrated", "data_deleted": "confirmed", "deleted_on": at.Format("2006-01-02")})
}

// japanService is a level 3 service the rules allow without the CISO.
func japanService(level int) policy.CloudService {
	return policy.CloudService{
		Classification: level, StorageRegions: []string{"JP"}, ProcessingRegions: []string{"JP"},
		GoverningLaw: "JP", Jurisdiction: "JP", HasExitPlan: true, SecurityDesignRef: "SEC-2026-01",
		Certifications: []policy.Certification{{Kind: "ismap", IssuedOn: "2025-10-01", ValidUntil: "2029-09-30"}},
	}
}

func (c *cloudRegister) statusNames() []string {
	var out []string
	for _, s := range c.statuses {
		out = append(out, s.Status)
	}
	return out
}

func TestCloudAllowedThenTerminated(t *testing.T) {
	c := newCloudRegister(t, monday, japanService(3))
	early := c.terminateAt(monday.Add(time.Hour)) // still being assessed: refused
	c.assessAt(monday.Add(2*time.Hour), assess1, "D1")
	term := c.terminateAt(jst("2026-06-01 10:00"))
	c.exitAt(jst("2026-06-03 10:00"), exit1)
	res := c.finish(workflows.CloudInput{})

	equal(t, "status", res.Status, "terminated")
	if early.rejected == nil || !strings.Contains(early.rejected.Error(), "not in use") {
		t.Errorf("a termination during the assessment was not refused: %v", early.rejected)
	}
	if term.rejected != nil || !term.accepted {
		t.Errorf("termination refused: %v", term.rejected)
	}
	want := []string{"pending/diso_assessment", "approved/in_use", "exiting/exit_plan", "terminated/closed"}
	if !slices.Equal(c.stageNames(), want) {
		t.Errorf("stages = %v, want %v", c.stageNames(), want)
	}
	if got := c.taskIDs(); !slices.Equal(got, []string{assess1 + "@D1", exit1 + "@D1"}) {
		t.Errorf("tasks = %v (no CISO step for allowed level 3 data in Japan)", got)
	}
	// The officer's form carries the rules' word on each criterion.
	form := c.opened[0].spec.Form
	equal(t, "form fields", len(form), 10)
	equal(t, "first criterion cites its clause", strings.HasPrefix(form[0].Label.En, "§8.3(1)"), true)
	equal(t, "rules shown on the form", strings.Contains(form[0].Label.En, "rules: allowed"), true)
	equal(t, "rules note in the register", strings.Contains(c.stages[0].Note, "rules: allowed"), true)
	// The register: approved with the next reassessment on April 1, then exiting and ended.
	if got := c.statusNames(); !slices.Equal(got, []string{"approved", "exiting", "terminated"}) {
		t.Errorf("register statuses = %v", got)
	}
	equal(t, "next reassessment", c.statuses[0].NextReassessment, "2027-04-01")
	equal(t, "first approval marked", c.statuses[0].Approved, true)
	equal(t, "requester told", len(c.notices), 1)
	equal(t, "notice to", c.notices[0].to, "E1")
	equal(t, "exit due in 20 business days", c.opened[1].spec.DueAt.In(tokyo), jst("2026-06-29 17:15"))
}

func TestCloudConditionalNeedsTheCISO(t *testing.T) {
	abroad := japanService(2)
	abroad.StorageRegions = []string{"JP", "US"}
	for _, tc := range []struct {
		choice, status string
	}{{"approve", "terminated"}, {"reject", "rejected"}} {
		t.Run(tc.choice, func(t *testing.T) {
			c := newCloudRegister(t, monday, abroad)
			c.assessAt(monday.Add(time.Hour), assess1, "D1")
			c.decideAt(monday.Add(3*time.Hour), approve1, tc.choice, "C1")
			c.terminateAt(jst("2026-07-01 09:00"))
			c.exitAt(jst("2026-07-02 09:00"), exit1)
			res := c.finish(workflows.CloudInput{})
			equal(t, "status", res.Status, tc.status)
			equal(t, "rules", string(c.evals[0].Outcome), "conditional")
			equal(t, "CISO asked", c.opened[1].spec.AssigneeID, "C1")
			equal(t, "CISO step", c.opened[1].spec.Step, "ciso_approval")
			stage := c.stages[1]
			equal(t, "stage", stage.Stage, "ciso_approval")
			// The CISO's approval is the town's rule: the note cites the rules file, not §4.1(5)
			// (equipment placed outside the premises, which this rule does not check).
			equal(t, "why the CISO", strings.Contains(stage.Note, "town rule cloud_rules.json: ciso_approval_outside_home_regions") && strings.Contains(stage.Note, "outside JP"), true)
			equal(t, "no §4.1(5)", strings.Contains(stage.Note+c.opened[1].spec.Title.En+c.opened[1].spec.Title.Ja, "4.1(5)"), false)
			equal(t, "CISO's title cites the town rules", strings.Contains(c.opened[1].spec.Title.En, "town rules cloud_rules.json"), true)
			equal(t, "rules reasons cite §8.3(2)", strings.Contains(c.stages[0].Note, "§8.3(2) conditional"), true)
			if tc.choice == "reject" {
				equal(t, "register", c.statuses[0].Status, "rejected")
				equal(t, "tasks", len(c.opened), 2)
			}
		})
	}
}

func TestCloudLevel1GoesToTheCISOEvenWhenAllowed(t *testing.T) {
	c := newCloudRegister(t, monday, japanService(1))
	c.assessAt(monday.Add(time.Hour), assess1, "D1")
	c.decideAt(monday.Add(2*time.Hour), approve1, "approve", "C1")
	c.terminateAt(jst("2026-05-20 09:00"))
	c.exitAt(jst("2026-05-21 09:00"), exit1)
	res := c.finish(workflows.CloudInput{})
	equal(t, "status", res.Status, "terminated")
	equal(t, "rules", string(c.evals[0].Outcome), "allowed")
	equal(t, "CISO step", c.opened[1].spec.Step, "ciso_approval")
}

// deniedService is level 1 data without an exit plan: the rules say denied (§8.3(3)).
func deniedService() policy.CloudService {
	svc := japanService(1)
	svc.HasExitPlan = false
	return svc
}

// §8.3: the use of a cloud service is the department security officer's judgement. A denial
// by the rules opens a task for the officer; confirming it ends the process refused, with
// the officer's decision (and the reason the API stored with it) on the record.
func TestCloudDeniedOfficerConfirmsTheRefusal(t *testing.T) {
	c := newCloudRegister(t, monday, deniedService())
	c.decideAt(monday.Add(2*time.Hour), denialReview1, workflows.ChoiceConfirmRefusal, "D1")
	res := c.finish(workflows.CloudInput{})
	equal(t, "status", res.Status, "refused")
	if got := c.taskIDs(); !slices.Equal(got, []string{denialReview1 + "@D1"}) {
		t.Fatalf("tasks = %v, want the officer's review only", got)
	}
	review := c.opened[0].spec
	equal(t, "asked of the department's officer", review.PostRole+"/"+review.PostScope, "diso/residents")
	equal(t, "choices", strings.Join(review.Choices, ","), "confirm_refusal,refer_to_ciso")
	// The reason is required (the API checks free text; it stays in the register).
	equal(t, "reason required", len(review.Form) == 1 && review.Form[0].Name == "reason" && review.Form[0].Required, true)
	equal(t, "due in 10 business days", review.DueAt.In(tokyo), jst("2026-05-15 17:15"))
	if got := c.stageNames(); !slices.Equal(got, []string{"pending/denial_review", "refused/closed"}) {
		t.Errorf("stages = %v", got)
	}
	last := c.stages[len(c.stages)-1].Note
	equal(t, "closing note names the officer's decision", strings.Contains(last, "D1 confirmed the refusal") && strings.Contains(last, "§8.3(3) denied"), true)
	equal(t, "the officer's decision recorded", len(c.decisions) == 1 && c.decisions[0].Step == "denial_review" &&
		c.decisions[0].Choice == workflows.ChoiceConfirmRefusal && c.decisions[0].RequestID == "req-"+denialReview1+"-D1", true)
	equal(t, "register", c.statusNames()[0], "denied")
	equal(t, "requester told", len(c.notices) == 1 && c.notices[0].to == "E1" && c.params[cloudID+"/decided"]["outcome"] == "refused", true)
}

// A denial sent by the officer, with a reason, to the CISO, who approves with conditions:
// the service is approved and in use.
func TestCloudDeniedSentToTheCISOAndApproved(t *testing.T) {
	for _, tc := range []struct{ choice, status, register string }{
		{workflows.ChoiceApprove, "terminated", "approved"},
		{workflows.ChoiceReject, "rejected", "rejected"},
	} {
		t.Run(tc.choice, func(t *testing.T) {
			c := newCloudRegister(t, monday, deniedService())
			c.decideAt(monday.Add(2*time.Hour), denialReview1, workflows.ChoiceReferToCISO, "D1")
			c.decideAt(monday.Add(26*time.Hour), referral1, tc.choice, "C1")
			c.terminateAt(jst("2026-07-01 09:00"))
			c.exitAt(jst("2026-07-02 09:00"), exit1)
			res := c.finish(workflows.CloudInput{})
			equal(t, "status", res.Status, tc.status)
			equal(t, "register", c.statusNames()[0], tc.register)
			if len(c.opened) < 2 {
				t.Fatalf("tasks = %v", c.taskIDs())
			}
			referral := c.opened[1].spec
			equal(t, "the CISO asked", referral.ID+"@"+referral.AssigneeID, referral1+"@C1")
			equal(t, "CISO's post", referral.PostRole, "ciso")
			equal(t, "choices", strings.Join(referral.Choices, ","), "approve,reject")
			equal(t, "conditions go with the approval", len(referral.Form) == 1 && referral.Form[0].Name == "conditions" && referral.Form[0].RequiredFor == workflows.ChoiceApprove, true)
			equal(t, "due in 5 business days", referral.DueAt.In(tokyo), jst("2026-05-08 17:15"))
			equal(t, "no five-criteria form in between", slices.ContainsFunc(c.opened, func(o opened) bool { return o.spec.Step == "diso_assessment" }), false)
			equal(t, "stage", c.stages[1].Status+"/"+c.stages[1].Stage, "pending/ciso_referral")
			equal(t, "the referral names the officer", strings.Contains(c.stages[1].Note, "D1 sent it to the CISO with a reason"), true)
			if tc.choice == workflows.ChoiceApprove {
				equal(t, "approved", c.stages[2].Status+"/"+c.stages[2].Stage, "approved/in_use")
				equal(t, "first approval marked", c.statuses[0].Approved, true)
			}
		})
	}
}

// The officer stays silent: at the deadline the officer is reminded that only they may
// decide and the GISO is told (no deputy for this step); at the end of the grace period the
// rules' refusal stands.
func TestCloudDeniedOfficerSilent(t *testing.T) {
	c := newCloudRegister(t, monday, deniedService())
	res := c.finish(workflows.CloudInput{})
	equal(t, "status", res.Status, "expired")
	equal(t, "register", c.statusNames()[0], "rejected")
	equal(t, "reminders before the deadline", slices.ContainsFunc(c.mails, func(m mailed) bool { return m.kind == "reminder-1" && m.to == "D1" }), true)
	equal(t, "overdue to the officer at the deadline", slices.ContainsFunc(c.mails, func(m mailed) bool {
		return m.kind == "overdue" && m.to == "D1" && m.at.Equal(jst("2026-05-15 17:15"))
	}), true)
	equal(t, "the GISO told", slices.ContainsFunc(c.notices, func(m mailed) bool { return m.kind == "escalation_notice" && m.to == "G1" && m.task == denialReview1 }), true)
	equal(t, "nobody else got a link", slices.ContainsFunc(c.mails, func(m mailed) bool { return m.kind == "escalation" }), false)
	equal(t, "expired after 5 more business days", c.closed[denialReview1], "expired")
	equal(t, "closed on", c.env.Now().In(tokyo), jst("2026-05-22 17:15"))
	equal(t, "the refusal stands", strings.Contains(c.stages[len(c.stages)-1].Note, "the rules' refusal in time: it stands"), true)
}

// Nobody decides their own case: the officer who sent the case to the CISO does not decide
// it when they also hold the CISO's post; nobody may stand in, so the step is not opened and
// the refusal stands.
func TestCloudReferralNotDecidedByTheOfficerWhoSentIt(t *testing.T) {
	c := newCloudRegister(t, monday, deniedService())
	c.dir.set("ciso", "D1")
	c.decideAt(monday.Add(2*time.Hour), denialReview1, workflows.ChoiceReferToCISO, "D1")
	res := c.finish(workflows.CloudInput{})
	equal(t, "status", res.Status, "expired")
	if got := c.taskIDs(); !slices.Equal(got, []string{denialReview1 + "@D1"}) {
		t.Errorf("tasks = %v: the referring officer was asked to decide their own referral", got)
	}
	equal(t, "timeline says why", slices.ContainsFunc(c.notes, func(n string) bool {
		return strings.Contains(n, "ciso_referral") && strings.Contains(n, "cannot be decided")
	}), true)
}

// The rules' verdict is shown to the officer in the task's title (the mail's subject and
// body, the task page) and recorded: the evaluation, and the stage note.
func TestCloudVerdictShownAndRecorded(t *testing.T) {
	abroad := japanService(2)
	abroad.StorageRegions = []string{"JP", "US"}
	for _, tc := range []struct {
		name    string
		svc     policy.CloudService
		verdict string
		ja      string
	}{
		{"allowed", japanService(3), "allowed", "可（allowed）"},
		{"conditional", abroad, "conditional", "条件付き（conditional）"},
		{"denied", deniedService(), "denied", "不可（denied）"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCloudRegister(t, monday, tc.svc)
			c.env.RegisterDelayedCallback(func() {
				c.env.UpdateWorkflow(workflows.UpdateCancel, "cancel", &testUpdate{onReject: func(err error) { t.Errorf("cancel refused: %v", err) }},
					workflows.CancelRequest{By: "admin-token"})
			}, 2*time.Hour)
			c.finish(workflows.CloudInput{})
			if len(c.opened) != 1 {
				t.Fatalf("tasks = %v", c.taskIDs())
			}
			title := c.opened[0].spec.Title
			equal(t, "verdict in the English title", strings.HasSuffix(title.En, "rules: "+tc.verdict), true)
			equal(t, "verdict in the Japanese title", strings.HasSuffix(title.Ja, "規則の判定："+tc.ja), true)
			equal(t, "evaluation recorded", len(c.evals) == 1 && string(c.evals[0].Outcome) == tc.verdict, true)
			equal(t, "stage note", strings.Contains(c.stages[0].Note, "rules: "+tc.verdict), true)
		})
	}
}

func TestCloudRejectedByTheOfficer(t *testing.T) {
	c := newCloudRegister(t, monday, japanService(3))
	c.assessAt(monday.Add(time.Hour), assess1, "D1", policy.CriterionSecurityDesign)
	res := c.finish(workflows.CloudInput{})
	equal(t, "status", res.Status, "rejected")
	equal(t, "reason", strings.Contains(c.stages[len(c.stages)-1].Note, "§8.3(4) not met"), true)
}

func TestCloudAssessmentFormIsValidated(t *testing.T) {
	c := newCloudRegister(t, monday, japanService(3))
	missing := c.decideWith(monday.Add(time.Hour), assess1, workflows.ChoiceAssessed, "D1", map[string]string{"classification": "pass"})
	c.assessAt(monday.Add(2*time.Hour), assess1, "D1", policy.CriterionReliability)
	res := c.finish(workflows.CloudInput{})
	equal(t, "status", res.Status, "rejected")
	if missing.rejected == nil {
		t.Error("a form without every criterion was accepted")
	}
}

func TestCloudAssessmentTimesOut(t *testing.T) {
	c := newCloudRegister(t, monday, japanService(3))
	res := c.finish(workflows.CloudInput{})
	equal(t, "status", res.Status, "expired")
	// Ten business days past Golden Week, then five more for the GISO.
	equal(t, "due", c.opened[0].spec.DueAt.In(tokyo), jst("2026-05-15 17:15"))
	// The department officer's assessment has no deputy: the GISO is told, the officer
	// reminded that only they may decide it.
	equal(t, "overdue to", c.mails[len(c.mails)-1].to, "D1")
	equal(t, "overdue kind", c.mails[len(c.mails)-1].kind, "overdue")
	equal(t, "notice to the GISO", slices.ContainsFunc(c.notices, func(m mailed) bool { return m.kind == "escalation_notice" && m.to == "G1" }), true)
}

// The yearly reassessment (§9.1): the service approved in FY2026 continues as new on
// 1 April 2027 and again on 1 April 2028, each run reassessing by the same steps and
// holding one year's history.
func TestCloudYearlyReassessmentAcrossTwoFiscalYears(t *testing.T) {
	c := newCloudRegister(t, monday, japanService(3))
	c.assessAt(monday.Add(time.Hour), assess1, "D1")
	_, next := c.start(workflows.CloudInput{})
	if next == nil {
		t.Fatal("the first year did not continue as new")
	}
	equal(t, "continued on", c.env.Now().In(tokyo), jst("2027-04-01 00:00"))
	equal(t, "in use", next.InUse, true)
	equal(t, "fiscal year", next.FiscalYear, 2027)
	equal(t, "task sequence carried", next.Carry.Tasks["diso_assessment"], 1)
	firstRun := len(c.stages) + len(c.opened) + len(c.statuses) + len(c.evals) + len(c.notices)

	var runs []int
	for i, fy := range []int{2027, 2028} {
		c2 := newCloudRegister(t, policy.FiscalYearStart(fy, tokyo), japanService(3))
		task := []string{assess2, assess3}[i]
		c2.assessAt(policy.FiscalYearStart(fy, tokyo).Add(9*time.Hour), task, "D1")
		_, n := c2.start(*next)
		if n == nil {
			t.Fatalf("FY%d did not continue as new", fy)
		}
		equal(t, "reassessment opened on April 1", c2.opened[0].at, policy.FiscalYearStart(fy, tokyo))
		equal(t, "reassessment task", c2.opened[0].spec.ID, task)
		equal(t, "notice of the reassessment to the officer", c2.notices[0].to, "D1")
		equal(t, "stage", c2.stages[0].Status+"/"+c2.stages[0].Stage, "reassessing/diso_assessment")
		equal(t, "register seq continues", c2.stages[0].Seq, next.Carry.Events+1)
		equal(t, "next fiscal year", n.FiscalYear, fy+1)
		equal(t, "evaluations carried", n.Carry.Evaluations, i+2)
		equal(t, "next reassessment", c2.statuses[len(c2.statuses)-1].NextReassessment, policy.FiscalYearStart(fy+1, tokyo).Format("2006-01-02"))
		runs = append(runs, len(c2.stages)+len(c2.opened)+len(c2.statuses)+len(c2.evals)+len(c2.notices))
		next = n
	}
	// History stays bounded: each year's run does the same, small amount of work.
	if runs[0] != runs[1] || runs[0] > 2*firstRun {
		t.Errorf("work per run = first %d, then %v", firstRun, runs)
	}
}

func TestCloudReassessmentNotApprovedRunsTheExitPlan(t *testing.T) {
	start := policy.FiscalYearStart(2027, tokyo)
	c := newCloudRegister(t, start, japanService(3))
	c.assessAt(start.Add(9*time.Hour), assess2, "D1", policy.CriterionExitPlan)
	c.exitAt(start.Add(48*time.Hour), exit1)
	res := c.finish(workflows.CloudInput{InUse: true, FiscalYear: 2027, Carry: workflows.CloudCarry{Events: 3, Tasks: map[string]int{"diso_assessment": 1}, Evaluations: 1}})
	equal(t, "status", res.Status, "withdrawn")
	if got := c.statusNames(); !slices.Equal(got, []string{"reassessing", "exiting", "terminated"}) {
		t.Errorf("register statuses = %v", got)
	}
}

func TestCloudCertificateRenewed(t *testing.T) {
	svc := japanService(2)
	svc.Certifications[0].ValidUntil = "2026-09-30"
	c := newCloudRegister(t, monday, svc)
	c.assessAt(monday.Add(time.Hour), assess1, "D1")
	c.decideWith(jst("2026-09-02 10:00"), renew1, workflows.ChoiceRenewed, "D1", map[string]string{"issued_on": "2026-09-01", "valid_until": "2028-09-30"})
	_, next := c.start(workflows.CloudInput{})
	if next == nil {
		t.Fatal("did not continue as new after the renewal")
	}
	equal(t, "renewal asked 30 days before the lapse", c.opened[1].at, jst("2026-09-01 00:00"))
	equal(t, "renewal of", strings.Contains(c.opened[1].spec.Title.En, "ismap"), true)
	equal(t, "renewal recorded", len(c.renewals), 1)
	equal(t, "rules ran again", len(c.evals), 2)
	equal(t, "new lapse", c.evals[1].NextExpiry, "2028-10-01")
	equal(t, "still the first year", next.FiscalYear, 2027)
}

func TestCloudCertificateLapsesAndTheServiceEnds(t *testing.T) {
	svc := japanService(1)
	svc.Certifications[0].ValidUntil = "2026-09-30"
	c := newCloudRegister(t, monday, svc)
	c.assessAt(monday.Add(time.Hour), assess1, "D1")
	c.decideAt(monday.Add(2*time.Hour), approve1, "approve", "C1")
	c.decideWith(jst("2026-09-02 10:00"), renew1, workflows.ChoiceLapsed, "D1", nil)
	// The rules now deny: the officer judges, and confirms the refusal (§8.3).
	c.decideAt(jst("2026-10-01 10:00"), denialReview1, workflows.ChoiceConfirmRefusal, "D1")
	c.exitAt(jst("2026-10-05 10:00"), exit1)
	res := c.finish(workflows.CloudInput{})
	equal(t, "status", res.Status, "withdrawn")
	// On the lapse day the rules run again and deny level 1 data without ISMAP.
	equal(t, "evaluations", len(c.evals), 2)
	equal(t, "denied", string(c.evals[1].Outcome), "denied")
	equal(t, "the officer asked on the lapse day", c.opened[len(c.opened)-2].spec.ID+" "+c.opened[len(c.opened)-2].at.String(), denialReview1+" "+jst("2026-10-01 00:00").String())
	equal(t, "exit opened on the officer's refusal", c.opened[len(c.opened)-1].at, jst("2026-10-01 10:00"))
}

func TestCloudCancelledWhileInUse(t *testing.T) {
	c := newCloudRegister(t, monday, japanService(3))
	c.assessAt(monday.Add(time.Hour), assess1, "D1")
	c.env.RegisterDelayedCallback(func() {
		c.env.UpdateWorkflow(workflows.UpdateCancel, "cancel", &testUpdate{onReject: func(err error) { t.Errorf("cancel refused: %v", err) }},
			workflows.CancelRequest{By: "admin-token"})
	}, 30*24*time.Hour)
	res := c.finish(workflows.CloudInput{})
	equal(t, "status", res.Status, "cancelled")
}
