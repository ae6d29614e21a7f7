package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/policy"
)

// askPost is ask for processes started since changeAuthority (issue 12):
//
//   - who decides is resolved when the task opens: the post's holder as the directory says
//     now, or a deputy the delegation rules allow when the holder is absent, gone, or a party
//     to the case; a step nobody may decide takes its timeout outcome at once, on the record;
//   - a SignalReassess about the assignee or holder resolves it again, and hands the task
//     over if someone else should now decide (the old links stop working);
//   - at the deadline, a deputy the rules allow for escalation gets a link and may decide in
//     the holder's place (代決); where none is allowed, the town's named person (EscalatePost)
//     gets a notice and the holder an overdue reminder, and only the holder may still decide;
//   - a deputy's decision is recorded as made for the holder, who gets a 後閲 notice;
//   - since changeUndeliverable, a mail to the assignee refused for good (the first one or a
//     reminder) escalates the task at once, its recipient told why; with nobody to escalate
//     to, or when the escalation is refused too, the step takes its timeout outcome at once.
func (p *process) askPost(ctx workflow.Context, id string, s Step) (Decision, error) {
	t := &openTask{step: s}
	p.tasks.open[id] = t
	p.tasks.ids = append(p.tasks.ids, id)
	defer p.closeTask(id)

	now := p.now(ctx)
	rules, err := p.delegation(ctx)
	if err != nil {
		return Decision{}, err
	}
	dep := rules.DeputyFor(p.kind, s.Name)
	asg, err := lookup[activities.Assignment](ctx, p, fmt.Sprintf("Resolve who decides %q: %s", s.Name, describePost(s)),
		acts.AssignTask, p.assignRequest(s, dep, now, false))
	if err != nil {
		return Decision{}, err
	}
	if asg.Nobody {
		return p.nobodyMay(ctx, id, s, asg.Note)
	}
	if asg.Note != "" {
		if err := p.note(ctx, id+"/assigned", fmt.Sprintf("%q: %s", s.Name, asg.Note)); err != nil {
			return Decision{}, err
		}
	}
	t.assignee, t.holder, t.basis, t.occasion = asg.AssigneeID, asg.HolderID, asg.Basis, asg.Occasion
	t.deciders = []string{asg.AssigneeID}

	due := s.Deadline.From(p.cal, now)
	escalates := dep.Allows(policy.OnEscalation) || !s.EscalatePost.IsZero() || s.EscalateTo != ""
	expires := due
	if escalates {
		expires = s.Grace.From(p.cal, due)
	}
	spec := activities.TaskSpec{
		ID: id, ProcessID: p.id, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		Step: s.Name, Title: s.Title, AssigneeID: t.assignee, Choices: s.Choices,
		DueAt: due, ExpiresAt: expires, Form: s.Form,
		PostRole: string(s.Post.Role), PostScope: s.Post.Scope, OnBehalfOf: t.onBehalfOf(t.assignee),
		FailUndeliverable: p.undeliverable, ReturnOf: s.ReturnOf,
	}
	// unreachable is set when a mail to the assignee was refused for good (the activity has
	// flagged them in the directory and noted it on the timeline): the task escalates now.
	unreachable := false
	err = p.run(ctx, fmt.Sprintf("Open task %q for %s, due %s", s.Name, t.who(s), p.stamp(due)), acts.OpenTask, spec)
	if unreachable = p.refused(err); err != nil && !unreachable {
		return Decision{}, err
	}
	if !unreachable {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("Waiting for %s to decide **%s** (%s) until %s.",
			t.who(s), s.Title.En, strings.Join(s.Choices, " / "), p.stamp(due)))
		reminders := slices.Clone(s.RemindBefore)
		slices.SortFunc(reminders, func(a, b time.Duration) int { return int(b - a) })
		for i, before := range reminders {
			at := due.Add(-before)
			if !at.After(now) {
				continue
			}
			if done, err := p.waitTask(ctx, id, t, at, fmt.Sprintf("Reminder %d for %q at %s", i+1, s.Name, p.stamp(at))); err != nil || done {
				return p.settle(ctx, id, t, err)
			}
			err := p.run(ctx, fmt.Sprintf("Remind %s of %q", t.who(s), s.Name), acts.RemindTask,
				activities.TaskMail{TaskID: id, Kind: fmt.Sprintf("reminder-%d", i+1), RecipientID: t.assignee, FailUndeliverable: p.undeliverable})
			if unreachable = p.refused(err); unreachable {
				break
			}
			if err != nil {
				return Decision{}, err
			}
		}
	}
	if !unreachable {
		if done, err := p.waitTask(ctx, id, t, due, fmt.Sprintf("Deadline of %q at %s", s.Name, p.stamp(due))); err != nil || done {
			return p.settle(ctx, id, t, err)
		}
	}
	why := "nobody decided by " + p.stamp(expires)
	switch {
	case unreachable && !escalates:
		why = fmt.Sprintf("the mail to %s could not be delivered and the step names nobody to escalate to", t.who(s))
		if err := p.note(ctx, id+"/unreachable", fmt.Sprintf("%q: %s; it takes its timeout outcome now", s.Name, why)); err != nil {
			return Decision{}, err
		}
	case escalates:
		// The post is resolved again at escalation, in case a change in the directory was
		// not signalled: the holder now may differ from the one asked.
		if err := p.reassess(ctx, id, t); err != nil {
			return Decision{}, err
		}
		err := p.escalate(ctx, id, t, dep, due, expires, unreachable)
		if p.refused(err) || errors.Is(err, errNobodyToTell) {
			// Nobody can be reached: waiting would only wait for nobody.
			why = fmt.Sprintf("neither %s nor the escalation's recipient can be reached by mail", t.who(s))
			if err := p.note(ctx, id+"/unreachable", fmt.Sprintf("%q: %s; it takes its timeout outcome now", s.Name, why)); err != nil {
				return Decision{}, err
			}
			break
		}
		if err != nil {
			return Decision{}, err
		}
		if done, err := p.waitTask(ctx, id, t, expires, fmt.Sprintf("End of escalation of %q at %s", s.Name, p.stamp(expires))); err != nil || done {
			return p.settle(ctx, id, t, err)
		}
	}
	// Nobody decided: the task expires and the process takes the step's timeout outcome.
	p.closeTask(id)
	if err := p.record(ctx, fmt.Sprintf("Close task %q as expired: %s", s.Name, why),
		acts.CloseTask, activities.TaskClosure{TaskID: id, Status: "expired"}); err != nil {
		return Decision{}, err
	}
	return Decision{DecideRequest: DecideRequest{TaskID: id}, Step: s.Name, TimedOut: true}, nil
}

