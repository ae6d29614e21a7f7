package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// UpdateMoveDate is the Workflow Update through which HR moves an offboarding's effective
// date while the process waits for it.
const UpdateMoveDate = "move_date"

// MoveDateRequest is HR's new effective date (YYYY-MM-DD, Asia/Tokyo) and who moved it;
// the reason stays in the register.
type MoveDateRequest struct {
	EffectiveDate string
	By            string
}

// OffboardingInput starts the offboarding of one leaver (§5.1(1)8, §6.2(1)2–3, §5.4).
// Names, the note and the leaver's accounts stay in the database; the workflow reads the
// accounts and assets by ID when it starts.
type OffboardingInput struct {
	Header
	EmployeeID string
	Reason     policy.LeaveReason
	// EffectiveDate is the day the person leaves (YYYY-MM-DD); access ends at the end of it.
	EffectiveDate    string
	FormerDepartment string
	NewDepartment    string
	// FormerSection and NewSection are the sections (課室) the person leaves and joins, when
	// the directory knows them; a transfer within one department names both
	// (policy.SectionTransfer).
	FormerSection string
	NewSection    string
	Timing        OffboardingTiming
}

// OffboardingTiming holds the deadlines of the offboarding's human steps. The zero value
// means the town's timings, copied when the process starts (changeTimings).
type OffboardingTiming struct {
	Disable, DisableGrace Deadline
	Rotate, RotateGrace   Deadline
	Assets, AssetsGrace   Deadline
	Secrecy               Deadline
	RemindBefore          []time.Duration
	// Rounds is how often a step nobody decided is asked again (each round reminds and
	// escalates to the GISO) before the process closes as incomplete.
	Rounds int
}

// DefaultOffboardingTiming is what processes started before changeTimings run under; never
// change it (the town's timings, policy/timings.json, hold the defaults). It gives the system
// managers three business days to disable the accounts (the GISO two more once escalated), the
// department security officer five to confirm the assets, and the leaver ten to acknowledge
// the duty of secrecy.
var DefaultOffboardingTiming = OffboardingTiming{
	Disable: Deadline{BusinessDays: 3}, DisableGrace: Deadline{BusinessDays: 2},
	Rotate: Deadline{BusinessDays: 3}, RotateGrace: Deadline{BusinessDays: 2},
	Assets: Deadline{BusinessDays: 5}, AssetsGrace: Deadline{BusinessDays: 3},
	Secrecy:      Deadline{BusinessDays: 10},
	RemindBefore: []time.Duration{24 * time.Hour, 4 * time.Hour},
	Rounds:       3,
}

// Choices and form values of the offboarding's tasks.
const (
	ChoiceAcknowledge = "acknowledge"
	ValueDisabled     = "disabled"
	ValueDeleted      = "deleted"
	ValueRotated      = "rotated"
	ValueReturned     = "returned"
	ValueMissing      = "missing"
)

// offboarding is one running offboarding: the process, its input and HR's date moves.
type offboarding struct {
	*process
	in      OffboardingInput
	date    string
	waiting bool
	facts   activities.OffboardingFacts
	// accounts are the leaver's accounts as last read: at filing, then (since
	// changeReread) when the effective date has ended.
	accounts []policy.AccountFacts
	timing   OffboardingTiming
	timings  timingsCopy
	giso     string
	// sections is set for a transfer between two sections of one department
	// (changeSectionTransfer): the former section's systems are dealt with, not the
	// department's.
	sections bool
}

// OffboardingWorkflow runs one offboarding from HR's start to the closing report.
//
//  1. It snapshots the leaver's accounts and lent assets and tells the department security
//     officer.
//  2. It waits until the end of the effective date in the town's zone; HR may move the date
//     (Update move_date) or cancel (Update cancel) meanwhile. A date already past starts the
//     work at once and marks the process late.
//  3. When the date has ended it reads the accounts again (every ID held that day goes) and,
//     in parallel: each system's manager disables or deletes the leaver's accounts on it
//     (§6.2(1)2); on a transfer, the managers of other departments' systems keep (with a
//     reason) or disable the leaver's IDs there (§6.1(1), §6.2(1)2(イ)); the system's manager
//     or the GISO, or a designee the CISO approved, never a vendor, changes the passwords of
//     shared and privileged IDs the leaver knew (§6.2(1)3(イ)(エ)); the department security
//     officer confirms each lent asset returned or missing, a missing one reported to the
//     GISO at once; the leaver acknowledges the lasting duty of secrecy (§5.1(1)8).
//  4. Overdue steps are reminded, escalated to the GISO, and asked again; the process closes
//     when everything is accounted for (or the rounds run out: incomplete) and sends the
//     closing report to HR and the GISO.
func OffboardingWorkflow(ctx workflow.Context, in OffboardingInput) (Result, error) {
	p, err := begin(ctx, in.Header)
	if err != nil {
		return Result{}, err
	}
	o := &offboarding{process: p, in: in, date: in.EffectiveDate, waiting: true, timing: in.Timing}
	o.timings = p.copyTimings(ctx, in.Timing.Disable != (Deadline{}), false)
	if _, err := policy.ParseDate(in.EffectiveDate, p.cal.Loc); err != nil {
		return Result{}, temporal.NewNonRetryableApplicationError("bad effective date", activities.ErrBadInput, err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateMoveDate,
		func(ctx workflow.Context, req MoveDateRequest) error {
			o.date = req.EffectiveDate
			return nil
		},
		workflow.UpdateHandlerOptions{
			Validator: func(ctx workflow.Context, req MoveDateRequest) error {
				switch _, err := policy.ParseDate(req.EffectiveDate, p.cal.Loc); {
				case !o.waiting || p.cancelled != nil:
					return temporal.NewApplicationError("the effective date has passed: the offboarding is under way", "NotWaiting")
				case err != nil:
					return temporal.NewApplicationError("the effective date must be YYYY-MM-DD", "BadInput")
				case req.EffectiveDate == o.date:
					return temporal.NewApplicationError("the effective date is already "+o.date, "SameDate")
				case req.By == "":
					return temporal.NewApplicationError("who moves the date is required", "BadInput")
				}
				return nil
			},
			Description: "HR moves the effective date while the offboarding waits for it.",
		}); err != nil {
		return Result{}, err
	}
	res, err := o.proceed(ctx)
	if err != nil {
		res, err = p.end(ctx, err)
	}
	// Whatever the end, the employee is free for a later offboarding.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	if cerr := p.record(dctx, "Register: the offboarding of "+in.EmployeeID+" is no longer open", acts.CloseOffboarding, p.id); cerr != nil && err == nil {
		err = cerr
	}
	return res, err
}

