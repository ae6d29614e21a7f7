package workflows

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// ReconciliationInput starts a reconciliation of every active account against HR's roster
// (§6.2(1)2(ウ)). A run started by the Temporal Schedule has no ProcessID: the workflow ID
// is used.
type ReconciliationInput struct {
	Header
	// UnusedAfter is how long an account may go unused before it is a finding; zero means
	// DefaultUnusedAfter.
	UnusedAfter time.Duration
	Timing      ReconciliationTiming
}

// ReconciliationTiming holds the system managers' deadline; the zero value means the town's
// timings, copied when the process starts (changeTimings).
type ReconciliationTiming struct {
	Review, ReviewGrace Deadline
	RemindBefore        []time.Duration
}

// DefaultUnusedAfter is the default threshold of the "unused" finding.
const DefaultUnusedAfter = 90 * 24 * time.Hour

// DefaultReconciliationTiming is what processes started before changeTimings run under; never
// change it (the town's timings, policy/timings.json, hold the defaults). It gives each system
// manager ten business days, the GISO five more once escalated.
var DefaultReconciliationTiming = ReconciliationTiming{
	Review: Deadline{BusinessDays: 10}, ReviewGrace: Deadline{BusinessDays: 5},
	RemindBefore: []time.Duration{48 * time.Hour, 4 * time.Hour},
}

// Values of the reconciliation form, per finding.
const (
	ValueDisable = "disable"
	ValueKeep    = "keep"
)

// ReconciliationWorkflow compares every active account with the roster: accounts of people
// no longer employed, of holders the roster does not know, and accounts unused past the
// threshold. Each system manager gets one task listing their findings (disable, or keep with
// a justification); the accounts to disable are disabled in the register with who and
// when; the GISO and HR get the summary.
func ReconciliationWorkflow(ctx workflow.Context, in ReconciliationInput) (Result, error) {
	if in.ProcessID == "" {
		in.ProcessID = workflow.GetInfo(ctx).WorkflowExecution.ID
		in.Kind = models.KindReconciliation
	}
	if in.TimeZone == "" {
		in.TimeZone = "Asia/Tokyo"
	}
	p, err := begin(ctx, in.Header)
	if err != nil {
		return Result{}, err
	}
	// The deadlines are the town's, copied now, or as given (changeTimings).
	t, _, err := timingOf(ctx, p, p.copyTimings(ctx, in.Timing.Review != (Deadline{}), false), in.Timing, DefaultReconciliationTiming, reconciliationTiming)
	if err != nil {
		return Result{}, err
	}
	if in.UnusedAfter == 0 {
		in.UnusedAfter = DefaultUnusedAfter
	}
	if err := p.record(ctx, "Register this reconciliation", acts.OpenReconciliation,
		activities.ReconciliationStart{ProcessID: p.id, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID}); err != nil {
		return Result{}, err
	}
	f, err := get[activities.Findings](ctx, p, fmt.Sprintf("Compare every active account with the HR roster (unused after %d days)", int(in.UnusedAfter.Hours()/24)),
		acts.FindReconciliationFindings, activities.FindingsRequest{ProcessID: p.id, UnusedAfter: in.UnusedAfter, At: workflow.Now(ctx)})
	if err != nil {
		return p.end(ctx, err)
	}
	n := 0
	for _, m := range f.Managers {
		n += len(m.Findings)
	}
	if err := p.setStage(ctx, "in_progress", "manager_review", fmt.Sprintf("%d findings among %d accounts, for %d system managers", n, f.Checked, len(f.Managers))); err != nil {
		return p.end(ctx, err)
	}
	done := make([]bool, len(f.Managers))
	errs := make([]error, len(f.Managers))
	wg := workflow.NewWaitGroup(ctx)
	for i, m := range f.Managers {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			done[i], errs[i] = p.review(ctx, m, f.GISO, t)
		})
	}
	wg.Wait(ctx)
	for _, err := range errs {
		if err != nil {
			return p.end(ctx, err)
		}
	}
	recipients := []string{f.GISO, f.HR}
	for i, who := range recipients {
		if who == "" || slices.Contains(recipients[:i], who) {
			continue
		}
		if err := p.run(ctx, "Send the reconciliation's summary to "+who, acts.SendReconciliationNotice, activities.Notice{
			Key: p.id + "/summary/" + who, ProcessID: p.id, RecipientID: who, Kind: activities.NoticeReconciliationSummary,
			Params: map[string]string{"checked": strconv.Itoa(f.Checked)},
		}); err != nil {
			return p.end(ctx, err)
		}
	}
	if slices.Contains(done, false) {
		return p.finish(ctx, "incomplete", "some system managers did not decide their findings in time")
	}
	return p.finish(ctx, "completed", fmt.Sprintf("%d findings decided", n))
}