// errNobodyToTell is escalate's answer when an unreachable assignee's task has nobody to go to.
var errNobodyToTell = errors.New("nobody to tell")

// refused reports whether err is a mail refused for good (activities.ErrUndeliverable), which
// only processes started since changeUndeliverable ask for.
func (p *process) refused(err error) bool {
	var app *temporal.ApplicationError
	return p.undeliverable && errors.As(err, &app) && app.Type() == activities.ErrUndeliverable
}

// delegation is the process's copy of the town's delegation rules, taken when it started.
func (p *process) delegation(ctx workflow.Context) (policy.Delegation, error) {
	if p.rules == nil {
		var d policy.Delegation
		if err := p.rulesCopy.Get(ctx, &d); err != nil {
			return d, err
		}
		p.rules = &d
	}
	return *p.rules, nil
}

// closeTask stops a task taking decisions; idempotent.
func (p *process) closeTask(id string) {
	delete(p.tasks.open, id)
	p.tasks.ids = slices.DeleteFunc(p.tasks.ids, func(x string) bool { return x == id })
}

// assignRequest asks AssignTask who decides s now.
func (p *process) assignRequest(s Step, dep policy.Deputy, at time.Time, escalation bool) activities.AssignRequest {
	r := activities.AssignRequest{ProcessID: p.id, Post: s.Post, AssigneeID: s.Assignee, Deputy: dep,
		DeputyScope: p.department, Escalation: escalation, At: at}
	if !s.Post.IsZero() {
		// The parties decide none of the steps held by a post; a step asked of a named person
		// (the requester revising their own request) is theirs.
		r.Parties = slices.Concat(p.parties, s.Parties)
	}
	return r
}

