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
}

// begin sets up a process: its calendar, its Update handlers (decide, cancel) and its
// search attributes.
func begin(ctx workflow.Context, h Header) (*process, error) {
	loc, err := time.LoadLocation(h.TimeZone)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("time zone %q: %v", h.TimeZone, err), "BadInput", err)
	}
	p := &process{id: h.ProcessID, kind: h.Kind, department: h.Department, cal: policy.NewCalendar(loc), tasks: newTaskBook()}
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
	return p, workflow.UpsertTypedSearchAttributes(ctx, ProcessKind.ValueSet(h.Kind), Department.ValueSet(h.Department))
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

// get is run for an activity with a result.
func get[T any](ctx workflow.Context, p *process, summary string, activity, arg any) (T, error) {
	var out T
	err := workflow.ExecuteActivity(withSummary(ctx, summary), activity, arg).Get(ctx, &out)
	return out, err
}

// withSummary sets the options every policyflow activity runs with: retries until success,
// backing off to a minute (an outage of the database or the mail server only delays), bad
// input failing for good, and the summary shown in the Temporal UI.
func withSummary(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrBadInput},
		},
		Summary: summary,
	})
}

// waitUntil waits, on a timer with a summary, until at or until done() holds. It reports
// whether done() held; a cancellation also ends the wait (p.cancelled is then set).
func (p *process) waitUntil(ctx workflow.Context, at time.Time, summary string, done func() bool) (bool, error) {
	d := at.Sub(workflow.Now(ctx))
	if d <= 0 {
		return done(), nil
	}
	return workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: d, TimerOptions: workflow.TimerOptions{Summary: summary}}, done)
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
	return p.run(ctx, fmt.Sprintf("Register: %s / %s — %s", status, stage, note), acts.RecordStage,
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
	err := p.run(ctx, fmt.Sprintf("Register: closed as %s — %s", status, note), acts.RecordStage,
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