func (o *offboarding) proceed(ctx workflow.Context) (Result, error) {
	p, in := o.process, o.in
	var err error
	// The deadlines are the town's, copied at the start, or as given (changeTimings).
	if o.timing, _, err = timingOf(ctx, p, o.timings, in.Timing, DefaultOffboardingTiming, offboardingTiming); err != nil {
		return Result{}, err
	}
	o.facts, err = lookup[activities.OffboardingFacts](ctx, p, "Read the accounts and lent assets of "+in.EmployeeID+" from the directory",
		acts.OffboardingFacts, activities.OffboardingFactsRequest{EmployeeID: in.EmployeeID, FormerDepartment: in.FormerDepartment})
	if err != nil {
		return Result{}, err
	}
	o.giso = o.facts.GISO
	o.accounts = o.facts.Accounts
	// The leaver confirms none of their own offboarding's steps held by a post.
	p.parties = []string{in.EmployeeID}
	// Only inputs filed since sections exist name two sections of one department.
	if policy.SectionTransfer(in.Reason, in.FormerDepartment, in.FormerSection, in.NewDepartment, in.NewSection) {
		o.sections = workflow.GetVersion(ctx, changeSectionTransfer, workflow.DefaultVersion, 1) >= 1
	}
	if o.sections {
		if err := p.note(ctx, p.id+"/section-transfer", fmt.Sprintf("a transfer between two sections of %s, %s → %s: the accounts on %s's systems are reviewed by their managers (§6.1(1), §6.2(1)2(イ))",
			in.FormerDepartment, in.FormerSection, in.NewSection, in.FormerSection)); err != nil {
			return Result{}, err
		}
	}
	actions := o.actions(o.facts.Accounts)
	if err := p.record(ctx, fmt.Sprintf("Snapshot %d accounts and %d lent assets into the register", len(actions), len(o.facts.Assets)),
		acts.RecordOffboardingSnapshot, activities.OffboardingSnapshot{ProcessID: p.id, Accounts: actions, Assets: o.facts.Assets}); err != nil {
		return Result{}, err
	}
	diso, disoRole := o.officer()
	if err := p.run(ctx, fmt.Sprintf("Tell the %s (%s) that the offboarding started", disoRole, diso), acts.SendOffboardingNotice, activities.Notice{
		Key: p.id + "/started", ProcessID: p.id, RecipientID: diso, Kind: activities.NoticeOffboardingStarted,
		Params: map[string]string{"employee_id": in.EmployeeID, "effective_date": in.EffectiveDate, "reason": string(in.Reason)},
	}); err != nil {
		return Result{}, err
	}

	late, err := o.waitForEffectiveDate(ctx)
	if err != nil {
		return Result{}, err
	}
	status, note := "in_progress", "the effective date "+o.date+" has ended: accounts, credentials and assets are being dealt with"
	if late {
		status, note = "late", "started after the effective date "+o.date+" (HR was late): the work starts at once"
		if err := p.record(ctx, "Register: the offboarding is late", acts.MarkOffboardingLate, p.id); err != nil {
			return Result{}, err
		}
	}
	if err := p.setStage(ctx, status, "offboarding", note); err != nil {
		return Result{}, err
	}
	if actions, err = o.reread(ctx, actions); err != nil {
		return Result{}, err
	}
	reviews, err := o.transferReviews(ctx)
	if err != nil {
		return Result{}, err
	}

	var branches []func(workflow.Context) (bool, error)
	for _, sys := range o.facts.Systems {
		var accounts []policy.AccountAction
		for _, a := range actions {
			if a.SystemID == sys.ID && a.Action == policy.ActionDisable {
				accounts = append(accounts, a)
			}
		}
		if len(accounts) > 0 {
			branches = append(branches, func(ctx workflow.Context) (bool, error) { return o.disable(ctx, sys, accounts) })
		}
	}
	for _, a := range actions {
		if a.Action == policy.ActionRotate {
			branches = append(branches, func(ctx workflow.Context) (bool, error) { return o.rotate(ctx, a) })
		}
	}
	for _, sys := range o.facts.Systems {
		var accounts []policy.AccountAction
		for _, a := range reviews {
			if a.SystemID == sys.ID {
				accounts = append(accounts, a)
			}
		}
		if len(accounts) > 0 {
			branches = append(branches, func(ctx workflow.Context) (bool, error) { return o.review(ctx, sys, accounts) })
		}
	}
	if len(o.facts.Assets) > 0 {
		branches = append(branches, o.assets)
	}
	var acknowledged bool
	branches = append(branches, func(ctx workflow.Context) (bool, error) {
		var err error
		acknowledged, err = o.secrecy(ctx)
		return true, err // the acknowledgement is reported; it does not hold the process open
	})
	done, err := o.parallel(ctx, branches)
	if err != nil {
		return Result{}, err
	}
	outcome := "completed"
	if !done {
		outcome = "incomplete"
	}
	secrecy := "unacknowledged"
	if acknowledged {
		secrecy = "acknowledged"
	}
	var calls []call
	recipients := []string{o.facts.HR, o.giso}
	for i, who := range recipients {
		if who == "" || slices.Contains(recipients[:i], who) {
			continue
		}
		calls = append(calls, call{fmt.Sprintf("Send the closing report to %s", who), acts.SendOffboardingNotice, activities.Notice{
			Key: p.id + "/report/" + who, ProcessID: p.id, RecipientID: who, Kind: activities.NoticeOffboardingReport,
			Params: map[string]string{"employee_id": in.EmployeeID, "effective_date": o.date, "outcome": outcome, "secrecy": secrecy},
		}})
	}
	if err := p.runEach(ctx, calls, nil); err != nil {
		return Result{}, err
	}
	if err := o.endPosts(ctx); err != nil {
		return Result{}, err
	}
	if !done {
		return p.finish(ctx, "incomplete", "some accounts or assets were not confirmed after every round and escalation; see the closing report")
	}
	if late {
		return p.finish(ctx, "completed", "every account and asset is accounted for (started late)")
	}
	return p.finish(ctx, "completed", "every account and asset is accounted for")
}