// escalate runs at a task's deadline: a deputy the rules allow gets a link of their own;
// otherwise the town's named person is told and the holder reminded that only they may decide.
// When the assignee is unreachable (their mail was refused for good) it runs at once: the
// recipient is told why, nobody reminds the assignee, and a refusal of the escalation's own
// mail (ErrUndeliverable) or nobody to tell (errNobodyToTell) is returned.
func (p *process) escalate(ctx workflow.Context, id string, t *openTask, dep policy.Deputy, due, expires time.Time, unreachable bool) error {
	s := t.step
	because := fmt.Sprintf("not decided by %s", p.stamp(due))
	kind := "escalation"
	if unreachable {
		because = fmt.Sprintf("the mail to %s could not be delivered", t.who(s))
		kind = activities.KindUnreachableEscalation
	}
	if dep.Allows(policy.OnEscalation) {
		asg, err := lookup[activities.Assignment](ctx, p, fmt.Sprintf("Resolve who may decide %q in the holder's place (%s)", s.Name, dep.Post),
			acts.AssignTask, p.assignRequest(s, dep, p.now(ctx), true))
		if err != nil {
			return err
		}
		if !asg.Nobody && !slices.Contains(t.deciders, asg.AssigneeID) {
			t.deputy, t.deputyBasis = asg.AssigneeID, dep.Basis
			t.deciders = append(t.deciders, asg.AssigneeID)
			if err := p.run(ctx, fmt.Sprintf("Escalate %q to the %s (%s), who may decide for %s (代決, %s): %s",
				s.Name, dep.Post, asg.AssigneeID, t.who(s), dep.Basis, because),
				acts.EscalateTask, activities.TaskMail{TaskID: id, Kind: kind, RecipientID: asg.AssigneeID, FailUndeliverable: unreachable}); err != nil {
				return err
			}
			workflow.SetCurrentDetails(ctx, fmt.Sprintf("Escalated: waiting for %s or the %s (%s, 代決) to decide **%s** until %s.",
				t.who(s), dep.Post, asg.AssigneeID, s.Title.En, p.stamp(expires)))
			return nil
		}
	}
	// Nobody may stand in: pressure, not authority.
	var calls []call
	if !unreachable {
		calls = append(calls, call{
			summary:  fmt.Sprintf("Tell %s that %q is overdue and only they may decide it", t.who(s), s.Name),
			activity: acts.RemindTask, arg: activities.TaskMail{TaskID: id, Kind: "overdue", RecipientID: t.assignee},
		})
	}
	if tell := s.EscalatePost; !tell.IsZero() {
		asg, err := lookup[activities.Assignment](ctx, p, fmt.Sprintf("Find the %s to tell that %q is overdue", tell, s.Name),
			acts.AssignTask, activities.AssignRequest{ProcessID: p.id, Post: tell, At: p.now(ctx)})
		if err != nil {
			return err
		}
		if asg.HolderID != "" && asg.HolderID != t.assignee {
			summary := fmt.Sprintf("Tell the %s (%s) that %q is overdue; nobody may decide in the holder's place", tell, asg.HolderID, s.Name)
			notice := activities.NoticeEscalation
			if unreachable {
				summary = fmt.Sprintf("Tell the %s (%s) that %s cannot be reached by mail about %q; nobody may decide in the holder's place",
					tell, asg.HolderID, t.who(s), s.Name)
				notice = activities.NoticeUnreachable
			}
			calls = append(calls, call{
				summary:  summary,
				activity: acts.SendAuthorityNotice,
				arg: activities.AuthorityNotice{Kind: notice, TaskID: id, RecipientID: asg.HolderID,
					HolderID: t.holder, HolderRole: holderRole(s), FailUndeliverable: unreachable},
			})
		}
	}
	if unreachable && len(calls) == 0 {
		return errNobodyToTell
	}
	if err := p.runEach(ctx, calls, nil); err != nil {
		return err
	}
	if unreachable {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("Unreachable: %s, and only they may decide **%s**; the %s was told; waiting until %s, then it expires.",
			because, s.Title.En, s.EscalatePost, p.stamp(expires)))
		return nil
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Overdue: only %s may decide **%s**; waiting until %s, then it expires.",
		t.who(s), s.Title.En, p.stamp(expires)))
	return nil
}

