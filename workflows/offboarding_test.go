package workflows_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
	"github.com/stretchr/testify/mock"
)

// offboardingRegister is the exception tests' fake register with the offboarding's own
// activities added: the directory facts a test chooses, and records of the snapshot,
// outcomes, date moves and closing.
type offboardingRegister struct {
	*register
	facts    activities.OffboardingFacts
	snapshot activities.OffboardingSnapshot
	outcomes []activities.OutcomeRecord
	moves    []activities.DateMove
	late     bool
	closed   bool
	filed    []activities.IncidentFiling
	children []workflows.IncidentInput
	// posts are the leaver's posts ended, with how many stages were recorded before.
	posts     []activities.LeaverPostsRequest
	postsAt   []int
	handovers *handovers
	// designees are the CISO's approvals of a designee notified (§6.2(1)3(ウ)).
	designees []activities.DesigneeApproval
}

// The directory of the tests: the leaver L1 of the taxation department; the tax system
// (taxation, manager I1) and the mail system (general affairs, manager I2) each hold an
// account of theirs; L1 knew the password of tax's privileged admin ID.
func leaverFacts() activities.OffboardingFacts {
	return activities.OffboardingFacts{
		Accounts: []policy.AccountFacts{
			{SystemID: "tax", AccountID: "l1", SystemDepartment: "taxation", Held: true, Active: true},
			{SystemID: "mail", AccountID: "l1", SystemDepartment: "general", Held: true, Active: true},
			{SystemID: "tax", AccountID: "admin", SystemDepartment: "taxation", Known: true, Privileged: true, Active: true},
		},
		Systems: []activities.SystemFacts{{ID: "mail", Department: "general", ISM: "I2"}, {ID: "tax", Department: "taxation", ISM: "I1"}},
		Assets:  []activities.AssetRef{{ID: "PC-1", Kind: "device"}, {ID: "CARD-1", Kind: "id_card"}},
		Candidates: map[string][]policy.Candidate{
			"taxation": {
				{EmployeeID: "I1", DepartmentID: "taxation", Employed: true, Roles: []policy.Role{policy.RoleISM}},
				{EmployeeID: "L1", DepartmentID: "taxation", Employed: true, Roles: []policy.Role{policy.RoleStaff}},
				{EmployeeID: "S1", DepartmentID: "taxation", Employed: true, Roles: []policy.Role{policy.RoleStaff}},
			},
		},
		GISO: "G1", DISO: "D1", HR: "H1",
	}
}

func newOffboarding(t *testing.T, start time.Time) *offboardingRegister {
	r := &offboardingRegister{register: newRegister(t, start), facts: leaverFacts()}
	// The directory as AssignTask reads it agrees with the facts: tax is managed by I1,
	// mail by I2.
	r.dir.set("ism/tax", "I1")
	r.dir.set("ism/mail", "I2")
	r.env.RegisterWorkflow(workflows.OffboardingWorkflow)
	reg := func(name string, fn any) { r.env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name}) }
	reg("OffboardingFacts", func(context.Context, activities.OffboardingFactsRequest) (activities.OffboardingFacts, error) {
		return r.facts, nil
	})
	reg("RecordOffboardingSnapshot", func(_ context.Context, s activities.OffboardingSnapshot) error {
		r.lock(func() { r.snapshot = s })
		return nil
	})
	reg("RecordOffboardingOutcomes", func(_ context.Context, o activities.OutcomeRecord) error {
		r.lock(func() { r.outcomes = append(r.outcomes, o) })
		return nil
	})
	reg("SendOffboardingNotice", func(_ context.Context, n activities.Notice) error {
		r.lock(func() { r.notices = append(r.notices, mailed{n.Kind, n.Key, n.RecipientID, r.env.Now().In(tokyo)}) })
		return nil
	})
	reg("MoveOffboardingDate", func(_ context.Context, m activities.DateMove) error {
		r.lock(func() { r.moves = append(r.moves, m) })
		return nil
	})
	reg("FileIncident", func(_ context.Context, f activities.IncidentFiling) error {
		r.lock(func() { r.filed = append(r.filed, f) })
		return nil
	})
	// The incident itself is tested on its own: here it only has to start.
	r.env.RegisterWorkflow(workflows.IncidentWorkflow)
	r.env.OnWorkflow(workflows.IncidentWorkflow, mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in workflows.IncidentInput) (workflows.Result, error) {
			r.lock(func() { r.children = append(r.children, in) })
			return workflows.Result{Status: "closed"}, nil
		})
	reg("EndLeaverPosts", func(_ context.Context, req activities.LeaverPostsRequest) (string, error) {
		r.lock(func() { r.posts, r.postsAt = append(r.posts, req), append(r.postsAt, len(r.stages)) })
		return "posts ended", nil
	})
	reg("SendDesigneeNotices", func(_ context.Context, d activities.DesigneeApproval) ([]string, error) {
		r.lock(func() { r.designees = append(r.designees, d) })
		return []string{"the GISO (G1)", "the security officer of " + d.SystemDepartment + " (D1)", "the manager of " + d.SystemID + " (I1)"}, nil
	})
	r.handovers = watchHandOvers(r.env, func(string) []string { return nil })
	reg("MarkOffboardingLate", func(context.Context, string) error { r.late = true; return nil })
	reg("CloseOffboarding", func(context.Context, string) error { r.closed = true; return nil })
	return r
}

// decide sends a decision with form values at a workflow time.
func (r *offboardingRegister) decide(at time.Time, task, choice, by string, values map[string]string) *updateResult {
	res := &updateResult{}
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(workflows.UpdateDecide, task+"|"+by+"|"+choice+"|"+at.Format(time.RFC3339), &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { res.rejected = err },
			OnAccept:   func() { res.accepted = true },
			OnComplete: func(v any, err error) { res.value, res.err = v, err },
		}, signed(workflows.DecideRequest{TaskID: task, Choice: choice, DeciderID: by, Values: values, RequestID: "req-" + task + "-" + by, DecidedAt: at.UTC()}))
	}, at.Sub(r.env.Now()))
	return res
}

