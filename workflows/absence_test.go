package workflows_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/policyflow/policyflow/workflows"
)

// signalled is one Reassess signal a workflow sent, with when (workflow time, Tokyo).
type signalled struct {
	to  string
	arg workflows.Reassess
	at  time.Time
}

// handovers fakes the register's open tasks and records the reassess signals sent.
type handovers struct {
	env *testsuite.TestWorkflowEnvironment
	// open is what OpenTaskWorkflows answers for a person.
	open func(person string) []string
	// gone are workflows that have ended: signalling them fails as on the server.
	gone []string

	mu      sync.Mutex
	lookups []string
	sent    []signalled
}

// watchHandOvers installs the fake look-up and the signal mock on env.
func watchHandOvers(env *testsuite.TestWorkflowEnvironment, open func(string) []string) *handovers {
	h := &handovers{env: env, open: open}
	env.RegisterActivityWithOptions(func(_ context.Context, person string) ([]string, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.lookups = append(h.lookups, person)
		return h.open(person), nil
	}, activity.RegisterOptions{Name: "OpenTaskWorkflows"})
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", workflows.SignalReassess, mock.Anything).Return(
		func(_, workflowID, _, _ string, arg any) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			if slices.Contains(h.gone, workflowID) {
				return &temporal.UnknownExternalWorkflowExecutionError{}
			}
			h.sent = append(h.sent, signalled{workflowID, arg.(workflows.Reassess), env.Now().In(tokyo)})
			return nil
		})
	return h
}

// by lists the signals sent, as "workflow why@time".
func (h *handovers) by() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, s := range h.sent {
		out = append(out, s.to+" "+s.arg.PersonID+" "+s.arg.Why+"@"+s.at.Format("01-02 15:04"))
	}
	// Signals sent side by side reach the mock in no fixed order.
	slices.SortStableFunc(out, func(a, b string) int {
		_, ta, _ := strings.Cut(a, "@")
		_, tb, _ := strings.Cut(b, "@")
		return strings.Compare(ta, tb)
	})
	for i := 0; i < len(out); {
		j := i
		for j < len(out) && strings.SplitN(out[j], "@", 2)[1] == strings.SplitN(out[i], "@", 2)[1] {
			j++
		}
		slices.Sort(out[i:j])
		i = j
	}
	return out
}

func newAbsenceEnv(start time.Time) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.RegisterWorkflow(workflows.AbsenceWorkflow)
	return env
}

// The CISO C1 is away during Golden Week, 2 to 6 May. The two processes with a task of C1's
// open on 2 May are told at the start; an ended one is skipped; the ones open at the end are
// told it ended.
func TestAbsenceHandsOverAtItsStartAndTellsItsEnd(t *testing.T) {
	env := newAbsenceEnv(jst("2026-04-27 09:00"))
	h := watchHandOvers(env, func(person string) []string {
		if env.Now().Before(jst("2026-05-07 00:00")) {
			return []string{"EXC-1", "INC-2", "OFB-3"}
		}
		return []string{"DEP-4"} // a task held for C1 by a deputy
	})
	h.gone = []string{"OFB-3"}
	env.ExecuteWorkflow(workflows.AbsenceWorkflow, workflows.AbsenceInput{
		AbsenceID: 7, EmployeeID: "C1", From: jst("2026-05-02 00:00"), To: jst("2026-05-07 00:00")})
	if !env.IsWorkflowCompleted() {
		t.Fatal("the absence workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("the absence workflow failed: %v", err)
	}
	want := []string{
		"EXC-1 C1 absence@05-02 00:00", "INC-2 C1 absence@05-02 00:00",
		"DEP-4 C1 absence_ended@05-07 00:00",
	}
	if got := h.by(); !slices.Equal(got, want) {
		t.Errorf("signals\n got %v\nwant %v", got, want)
	}
	if !slices.Equal(h.lookups, []string{"C1", "C1"}) {
		t.Errorf("look-ups %v, want one at the start and one at the end", h.lookups)
	}
	equal(t, "ended at", env.Now().In(tokyo), jst("2026-05-07 00:00"))
}

// An absence registered after it started hands over at once.
func TestAbsenceRegisteredLateHandsOverAtOnce(t *testing.T) {
	env := newAbsenceEnv(jst("2026-04-28 10:30"))
	h := watchHandOvers(env, func(string) []string { return []string{"EXC-1"} })
	env.ExecuteWorkflow(workflows.AbsenceWorkflow, workflows.AbsenceInput{
		AbsenceID: 8, EmployeeID: "D1", From: jst("2026-04-28 00:00"), To: jst("2026-04-29 00:00")})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("the absence workflow failed: %v", err)
	}
	want := []string{"EXC-1 D1 absence@04-28 10:30", "EXC-1 D1 absence_ended@04-29 00:00"}
	if got := h.by(); !slices.Equal(got, want) {
		t.Errorf("signals\n got %v\nwant %v", got, want)
	}
}

