package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/policy"
)

// ExceptionInput starts an exception request (例外措置, §7.4). The request's text (clauses,
// alternative measure, reason) stays in the register; the workflow needs only what decides
// its course.
type ExceptionInput struct {
	Header
	RequesterID string
	// RequesterRole is diso or ism: only they may ask (§7.4(1)).
	RequesterRole policy.Role
	// Emergency is the §7.4(2) path: the exception is taken at once and reported to the CISO
	// afterwards, who ratifies or revokes it.
	Emergency bool
	// StartDate and EndDate are YYYY-MM-DD in the town's zone; the exception ends at the end
	// of EndDate.
	StartDate, EndDate string
	SystemIDs          []string
	Timing             ExceptionTiming
}

// ExceptionTiming holds the deadlines of the exception request's human steps. The zero
// value means the town's timings, copied when the process starts (changeTimings).
type ExceptionTiming struct {
	Review, ReviewGrace     Deadline
	Revision, RevisionGrace Deadline
	Ratify, RatifyGrace     Deadline
	Restore, RestoreGrace   Deadline
	RemindBefore            []time.Duration
	// RenewalNotice is how long before the end the requester is reminded that the
	// exception ends (a renewal is a new request).
	RenewalNotice time.Duration
	// KeepUnratified keeps an emergency exception nobody ratified in time in effect to its
	// end date (the town's rule exception.unratified "in_effect"); false restores compliance
	// at once ("restore", the rule of every process before it).
	KeepUnratified bool
}

// DefaultExceptionTiming is what processes started before changeTimings run under; never
// change it (the town's timings, policy/timings.json, hold the defaults). It gives the CISO a
// business week to decide, the GISO three more days once escalated, and an emergency exception
// two business days for ratification.
var DefaultExceptionTiming = ExceptionTiming{
	Review: Deadline{BusinessDays: 5}, ReviewGrace: Deadline{BusinessDays: 3},
	Revision: Deadline{BusinessDays: 10}, RevisionGrace: Deadline{BusinessDays: 5},
	Ratify: Deadline{BusinessDays: 2}, RatifyGrace: Deadline{BusinessDays: 2},
	Restore: Deadline{BusinessDays: 5}, RestoreGrace: Deadline{BusinessDays: 5},
	RemindBefore:  []time.Duration{48 * time.Hour, 4 * time.Hour},
	RenewalNotice: 14 * 24 * time.Hour,
}

// changeUnratifiedRule is the workflow.GetVersion change under which what becomes of an
// emergency exception nobody ratified in time is the town's rule (exception.unratified in the
// timings file, copied at start): restored at once (the default, as before) or kept in effect
// to its end date; the ratification's title names the rule (issue 14: a limit the policy
// does not set is named as the town's, not as policy).
const changeUnratifiedRule = "exception-unratified-rule"

// unratifiedTitle is the ratification's title naming the town's rule for silence.
func unratifiedTitle(keep bool) activities.Text {
	if keep {
		return activities.Text{
			Ja: "緊急の例外措置の事後承認（期限までに承認も取消しもなければ終了日まで継続：町の規則）",
			En: "Ratify or revoke an emergency exception (if neither by the deadline, it stays in effect to its end date: the town's rule)",
		}
	}
	return activities.Text{
		Ja: "緊急の例外措置の事後承認（期限までに承認がなければ原状回復：町の規則）",
		En: "Ratify or revoke an emergency exception (if not ratified by the deadline, compliance is restored: the town's rule)",
	}
}

// Choices offered on the exception request's tasks.
const (
	ChoiceApprove  = "approve"
	ChoiceReject   = "reject"
	ChoiceReturn   = "return"
	ChoiceResubmit = "resubmit"
	ChoiceWithdraw = "withdraw"
	ChoiceRatify   = "ratify"
	ChoiceRevoke   = "revoke"
	ChoiceDone     = "done"
)

// changeReturnRevise is the workflow.GetVersion change under which a returned request
// (差戻し) can be acted on (issue 14): the revision step shows who returned it, when and why
// (Step.ReturnOf), is a form holding the request's current values (Field.Revises), and a
// resubmission becomes the register's next version of the request (RecordRevision), which
// the next round reviews. Processes returned before it replay as they ran.
const changeReturnRevise = "return-revise"

