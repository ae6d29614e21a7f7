package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/policy"
)

// UpdateDecide is the name of the Workflow Update through which a person's decision on a
// task reaches its process. The API sends it with the task's ID as the update ID, so a
// double click, a second device or a retry is one decision (TASK-ENGINE.md invariant 3).
const UpdateDecide = "decide"

// DecideRequest is a decision as the task link's POST carries it to the workflow.
type DecideRequest struct {
	TaskID    string
	Choice    string
	DeciderID string
	// Values are the form's select and date values (never free text).
	Values map[string]string
	// RequestID is unique per HTTP request. The API stores the request's comment, client
	// address and user agent under it before sending the Update, so free text never enters
	// history; the answer's RequestID tells a request whether it was the one that decided.
	RequestID string
	DecidedAt time.Time
	// Proof is the API's HMAC over the fields above (package proof), so the validator can
	// refuse a decision that did not come through the API (issue 12, item 7).
	Proof string
}

// DecisionVerifier checks a decision's Proof.
type DecisionVerifier interface {
	Verify(DecideRequest) error
}

// decisionVerifier checks every decision's proof; without one, every decision is refused.
var decisionVerifier DecisionVerifier

// UseDecisionVerifier sets the verifier of decisions' proofs. The worker calls it once, when
// it starts, before any workflow runs. Validators do not run on replay, so rotating keys
// never breaks an old history.
func UseDecisionVerifier(v DecisionVerifier) { decisionVerifier = v }

// Decision is the outcome of one human step: the accepted decision, or a timeout.
type Decision struct {
	DecideRequest
	Step     string
	TimedOut bool
	// ForHolder is the post's holder when a deputy decided in their place (代決), and
	// Occasion why: policy.OnAbsence (a registered absence), OnParty or OnEscalation
	// (silence past the deadline). Set since changeAuthority.
	ForHolder, Occasion string
}

// Deadline is how long a person has for a step: business days (closing at the end of the
// town office's day, weekends and holidays excluded) or clock time (incidents run on hours).
type Deadline struct {
	BusinessDays int
	Clock        time.Duration
}

// From returns the deadline's instant counted from t.
func (d Deadline) From(cal policy.Calendar, t time.Time) time.Time {
	if d.BusinessDays > 0 {
		return cal.EndOfBusinessDay(t, d.BusinessDays)
	}
	return t.Add(d.Clock)
}

// String describes the deadline for summaries.
func (d Deadline) String() string {
	if d.BusinessDays > 0 {
		return fmt.Sprintf("%d business days", d.BusinessDays)
	}
	return d.Clock.String()
}

// Step describes one human step: who is asked what, by when, who is reminded, and to whom
// it escalates when the deadline passes.
type Step struct {
	// Name identifies the step in records and task IDs, e.g. "ciso_review".
	Name string
	// Title says what is asked, in Japanese and English; it is the subject of the mail.
	Title activities.Text
	// Assignee is the employee ID of the one person asked; AssigneeRole names their role
	// for readable summaries (never a name: history carries no personal data).
	Assignee     string
	AssigneeRole policy.Role
	Choices      []string
	// Form asks for more than a choice: a record, a checklist. Free-text fields stay in the
	// register; select and date fields arrive in Decision.Values.
	Form     []activities.Field
	Deadline Deadline
	// RemindBefore lists how long before the deadline a reminder goes out.
	RemindBefore []time.Duration
	// EscalateTo is the employee ID who, once the deadline has passed, is told and may decide
	// in the assignee's place during Grace. Empty: the step times out at its deadline.
	EscalateTo     string
	EscalateToRole policy.Role
	Grace          Deadline

	// Post is the post whose holder decides (§2: posts, not people). Since changeAuthority the
	// holder is looked up when the task opens and again when the directory changes, so a step
	// that opens months later goes to whoever holds the post then; Assignee is then only what
	// older processes used. Zero for a step asked of a named person (the requester, the
	// leaver, a vendor's contact), who is Assignee.
	Post policy.Post
	// EscalatePost is whom the town tells when the deadline passes, if nobody may decide in
	// the holder's place (the delegation rules name no deputy for the step): a notice, never a
	// link. Since changeAuthority it replaces EscalateTo, which older processes used.
	EscalatePost policy.Post
	// Parties are people the case is about besides the process's own (process.parties): none
	// of them decides the step (separation of duties), e.g. the author of a record under review.
	Parties []string
	// ReturnOf is the task whose decision returned what this step asks to revise (差戻し):
	// the task's mail and page show who returned it, when and why (changeReturnRevise).
	ReturnOf string
}

// openTask is a task waiting in this workflow for its decision.
type openTask struct {
	step     Step
	deciders []string
	decision *Decision
	// Since changeAuthority: assignee is who is asked now, holder who holds the post (they
	// differ when a deputy stands in, under basis); deputy is who may decide after escalation.
	assignee, holder, basis, occasion string
	deputy, deputyBasis               string
	// recheck is set by SignalReassess: the directory changed for the assignee or holder.
	recheck   bool
	handovers int
}