// changeReread is the workflow.GetVersion change under which an offboarding reads the
// leaver's accounts again when the effective date has ended. Offboardings that passed that
// point before it replay as they ran (with the accounts read at filing only).
const changeReread = "offboarding-reread"

// reread reads the leaver's accounts again once the effective date has ended: every ID the
// leaver holds on that day is disabled (§6.2(1)2), so an account created (or a password
// learnt) between HR's filing and the date is dealt with like the others. The accounts added
// since filing are snapshotted into the register and named on the timeline; what was
// snapshotted at filing stays to be accounted for. It returns every action, sorted by system
// and account.
func (o *offboarding) reread(ctx workflow.Context, filed []policy.AccountAction) ([]policy.AccountAction, error) {
	if workflow.GetVersion(ctx, changeReread, workflow.DefaultVersion, 1) < 1 {
		return filed, nil
	}
	p, in := o.process, o.in
	facts, err := lookup[activities.OffboardingFacts](ctx, p, "Read the accounts of "+in.EmployeeID+" again: the effective date has ended",
		acts.OffboardingFacts, activities.OffboardingFactsRequest{EmployeeID: in.EmployeeID, FormerDepartment: in.FormerDepartment})
	if err != nil {
		return nil, err
	}
	o.accounts = facts.Accounts
	// The systems of the leaver's accounts, as the directory gives them now.
	for _, s := range facts.Systems {
		if i := slices.IndexFunc(o.facts.Systems, func(x activities.SystemFacts) bool { return x.ID == s.ID }); i >= 0 {
			o.facts.Systems[i] = s
		} else {
			o.facts.Systems = append(o.facts.Systems, s)
		}
	}
	slices.SortFunc(o.facts.Systems, func(x, y activities.SystemFacts) int { return strings.Compare(x.ID, y.ID) })
	added := policy.AddedSince(filed, o.actions(facts.Accounts))
	if len(added) == 0 {
		return filed, p.note(ctx, p.id+"/reread", "accounts read again at the end of the effective date "+o.date+": none added since filing")
	}
	names := make([]string, 0, len(added))
	for _, a := range added {
		names = append(names, a.SystemID+"/"+a.AccountID+" ("+a.Action+")")
	}
	if err := p.record(ctx, fmt.Sprintf("Snapshot %d accounts added since filing into the register", len(added)),
		acts.RecordOffboardingSnapshot, activities.OffboardingSnapshot{ProcessID: p.id, Accounts: added}); err != nil {
		return nil, err
	}
	if err := p.note(ctx, p.id+"/reread", "accounts read again at the end of the effective date "+o.date+"; added since filing: "+strings.Join(names, ", ")); err != nil {
		return nil, err
	}
	// The sections of the added accounts, who may hold a password to change.
	if o.facts.Candidates == nil {
		o.facts.Candidates = map[string][]policy.Candidate{}
	}
	for _, a := range added {
		if _, ok := o.facts.Candidates[a.SystemDepartment]; !ok {
			o.facts.Candidates[a.SystemDepartment] = facts.Candidates[a.SystemDepartment]
		}
		// Facts read before changeSectionDesignees have no sections' members: nor do they get
		// some here, so that such an offboarding keeps the department's.
		if o.facts.SectionCandidates == nil {
			continue
		}
		if c, ok := facts.SectionCandidates[a.SystemSection]; ok {
			if _, have := o.facts.SectionCandidates[a.SystemSection]; !have {
				o.facts.SectionCandidates[a.SystemSection] = c
			}
		}
	}
	all := slices.Concat(filed, added)
	slices.SortStableFunc(all, func(x, y policy.AccountAction) int {
		if c := strings.Compare(x.SystemID, y.SystemID); c != 0 {
			return c
		}
		return strings.Compare(x.AccountID, y.AccountID)
	})
	return all, nil
}

// changeSectionTransfer is the workflow.GetVersion change under which a transfer between two
// sections (課室) of one department is offboarded: the former section's systems' accounts are
// reviewed (policy.SectionTransferReviews) and the passwords known there changed
// (policy.SectionTransferActions), instead of the whole department's accounts disabled.
// Offboardings filed before sections existed never name two sections and never ask.
const changeSectionTransfer = "offboarding-section-transfer"

// actions decides what is done to each of the leaver's accounts: policy.OffboardingActions,
// or for a transfer between two sections of one department policy.SectionTransferActions.
func (o *offboarding) actions(accounts []policy.AccountFacts) []policy.AccountAction {
	if o.sections {
		return policy.SectionTransferActions(o.in.FormerSection, accounts)
	}
	return policy.OffboardingActions(o.in.Reason, o.in.FormerDepartment, accounts)
}

// changeTransferReview is the workflow.GetVersion change under which a transfer asks the
// managers of other departments' systems whether the leaver still needs their IDs there,
// instead of keeping them silently. Offboardings that passed that point before it replay as
// they ran.
const changeTransferReview = "offboarding-transfer-review"

// ValueKept is a transfer review's outcome for an ID the leaver still needs, kept with a
// reason on the record.
const ValueKept = "kept"