// waitTask waits like waitUntil for the task's decision, handing the task over whenever the
// directory changes for its assignee or holder meanwhile.
func (p *process) waitTask(ctx workflow.Context, id string, t *openTask, at time.Time, summary string) (bool, error) {
	decided := func() bool { return t.decision != nil || p.cancelled != nil }
	for {
		done, err := p.waitUntil(ctx, at, summary, func() bool { return decided() || t.recheck })
		if err != nil || decided() {
			return decided(), err
		}
		if !t.recheck {
			return done, nil
		}
		t.recheck = false
		if err := p.reassess(ctx, id, t); err != nil {
			return false, err
		}
	}
}

// reassess resolves an open task's assignee again; if someone else should now decide (the
// post changed hands, the assignee left or is absent), the task is handed over: the old
// links stop working, the new assignee gets a link, and the register says so.
func (p *process) reassess(ctx workflow.Context, id string, t *openTask) error {
	s := t.step
	rules, err := p.delegation(ctx)
	if err != nil {
		return err
	}
	dep := rules.DeputyFor(p.kind, s.Name)
	asg, err := lookup[activities.Assignment](ctx, p, fmt.Sprintf("Resolve again who decides %q: the directory changed", s.Name),
		acts.AssignTask, p.assignRequest(s, dep, p.now(ctx), false))
	if err != nil {
		return err
	}
	if asg.Nobody || asg.AssigneeID == "" || asg.AssigneeID == t.assignee {
		if asg.HolderID != "" { // the holder may have changed while the assignee did not
			t.holder = asg.HolderID
		}
		return nil
	}
	old := t.assignee
	t.handovers++
	note := asg.Note
	if note == "" {
		note = fmt.Sprintf("%s now holds the post %s", asg.AssigneeID, s.Post)
	}
	if err := p.record(ctx, fmt.Sprintf("Hand %q over from %s to %s: %s", s.Name, old, asg.AssigneeID, note),
		acts.HandOverTask, activities.Handover{TaskID: id, ProcessID: p.id, From: old, To: asg.AssigneeID,
			OnBehalfOf: onBehalf(asg), Seq: t.handovers, Note: note}); err != nil {
		return err
	}
	t.deciders = slices.DeleteFunc(t.deciders, func(x string) bool { return x == old })
	t.deciders = append(t.deciders, asg.AssigneeID)
	t.assignee, t.holder, t.basis, t.occasion = asg.AssigneeID, asg.HolderID, asg.Basis, asg.Occasion
	if err := p.run(ctx, fmt.Sprintf("Mail %s the task %q handed over to them", t.who(s), s.Name),
		acts.RemindTask, activities.TaskMail{TaskID: id, Kind: fmt.Sprintf("handover-%d", t.handovers), RecipientID: t.assignee}); err != nil {
		return err
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Handed over: waiting for %s to decide **%s**.", t.who(s), s.Title.En))
	return nil
}

// nobodyMay ends a step that nobody may decide (the holder is a party to the case and no
// deputy is allowed): on the record, with the step's timeout outcome.
func (p *process) nobodyMay(ctx workflow.Context, id string, s Step, why string) (Decision, error) {
	p.closeTask(id)
	if err := p.note(ctx, id+"/nobody", fmt.Sprintf("%q cannot be decided: %s; the step takes its timeout outcome", s.Name, why)); err != nil {
		return Decision{}, err
	}
	return Decision{DecideRequest: DecideRequest{TaskID: id}, Step: s.Name, TimedOut: true}, nil
}

// note adds a line to the process's timeline.
func (p *process) note(ctx workflow.Context, key, text string) error {
	return p.record(ctx, "Register: "+text, acts.NoteTimeline, activities.TimelineNote{ProcessID: p.id, Key: key, Note: text})
}

// settleDecision records a decision taken since changeAuthority: a deputy's as made for the
// holder (代決), who is then sent the decision to review (後閲).
func (p *process) settleDecision(ctx workflow.Context, t *openTask, d Decision) (Decision, error) {
	rec := activities.DecisionRecord{
		TaskID: d.TaskID, ProcessID: p.id, Step: d.Step, Choice: d.Choice, DeciderID: d.DeciderID,
		RequestID: d.RequestID, DecidedAt: d.DecidedAt,
	}
	by := fmt.Sprintf("the holder (%s)", d.DeciderID)
	if t.holder != "" && d.DeciderID != t.holder {
		rec.OnBehalfOf, rec.Basis = t.holder, t.basis
		d.ForHolder, d.Occasion = t.holder, t.occasion
		if d.DeciderID == t.deputy {
			rec.Basis, d.Occasion = t.deputyBasis, policy.OnEscalation
		}
		by = fmt.Sprintf("%s for %s (代決, %s)", d.DeciderID, t.holder, rec.Basis)
	}
	if err := p.record(ctx, fmt.Sprintf("Record decision %q on %q by %s", d.Choice, d.Step, by),
		acts.RecordDecision, rec); err != nil {
		return Decision{}, err
	}
	if rec.OnBehalfOf != "" {
		if err := p.run(ctx, fmt.Sprintf("Send %s the decision made in their place, to review (後閲)", rec.OnBehalfOf),
			acts.SendAuthorityNotice, activities.AuthorityNotice{Kind: activities.NoticeAfterReview, TaskID: d.TaskID,
				RecipientID: rec.OnBehalfOf, HolderID: rec.OnBehalfOf, HolderRole: holderRole(t.step), DeciderID: d.DeciderID,
				Choice: d.Choice, Basis: rec.Basis, DecidedAt: d.DecidedAt}); err != nil {
			return Decision{}, err
		}
	}
	return d, nil
}

// who names the task's assignee for summaries (role and ID, never a name).
func (t *openTask) who(s Step) string {
	if t.holder != "" && t.assignee != t.holder {
		return fmt.Sprintf("the deputy %s for the %s (%s)", t.assignee, describePost(s), t.holder)
	}
	return fmt.Sprintf("the %s (%s)", describePost(s), t.assignee)
}

// onBehalfOf is the holder when id is not them.
func (t *openTask) onBehalfOf(id string) string {
	if t.holder != "" && id != t.holder {
		return t.holder
	}
	return ""
}

func onBehalf(a activities.Assignment) string {
	if a.HolderID != "" && a.AssigneeID != a.HolderID {
		return a.HolderID
	}
	return ""
}

// describePost names a step's post, or the role of the named person it is asked of.
func describePost(s Step) string {
	if !s.Post.IsZero() {
		return s.Post.String()
	}
	return string(s.AssigneeRole)
}

func holderRole(s Step) policy.Role {
	if !s.Post.IsZero() {
		return s.Post.Role
	}
	return s.AssigneeRole
}