// taskBook keeps the workflow's open tasks and is the Update handler that decides them.
type taskBook struct {
	// ids lists the open tasks in the order they opened, for deterministic iteration.
	ids  []string
	open map[string]*openTask
	seq  map[string]int
	// stopped reports that the process no longer takes decisions (it was cancelled).
	stopped func() bool
}

func newTaskBook() *taskBook {
	return &taskBook{open: map[string]*openTask{}, seq: map[string]int{}}
}

// listen handles SignalReassess: the open tasks whose assignee or holder the directory
// changed for are marked, and each task's wait hands it over if someone else should now
// decide (changeAuthority).
func (b *taskBook) listen(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, SignalReassess)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var r Reassess
			ch.Receive(ctx, &r)
			if r.Why == "absence_ended" {
				continue // a task handed over for an absence stays with the deputy
			}
			for _, id := range b.ids {
				if t, ok := b.open[id]; ok && t.decision == nil && (t.assignee == r.PersonID || t.holder == r.PersonID) {
					t.recheck = true
				}
			}
		}
	})
}

// register installs the decide Update. Its validator is the workflow's word on what is
// valid: a decision for a task that is not open, a choice the step does not offer or a
// person the task was not sent to is rejected and leaves no trace in history.
func (b *taskBook) register(ctx workflow.Context) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecide,
		func(ctx workflow.Context, req DecideRequest) (Decision, error) {
			t, ok := b.open[req.TaskID]
			if !ok { // the validator admitted it, so only a non-deterministic change gets here
				return Decision{}, temporal.NewApplicationError("task is not open", "TaskClosed")
			}
			d := Decision{DecideRequest: req, Step: t.step.Name}
			t.decision = &d
			return d, nil
		},
		workflow.UpdateHandlerOptions{
			Validator: func(ctx workflow.Context, req DecideRequest) error {
				t, ok := b.open[req.TaskID]
				switch {
				case !ok || t.decision != nil || b.stopped():
					return temporal.NewApplicationError("task is not open", "TaskClosed")
				case !slices.Contains(t.step.Choices, req.Choice):
					return temporal.NewApplicationError(fmt.Sprintf("choice %q is not offered", req.Choice), "InvalidChoice")
				case !slices.Contains(t.deciders, req.DeciderID):
					return temporal.NewApplicationError("this link's holder may not decide this task", "NotAssignee")
				case decisionVerifier == nil || decisionVerifier.Verify(req) != nil:
					return temporal.NewApplicationError("the decision does not carry the API's proof", "NotFromAPI")
				}
				if bad := activities.CheckDecision(steering(t.step.Form), req.Choice, req.Values); len(bad) > 0 {
					return temporal.NewApplicationError("the form's values are not valid", "InvalidValues")
				}
				if bad := activities.CheckChoice(t.step.Form, req.Choice, req.Values); len(bad) > 0 {
					return temporal.NewApplicationError("the form's answers rule out this decision", "InvalidValues")
				}
				return nil
			},
			Description: "A person's decision on one of this process's tasks, sent from the emailed link.",
		})
}

