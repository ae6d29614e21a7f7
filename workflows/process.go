// Package workflows holds the five policy processes as Temporal workflows, one file each,
// and the human-task helper they share (task.go). Workflow code is deterministic: it takes
// its time from workflow.Now, keeps names and free text out of history (IDs only), and does
// every side effect through the activities package.
package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/policy"
)

// TaskQueue is the queue policyflow's worker polls.
const TaskQueue = "policyflow"

// UpdateCancel is the Workflow Update that cancels a process with a reason; its arguments
// stay in history, so the record says who cancelled and why.
const UpdateCancel = "cancel"

// Search attributes kept current on every process, so the CISO can find processes in the
// Temporal UI by process, stage and department. They never hold names or emails.
var (
	ProcessKind  = temporal.NewSearchAttributeKeyKeyword("PolicyProcess")
	ProcessStage = temporal.NewSearchAttributeKeyKeyword("PolicyStage")
	Department   = temporal.NewSearchAttributeKeyKeyword("Department")
)

// CancelRequest asks a running process to stop. The reason itself is kept in the register
// (it is free text); history records who cancelled.
type CancelRequest struct {
	By string
}

// Header is what every process's input starts with.
type Header struct {
	ProcessID  string
	Kind       string
	Department string
	// TimeZone is the town's zone for deadlines and business days (POLICYFLOW_TIMEZONE).
	TimeZone string
}

// Result is what a process returns when it ends.
type Result struct {
	Status string
	Stage  string
}

var (
	acts         *activities.Activities
	errCancelled = errors.New("process cancelled")
)

// process is the state every policy workflow shares: the register ID, the calendar, the open
// tasks and whether it was cancelled.
type process struct {
	id, kind, department string
	cal                  policy.Calendar
	tasks                *taskBook
	cancelled            *CancelRequest
	status, stage        string
	events               int
	// local is set for processes started since changeLocalRegister: their register
	// activities run as local activities (see record).
	local bool
	// authority is set for processes started since changeAuthority: their steps name posts,
	// resolved when a task opens; only the holder or a deputy the rules allow decides. rules
	// is the process's copy of the town's delegation rules, taken when it started; parties
	// are the people the case is about (the requester, the leaver), who decide none of its
	// post-held steps.
	authority bool
	rulesCopy workflow.Future
	rules     *policy.Delegation
	parties   []string
	// undeliverable is set for processes started since changeUndeliverable: a task whose
	// assignee's mail is refused for good escalates at once instead of waiting for its
	// deadline (askPost).
	undeliverable bool
	// scope, when set, goes into the IDs of the process's tasks after the process ID: the
	// child workflows of a self-inspection campaign (one per target) share the campaign's
	// register entry, and each numbers its steps on its own.
	scope string
}

// changeLocalRegister is the workflow.GetVersion change under which processes run their
// register activities as local activities and leave the search attributes given at start
// alone. Processes started before it replay as they ran.
const changeLocalRegister = "local-register"

// changeAuthority is the workflow.GetVersion change under which steps are assigned to posts
// resolved when they open, deputies decide only where the delegation rules allow (代決,
// with an after-the-fact review), the parties to a case decide none of its steps, and a
// change in the directory hands an open task over (issue 12). Processes started before it
// replay as they ran. Version 2 takes the copy of the delegation rules without waiting for it
// in begin (see there).
const changeAuthority = "authority"

// changeUndeliverable is the workflow.GetVersion change under which a mail refused for good
// (activities.ErrUndeliverable) is a fact the step handles: it escalates at once, and takes
// its timeout outcome at once when the escalation cannot be delivered either (issue 15).
// Processes started before it replay as they ran; their refused mails are given up.
const changeUndeliverable = "undeliverable"

// zone is the time zone a process runs in (its Header's, the Schedule's); a name the
// worker's time zone database does not know fails the workflow: no retry can mend it.
func zone(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("time zone %q: %v", name, err), activities.ErrBadInput, err)
	}
	return loc, nil
}

