package workflows

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// KindAbsence is the PolicyProcess search attribute of an absence's workflow. An absence is
// not a policy process of its own (it has no register entry), but the CISO finds its
// workflow in the Temporal UI beside the processes it touches.
const KindAbsence = "absence"

// Why codes of the Reassess signals sent for absences and leavers.
const (
	ReassessAbsence      = "absence"
	ReassessAbsenceEnded = "absence_ended"
	ReassessOffboarding  = "offboarding"
	ReassessDirectory    = "directory"
)

// AbsenceWorkflowID is the workflow ID of the absence with this register ID.
func AbsenceWorkflowID(absenceID uint) string {
	return "absence-" + strconv.FormatUint(uint64(absenceID), 10)
}

// AbsenceInput is a registered absence (models.Absence) by ID: whose, from when, until when
// (exclusive). The deputy and the reason stay in the register.
type AbsenceInput struct {
	AbsenceID  uint
	EmployeeID string
	From, To   time.Time
}

// AbsenceWorkflow hands a person's open tasks over when their registered absence starts
// (issue 12, item 4). Tasks that open during the absence go to a deputy by themselves (the
// task engine reads the register's absences); this workflow is for the tasks already open.
//
//  1. It waits until From (at once if From has passed).
//  2. It tells every process with an open task of the person's (HandOver, Why "absence"):
//     each resolves the task's post again and hands the task to a deputy where one may stand
//     in.
//  3. It waits until To and tells the same kind of processes again (Why "absence_ended"), so
//     the record can note the holder's return; tasks are not taken back.
//
// Withdrawing the absence (DELETE …/absences/{id}) cancels the workflow. Withdrawn before it
// started, nothing was sent; withdrawn while in force, the processes are told it ended.
func AbsenceWorkflow(ctx workflow.Context, in AbsenceInput) error {
	if in.EmployeeID == "" || !in.To.After(in.From) {
		return temporal.NewNonRetryableApplicationError("an absence needs a person and a To after its From", "BadInput", nil)
	}
	log := workflow.GetLogger(ctx)
	name := fmt.Sprintf("absence %d of %s", in.AbsenceID, in.EmployeeID)
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Waits for the start of %s at %s.", name, stampOf(in.From)))
	if err := sleepTo(ctx, in.From, "Wait until "+name+" starts, "+stampOf(in.From)); err != nil {
		if temporal.IsCanceledError(err) {
			log.Info("absence withdrawn before it started", "absence", in.AbsenceID)
		}
		return err
	}
	if err := HandOver(ctx, in.EmployeeID, ReassessAbsence); err != nil {
		return err
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("In force; waits for the end of %s at %s.", name, stampOf(in.To)))
	err := sleepTo(ctx, in.To, "Wait until "+name+" ends, "+stampOf(in.To))
	if err != nil && !temporal.IsCanceledError(err) {
		return err
	}
	// Ended, or withdrawn while in force: either way the person is back. A withdrawal
	// cancelled ctx, so the processes are told on a context of their own.
	tell := ctx
	if err != nil {
		log.Info("absence withdrawn while in force", "absence", in.AbsenceID)
		tell, _ = workflow.NewDisconnectedContext(ctx)
	}
	if herr := HandOver(tell, in.EmployeeID, ReassessAbsenceEnded); herr != nil {
		return herr
	}
	workflow.SetCurrentDetails(ctx, "Ended: "+name+".")
	return err
}

// sleepTo waits on a timer with a summary until at; a time already past returns at once.
func sleepTo(ctx workflow.Context, at time.Time, summary string) error {
	d := at.Sub(workflow.Now(ctx))
	if d <= 0 {
		return ctx.Err()
	}
	return workflow.NewTimerWithOptions(ctx, d, workflow.TimerOptions{Summary: summary}).Get(ctx, nil)
}

// stampOf formats an instant for summaries with the offset it was given in (the API gives
// the town's zone).
func stampOf(t time.Time) string { return t.Format("2006-01-02 15:04 -07:00") }

// HandOver tells every process with an open task of the person's (assigned or escalated to
// them, or held for them by a deputy) that the directory changed for them, with the reason
// why ("absence", "absence_ended", "offboarding"): workflows.SignalReassess. Each process
// resolves the task's post again and hands it over if someone else should now decide. A
// process that ended meanwhile is skipped. The look-up runs as a local activity; the
// signals go out side by side.
func HandOver(ctx workflow.Context, personID, why string) error {
	var ids []string
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		// As the processes' register activities (process.exec): retried until the
		// database answers, for as long as a process may live.
		ScheduleToCloseTimeout: registerRetryLimit,
		StartToCloseTimeout:    10 * time.Second,
		RetryPolicy:            retryPolicy(),
		Summary:                "Find the processes with an open task of " + personID,
	})
	if err := workflow.ExecuteLocalActivity(lctx, acts.OpenTaskWorkflows, personID).Get(ctx, &ids); err != nil {
		return fmt.Errorf("find the open tasks of %s: %w", personID, err)
	}
	fs := make([]workflow.Future, len(ids))
	for i, id := range ids {
		fs[i] = workflow.SignalExternalWorkflow(ctx, id, "", SignalReassess, Reassess{PersonID: personID, Why: why})
	}
	log := workflow.GetLogger(ctx)
	for i, f := range fs {
		err := f.Get(ctx, nil)
		var gone *temporal.UnknownExternalWorkflowExecutionError
		switch {
		case errors.As(err, &gone):
			log.Info("process ended before it was told", "workflow", ids[i], "person", personID, "why", why)
		case err != nil:
			return fmt.Errorf("tell %s that %s changed (%s): %w", ids[i], personID, why, err)
		}
	}
	return nil
}