func (r *offboardingRegister) start(reason policy.LeaveReason, date string) workflows.Result {
	r.t.Helper()
	in := workflows.OffboardingInput{
		Header:     workflows.Header{ProcessID: wfID, Kind: "offboarding", Department: "taxation", TimeZone: "Asia/Tokyo"},
		EmployeeID: "L1", Reason: reason, EffectiveDate: date, FormerDepartment: "taxation",
	}
	if reason == policy.Transfer {
		in.NewDepartment = "welfare"
	}
	r.env.ExecuteWorkflow(workflows.OffboardingWorkflow, in)
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

// openedBy maps each opened task's ID to its assignee and the time it was opened.
func (r *offboardingRegister) openedBy() map[string]opened {
	out := map[string]opened{}
	for _, o := range r.opened {
		out[o.spec.ID] = o
	}
	return out
}

// taskFor finds the ID of the first task of a step whose title mentions what.
func (r *offboardingRegister) taskFor(t *testing.T, step, what string) string {
	t.Helper()
	for _, o := range r.opened {
		if o.spec.Step == step && strings.Contains(o.spec.Title.En, what) {
			return o.spec.ID
		}
	}
	t.Fatalf("no %s task about %q among %v", step, what, r.taskIDs())
	return ""
}

func (r *offboardingRegister) noticesOf(kind string) []mailed {
	var out []mailed
	for _, n := range r.notices {
		if n.kind == kind {
			out = append(out, n)
		}
	}
	return out
}

// Task IDs of the default run: the steps are opened side by side in a fixed order.
const (
	disable1        = wfID + "/disable_accounts/1" // mail, I2
	disable2        = wfID + "/disable_accounts/2" // tax, I1
	rotate1         = wfID + "/rotate_credential/1"
	assets1         = wfID + "/confirm_assets/1"
	secrecy1        = wfID + "/secrecy_acknowledgement/1"
	transferReview1 = wfID + "/review_transfer_access/1" // on a transfer: mail, I2
)

// everyoneDecides schedules every step's decision on 1 April 2026, the day after the
// effective date 31 March.
func (r *offboardingRegister) everyoneDecides(assets string) {
	r.decide(jst("2026-04-01 10:00"), disable1, "done", "I2", map[string]string{"account:l1": "disabled"})
	r.decide(jst("2026-04-01 10:10"), disable2, "done", "I1", map[string]string{"account:l1": "deleted"})
	r.decide(jst("2026-04-01 10:20"), rotate1, "done", "I1", nil)
	r.decide(jst("2026-04-01 10:30"), assets1, "done", "D1", map[string]string{"asset:PC-1": assets, "asset:CARD-1": "returned"})
	r.decide(jst("2026-04-01 10:40"), secrecy1, "acknowledge", "L1", nil)
}

func TestOffboardingWaitsUntilTheEndOfTheEffectiveDate(t *testing.T) {
	r := newOffboarding(t, jst("2026-03-25 09:00"))
	r.everyoneDecides("returned")
	res := r.start(policy.Retirement, "2026-03-31")

	equal(t, "status", res.Status, "completed")
	want := []string{"waiting/awaiting_effective_date", "in_progress/offboarding", "completed/closed"}
	if !slices.Equal(r.stageNames(), want) {
		t.Errorf("stages = %v, want %v", r.stageNames(), want)
	}
	// The department security officer is told at the start, a week before.
	started := r.noticesOf(activities.NoticeOffboardingStarted)
	equal(t, "start notices", len(started), 1)
	equal(t, "start notice to", started[0].to, "D1")
	equal(t, "start notice at", started[0].at, jst("2026-03-25 09:00"))
	// Nothing is asked before the end of 31 March in Tokyo; then everything at once.
	equal(t, "tasks", len(r.opened), 5)
	for _, o := range r.opened {
		equal(t, "opened "+o.spec.ID, o.at, jst("2026-04-01 00:00"))
	}
	by := r.openedBy()
	equal(t, "mail ISM", by[disable1].spec.AssigneeID, "I2")
	equal(t, "tax ISM", by[disable2].spec.AssigneeID, "I1")
	equal(t, "rotation by the tax manager", by[rotate1].spec.AssigneeID, "I1")
	equal(t, "assets to the DISO", by[assets1].spec.AssigneeID, "D1")
	equal(t, "secrecy to the leaver", by[secrecy1].spec.AssigneeID, "L1")
	equal(t, "form of the tax task", len(by[disable2].spec.Form), 1)
	// Each confirmation was recorded with who and when.
	equal(t, "outcome records", len(r.outcomes), 4)
	for _, o := range r.outcomes {
		if o.By == "" || o.At.IsZero() || len(o.Outcomes) == 0 {
			t.Errorf("outcome without who, when or what: %+v", o)
		}
	}
	// The snapshot: two accounts to disable, one credential to rotate, two assets.
	equal(t, "snapshot accounts", len(r.snapshot.Accounts), 3)
	equal(t, "snapshot assets", len(r.snapshot.Assets), 2)
	// The closing report goes to HR and the GISO.
	var to []string
	for _, n := range r.noticesOf(activities.NoticeOffboardingReport) {
		to = append(to, n.to)
	}
	sort.Strings(to)
	if !slices.Equal(to, []string{"G1", "H1"}) {
		t.Errorf("report to %v, want G1 and H1", to)
	}
	equal(t, "no missing asset", len(r.noticesOf(activities.NoticeAssetMissing)), 0)
	equal(t, "closed in the register", r.closed, true)
	equal(t, "not late", r.late, false)
}

func TestOffboardingDateMovedByHR(t *testing.T) {
	r := newOffboarding(t, jst("2026-03-25 09:00"))
	var rejected []error
	move := func(at time.Time, id, date string) {
		r.env.RegisterDelayedCallback(func() {
			r.env.UpdateWorkflow(workflows.UpdateMoveDate, id, &testUpdate{onReject: func(err error) { rejected = append(rejected, err) }},
				workflows.MoveDateRequest{EffectiveDate: date, By: "hr-token"})
		}, at.Sub(r.env.Now()))
	}
	move(jst("2026-03-27 12:00"), "move-1", "2026-04-10")
	move(jst("2026-03-27 12:01"), "move-bad", "10 April")    // refused: not a date
	move(jst("2026-03-27 12:02"), "move-same", "2026-04-10") // refused: no change
	r.decide(jst("2026-04-13 10:00"), disable1, "done", "I2", map[string]string{"account:l1": "disabled"})
	r.decide(jst("2026-04-13 10:00"), disable2, "done", "I1", map[string]string{"account:l1": "disabled"})
	r.decide(jst("2026-04-13 10:00"), rotate1, "done", "I1", nil)
	r.decide(jst("2026-04-13 10:00"), assets1, "done", "D1", map[string]string{"asset:PC-1": "returned", "asset:CARD-1": "returned"})
	r.decide(jst("2026-04-13 10:00"), secrecy1, "acknowledge", "L1", nil)
	move(jst("2026-04-12 09:00"), "move-late", "2026-05-01") // refused: no longer waiting
	res := r.start(policy.Retirement, "2026-03-31")

	equal(t, "status", res.Status, "completed")
	equal(t, "refused moves", len(rejected), 3)
	equal(t, "moves recorded", len(r.moves), 1)
	equal(t, "moved to", r.moves[0].EffectiveDate, "2026-04-10")
	equal(t, "tasks opened at the end of the new date", r.opened[0].at, jst("2026-04-11 00:00"))
}

func TestOffboardingCancelledByHRWhileWaiting(t *testing.T) {
	r := newOffboarding(t, jst("2026-03-25 09:00"))
	var rejected error
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(workflows.UpdateCancel, "cancel", &testUpdate{onReject: func(err error) { rejected = err }},
			workflows.CancelRequest{By: "hr-token"})
	}, 48*time.Hour)
	res := r.start(policy.Retirement, "2026-03-31")
	if rejected != nil {
		t.Fatalf("cancel refused: %v", rejected)
	}
	equal(t, "status", res.Status, "cancelled")
	equal(t, "no task", len(r.opened), 0)
	equal(t, "ended when cancelled", r.env.Now().In(tokyo), jst("2026-03-27 09:00"))
	equal(t, "closed in the register", r.closed, true)
}