// exceptionRevisionForm is what the requester of a returned exception may change: what was
// asked (the alternative measure, the reason) and the period. The page fills it with the
// request's current values; the API checks a resubmission as it checks a filing
// (api.checkExceptionAsk, checkExceptionPeriod), so the fields are not required here, where a
// withdrawal posts them too.
func exceptionRevisionForm() []activities.Field {
	return []activities.Field{
		{Name: "alternative", Label: activities.Text{Ja: "代替措置", En: "What is done instead (alternative measure)"}, Kind: activities.FieldTextarea, Revises: true},
		{Name: "reason", Label: activities.Text{Ja: "理由", En: "Reason"}, Kind: activities.FieldTextarea, Revises: true},
		{Name: "start_date", Label: activities.Text{Ja: "開始日", En: "Start date"}, Kind: activities.FieldDate, Revises: true},
		{Name: "end_date", Label: activities.Text{Ja: "終了日", En: "End date"}, Kind: activities.FieldDate, Revises: true},
	}
}

// ExceptionWorkflow runs one exception request from submission to the restoration of
// compliance at its end (§7.4).
//
// Normal path (§7.4(1)): the CISO approves, rejects or returns the request; a returned
// request goes back to the requester to resubmit or withdraw. An approved exception is in
// effect from its start date to the end of its end date; the requester is reminded before it
// ends, and at the end the requester and the systems' managers confirm that compliance is
// restored. Emergency path (§7.4(2)): in effect at once; the CISO ratifies or revokes, and a
// revoked (or never ratified) exception is restored at once. The CISO's silence escalates to
// the GISO; a request nobody decides ends as expired.
func ExceptionWorkflow(ctx workflow.Context, in ExceptionInput) (Result, error) {
	p, err := begin(ctx, in.Header)
	if err != nil {
		return Result{}, err
	}
	// The deadlines are the town's, copied now, or as given (changeTimings).
	t, _, err := timingOf(ctx, p, p.copyTimings(ctx, in.Timing.Review != (Deadline{}), false), in.Timing, DefaultExceptionTiming, exceptionTiming)
	if err != nil {
		return Result{}, err
	}
	start, err1 := policy.ParseDate(in.StartDate, p.cal.Loc)
	end, err2 := policy.ParseDate(in.EndDate, p.cal.Loc)
	if err1 != nil || err2 != nil {
		return Result{}, temporal.NewNonRetryableApplicationError("bad start or end date", activities.ErrBadInput, nil)
	}
	endsAt := p.cal.EndOfDay(end)

	r, err := lookup[activities.Roster](ctx, p, "Look up the CISO, GISO, department officer and system managers",
		acts.ResolveRoster, activities.RosterRequest{DepartmentID: in.Department, SystemIDs: in.SystemIDs})
	if err != nil {
		return Result{}, err
	}
	// The requester decides none of the steps held by a post (separation of duties).
	p.parties = []string{in.RequesterID}
	ciso := func(s Step) Step {
		s.Assignee, s.AssigneeRole = r.CISO, policy.RoleCISO
		s.EscalateTo, s.EscalateToRole = r.GISO, policy.RoleGISO
		// §7.4(1) 「CISOの許可を得て」: the CISO's permission; the GISO is told of silence
		// but may not permit in the CISO's place unless the town's rules say so.
		s.Post, s.EscalatePost = policy.Post{Role: policy.RoleCISO}, policy.Post{Role: policy.RoleGISO}
		s.RemindBefore = t.RemindBefore
		return s
	}

	if in.Emergency {
		if err := p.setStage(ctx, "in_effect", "ciso_ratification", "emergency exception in effect; reported to the CISO (§7.4(2))"); err != nil {
			return p.end(ctx, err)
		}
		ratify := Step{
			Name:    "ciso_ratification",
			Title:   activities.Text{Ja: "緊急の例外措置の事後承認", En: "Ratify or revoke an emergency exception"},
			Choices: []string{ChoiceRatify, ChoiceRevoke}, Deadline: t.Ratify, Grace: t.RatifyGrace,
		}
		unratifiedRule := workflow.GetVersion(ctx, changeUnratifiedRule, workflow.DefaultVersion, 1) >= 1
		if unratifiedRule {
			// The policy does not say what becomes of an exception nobody ratifies: the page
			// names the town's rule, not a clause.
			ratify.Title = unratifiedTitle(t.KeepUnratified)
		}
		d, err := p.ask(ctx, ciso(ratify))
		if err != nil {
			return p.end(ctx, err)
		}
		switch {
		case d.TimedOut && unratifiedRule && t.KeepUnratified:
			if err := p.note(ctx, p.id+"/unratified", "nobody ratified or revoked the emergency exception in time: it stays in effect to "+in.EndDate+
				" under the town's rule (timings exception.unratified \"in_effect\"), recorded as never ratified"); err != nil {
				return p.end(ctx, err)
			}
		case d.TimedOut:
			return p.restoreAndFinish(ctx, in, r, t, "expired", "nobody ratified the emergency exception: compliance must be restored")
		case d.Choice == ChoiceRevoke:
			return p.restoreAndFinish(ctx, in, r, t, "revoked", "the CISO revoked the emergency exception")
		}
	} else {
		for round := 1; ; round++ {
			if err := p.setStage(ctx, "pending", "ciso_review", fmt.Sprintf("round %d: waiting for the CISO's permission (§7.4(1))", round)); err != nil {
				return p.end(ctx, err)
			}
			d, err := p.ask(ctx, ciso(Step{
				Name:    "ciso_review",
				Title:   activities.Text{Ja: "例外措置申請の審査", En: "Review an exception request"},
				Choices: []string{ChoiceApprove, ChoiceReject, ChoiceReturn}, Deadline: t.Review, Grace: t.ReviewGrace,
			}))
			if err != nil {
				return p.end(ctx, err)
			}
			if d.TimedOut {
				return p.finish(ctx, "expired", "neither the CISO nor the GISO decided in time")
			}
			if d.Choice == ChoiceReject {
				return p.finish(ctx, "rejected", "rejected by "+d.DeciderID)
			}
			if d.Choice == ChoiceApprove {
				break
			}
			if err := p.setStage(ctx, "returned", "requester_revision", "returned to the requester for changes"); err != nil {
				return p.end(ctx, err)
			}
			escalate, role := r.DISO, policy.RoleDISO
			if escalate == "" || escalate == in.RequesterID {
				escalate, role = r.GISO, policy.RoleGISO
			}
			revision := Step{
				Name:     "requester_revision",
				Title:    activities.Text{Ja: "差し戻された例外措置申請の再提出または取下げ", En: "Resubmit or withdraw a returned exception request"},
				Assignee: in.RequesterID, AssigneeRole: in.RequesterRole,
				Choices: []string{ChoiceResubmit, ChoiceWithdraw}, Deadline: t.Revision, Grace: t.RevisionGrace,
				RemindBefore: t.RemindBefore, EscalateTo: escalate, EscalateToRole: role,
				EscalatePost: policy.Post{Role: policy.RoleDISO, Scope: in.Department},
			}
			revise := workflow.GetVersion(ctx, changeReturnRevise, workflow.DefaultVersion, 1) >= 1
			if revise {
				revision.Title = activities.Text{Ja: "差し戻された例外措置申請の修正と再提出（又は取下げ）", En: "Revise and resubmit (or withdraw) a returned exception request"}
				revision.Form, revision.ReturnOf = exceptionRevisionForm(), d.TaskID
			}
			d, err = p.ask(ctx, revision)
			if err != nil {
				return p.end(ctx, err)
			}
			if d.TimedOut {
				return p.finish(ctx, "expired", "the returned request was neither resubmitted nor withdrawn")
			}
			if d.Choice == ChoiceWithdraw {
				return p.finish(ctx, "withdrawn", "withdrawn by "+d.DeciderID)
			}
			if revise {
				// The resubmitted request is the register's next version, which the next
				// round reviews; its period is the one the workflow keeps from now on.
				if err := p.record(ctx, "Register: the revised request as its next version", acts.RecordRevision,
					activities.RevisionRecord{ProcessID: p.id, TaskID: d.TaskID, ReturnOf: revision.ReturnOf}); err != nil {
					return p.end(ctx, err)
				}
				s, err1 := policy.ParseDate(d.Values["start_date"], p.cal.Loc)
				e, err2 := policy.ParseDate(d.Values["end_date"], p.cal.Loc)
				if err1 == nil && err2 == nil && e.After(s) {
					in.StartDate, in.EndDate = d.Values["start_date"], d.Values["end_date"]
					start, endsAt = s, p.cal.EndOfDay(e)
				}
			}
		}
		if start.After(p.now(ctx)) {
			if err := p.setStage(ctx, "approved", "awaiting_start", "approved; takes effect on "+in.StartDate); err != nil {
				return p.end(ctx, err)
			}
			if err := p.sleepUntil(ctx, start, "Exception takes effect on "+in.StartDate); err != nil {
				return p.end(ctx, err)
			}
		}
	}

	if err := p.setStage(ctx, "in_effect", "in_effect", "in effect until the end of "+in.EndDate); err != nil {
		return p.end(ctx, err)
	}
	if notice := endsAt.Add(-t.RenewalNotice); notice.After(p.now(ctx)) {
		if err := p.sleepUntil(ctx, notice, "Tell the requester the exception ends on "+in.EndDate); err != nil {
			return p.end(ctx, err)
		}
		if err := p.run(ctx, "Remind the requester ("+in.RequesterID+") that the exception ends on "+in.EndDate+"; renewal is a new request",
			acts.SendNotice, activities.Notice{
				Key: p.id + "/renewal-notice", ProcessID: p.id, RecipientID: in.RequesterID,
				Kind: activities.NoticeExceptionEnding, Params: map[string]string{"end_date": in.EndDate},
			}); err != nil {
			return p.end(ctx, err)
		}
	}
	if err := p.sleepUntil(ctx, endsAt, "Exception ends at the end of "+in.EndDate); err != nil {
		return p.end(ctx, err)
	}
	return p.restoreAndFinish(ctx, in, r, t, "completed", "the exception ended on "+in.EndDate)
}