// ask runs one human step to its end: it opens the task (row, link, mail), waits for a
// decision with reminders before the deadline, escalates at the deadline, and returns the
// decision or a timeout after the grace period. It returns errCancelled if the process was
// cancelled meanwhile (the task is then closed as cancelled).
func (p *process) ask(ctx workflow.Context, s Step) (Decision, error) {
	p.tasks.seq[s.Name]++
	// The task ID is the decision Update's ID, so it is unique across processes and stable
	// across replays.
	id := fmt.Sprintf("%s/%s/%d", p.id, s.Name, p.tasks.seq[s.Name])
	if p.scope != "" {
		id = fmt.Sprintf("%s/%s/%s/%d", p.id, p.scope, s.Name, p.tasks.seq[s.Name])
	}
	if p.authority {
		return p.askPost(ctx, id, s)
	}
	t := &openTask{step: s, deciders: []string{s.Assignee}}
	p.tasks.open[id] = t
	defer delete(p.tasks.open, id)

	now := p.now(ctx)
	due := s.Deadline.From(p.cal, now)
	expires := due
	if s.EscalateTo != "" {
		expires = s.Grace.From(p.cal, due)
	}
	spec := activities.TaskSpec{
		ID: id, ProcessID: p.id, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		Step: s.Name, Title: s.Title, AssigneeID: s.Assignee, Choices: s.Choices,
		DueAt: due, ExpiresAt: expires, Form: s.Form, ReturnOf: s.ReturnOf,
	}
	if err := p.run(ctx, fmt.Sprintf("Open task %q for the %s (%s), due %s", s.Name, s.AssigneeRole, s.Assignee, p.stamp(due)),
		acts.OpenTask, spec); err != nil {
		return Decision{}, err
	}
	decided := func() bool { return t.decision != nil || p.cancelled != nil }

	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Waiting for the %s (%s) to decide **%s** (%s) until %s.",
		s.AssigneeRole, s.Assignee, s.Title.En, strings.Join(s.Choices, " / "), p.stamp(due)))
	reminders := slices.Clone(s.RemindBefore)
	slices.SortFunc(reminders, func(a, b time.Duration) int { return int(b - a) })
	for i, before := range reminders {
		at := due.Add(-before)
		if !at.After(now) {
			continue
		}
		if done, err := p.waitUntil(ctx, at, fmt.Sprintf("Reminder %d for %q at %s", i+1, s.Name, p.stamp(at)), decided); err != nil || done {
			return p.settle(ctx, id, t, err)
		}
		if err := p.run(ctx, fmt.Sprintf("Remind the %s (%s) of %q", s.AssigneeRole, s.Assignee, s.Name),
			acts.RemindTask, activities.TaskMail{TaskID: id, Kind: fmt.Sprintf("reminder-%d", i+1), RecipientID: s.Assignee}); err != nil {
			return Decision{}, err
		}
	}
	if done, err := p.waitUntil(ctx, due, fmt.Sprintf("Deadline of %q at %s", s.Name, p.stamp(due)), decided); err != nil || done {
		return p.settle(ctx, id, t, err)
	}
	if s.EscalateTo != "" {
		t.deciders = append(t.deciders, s.EscalateTo)
		if err := p.run(ctx, fmt.Sprintf("Escalate %q to the %s (%s): the %s did not decide by %s", s.Name, s.EscalateToRole, s.EscalateTo, s.AssigneeRole, p.stamp(due)),
			acts.EscalateTask, activities.TaskMail{TaskID: id, Kind: "escalation", RecipientID: s.EscalateTo}); err != nil {
			return Decision{}, err
		}
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("Escalated: waiting for the %s (%s) or the %s (%s) to decide **%s** until %s.",
			s.AssigneeRole, s.Assignee, s.EscalateToRole, s.EscalateTo, s.Title.En, p.stamp(expires)))
		if done, err := p.waitUntil(ctx, expires, fmt.Sprintf("End of escalation of %q at %s", s.Name, p.stamp(expires)), decided); err != nil || done {
			return p.settle(ctx, id, t, err)
		}
	}
	// Nobody decided: the task expires and the process takes the step's timeout outcome.
	// It stops taking decisions before the register closes it.
	delete(p.tasks.open, id)
	if err := p.record(ctx, fmt.Sprintf("Close task %q as expired: nobody decided by %s", s.Name, p.stamp(expires)),
		acts.CloseTask, activities.TaskClosure{TaskID: id, Status: "expired"}); err != nil {
		return Decision{}, err
	}
	return Decision{DecideRequest: DecideRequest{TaskID: id}, Step: s.Name, TimedOut: true}, nil
}

// askAll runs steps side by side and returns their decisions in the steps' order.
func (p *process) askAll(ctx workflow.Context, steps ...Step) ([]Decision, error) {
	out := make([]Decision, len(steps))
	errs := make([]error, len(steps))
	wg := workflow.NewWaitGroup(ctx)
	for i, s := range steps {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			out[i], errs[i] = p.ask(ctx, s)
		})
	}
	wg.Wait(ctx)
	for _, err := range errs {
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// settle ends a wait that stopped early: a decision is recorded in the register, a
// cancellation closes the task.
func (p *process) settle(ctx workflow.Context, id string, t *openTask, err error) (Decision, error) {
	if err != nil {
		return Decision{}, err
	}
	if t.decision == nil { // cancelled
		delete(p.tasks.open, id)
		if err := p.record(ctx, fmt.Sprintf("Close task %q: the process was cancelled", t.step.Name),
			acts.CloseTask, activities.TaskClosure{TaskID: id, Status: "cancelled"}); err != nil {
			return Decision{}, err
		}
		return Decision{}, errCancelled
	}
	d := *t.decision
	if p.authority {
		return p.settleDecision(ctx, t, d)
	}
	rec := activities.DecisionRecord{
		TaskID: d.TaskID, ProcessID: p.id, Step: d.Step, Choice: d.Choice, DeciderID: d.DeciderID,
		RequestID: d.RequestID, DecidedAt: d.DecidedAt,
	}
	by := "the assignee"
	if d.DeciderID != t.step.Assignee {
		by = fmt.Sprintf("the %s on escalation", t.step.EscalateToRole)
	}
	if err := p.record(ctx, fmt.Sprintf("Record decision %q on %q by %s (%s)", d.Choice, d.Step, by, d.DeciderID),
		acts.RecordDecision, rec); err != nil {
		return Decision{}, err
	}
	return d, nil
}

// steering keeps the fields whose values travel with the decision.
func steering(form []activities.Field) []activities.Field {
	var out []activities.Field
	for _, f := range form {
		if f.Steers() {
			out = append(out, f)
		}
	}
	return out
}