func TestOffboardingOneManagerLateIsEscalated(t *testing.T) {
	r := newOffboarding(t, jst("2026-03-25 09:00"))
	// The tax manager I1 decides nothing; the GISO decides in their place after escalation.
	r.decide(jst("2026-04-01 10:00"), disable1, "done", "I2", map[string]string{"account:l1": "disabled"})
	r.decide(jst("2026-04-01 10:20"), rotate1, "done", "I1", nil)
	r.decide(jst("2026-04-01 10:30"), assets1, "done", "D1", map[string]string{"asset:PC-1": "returned", "asset:CARD-1": "returned"})
	r.decide(jst("2026-04-01 10:40"), secrecy1, "acknowledge", "L1", nil)
	early := r.decide(jst("2026-04-06 10:00"), disable2, "done", "G1", map[string]string{"account:l1": "disabled"})
	// Three business days after 1 April 00:00: due Monday 6 April 17:15; the GISO decides
	// on Tuesday, in the grace period.
	late := r.decide(jst("2026-04-07 09:00"), disable2, "done", "G1", map[string]string{"account:l1": "disabled"})
	res := r.start(policy.Retirement, "2026-03-31")

	equal(t, "status", res.Status, "completed")
	if early.rejected == nil {
		t.Error("the GISO decided before the escalation")
	}
	if late.rejected != nil || !late.accepted {
		t.Errorf("the GISO's decision after escalation was refused: %v", late.rejected)
	}
	var reminders, escalations []string
	for _, m := range r.mails {
		if m.task != disable2 {
			t.Errorf("mail about a task decided in time: %+v", m)
		}
		if strings.HasPrefix(m.kind, "reminder") {
			reminders = append(reminders, m.to+"@"+m.at.Format("01-02 15:04"))
		} else {
			escalations = append(escalations, m.to+"@"+m.at.Format("01-02 15:04"))
		}
	}
	if !slices.Equal(reminders, []string{"I1@04-05 17:15", "I1@04-06 13:15"}) {
		t.Errorf("reminders = %v", reminders)
	}
	if !slices.Equal(escalations, []string{"G1@04-06 17:15"}) {
		t.Errorf("escalations = %v", escalations)
	}
	var by string
	for _, o := range r.outcomes {
		if o.TaskID == disable2 {
			by = o.By
		}
	}
	equal(t, "tax accounts confirmed by", by, "G1")
}

func TestOffboardingMissingAssetIsReportedAtOnce(t *testing.T) {
	r := newOffboarding(t, jst("2026-03-25 09:00"))
	r.everyoneDecides("missing")
	res := r.start(policy.Retirement, "2026-03-31")
	equal(t, "status", res.Status, "completed")
	missing := r.noticesOf(activities.NoticeAssetMissing)
	equal(t, "missing notices", len(missing), 1)
	equal(t, "reported to", missing[0].to, "G1")
	equal(t, "reported when confirmed", missing[0].at, jst("2026-04-01 10:30"))
	var recorded string
	for _, o := range r.outcomes {
		for _, x := range o.Outcomes {
			if x.Key == activities.AssetKey("PC-1") {
				recorded = x.Outcome
			}
		}
	}
	equal(t, "asset outcome", recorded, "missing")
	// A device not returned is a security incident (§5.1(1)8): one is filed and started.
	if len(r.filed) != 1 || len(r.children) != 1 {
		t.Fatalf("incidents filed %d, started %d; want 1 and 1", len(r.filed), len(r.children))
	}
	f := r.filed[0]
	equal(t, "incident category", f.Report.Category, "loss_theft")
	equal(t, "incident reporter", f.Report.Reporter, "D1")
	equal(t, "incident department", f.Department, "taxation")
	equal(t, "child is the filed process", r.children[0].ProcessID, f.ProcessID)
	if strings.Contains(f.Summary, "L1") {
		t.Errorf("the incident's summary (shown in Temporal) names the leaver: %q", f.Summary)
	}
}