// begin sets up a process: its calendar, its Update handlers (decide, cancel) and its
// search attributes.
func begin(ctx workflow.Context, h Header) (*process, error) {
	loc, err := zone(h.TimeZone)
	if err != nil {
		return nil, err
	}
	p := &process{id: h.ProcessID, kind: h.Kind, department: h.Department, cal: policy.NewCalendar(loc), tasks: newTaskBook()}
	p.local = workflow.GetVersion(ctx, changeLocalRegister, workflow.DefaultVersion, 1) >= 1
	authority := workflow.GetVersion(ctx, changeAuthority, workflow.DefaultVersion, 2)
	p.authority = authority >= 1
	if p.authority {
		p.undeliverable = workflow.GetVersion(ctx, changeUndeliverable, workflow.DefaultVersion, 1) >= 1
	}
	p.tasks.stopped = func() bool { return p.cancelled != nil }
	if err := p.tasks.register(ctx); err != nil {
		return nil, err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancel,
		func(ctx workflow.Context, req CancelRequest) error {
			p.cancelled = &req
			return nil
		},
		workflow.UpdateHandlerOptions{
			Validator: func(ctx workflow.Context, req CancelRequest) error {
				if p.cancelled != nil {
					return temporal.NewApplicationError("already cancelled", "AlreadyCancelled")
				}
				if req.By == "" {
					return temporal.NewApplicationError("who cancels is required", "BadInput")
				}
				return nil
			},
			Description: "Cancel this process, with the reason recorded.",
		})
	if err != nil {
		return nil, err
	}
	if p.authority {
		p.tasks.listen(ctx)
		// The copy is taken now, when the process starts, but not waited for here: begin
		// must not block, so that the handlers a workflow registers after it (HR's move-date,
		// a cloud's termination) exist before an Update sent right after the start arrives.
		p.rulesCopy = p.exec(ctx, "Copy the town's delegation rules (代決) for "+h.Kind, acts.DelegationRules, h.Kind)
		if authority == 1 {
			// Version 1 waited for the copy here, which left an Update sent right after the
			// start without its handler; processes started so replay as they ran.
			if _, err := p.delegation(ctx); err != nil {
				return nil, err
			}
		}
	}
	return p, p.searchable(ctx, h)
}

// searchable makes sure the process can be found by kind and department. Whoever starts a
// process sets both (api.startProcess, the reconciliation Schedule, the incident started by
// an offboarding); since changeLocalRegister only what is missing or different is upserted,
// so a process started properly spends no event on it.
func (p *process) searchable(ctx workflow.Context, h Header) error {
	if !p.local {
		return workflow.UpsertTypedSearchAttributes(ctx, ProcessKind.ValueSet(h.Kind), Department.ValueSet(h.Department))
	}
	have := workflow.GetTypedSearchAttributes(ctx)
	var set []temporal.SearchAttributeUpdate
	if v, ok := have.GetKeyword(ProcessKind); !ok || v != h.Kind {
		set = append(set, ProcessKind.ValueSet(h.Kind))
	}
	if v, ok := have.GetKeyword(Department); !ok || v != h.Department {
		set = append(set, Department.ValueSet(h.Department))
	}
	if len(set) == 0 {
		return nil
	}
	return workflow.UpsertTypedSearchAttributes(ctx, set...)
}

// now is workflow time in the town's zone.
func (p *process) now(ctx workflow.Context) time.Time {
	return workflow.Now(ctx).In(p.cal.Loc)
}

// stamp formats an instant for summaries, in the town's zone.
func (p *process) stamp(t time.Time) string {
	return t.In(p.cal.Loc).Format("2006-01-02 15:04 MST")
}

// run executes one activity with a summary a CISO can read in the Temporal UI.
func (p *process) run(ctx workflow.Context, summary string, activity, arg any) error {
	return workflow.ExecuteActivity(withSummary(ctx, summary), activity, arg).Get(ctx, nil)
}

// call is one activity for runEach.
type call struct {
	summary       string
	activity, arg any
}

// runEach runs activities that do not depend on each other, such as mails to several people,
// and then calls then(i) for each in order once it has completed. Since changeLocalRegister
// they run side by side: the mails go out together instead of each waiting for the one
// before (completions that arrive together also share a workflow task); older processes
// ran them one after another.
func (p *process) runEach(ctx workflow.Context, calls []call, then func(i int) error) error {
	if then == nil {
		then = func(int) error { return nil }
	}
	if !p.local {
		for i, c := range calls {
			if err := p.run(ctx, c.summary, c.activity, c.arg); err != nil {
				return err
			}
			if err := then(i); err != nil {
				return err
			}
		}
		return nil
	}
	fs := make([]workflow.Future, len(calls))
	for i, c := range calls {
		fs[i] = workflow.ExecuteActivity(withSummary(ctx, c.summary), c.activity, c.arg)
	}
	for i, f := range fs {
		if err := f.Get(ctx, nil); err != nil {
			return err
		}
		if err := then(i); err != nil {
			return err
		}
	}
	return nil
}

// get is run for an activity with a result.
func get[T any](ctx workflow.Context, p *process, summary string, activity, arg any) (T, error) {
	var out T
	err := workflow.ExecuteActivity(withSummary(ctx, summary), activity, arg).Get(ctx, &out)
	return out, err
}

// record runs a register activity: one that only reads or writes policyflow's own database,
// briefly and idempotently (a stage, a decision, a look-up in the directory). Since
// changeLocalRegister it runs as a local activity, in the workflow task that asked for it:
// one MarkerRecorded event carrying the summary, instead of an activity's three events and
// the workflow task its completion schedules. A register outage retries it like any other
// activity (the SDK keeps the workflow task alive, then backs off on timers). Activities
// that mail stay ordinary activities: a mail server may be slow or down for hours.
func (p *process) record(ctx workflow.Context, summary string, activity, arg any) error {
	return p.exec(ctx, summary, activity, arg).Get(ctx, nil)
}