// restoreAndFinish asks the requester and the managers of the systems in scope to confirm
// that compliance is restored, then closes the process with status (or with
// "restoration_unconfirmed" when a confirmation never came).
func (p *process) restoreAndFinish(ctx workflow.Context, in ExceptionInput, r activities.Roster, t ExceptionTiming, status, why string) (Result, error) {
	if err := p.setStage(ctx, "restoring", "restore_compliance", why); err != nil {
		return p.end(ctx, err)
	}
	people := []string{in.RequesterID}
	for _, ism := range r.ISMs {
		if !slices.Contains(people, ism) {
			people = append(people, ism)
		}
	}
	steps := make([]Step, 0, len(people))
	restore := func(who string, role policy.Role, post policy.Post) Step {
		return Step{
			Name:     "restore_compliance",
			Title:    activities.Text{Ja: "例外措置終了に伴う遵守状態への復帰の確認", En: "Confirm that compliance is restored after the exception"},
			Assignee: who, AssigneeRole: role, Post: post, Choices: []string{ChoiceDone},
			Deadline: t.Restore, Grace: t.RestoreGrace, RemindBefore: t.RemindBefore,
			EscalateTo: r.GISO, EscalateToRole: policy.RoleGISO, EscalatePost: policy.Post{Role: policy.RoleGISO},
		}
	}
	if p.authority {
		// Since changeAuthority the managers are the systems' managers when the exception
		// ends, not when it was filed: a restoration a year later goes to who holds the post.
		now, err := lookup[activities.Roster](ctx, p, "Look up who manages the systems in scope now",
			acts.ResolveRoster, activities.RosterRequest{DepartmentID: in.Department, SystemIDs: in.SystemIDs})
		if err != nil {
			return p.end(ctx, err)
		}
		steps = append(steps, restore(in.RequesterID, in.RequesterRole, policy.Post{}))
		asked := []string{in.RequesterID}
		for _, sys := range slices.Sorted(slices.Values(in.SystemIDs)) {
			if who, ok := now.Managers[sys]; ok && !slices.Contains(asked, who) {
				asked = append(asked, who)
				steps = append(steps, restore(who, policy.RoleISM, policy.Post{Role: policy.RoleISM, Scope: sys}))
			}
		}
		// The requester confirms their own restoration: it is their step, not a decision
		// about their case.
		p.parties = nil
	} else {
		for i, who := range people {
			role := policy.RoleISM
			if i == 0 {
				role = in.RequesterRole
			}
			steps = append(steps, restore(who, role, policy.Post{}))
		}
	}
	ds, err := p.askAll(ctx, steps...)
	if err != nil {
		return p.end(ctx, err)
	}
	for _, d := range ds {
		if d.TimedOut {
			return p.finish(ctx, "restoration_unconfirmed", why+"; restoration was not confirmed by everyone in time")
		}
	}
	return p.finish(ctx, status, why+"; compliance restored")
}