// §6.1(1), §6.2(1)2(イ): a transfer disables only the former department's accounts, and asks
// the manager of each other department's system whether the person still needs theirs there;
// the mail account is kept (the reason is the form's, in the register) or disabled.
func TestOffboardingTransferReviewsOtherDepartmentsSystems(t *testing.T) {
	for _, c := range []struct{ choice, outcome string }{{"kept", "kept"}, {"disabled", "disabled"}} {
		t.Run(c.choice, func(t *testing.T) {
			r := newOffboarding(t, jst("2026-03-25 09:00"))
			r.decide(jst("2026-04-01 10:00"), disable1, "done", "I1", map[string]string{"account:l1": "disabled"})
			r.decide(jst("2026-04-01 10:20"), rotate1, "done", "I1", nil)
			r.decide(jst("2026-04-01 10:30"), assets1, "done", "D1", map[string]string{"asset:PC-1": "returned", "asset:CARD-1": "returned"})
			r.decide(jst("2026-04-01 10:40"), secrecy1, "acknowledge", "L1", nil)
			review := r.decide(jst("2026-04-01 10:50"), transferReview1, "done", "I2", map[string]string{"account:l1": c.choice})
			res := r.start(policy.Transfer, "2026-03-31")
			equal(t, "status", res.Status, "completed")
			if review.rejected != nil {
				t.Fatalf("review refused: %v", review.rejected)
			}
			// Only the former department's tax system is disabled outright.
			var disables []string
			for _, o := range r.opened {
				if o.spec.Step == "disable_accounts" {
					disables = append(disables, o.spec.Title.En)
				}
			}
			if len(disables) != 1 || !strings.Contains(disables[0], "(tax)") {
				t.Errorf("disable tasks = %v, want only tax", disables)
			}
			// The mail system's manager reviews the account, and must give a reason to keep it.
			spec := r.openedBy()[transferReview1].spec
			equal(t, "review of", spec.Title.En, "Review a transferred person's accounts (mail)")
			equal(t, "review to the mail manager", spec.AssigneeID, "I2")
			equal(t, "review form", len(spec.Form), 2)
			equal(t, "reason required when kept", fmt.Sprint(*spec.Form[1].RequiredIf), fmt.Sprint(activities.Condition{Field: "account:l1", Values: []string{"kept"}}))
			var got string
			for _, o := range r.outcomes {
				for _, x := range o.Outcomes {
					if x.Key == activities.AccountKey("mail", "l1") {
						got = x.Outcome
					}
				}
			}
			equal(t, "mail account outcome", got, c.outcome)
			kept := slices.ContainsFunc(r.notes, func(n string) bool { return strings.Contains(n, "kept after the transfer by I2") })
			equal(t, "timeline names the kept account", kept, c.choice == "kept")
		})
	}
}

// §6.2(1)3(エ): a vendor never changes a privileged password, even as the system's manager;
// the GISO does (イ), and no member of the section is picked instead.
func TestOffboardingRotationNeverGoesToAVendor(t *testing.T) {
	r := newOffboarding(t, jst("2026-03-25 09:00"))
	// The tax system is run by a vendor's engineer registered as its manager.
	r.dir.set("ism/tax", "V1")
	r.facts.Systems[1].ISM = "V1"
	r.facts.Candidates["taxation"] = append([]policy.Candidate{
		{EmployeeID: "V1", DepartmentID: "taxation", Employed: true, Roles: []policy.Role{policy.RoleISM, policy.RoleVendor}},
	}, r.facts.Candidates["taxation"][1:]...)
	r.everyoneDecides("returned")
	r.decide(jst("2026-04-01 10:10"), disable2, "done", "V1", map[string]string{"account:l1": "disabled"})
	vendor := r.decide(jst("2026-04-01 10:15"), rotate1, "done", "V1", nil)
	staff := r.decide(jst("2026-04-01 10:16"), rotate1, "done", "S1", nil)
	r.decide(jst("2026-04-01 10:20"), rotate1, "done", "G1", nil)
	res := r.start(policy.Retirement, "2026-03-31")
	equal(t, "status", res.Status, "completed")
	equal(t, "rotation assignee", r.openedBy()[rotate1].spec.AssigneeID, "G1")
	if vendor.rejected == nil {
		t.Error("the vendor's decision on the rotation was accepted")
	}
	if staff.rejected == nil {
		t.Error("a member of the section the code chose changed the password")
	}
}

// §6.2(1)3(イ): when the leaver is the system's manager, the password they knew is changed by
// the GISO (the policy's own rule for offboarding.rotate_credential), not by whichever member
// of the section the code found first.
func TestOffboardingRotationWhenTheLeaverIsTheManagerGoesToTheGISO(t *testing.T) {
	r := newOffboarding(t, jst("2026-03-25 09:00"))
	r.dir.set("ism/tax", "L1")
	r.facts.Systems[1].ISM = "L1"
	r.decide(jst("2026-04-01 10:00"), disable1, "done", "I2", map[string]string{"account:l1": "disabled"})
	r.decide(jst("2026-04-01 10:10"), disable2, "done", "G1", map[string]string{"account:l1": "disabled"})
	member := r.decide(jst("2026-04-01 10:15"), rotate1, "done", "I1", nil)
	r.decide(jst("2026-04-01 10:20"), rotate1, "done", "G1", nil)
	r.decide(jst("2026-04-01 10:30"), assets1, "done", "D1", map[string]string{"asset:PC-1": "returned", "asset:CARD-1": "returned"})
	r.decide(jst("2026-04-01 10:40"), secrecy1, "acknowledge", "L1", nil)
	res := r.start(policy.Retirement, "2026-03-31")
	equal(t, "status", res.Status, "completed")
	equal(t, "rotation assignee", r.openedBy()[rotate1].spec.AssigneeID, "G1")
	if member.rejected == nil {
		t.Error("a member of the section decided the rotation")
	}
	var rotated bool
	for _, o := range r.outcomes {
		rotated = rotated || o.TaskID == rotate1 && o.By == "G1"
	}
	equal(t, "rotated by the GISO on the record", rotated, true)
}