// reconcilerPost is the post that decides one manager's findings: the manager of the systems
// (the first system's post; the findings are grouped by manager) or the GISO.
func reconcilerPost(role policy.Role, m activities.ManagerFindings) policy.Post {
	if role == policy.RoleISM && len(m.Findings) > 0 {
		return policy.Post{Role: role, Scope: m.Findings[0].SystemID}
	}
	return policy.Post{Role: policy.RoleGISO}
}

// review asks one system manager to decide their findings: disable, or keep with a
// justification. It reports whether they (or the GISO) decided.
func (p *process) review(ctx workflow.Context, m activities.ManagerFindings, giso string, t ReconciliationTiming) (bool, error) {
	form := make([]activities.Field, 0, len(m.Findings)+1)
	for _, x := range m.Findings {
		form = append(form, activities.Field{
			Name: "finding:" + x.SystemID + "/" + x.AccountID, Kind: activities.FieldSelect, Required: true,
			Label: activities.Text{Ja: x.SystemID + " / " + x.AccountID + "（" + findingJa[x.Kind] + "）", En: x.SystemID + " / " + x.AccountID + " (" + x.Kind + ")"},
			Options: []activities.Option{
				{Value: ValueDisable, Label: activities.Text{Ja: "無効化する", En: "Disable"}},
				{Value: ValueKeep, Label: activities.Text{Ja: "継続する（理由を記入）", En: "Keep (give the reason below)"}},
			},
		})
	}
	if workflow.GetVersion(ctx, changeKeepReason, workflow.DefaultVersion, 1) >= 1 {
		form = append(form, keepReasons(m.Findings)...)
	}
	form = append(form, activities.Field{Name: "justification", Kind: activities.FieldTextarea,
		Label: activities.Text{Ja: "継続するIDの理由", En: "Why the IDs kept are still needed"}})
	assignee, role := m.ISM, policy.RoleISM
	if assignee == "" {
		assignee, role = giso, policy.RoleGISO
	}
	d, err := p.ask(ctx, Step{
		Name:     "reconcile_accounts",
		Title:    activities.Text{Ja: "アカウントと人事名簿の照合結果の確認", En: "Decide the findings of the account reconciliation"},
		Assignee: assignee, AssigneeRole: role, Choices: []string{ChoiceDone}, Form: form,
		Deadline: t.Review, Grace: t.ReviewGrace, RemindBefore: t.RemindBefore, EscalateTo: giso, EscalateToRole: policy.RoleGISO,
		Post: reconcilerPost(role, m), EscalatePost: policy.Post{Role: policy.RoleGISO},
	})
	if err != nil || d.TimedOut {
		return false, err
	}
	ds := make([]models.FindingDecision, 0, len(m.Findings))
	disable := 0
	for _, x := range m.Findings {
		v := d.Values["finding:"+x.SystemID+"/"+x.AccountID]
		if v == ValueDisable {
			disable++
		}
		ds = append(ds, models.FindingDecision{SystemID: x.SystemID, AccountID: x.AccountID, Decision: v})
	}
	return true, p.record(ctx, fmt.Sprintf("Register: %d findings decided by %s, %d accounts disabled", len(ds), d.DeciderID, disable),
		acts.ApplyFindingDecisions, activities.FindingDecisions{ProcessID: p.id, TaskID: d.TaskID, By: d.DeciderID, At: d.DecidedAt, Decisions: ds})
}

var findingJa = map[string]string{
	policy.FindingNotEmployed:      "退職・出向済み",
	policy.FindingUnknownHolder:    "名簿にない利用者",
	policy.FindingUnused:           "長期間未使用",
	policy.FindingFormerDepartment: "異動前の所属のシステム",
	policy.FindingFormerSection:    "異動前の課室のシステム",
}

// changeKeepReason is the workflow.GetVersion change under which the reconciliation's form
// asks a written reason for each finding that policy.KeepNeedsReason names, required when
// that account is kept. Runs that opened their tasks before it replay as they ran.
const changeKeepReason = "reconciliation-keep-reason"

// keepReasons are the form's reason fields: one per finding whose account may be kept only
// for a written reason (the account of someone no longer employed, not in the roster, or
// transferred out of the system's department or section; §6.1(1), §6.2(1)2(イ)(ウ)). The API refuses a "keep"
// without it (activities.CheckValues); the reason is free text, kept in the register with
// the decision's values, never in history.
func keepReasons(findings []activities.FindingRef) []activities.Field {
	var out []activities.Field
	for _, x := range findings {
		if !policy.KeepNeedsReason(x.Kind) {
			continue
		}
		key := x.SystemID + "/" + x.AccountID
		out = append(out, activities.Field{
			Name: "reason:" + key, Kind: activities.FieldTextarea,
			Label:      activities.Text{Ja: key + " を継続する理由", En: "Why " + key + " is kept"},
			RequiredIf: &activities.Condition{Field: "finding:" + key, Values: []string{ValueKeep}},
		})
	}
	return out
}