// Withdrawn before it starts, the absence tells nobody anything.
func TestAbsenceWithdrawnBeforeItStartsTellsNobody(t *testing.T) {
	env := newAbsenceEnv(jst("2026-04-27 09:00"))
	h := watchHandOvers(env, func(string) []string { return []string{"EXC-1"} })
	env.RegisterDelayedCallback(env.CancelWorkflow, 24*time.Hour)
	env.ExecuteWorkflow(workflows.AbsenceWorkflow, workflows.AbsenceInput{
		AbsenceID: 9, EmployeeID: "C1", From: jst("2026-05-02 00:00"), To: jst("2026-05-07 00:00")})
	if !env.IsWorkflowCompleted() {
		t.Fatal("the absence workflow did not end")
	}
	if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Errorf("the workflow ended with %v, want it cancelled", err)
	}
	if got := h.by(); len(got) != 0 || len(h.lookups) != 0 {
		t.Errorf("a withdrawn absence sent %v (look-ups %v)", got, h.lookups)
	}
	equal(t, "ended at", env.Now().In(tokyo), jst("2026-04-28 09:00"))
}

// Withdrawn while in force, the absence tells the processes at once that it ended.
func TestAbsenceWithdrawnWhileInForceTellsItEnded(t *testing.T) {
	env := newAbsenceEnv(jst("2026-04-27 09:00"))
	h := watchHandOvers(env, func(string) []string { return []string{"EXC-1"} })
	env.RegisterDelayedCallback(env.CancelWorkflow, jst("2026-05-03 12:00").Sub(jst("2026-04-27 09:00")))
	env.ExecuteWorkflow(workflows.AbsenceWorkflow, workflows.AbsenceInput{
		AbsenceID: 10, EmployeeID: "C1", From: jst("2026-05-02 00:00"), To: jst("2026-05-07 00:00")})
	if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Errorf("the workflow ended with %v, want it cancelled", err)
	}
	want := []string{"EXC-1 C1 absence@05-02 00:00", "EXC-1 C1 absence_ended@05-03 12:00"}
	if got := h.by(); !slices.Equal(got, want) {
		t.Errorf("signals\n got %v\nwant %v", got, want)
	}
}

// An absence without a person or with its end before its start is refused for good.
func TestAbsenceWorkflowRefusesBadInput(t *testing.T) {
	env := newAbsenceEnv(jst("2026-04-27 09:00"))
	watchHandOvers(env, func(string) []string { return nil })
	env.ExecuteWorkflow(workflows.AbsenceWorkflow, workflows.AbsenceInput{
		AbsenceID: 11, EmployeeID: "C1", From: jst("2026-05-02 00:00"), To: jst("2026-05-01 00:00")})
	var app *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &app) || app.Type() != "BadInput" {
		t.Errorf("got %v, want a BadInput error", err)
	}
}