func TestOffboardingPastDateStartsAtOnceAndIsLate(t *testing.T) {
	r := newOffboarding(t, jst("2026-04-01 09:00"))
	r.facts.Assets = nil
	r.decide(jst("2026-04-01 10:00"), disable1, "done", "I2", map[string]string{"account:l1": "disabled"})
	r.decide(jst("2026-04-01 10:10"), disable2, "done", "I1", map[string]string{"account:l1": "disabled"})
	r.decide(jst("2026-04-01 10:20"), rotate1, "done", "I1", nil)
	r.decide(jst("2026-04-01 10:40"), wfID+"/secrecy_acknowledgement/1", "acknowledge", "L1", nil)
	res := r.start(policy.Retirement, "2026-03-20")
	equal(t, "status", res.Status, "completed")
	equal(t, "late", r.late, true)
	want := []string{"late/offboarding", "completed/closed"}
	if !slices.Equal(r.stageNames(), want) {
		t.Errorf("stages = %v, want %v", r.stageNames(), want)
	}
	equal(t, "opened at once", r.opened[0].at, jst("2026-04-01 09:00"))
}

func TestOffboardingUnconfirmedAfterEveryRoundIsIncomplete(t *testing.T) {
	r := newOffboarding(t, jst("2026-03-25 09:00"))
	r.facts.Assets = nil
	r.decide(jst("2026-04-01 10:00"), disable1, "done", "I2", map[string]string{"account:l1": "disabled"})
	r.decide(jst("2026-04-01 10:20"), rotate1, "done", "I1", nil)
	res := r.start(policy.Retirement, "2026-03-31")
	equal(t, "status", res.Status, "incomplete")
	// Three rounds of the tax task, each escalated to the GISO.
	var rounds int
	for _, o := range r.opened {
		if strings.HasPrefix(o.spec.ID, wfID+"/disable_accounts/") && o.spec.AssigneeID == "I1" {
			rounds++
		}
	}
	equal(t, "rounds", rounds, 3)
	equal(t, "reports", len(r.noticesOf(activities.NoticeOffboardingReport)), 2)
	_ = models.Outcome{}
}

// When the offboarding has run to its end, the leaver's posts end in the directory (after
// every step, before the process closes), and the processes with a task of theirs still
// open are told, so the task goes to the post's new holder (issue 12).
func TestOffboardingEndsTheLeaversPosts(t *testing.T) {
	for _, c := range []struct {
		reason  policy.LeaveReason
		newDept string
	}{{policy.Retirement, ""}, {policy.Secondment, ""}, {policy.Transfer, "welfare"}} {
		t.Run(string(c.reason), func(t *testing.T) {
			r := newOffboarding(t, jst("2026-03-25 09:00"))
			r.handovers.open = func(person string) []string {
				if person == "L1" {
					return []string{"EXC-9"}
				}
				return nil
			}
			if c.reason == policy.Transfer {
				r.decide(jst("2026-04-01 10:00"), disable1, "done", "I1", map[string]string{"account:l1": "disabled"})
				r.decide(jst("2026-04-01 10:20"), rotate1, "done", "I1", nil)
				r.decide(jst("2026-04-01 10:30"), assets1, "done", "D1", map[string]string{"asset:PC-1": "returned", "asset:CARD-1": "returned"})
				r.decide(jst("2026-04-01 10:40"), secrecy1, "acknowledge", "L1", nil)
				r.decide(jst("2026-04-01 10:35"), transferReview1, "done", "I2", map[string]string{"account:l1": "kept"})
			} else {
				r.everyoneDecides("returned")
			}
			res := r.start(c.reason, "2026-03-31")
			equal(t, "status", res.Status, "completed")
			if len(r.posts) != 1 {
				t.Fatalf("posts ended %d times, want once: %+v", len(r.posts), r.posts)
			}
			want := activities.LeaverPostsRequest{ProcessID: wfID, EmployeeID: "L1", Reason: c.reason, NewDepartment: c.newDept}
			equal(t, "request", r.posts[0], want)
			// After the offboarding's work (two stages recorded), before it closes.
			equal(t, "stages before", r.postsAt[0], 2)
			equal(t, "last stage", r.stageNames()[len(r.stages)-1], "completed/closed")
			if got := r.handovers.by(); !slices.Equal(got, []string{"EXC-9 L1 offboarding@04-01 10:40"}) {
				t.Errorf("signals %v, want the leaver's open process told at the end", got)
			}
		})
	}
}

// A cancelled offboarding ends no post: the person did not leave.
func TestOffboardingCancelledEndsNoPost(t *testing.T) {
	r := newOffboarding(t, jst("2026-03-25 09:00"))
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(workflows.UpdateCancel, "cancel", &testUpdate{onReject: func(err error) { t.Errorf("cancel refused: %v", err) }},
			workflows.CancelRequest{By: "hr-token"})
	}, 48*time.Hour)
	res := r.start(policy.Retirement, "2026-03-31")
	equal(t, "status", res.Status, "cancelled")
	if len(r.posts) != 0 || len(r.handovers.lookups) != 0 {
		t.Errorf("a cancelled offboarding ended posts %+v and looked up %v", r.posts, r.handovers.lookups)
	}
}