// lookup is record for a register activity with a result.
func lookup[T any](ctx workflow.Context, p *process, summary string, activity, arg any) (T, error) {
	var out T
	err := p.exec(ctx, summary, activity, arg).Get(ctx, &out)
	return out, err
}

func (p *process) exec(ctx workflow.Context, summary string, activity, arg any) workflow.Future {
	if !p.local {
		return workflow.ExecuteActivity(withSummary(ctx, summary), activity, arg)
	}
	return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		// A local activity's retries stop at its schedule-to-close timeout, which defaults
		// to the start-to-close one: without this a register outage longer than one
		// attempt would fail the process. Retried, like the ordinary activities, for as
		// long as a process may live.
		ScheduleToCloseTimeout: registerRetryLimit,
		StartToCloseTimeout:    10 * time.Second,
		RetryPolicy:            retryPolicy(),
		Summary:                summary,
	}), activity, arg)
}

// withSummary sets the options every policyflow activity runs with: retries until success,
// backing off to a minute (an outage of the database or the mail server only delays), bad
// input failing for good, and the summary shown in the Temporal UI.
func withSummary(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         retryPolicy(),
		Summary:             summary,
	})
}

// registerRetryLimit is how long a register activity run as a local activity is retried:
// ten years, the register's own retention, so that in practice it is retried until the
// database is back.
const registerRetryLimit = 10 * 365 * 24 * time.Hour

// retryPolicy retries until success, backing off to a minute; bad input fails for good.
func retryPolicy() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		NonRetryableErrorTypes: []string{activities.ErrBadInput},
	}
}

// waitUntil waits, on a timer with a summary, until at or until done() holds. It reports
// whether done() held; a cancellation also ends the wait (p.cancelled is then set).
func (p *process) waitUntil(ctx workflow.Context, at time.Time, summary string, done func() bool) (bool, error) {
	d := at.Sub(workflow.Now(ctx))
	if d <= 0 {
		return done(), nil
	}
	if !p.local {
		return workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: d, TimerOptions: workflow.TimerOptions{Summary: summary}}, done)
	}
	// Since changeLocalRegister the timer is cancelled when done() holds first: the history
	// then says the reminder or deadline was called off (TimerCanceled), instead of the timer
	// firing later into a workflow task that does nothing. (AwaitWithOptions cancels its timer
	// only under an SDK flag that is off by default.)
	tctx, cancel := workflow.WithCancel(ctx)
	timer := workflow.NewTimerWithOptions(tctx, d, workflow.TimerOptions{Summary: summary})
	if err := workflow.Await(ctx, func() bool { return done() || timer.IsReady() }); err != nil {
		cancel()
		return false, err
	}
	if ok := done(); ok || !timer.IsReady() {
		cancel()
		return ok, nil
	}
	return false, nil
}

// sleepUntil waits until at unless the process is cancelled first (errCancelled).
func (p *process) sleepUntil(ctx workflow.Context, at time.Time, summary string) error {
	if _, err := p.waitUntil(ctx, at, summary, func() bool { return p.cancelled != nil }); err != nil {
		return err
	}
	if p.cancelled != nil {
		return errCancelled
	}
	return nil
}

// setStage moves the process to a new status and stage: in the register (with a timeline
// entry and a note), in the PolicyStage search attribute, and in the UI's details.
func (p *process) setStage(ctx workflow.Context, status, stage, note string) error {
	p.status, p.stage = status, stage
	p.events++
	if err := workflow.UpsertTypedSearchAttributes(ctx, ProcessStage.ValueSet(stage)); err != nil {
		return err
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Status **%s**, stage **%s**: %s", status, stage, note))
	return p.record(ctx, fmt.Sprintf("Register: %s / %s — %s", status, stage, note), acts.RecordStage,
		activities.StageChange{ProcessID: p.id, Seq: p.events, Status: status, Stage: stage, Note: note})
}

// finish ends the process with a final status, closing its register entry.
func (p *process) finish(ctx workflow.Context, status, note string) (Result, error) {
	p.status, p.stage = status, "closed"
	p.events++
	if err := workflow.UpsertTypedSearchAttributes(ctx, ProcessStage.ValueSet("closed")); err != nil {
		return Result{}, err
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Closed: **%s**. %s", status, note))
	err := p.record(ctx, fmt.Sprintf("Register: closed as %s — %s", status, note), acts.RecordStage,
		activities.StageChange{ProcessID: p.id, Seq: p.events, Status: status, Stage: "closed", Note: note, Final: true})
	return Result{Status: status, Stage: "closed"}, err
}

// end turns errCancelled into the cancelled outcome; other errors fail the workflow.
func (p *process) end(ctx workflow.Context, err error) (Result, error) {
	if errors.Is(err, errCancelled) {
		// The cancellation must be recorded even if the workflow's context was cancelled.
		ctx, _ := workflow.NewDisconnectedContext(ctx)
		return p.finish(ctx, "cancelled", "cancelled by "+p.cancelled.By+" (reason in the register)")
	}
	return Result{}, err
}