// transferReviews lists, on a transfer, the leaver's IDs on systems other departments own
// (policy.TransferReviews, §6.1(1), §6.2(1)2(イ)), as read when the effective date ended, and
// snapshots them into the register. Nothing for retirement and secondment.
func (o *offboarding) transferReviews(ctx workflow.Context) ([]policy.AccountAction, error) {
	if o.in.Reason != policy.Transfer || workflow.GetVersion(ctx, changeTransferReview, workflow.DefaultVersion, 1) < 1 {
		return nil, nil
	}
	reviews := policy.TransferReviews(o.in.Reason, o.in.FormerDepartment, o.in.NewDepartment, o.accounts)
	what := "other departments' systems"
	if o.sections {
		reviews, what = policy.SectionTransferReviews(o.in.FormerSection, o.accounts), "the former section's systems"
	}
	if len(reviews) == 0 {
		return nil, nil
	}
	p := o.process
	return reviews, p.record(ctx, fmt.Sprintf("Snapshot %d accounts on %s to review into the register", len(reviews), what),
		acts.RecordOffboardingSnapshot, activities.OffboardingSnapshot{ProcessID: p.id, Accounts: reviews})
}

// review asks the manager of a system another department owns whether the transferred
// leaver still needs each of their IDs on it (§6.2(1)2(イ) 「業務上必要がなくなった場合」): kept,
// with a reason the form requires and the register keeps (the decision's values), or
// disabled. The timeline names each ID kept.
func (o *offboarding) review(ctx workflow.Context, sys activities.SystemFacts, accounts []policy.AccountAction) (bool, error) {
	form := make([]activities.Field, 0, 2*len(accounts))
	for _, a := range accounts {
		form = append(form, activities.Field{
			Name: "account:" + a.AccountID, Kind: activities.FieldSelect, Required: true,
			Label: activities.Text{Ja: "アカウント " + a.AccountID + "（異動後も業務上必要か）", En: "Account " + a.AccountID + " (still needed for the new work?)"},
			Options: []activities.Option{
				{Value: ValueKept, Label: activities.Text{Ja: "業務上必要なので維持する（理由を記入）", En: "Keep: still needed (give the reason)"}},
				{Value: ValueDisabled, Label: activities.Text{Ja: "不要なので無効化した", En: "Disabled: no longer needed"}},
			},
		}, activities.Field{
			Name: "reason:" + a.AccountID, Kind: activities.FieldTextarea,
			Label:      activities.Text{Ja: "維持する理由（" + a.AccountID + "）", En: "Why it is kept (" + a.AccountID + ")"},
			RequiredIf: &activities.Condition{Field: "account:" + a.AccountID, Values: []string{ValueKept}},
		})
	}
	s := o.escalating(Step{
		Name: "review_transfer_access",
		Title: activities.Text{Ja: "異動者のアカウントの要否確認（" + sys.ID + "）",
			En: "Review a transferred person's accounts (" + sys.ID + ")"},
		Assignee: sys.ISM, AssigneeRole: policy.RoleISM, Choices: []string{ChoiceDone}, Form: form,
		Post: policy.Post{Role: policy.RoleISM, Scope: sys.ID},
	}, o.timing.Disable, o.timing.DisableGrace)
	return o.settle(ctx, s, func(ctx workflow.Context, d Decision) error {
		outs := make([]models.Outcome, 0, len(accounts))
		var kept []string
		for _, a := range accounts {
			v := d.Values["account:"+a.AccountID]
			outs = append(outs, models.Outcome{Key: activities.AccountKey(a.SystemID, a.AccountID), Outcome: v})
			if v == ValueKept {
				kept = append(kept, a.SystemID+"/"+a.AccountID)
			}
		}
		if err := o.record(ctx, fmt.Sprintf("Register: %d accounts on %s reviewed by %s", len(outs), sys.ID, d.DeciderID),
			acts.RecordOffboardingOutcomes, activities.OutcomeRecord{ProcessID: o.id, TaskID: d.TaskID, By: d.DeciderID, At: d.DecidedAt, Outcomes: outs}); err != nil {
			return err
		}
		if len(kept) == 0 {
			return nil
		}
		return o.note(ctx, d.TaskID+"/kept", fmt.Sprintf("kept after the transfer by %s, with the reason in the register: %s", d.DeciderID, strings.Join(kept, ", ")))
	})
}

// officer is the department security officer, or the GISO when the department has none
// (or the leaver is its officer).
func (o *offboarding) officer() (string, policy.Role) {
	if o.facts.DISO != "" && o.facts.DISO != o.in.EmployeeID {
		return o.facts.DISO, policy.RoleDISO
	}
	return o.giso, policy.RoleGISO
}

// waitForEffectiveDate waits until the end of the effective date, following HR's moves.
// It reports whether the date had already passed (the process is late).
func (o *offboarding) waitForEffectiveDate(ctx workflow.Context) (bool, error) {
	p := o.process
	defer func() { o.waiting = false }()
	recorded := o.in.EffectiveDate
	for {
		// HR's move may arrive at any point, even before this loop waits: compare dates, not
		// events.
		date := o.date
		if date != recorded {
			if err := p.record(ctx, "Register: HR moved the effective date to "+date, acts.MoveOffboardingDate,
				activities.DateMove{ProcessID: p.id, EffectiveDate: date}); err != nil {
				return false, err
			}
			recorded = date
		}
		day, err := policy.ParseDate(date, p.cal.Loc)
		if err != nil {
			return false, temporal.NewNonRetryableApplicationError("bad effective date", activities.ErrBadInput, err)
		}
		end := p.cal.EndOfDay(day)
		if !end.After(p.now(ctx)) {
			return true, nil
		}
		if err := p.setStage(ctx, "waiting", "awaiting_effective_date", "waits until the end of "+date+" (the effective date)"); err != nil {
			return false, err
		}
		if _, err := p.waitUntil(ctx, end, "Wait until the end of the effective date "+date, func() bool {
			return p.cancelled != nil || o.date != date
		}); err != nil {
			return false, err
		}
		if p.cancelled != nil {
			return false, errCancelled
		}
		if o.date == date {
			return false, nil
		}
	}
}