// An offboarding whose rounds ran out still ends the leaver's posts: the person left on the
// effective date whether or not every item was confirmed.
func TestOffboardingIncompleteStillEndsThePosts(t *testing.T) {
	r := newOffboarding(t, jst("2026-03-25 09:00"))
	r.facts.Assets = nil
	r.decide(jst("2026-04-01 10:00"), disable1, "done", "I2", map[string]string{"account:l1": "disabled"})
	r.decide(jst("2026-04-01 10:20"), rotate1, "done", "I1", nil)
	res := r.start(policy.Retirement, "2026-03-31")
	equal(t, "status", res.Status, "incomplete")
	equal(t, "posts ended", len(r.posts), 1)
}

// §6.2(1)2: every ID the leaver holds on the effective date goes. An account created on the
// web system after HR filed is read when the date has ended, gets its own disable task, and
// the register names it as added since filing.
func TestOffboardingAccountAddedAfterFilingIsDisabled(t *testing.T) {
	r := newOffboarding(t, jst("2026-03-25 09:00"))
	r.dir.set("ism/web", "I3")
	r.env.RegisterDelayedCallback(func() {
		r.lock(func() {
			f := leaverFacts()
			f.Accounts = append(f.Accounts, policy.AccountFacts{SystemID: "web", AccountID: "l1", SystemDepartment: "taxation", Held: true, Active: true})
			f.Systems = append(f.Systems, activities.SystemFacts{ID: "web", Department: "taxation", ISM: "I3"})
			r.facts = f
		})
	}, 72*time.Hour) // 28 March: after filing, before the effective date
	r.everyoneDecides("returned")
	web := r.decide(jst("2026-04-01 10:50"), wfID+"/disable_accounts/3", "done", "I3", map[string]string{"account:l1": "disabled"})
	res := r.start(policy.Retirement, "2026-03-31")

	equal(t, "status", res.Status, "completed")
	if web.rejected != nil || !web.accepted {
		t.Fatalf("the web manager's decision: accepted %v, rejected %v", web.accepted, web.rejected)
	}
	task := r.taskFor(t, "disable_accounts", "(web)")
	equal(t, "web task to its manager", r.openedBy()[task].spec.AssigneeID, "I3")
	equal(t, "web task opened at the end of the date", r.openedBy()[task].at, jst("2026-04-01 00:00"))
	var recorded bool
	for _, o := range r.outcomes {
		for _, x := range o.Outcomes {
			recorded = recorded || x.Key == activities.AccountKey("web", "l1") && x.Outcome == "disabled"
		}
	}
	equal(t, "web account disabled on the record", recorded, true)
	equal(t, "added account snapshotted", len(r.snapshot.Accounts), 1)
	equal(t, "snapshotted account", r.snapshot.Accounts[0].SystemID+"/"+r.snapshot.Accounts[0].AccountID, "web/l1")
	if !slices.ContainsFunc(r.notes, func(n string) bool { return strings.Contains(n, "added since filing: web/l1 (disable)") }) {
		t.Errorf("no timeline note naming the added account among %q", r.notes)
	}
}

// §6.2(1)3(イ): the system's manager may name someone to change the password in their place,
// but only a person the CISO approves; a designation without a designee is refused, and a
// refusal by the CISO sends the step back to the manager.
func TestOffboardingRotationByADesigneeTheCISOApproves(t *testing.T) {
	for _, ciso := range []string{"approve", "reject"} {
		t.Run(ciso, func(t *testing.T) {
			r := newOffboarding(t, jst("2026-03-25 09:00"))
			r.decide(jst("2026-04-01 10:00"), disable1, "done", "I2", map[string]string{"account:l1": "disabled"})
			r.decide(jst("2026-04-01 10:10"), disable2, "done", "I1", map[string]string{"account:l1": "disabled"})
			r.decide(jst("2026-04-01 10:30"), assets1, "done", "D1", map[string]string{"asset:PC-1": "returned", "asset:CARD-1": "returned"})
			r.decide(jst("2026-04-01 10:40"), secrecy1, "acknowledge", "L1", nil)
			empty := r.decide(jst("2026-04-01 10:15"), rotate1, "designate", "I1", nil)
			leaver := r.decide(jst("2026-04-01 10:16"), rotate1, "designate", "I1", map[string]string{"designee": "L1"})
			r.decide(jst("2026-04-01 10:20"), rotate1, "designate", "I1", map[string]string{"designee": "S1"})
			const approval = wfID + "/approve_rotation_designee/1"
			const second = wfID + "/rotate_credential/2"
			early := r.decide(jst("2026-04-01 10:25"), second, "done", "S1", nil)
			r.decide(jst("2026-04-01 11:00"), approval, ciso, "C1", nil)
			if ciso == "approve" {
				r.decide(jst("2026-04-01 11:30"), second, "done", "S1", nil)
			} else {
				r.decide(jst("2026-04-01 11:30"), second, "done", "I1", nil)
			}
			res := r.start(policy.Retirement, "2026-03-31")
			equal(t, "status", res.Status, "completed")
			equal(t, "designation without a designee refused", empty.rejected != nil, true)
			equal(t, "the leaver cannot be designated", leaver.rejected != nil, true)
			equal(t, "the designee cannot act before the CISO approves", early.rejected != nil, true)
			by := r.openedBy()
			equal(t, "approval to the CISO", by[approval].spec.AssigneeID, "C1")
			equal(t, "approval opened after the designation", by[approval].at, jst("2026-04-01 10:20"))
			want := map[string]string{"approve": "S1", "reject": "I1"}[ciso]
			equal(t, "second rotation task to", by[second].spec.AssigneeID, want)
			var rotatedBy string
			for _, o := range r.outcomes {
				if o.TaskID == second {
					rotatedBy = o.By
				}
			}
			equal(t, "rotated by", rotatedBy, want)
			noted := slices.ContainsFunc(r.notes, func(n string) bool {
				return strings.Contains(n, "I1 named S1 to change the password of tax/admin") && strings.Contains(n, map[string]string{"approve": "approved", "reject": "refused"}[ciso])
			})
			equal(t, "timeline says what the CISO decided", noted, true)
			// §6.2(1)3(ウ): an approved designee is notified to the GISO, the department's
			// security officer and the system's manager, and the timeline says to whom.
			if ciso == "approve" {
				want := activities.DesigneeApproval{ProcessID: wfID, TaskID: approval, SystemID: "tax", AccountID: "admin",
					SystemDepartment: "taxation", Designee: "S1", NamedBy: "I1", ApprovedBy: "C1"}
				if len(r.designees) != 1 || r.designees[0] != want {
					t.Fatalf("designee notices %+v, want once %+v", r.designees, want)
				}
				told := slices.ContainsFunc(r.notes, func(n string) bool {
					return strings.Contains(n, "approval of S1 as designee for tax/admin was notified to the GISO (G1), the security officer of taxation (D1), the manager of tax (I1)")
				})
				equal(t, "timeline names who was told", told, true)
			} else {
				equal(t, "no notice of a refused designee", len(r.designees), 0)
			}
		})
	}
}

// A transfer between two sections (課室) of one department is a transfer (§2, §6.1(1)): the
// managers of the former section's systems review the person's IDs there (keep with a
// reason, or disable), the passwords they knew there are changed, and nothing else of the
// department, nor of other departments, is touched. The directory then has them in the new
// section, with only the section head's post (ism) ended.
func TestOffboardingSectionTransferReviewsTheFormerSectionsSystems(t *testing.T) {
	r := newOffboarding(t, jst("2026-03-25 09:00"))
	r.dir.set("ism/web", "I3")
	f := leaverFacts()
	for i := range f.Accounts {
		if f.Accounts[i].SystemID == "tax" {
			f.Accounts[i].SystemSection = "tax-assess"
		}
	}
	f.Accounts = append(f.Accounts, policy.AccountFacts{SystemID: "web", AccountID: "l1", SystemDepartment: "taxation", SystemSection: "tax-collect", Held: true, Active: true})
	f.Systems = []activities.SystemFacts{{ID: "mail", Department: "general", ISM: "I2"}, {ID: "tax", Department: "taxation", Section: "tax-assess", ISM: "I1"},
		{ID: "web", Department: "taxation", Section: "tax-collect", ISM: "I3"}}
	r.facts = f
	const review = wfID + "/review_transfer_access/1"
	kept := r.decide(jst("2026-04-01 10:05"), review, "done", "I1", map[string]string{"account:l1": "kept"}) // the reason goes to the register, not history
	r.decide(jst("2026-04-01 10:20"), rotate1, "done", "I1", nil)
	r.decide(jst("2026-04-01 10:30"), assets1, "done", "D1", map[string]string{"asset:PC-1": "returned", "asset:CARD-1": "returned"})
	r.decide(jst("2026-04-01 10:40"), secrecy1, "acknowledge", "L1", nil)
	r.env.ExecuteWorkflow(workflows.OffboardingWorkflow, workflows.OffboardingInput{
		Header:     workflows.Header{ProcessID: wfID, Kind: "offboarding", Department: "taxation", TimeZone: "Asia/Tokyo"},
		EmployeeID: "L1", Reason: policy.Transfer, EffectiveDate: "2026-03-31",
		FormerDepartment: "taxation", NewDepartment: "taxation", FormerSection: "tax-assess", NewSection: "tax-collect",
	})
	if err := r.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res workflows.Result
	if err := r.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if kept.rejected != nil || !kept.accepted {
		t.Fatalf("the review: accepted %v, rejected %v", kept.accepted, kept.rejected)
	}
	equal(t, "status", res.Status, "completed")
	var steps []string
	for _, o := range r.opened {
		steps = append(steps, o.spec.Step+" "+o.spec.Title.En+" → "+o.spec.AssigneeID)
	}
	slices.Sort(steps)
	want := []string{
		"confirm_assets Confirm the return of a leaver's lent assets → D1",
		"review_transfer_access Review a transferred person's accounts (tax) → I1",
		"rotate_credential Change the password of a shared or privileged ID (tax / admin) → I1",
		"secrecy_acknowledgement Acknowledge the duty of secrecy that continues after you leave → L1",
	}
	if !slices.Equal(steps, want) {
		t.Errorf("tasks opened:\n%s\nwant (no disabling of the department's accounts, no review of web or mail):\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
	}
	var keys []string
	for _, a := range r.snapshot.Accounts {
		keys = append(keys, a.SystemID+"/"+a.AccountID+" "+a.Action)
	}
	equal(t, "reviews snapshotted", strings.Join(keys, ","), "tax/l1 review")
	var got string
	for _, o := range r.outcomes {
		for _, x := range o.Outcomes {
			if x.Key == activities.AccountKey("tax", "l1") {
				got = x.Outcome
			}
		}
	}
	equal(t, "tax account kept on the record", got, "kept")
	if !slices.ContainsFunc(r.notes, func(n string) bool {
		return strings.Contains(n, "a transfer between two sections of taxation, tax-assess → tax-collect")
	}) {
		t.Errorf("no timeline note of the section transfer among %q", r.notes)
	}
	if len(r.posts) != 1 {
		t.Fatalf("posts ended %d times: %+v", len(r.posts), r.posts)
	}
	equal(t, "posts", r.posts[0], activities.LeaverPostsRequest{ProcessID: wfID, EmployeeID: "L1", Reason: policy.Transfer,
		NewDepartment: "taxation", NewSection: "tax-collect", WithinDepartment: true})
}

// sectionFacts is the directory of leaverFacts with sections (課室): the tax system belongs to
// the assessment section (tax-assess) of taxation, as do its manager I1, the leaver L1, S2
// and a vendor's engineer V2; S1 and a vendor's V3 are in the collection section. The
// department's members, as read (a bounded list), do not include S2 nor V2.
func sectionFacts() activities.OffboardingFacts {
	f := leaverFacts()
	for i := range f.Accounts {
		if f.Accounts[i].SystemID == "tax" {
			f.Accounts[i].SystemSection = "tax-assess"
		}
	}
	f.Systems[1].Section = "tax-assess"
	member := func(id, section string, roles ...policy.Role) policy.Candidate {
		return policy.Candidate{EmployeeID: id, DepartmentID: "taxation", SectionID: section, Employed: true, Roles: roles}
	}
	f.Candidates["taxation"] = []policy.Candidate{member("I1", "tax-assess", policy.RoleISM), member("L1", "tax-assess", policy.RoleStaff),
		member("S1", "tax-collect", policy.RoleStaff), member("V3", "tax-collect", policy.RoleVendor)}
	f.SectionCandidates = map[string][]policy.Candidate{"tax-assess": {member("I1", "tax-assess", policy.RoleISM),
		member("L1", "tax-assess", policy.RoleStaff), member("S2", "tax-assess", policy.RoleStaff), member("V2", "tax-assess", policy.RoleStaff, policy.RoleVendor)}}
	return f
}

// §6.2(1)3(イ)(エ), §6.1(1): the designee for a system a section owns is named among that
// section's members, never a vendor nor the leaver: a member of another section of the
// department may not be named, a member of the section the department's bounded list missed
// may.
func TestOffboardingDesigneesAreTheSystemsSectionMembers(t *testing.T) {
	r := newOffboarding(t, jst("2026-03-25 09:00"))
	r.facts = sectionFacts()
	r.decide(jst("2026-04-01 10:00"), disable1, "done", "I2", map[string]string{"account:l1": "disabled"})
	r.decide(jst("2026-04-01 10:10"), disable2, "done", "I1", map[string]string{"account:l1": "disabled"})
	r.decide(jst("2026-04-01 10:30"), assets1, "done", "D1", map[string]string{"asset:PC-1": "returned", "asset:CARD-1": "returned"})
	r.decide(jst("2026-04-01 10:40"), secrecy1, "acknowledge", "L1", nil)
	vendor := r.decide(jst("2026-04-01 10:12"), rotate1, "done", "V2", nil)
	otherSection := r.decide(jst("2026-04-01 10:14"), rotate1, "designate", "I1", map[string]string{"designee": "S1"})
	sectionVendor := r.decide(jst("2026-04-01 10:16"), rotate1, "designate", "I1", map[string]string{"designee": "V2"})
	named := r.decide(jst("2026-04-01 10:20"), rotate1, "designate", "I1", map[string]string{"designee": "S2"})
	const approval = wfID + "/approve_rotation_designee/1"
	const second = wfID + "/rotate_credential/2"
	r.decide(jst("2026-04-01 11:00"), approval, "approve", "C1", nil)
	r.decide(jst("2026-04-01 11:30"), second, "done", "S2", nil)
	res := r.start(policy.Retirement, "2026-03-31")
	equal(t, "status", res.Status, "completed")
	var offered []string
	for _, f := range r.openedBy()[rotate1].spec.Form {
		for _, o := range f.Options {
			offered = append(offered, o.Value)
		}
	}
	equal(t, "designees offered", strings.Join(offered, ","), "S2")
	equal(t, "the section's vendor, not asked, cannot confirm the rotation", vendor.rejected != nil, true)
	equal(t, "a member of another section cannot be named", otherSection.rejected != nil, true)
	equal(t, "the section's vendor cannot be named", sectionVendor.rejected != nil, true)
	equal(t, "the section's member is named", named.rejected == nil && named.accepted, true)
	equal(t, "second rotation task to", r.openedBy()[second].spec.AssigneeID, "S2")
}

// §6.2(1)3(イ)(エ): a system without a section is its department's: its designees are the
// department's members; and a manager the directory marks a vendor's person, though listed in
// another department, never gets the rotation: the GISO does.
func TestOffboardingRotationOfADepartmentsSystemAndAVendorManager(t *testing.T) {
	r := newOffboarding(t, jst("2026-03-25 09:00"))
	f := sectionFacts()
	for i := range f.Accounts {
		f.Accounts[i].SystemSection = ""
	}
	f.Systems[1].Section, f.Systems[1].ISM, f.Systems[1].ISMVendor = "", "V9", true
	r.dir.set("ism/tax", "V9")
	r.facts = f
	r.decide(jst("2026-04-01 10:00"), disable1, "done", "I2", map[string]string{"account:l1": "disabled"})
	r.decide(jst("2026-04-01 10:10"), disable2, "done", "V9", map[string]string{"account:l1": "disabled"}) // disabling is not (エ)'s
	r.decide(jst("2026-04-01 10:30"), assets1, "done", "D1", map[string]string{"asset:PC-1": "returned", "asset:CARD-1": "returned"})
	r.decide(jst("2026-04-01 10:40"), secrecy1, "acknowledge", "L1", nil)
	vendor := r.decide(jst("2026-04-01 10:15"), rotate1, "done", "V9", nil)
	r.decide(jst("2026-04-01 10:20"), rotate1, "done", "G1", nil)
	res := r.start(policy.Retirement, "2026-03-31")
	equal(t, "status", res.Status, "completed")
	by := r.openedBy()
	equal(t, "rotation assignee", by[rotate1].spec.AssigneeID, "G1")
	equal(t, "the vendor manager's decision refused", vendor.rejected != nil, true)
	var offered []string
	for _, f := range by[rotate1].spec.Form {
		for _, o := range f.Options {
			offered = append(offered, o.Value)
		}
	}
	equal(t, "designees offered: the department's", strings.Join(offered, ","), "I1,S1")
}