// parallel runs the branches side by side and reports whether all were settled.
func (o *offboarding) parallel(ctx workflow.Context, branches []func(workflow.Context) (bool, error)) (bool, error) {
	done := make([]bool, len(branches))
	errs := make([]error, len(branches))
	wg := workflow.NewWaitGroup(ctx)
	for i, b := range branches {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			done[i], errs[i] = b(ctx)
		})
	}
	wg.Wait(ctx)
	for _, err := range errs {
		if err != nil {
			return false, err
		}
	}
	return !slices.Contains(done, false), nil
}

// settle asks a step until someone decides it, at most Rounds times; apply records the
// decision. It reports whether the step was decided.
func (o *offboarding) settle(ctx workflow.Context, s Step, apply func(workflow.Context, Decision) error) (bool, error) {
	for round := 1; round <= max(o.timing.Rounds, 1); round++ {
		d, err := o.ask(ctx, s)
		if err != nil {
			return false, err
		}
		if !d.TimedOut {
			return true, apply(ctx, d)
		}
	}
	return false, nil
}

// rotatorPost is the post of the person chosen to change a password: the system's manager or
// the GISO (§6.2(1)3(イ)); a member of the section chosen by name has none.
func rotatorPost(role policy.Role, system string) policy.Post {
	switch role {
	case policy.RoleISM:
		return policy.Post{Role: role, Scope: system}
	case policy.RoleGISO:
		return policy.Post{Role: role}
	}
	return policy.Post{}
}

// escalating fills in the reminders and the GISO escalation every offboarding step has.
func (o *offboarding) escalating(s Step, d, grace Deadline) Step {
	s.Deadline, s.Grace, s.RemindBefore = d, grace, o.timing.RemindBefore
	s.EscalateTo, s.EscalateToRole = o.giso, policy.RoleGISO
	s.EscalatePost = policy.Post{Role: policy.RoleGISO}
	if s.Assignee == "" || s.Assignee == o.in.EmployeeID {
		s.Assignee, s.AssigneeRole = o.giso, policy.RoleGISO
	}
	return s
}

// disable asks a system's manager to disable or delete the leaver's accounts on it
// (§6.2(1)2), one select per account.
func (o *offboarding) disable(ctx workflow.Context, sys activities.SystemFacts, accounts []policy.AccountAction) (bool, error) {
	form := make([]activities.Field, 0, len(accounts))
	for _, a := range accounts {
		form = append(form, activities.Field{
			Name: "account:" + a.AccountID, Kind: activities.FieldSelect, Required: true,
			Label: activities.Text{Ja: "アカウント " + a.AccountID, En: "Account " + a.AccountID},
			Options: []activities.Option{
				{Value: ValueDisabled, Label: activities.Text{Ja: "無効化した", En: "Disabled"}},
				{Value: ValueDeleted, Label: activities.Text{Ja: "削除した", En: "Deleted"}},
			},
		})
	}
	s := o.escalating(Step{
		Name:     "disable_accounts",
		Title:    activities.Text{Ja: "退職・異動者のアカウントの無効化・削除（" + sys.ID + "）", En: "Disable or delete a leaver's accounts (" + sys.ID + ")"},
		Assignee: sys.ISM, AssigneeRole: policy.RoleISM, Choices: []string{ChoiceDone}, Form: form,
		Post: policy.Post{Role: policy.RoleISM, Scope: sys.ID},
	}, o.timing.Disable, o.timing.DisableGrace)
	return o.settle(ctx, s, func(ctx workflow.Context, d Decision) error {
		outs := make([]models.Outcome, 0, len(accounts))
		for _, a := range accounts {
			outs = append(outs, models.Outcome{Key: activities.AccountKey(a.SystemID, a.AccountID), Outcome: d.Values["account:"+a.AccountID]})
		}
		return o.record(ctx, fmt.Sprintf("Register: %d accounts on %s confirmed by %s", len(outs), sys.ID, d.DeciderID),
			acts.RecordOffboardingOutcomes, activities.OutcomeRecord{ProcessID: o.id, TaskID: d.TaskID, By: d.DeciderID, At: d.DecidedAt, Outcomes: outs})
	})
}

// changeRotatorPost is the workflow.GetVersion change under which a password the leaver knew
// is changed by the system's manager, or the GISO when the manager is the leaver, a vendor
// or missing (policy.Rotator, §6.2(1)3(イ)(エ)), instead of any member of the section the
// code chose. Offboardings that opened their rotation before it replay as they ran.
const changeRotatorPost = "offboarding-rotator-post"

// rotate asks the system's manager to change the password of a shared or privileged ID the
// leaver knew (§6.2(1)3(イ)); the task is for the post "manager of the system", so when the
// manager is the leaver (a party) the policy's own rule for offboarding.rotate_credential
// (policy.PolicyDelegation) sends it to the GISO. A vendor's person never gets it
// (§6.2(1)3(エ)): the section's vendors are parties to the step (since
// changeSectionDesignees also the section's, and a manager the directory marks a vendor).
// The one asked may designate a member of the system's section, or of its department when it
// has none (designees).
func (o *offboarding) rotate(ctx workflow.Context, a policy.AccountAction) (bool, error) {
	var sys activities.SystemFacts
	for _, s := range o.facts.Systems {
		if s.ID == a.SystemID {
			sys = s
		}
	}
	ism := sys.ISM
	members := o.facts.Candidates[a.SystemDepartment]
	if workflow.GetVersion(ctx, changeRotatorPost, workflow.DefaultVersion, 1) >= 1 {
		vendors := policy.Vendors(members)
		pool, section := members, ""
		if o.sectionDesignees(ctx) {
			if a.SystemSection != "" {
				pool, section = o.facts.SectionCandidates[a.SystemSection], a.SystemSection
			}
			vendors = vendorsOf(vendors, policy.Vendors(o.facts.SectionCandidates[a.SystemSection]), sys)
		}
		who, role := ism, policy.Rotator(ism, o.in.EmployeeID, vendors)
		if role == policy.RoleGISO {
			who = o.giso
		}
		return o.askRotation(ctx, a, Step{Assignee: who, AssigneeRole: role,
			Post: policy.Post{Role: policy.RoleISM, Scope: a.SystemID}, Parties: vendors}, o.designees(a, ism, pool, section))
	}
	candidates := make([]policy.Candidate, 0, len(members))
	for _, c := range members { // the system's manager first
		if c.EmployeeID == ism {
			candidates = append(candidates, c)
		}
	}
	for _, c := range members {
		if c.EmployeeID != ism {
			candidates = append(candidates, c)
		}
	}
	who, ok := policy.ChooseRotator(candidates, a.SystemDepartment, o.in.EmployeeID)
	role := policy.RoleStaff
	if !ok {
		who, role = o.giso, policy.RoleGISO // nobody in the section may: the GISO sees to it
	} else if who == ism {
		role = policy.RoleISM
	}
	return o.askRotation(ctx, a, Step{Assignee: who, AssigneeRole: role, Post: rotatorPost(role, a.SystemID)}, nil)
}

// ChoiceDesignate is the rotation's choice by which the system's manager (or the GISO) names
// someone to change the password in their place; the CISO approves the designee first
// (§6.2(1)3(イ)).
const ChoiceDesignate = "designate"

// changeSectionDesignees is the workflow.GetVersion change under which the designees for a
// system a section (課室) owns are that section's members, not the whole department's (a
// system without a section keeps the department's), and the vendors kept from a rotation are
// the department's, the section's and the system's manager when the directory marks them a
// vendor, wherever it lists them (§6.2(1)3(イ)(エ), §6.1(1)). Offboardings that opened their
// rotation before it, or read the directory before it, keep the department's members.
const changeSectionDesignees = "offboarding-section-designees"

// sectionDesignees reports whether the rotations name their designees by section and keep
// every vendor the directory knows of from the step (changeSectionDesignees): only when the
// facts were read from the directory with the sections' members (an offboarding that read
// them before keeps the department's members, even if it rotates after the change).
func (o *offboarding) sectionDesignees(ctx workflow.Context) bool {
	if o.facts.SectionCandidates == nil {
		return false
	}
	return workflow.GetVersion(ctx, changeSectionDesignees, workflow.DefaultVersion, 1) >= 1
}

// vendorsOf are the vendors' people kept from changing the system's passwords (§6.2(1)3(エ)):
// those of the department and of the section (the department's list is bounded, a
// section's may hold others), and the system's manager when the directory marks them a
// vendor, wherever it lists them. Sorted, each once.
func vendorsOf(department, section []string, sys activities.SystemFacts) []string {
	out := slices.Concat(department, section)
	if sys.ISMVendor && sys.ISM != "" {
		out = append(out, sys.ISM)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// designees are whom the system's manager (or the GISO) may name to change a password in
// their place (§6.2(1)3(イ)): employed members of pool other than the manager, never a vendor
// (エ) nor the leaver; for a system a section owns, members of that section
// (policy.CanDesignate, §6.1(1)). Only processes whose steps name posts (changeAuthority)
// offer it, since the CISO's approval is asked of the post.
func (o *offboarding) designees(a policy.AccountAction, ism string, pool []policy.Candidate, section string) []activities.Option {
	if !o.authority {
		return nil
	}
	var out []activities.Option
	for _, c := range pool {
		if c.EmployeeID != ism && policy.CanDesignate(c, a.SystemDepartment, section, o.in.EmployeeID) == nil {
			out = append(out, activities.Option{Value: c.EmployeeID, Label: activities.Text{Ja: c.EmployeeID, En: c.EmployeeID}})
		}
	}
	return out
}

// askRotation asks for the password change of one ID; who is asked (Assignee, Post, Parties)
// is in who. With designees, the one asked may instead name one of them (choice designate);
// the CISO approves the designee (approveDesignee), who is then asked to change it. A
// designee refused (or not approved in time) sends the step back to the one asked, for at
// most Rounds rounds in all.
func (o *offboarding) askRotation(ctx workflow.Context, a policy.AccountAction, who Step, designees []activities.Option) (bool, error) {
	s := o.escalating(Step{
		Name: "rotate_credential",
		Title: activities.Text{Ja: "共有・特権IDのパスワード変更（" + a.SystemID + " / " + a.AccountID + "）",
			En: "Change the password of a shared or privileged ID (" + a.SystemID + " / " + a.AccountID + ")"},
		Assignee: who.Assignee, AssigneeRole: who.AssigneeRole, Post: who.Post, Parties: who.Parties, Choices: []string{ChoiceDone},
	}, o.timing.Rotate, o.timing.RotateGrace)
	rotated := func(ctx workflow.Context, d Decision) error {
		return o.record(ctx, fmt.Sprintf("Register: the password of %s/%s was changed, confirmed by %s", a.SystemID, a.AccountID, d.DeciderID),
			acts.RecordOffboardingOutcomes, activities.OutcomeRecord{ProcessID: o.id, TaskID: d.TaskID, By: d.DeciderID, At: d.DecidedAt,
				Outcomes: []models.Outcome{{Key: activities.AccountKey(a.SystemID, a.AccountID), Outcome: ValueRotated}}})
	}
	if len(designees) == 0 {
		return o.settle(ctx, s, rotated)
	}
	s.Choices = []string{ChoiceDone, ChoiceDesignate}
	s.Form = []activities.Field{{
		Name: "designee", Kind: activities.FieldSelect, RequiredFor: ChoiceDesignate, Options: designees,
		Label: activities.Text{Ja: "代行者（指名する場合のみ。CISOの承認後に依頼します）", En: "Designee (only to designate; asked once the CISO approves)"},
	}}
	for round := 1; round <= max(o.timing.Rounds, 1); round++ {
		d, err := o.ask(ctx, s)
		if err != nil {
			return false, err
		}
		if d.TimedOut {
			continue
		}
		if d.Choice != ChoiceDesignate {
			return true, rotated(ctx, d)
		}
		designee := d.Values["designee"]
		approved, err := o.approveDesignee(ctx, a, designee, d.DeciderID)
		if err != nil {
			return false, err
		}
		if !approved {
			continue
		}
		return o.settle(ctx, o.escalating(Step{
			Name: "rotate_credential",
			Title: activities.Text{Ja: "共有・特権IDのパスワード変更（" + a.SystemID + " / " + a.AccountID + "、代行）",
				En: "Change the password of a shared or privileged ID (" + a.SystemID + " / " + a.AccountID + ", as designee)"},
			Assignee: designee, AssigneeRole: policy.RoleStaff, Choices: []string{ChoiceDone},
		}, o.timing.Rotate, o.timing.RotateGrace), rotated)
	}
	return false, nil
}

// approveDesignee asks the CISO to approve the person the system's manager (or the GISO)
// named to change a privileged password in their place: 「…指名し、CISOが認めた者でなければ
// ならない」 (§6.2(1)3(イ)). Nobody stands in for the CISO here unless the town's rules say so;
// the deadline tells the GISO. The timeline records the outcome either way.
func (o *offboarding) approveDesignee(ctx workflow.Context, a policy.AccountAction, designee, by string) (bool, error) {
	d, err := o.ask(ctx, Step{
		Name: "approve_rotation_designee",
		Title: activities.Text{Ja: "特権IDのパスワード変更の代行者の承認（" + a.SystemID + " / " + a.AccountID + " → " + designee + "）",
			En: "Approve a designee to change a privileged password (" + a.SystemID + " / " + a.AccountID + " → " + designee + ")"},
		AssigneeRole: policy.RoleCISO, Choices: []string{ChoiceApprove, ChoiceReject},
		Post:     policy.Post{Role: policy.RoleCISO},
		Deadline: o.timing.Rotate, Grace: o.timing.RotateGrace, RemindBefore: o.timing.RemindBefore,
		EscalatePost: policy.Post{Role: policy.RoleGISO},
	})
	if err != nil {
		return false, err
	}
	approved := !d.TimedOut && d.Choice == ChoiceApprove
	what := fmt.Sprintf("%s named %s to change the password of %s/%s; ", by, designee, a.SystemID, a.AccountID)
	switch {
	case approved:
		what += "the CISO (" + d.DeciderID + ") approved (§6.2(1)3(イ))"
	case d.TimedOut:
		what += "the CISO did not decide in time: the manager is asked again"
	default:
		what += "the CISO (" + d.DeciderID + ") refused: the manager is asked again"
	}
	if err := o.note(ctx, d.TaskID+"/designee", what); err != nil || !approved {
		return approved, err
	}
	return true, o.designeeNotice(ctx, a, designee, by, d)
}

// changeDesigneeNotice is the workflow.GetVersion change under which the CISO's approval of a
// designee is notified to the GISO, the department's security officer and the system's
// manager (§6.2(1)3(ウ)). Approvals given before it replay as they ran (recorded on the
// timeline only).
const changeDesigneeNotice = "offboarding-designee-notice"

// designeeNotice tells, promptly once the CISO approved a designee, the GISO, the security
// officer of the department owning the system and the system's manager (§6.2(1)3(ウ):
// 「CISOは、代行者を認めた場合、速やかに統括情報セキュリティ責任者、情報セキュリティ責任者及び
// 情報システム管理者に通知しなければならない」), by a notice without a link, and records on the
// timeline who was told of which designee.
func (o *offboarding) designeeNotice(ctx workflow.Context, a policy.AccountAction, designee, by string, d Decision) error {
	if workflow.GetVersion(ctx, changeDesigneeNotice, workflow.DefaultVersion, 1) < 1 {
		return nil
	}
	// Mails: an ordinary activity (a mail server may be down for hours), not a register one.
	told, err := get[[]string](ctx, o.process, fmt.Sprintf("Tell the GISO, the security officer of %s and the manager of %s that the CISO approved %s (§6.2(1)3(ウ))", a.SystemDepartment, a.SystemID, designee),
		acts.SendDesigneeNotices, activities.DesigneeApproval{ProcessID: o.id, TaskID: d.TaskID, SystemID: a.SystemID, AccountID: a.AccountID,
			SystemDepartment: a.SystemDepartment, Designee: designee, NamedBy: by, ApprovedBy: d.DeciderID})
	if err != nil {
		return err
	}
	return o.note(ctx, d.TaskID+"/designee-notice", fmt.Sprintf("the CISO's approval of %s as designee for %s/%s was notified to %s (§6.2(1)3(ウ))",
		designee, a.SystemID, a.AccountID, strings.Join(told, ", ")))
}

// assets asks the department security officer to confirm each lent asset returned or
// missing; a missing asset is reported to the GISO at once (§5.1(1)8).
func (o *offboarding) assets(ctx workflow.Context) (bool, error) {
	form := make([]activities.Field, 0, len(o.facts.Assets))
	for _, x := range o.facts.Assets {
		form = append(form, activities.Field{
			Name: "asset:" + x.ID, Kind: activities.FieldSelect, Required: true,
			Label: activities.Text{Ja: "貸与物 " + x.ID + "（" + x.Kind + "）", En: "Asset " + x.ID + " (" + x.Kind + ")"},
			Options: []activities.Option{
				{Value: ValueReturned, Label: activities.Text{Ja: "返却された", En: "Returned"}},
				{Value: ValueMissing, Label: activities.Text{Ja: "返却されていない", En: "Missing"}},
			},
		})
	}
	officer, role := o.officer()
	s := o.escalating(Step{
		Name:     "confirm_assets",
		Title:    activities.Text{Ja: "退職・異動者の貸与物の返却確認", En: "Confirm the return of a leaver's lent assets"},
		Assignee: officer, AssigneeRole: role, Choices: []string{ChoiceDone}, Form: form,
		// Since changeAuthority: the leaver's department's officer when the step opens; a
		// leaver who is that officer is a party, and the rules send it to their deputy.
		Post: policy.Post{Role: policy.RoleDISO, Scope: o.department},
	}, o.timing.Assets, o.timing.AssetsGrace)
	return o.settle(ctx, s, func(ctx workflow.Context, d Decision) error {
		outs := make([]models.Outcome, 0, len(o.facts.Assets))
		for _, x := range o.facts.Assets {
			outs = append(outs, models.Outcome{Key: activities.AssetKey(x.ID), Outcome: d.Values["asset:"+x.ID]})
		}
		if err := o.record(ctx, fmt.Sprintf("Register: %d lent assets confirmed by %s", len(outs), d.DeciderID),
			acts.RecordOffboardingOutcomes, activities.OutcomeRecord{ProcessID: o.id, TaskID: d.TaskID, By: d.DeciderID, At: d.DecidedAt, Outcomes: outs}); err != nil {
			return err
		}
		for i, x := range o.facts.Assets {
			if d.Values["asset:"+x.ID] != ValueMissing {
				continue
			}
			if err := o.run(ctx, fmt.Sprintf("Report the missing asset %s to the GISO (%s): a security incident", x.ID, o.giso), acts.SendOffboardingNotice, activities.Notice{
				Key: o.id + "/asset-missing/" + x.ID, ProcessID: o.id, RecipientID: o.giso, Kind: activities.NoticeAssetMissing,
				Params: map[string]string{"employee_id": o.in.EmployeeID, "asset_id": x.ID},
			}); err != nil {
				return err
			}
			// Processes that reached this point before incidents existed only mailed the GISO.
			if workflow.GetVersion(ctx, "missing-asset-starts-incident", workflow.DefaultVersion, 1) == 1 {
				if err := o.reportMissing(ctx, i, x.ID, d); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// secrecy asks the leaver to acknowledge the duty of secrecy that outlasts their service
// (§5.1(1)8). It reports whether they did; nobody decides in their place.
func (o *offboarding) secrecy(ctx workflow.Context) (bool, error) {
	d, err := o.ask(ctx, Step{
		Name:     "secrecy_acknowledgement",
		Title:    activities.Text{Ja: "退職・異動後も続く守秘義務の確認", En: "Acknowledge the duty of secrecy that continues after you leave"},
		Assignee: o.in.EmployeeID, AssigneeRole: policy.RoleStaff, Choices: []string{ChoiceAcknowledge},
		Deadline: o.timing.Secrecy, RemindBefore: o.timing.RemindBefore,
	})
	return err == nil && !d.TimedOut, err
}

// reportMissing starts the incident process for a lent asset that was not returned (§5.1(1)8:
// a device not returned is a security incident): a loss reported by the officer who found it
// missing, in the leaver's department. The incident runs on its own (it outlives the
// offboarding); the offboarding waits only until it has started.
func (o *offboarding) reportMissing(ctx workflow.Context, n int, assetID string, d Decision) error {
	id := fmt.Sprintf("INC-%s-A%d", strings.TrimPrefix(o.id, "OFB-"), n+1)
	now := o.now(ctx)
	filing := activities.IncidentFiling{
		ProcessID: id, Department: o.department, RequesterID: d.DeciderID, EmployeeID: o.in.EmployeeID,
		Summary: fmt.Sprintf("Incident: lent asset %s not returned at offboarding %s", assetID, o.id),
		Report: activities.IncidentReport{
			Source: models.IncidentFromStaff, Reporter: d.DeciderID, Department: o.department,
			Category: string(policy.CategoryLossTheft), Classification: 2,
			Description:  fmt.Sprintf("Lent asset %s of employee %s was not returned at offboarding %s (§5.1(1)8).", assetID, o.in.EmployeeID, o.id),
			DiscoveredAt: d.DecidedAt, ReceivedAt: now.UTC(),
		},
	}
	return o.fileIncident(ctx, fmt.Sprintf("Register incident %s for the missing asset %s", id, assetID), filing,
		fmt.Sprintf("**Security incident** (§5.3, §5.1(1)8) reported by offboarding `%s`: lent asset `%s` not returned.", o.id, assetID),
		IncidentInput{
			Header: Header{ProcessID: id, Kind: models.KindIncident, Department: o.department, TimeZone: o.cal.Loc.String()},
			Source: models.IncidentFromStaff, ReporterID: d.DeciderID, Category: policy.CategoryLossTheft,
			DiscoveredAt: d.DecidedAt, ReceivedAt: now.UTC(),
		})
}

// changeLeaverRoles is the workflow.GetVersion change under which an offboarding that ran to
// its end ends the leaver's posts in the directory. Offboardings that ended before it
// replay as they ran.
const changeLeaverRoles = "leaver-roles"

// endPosts ends the posts the leaver no longer holds once the offboarding has run to its end
// (issue 12: roles are posts, and a leaver's posts end with their offboarding): the
// directory gets their new employment status and, for a transfer, the new department; the
// roles that go with the old post are removed (policy.PostsAfterLeaving), and the timeline
// says so. Then every process with an open task of theirs is told (HandOver), so that the
// task goes to the post's new holder. It runs whether every item was confirmed or not: the
// person left on the effective date either way.
func (o *offboarding) endPosts(ctx workflow.Context) error {
	if workflow.GetVersion(ctx, changeLeaverRoles, workflow.DefaultVersion, 1) < 1 {
		return nil
	}
	p, in := o.process, o.in
	if err := p.record(ctx, fmt.Sprintf("Directory: end the posts %s left (%s)", in.EmployeeID, in.Reason), acts.EndLeaverPosts,
		activities.LeaverPostsRequest{ProcessID: p.id, EmployeeID: in.EmployeeID, Reason: in.Reason, NewDepartment: in.NewDepartment,
			NewSection: in.NewSection, WithinDepartment: o.sections}); err != nil {
		return err
	}
	return HandOver(ctx, in.EmployeeID, ReassessOffboarding)
}
