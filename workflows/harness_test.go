package workflows_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/proof"
	"github.com/policyflow/policyflow/workflows"
)

// testKeys sign the tests' decisions as the API does, and the workflows verify them as the
// worker does (workflows.UseDecisionVerifier).
var testKeys = func() *proof.Keyring {
	r, err := proof.Generate("test")
	if err != nil {
		panic(err)
	}
	return r
}()

func init() {
	workflows.UseDecisionVerifier(testKeys)
	workflows.SignForTest = signed
}

// signed is req with the API's proof.
func signed(req workflows.DecideRequest) workflows.DecideRequest {
	req.Proof = testKeys.Sign(req)
	return req
}

// tokyo is the town's zone; tests start on Monday 27 April 2026, just before Golden Week.
var tokyo, _ = time.LoadLocation("Asia/Tokyo")

func jst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, tokyo)
	if err != nil {
		panic(err)
	}
	return t
}

// register is a fake of the activities: it records what the workflow asked for, and when
// in workflow time, so a test can assert on the course of a process.
type register struct {
	t      *testing.T
	env    *testsuite.TestWorkflowEnvironment
	roster activities.Roster

	mu        sync.Mutex
	opened    []opened
	mails     []mailed
	closed    map[string]string
	decisions []activities.DecisionRecord
	stages    []activities.StageChange
	notices   []mailed
	// revisions are the resubmitted requests the workflow asked the register to keep.
	revisions []activities.RevisionRecord
	// params are the notices' parameters by their key.
	params map[string]map[string]string
	// dir is the directory the real AssignTask reads (posts and absences); handovers and
	// notes are what the authority rules wrote to the register.
	dir       *fakeDirectory
	acts      *activities.Activities
	handovers []activities.Handover
	notes     []string
	// refused are the people whose mail server refuses their address for good: a mail to
	// them that asks for it fails with activities.ErrUndeliverable.
	refused map[string]bool
	// registerDownUntil makes the register's RecordStage fail, as a database outage would,
	// until this workflow time.
	registerDownUntil time.Time
	// timings are the town's deadlines and periods the worker has loaded (POLICYFLOW_TIMINGS);
	// nil means the embedded default. A test changes them to load another file.
	timings *policy.Timings
	// timingsNotes are the timeline's notes of the timings version a process runs under, kept
	// apart from the authority rules' notes.
	timingsNotes []string
}

type opened struct {
	spec activities.TaskSpec
	at   time.Time
}

type mailed struct {
	kind, task, to string
	at             time.Time
}

const wfID = "EXC-TEST"

func newRegister(t *testing.T, start time.Time) *register {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: wfID})
	r := &register{t: t, env: env, closed: map[string]string{}, params: map[string]map[string]string{}, refused: map[string]bool{},
		roster: activities.Roster{CISO: "C1", GISO: "G1", DISO: "D1", ISMs: []string{"I1", "I2"},
			Managers: map[string]string{"S1": "I1", "S2": "I2", "SYS1": "I1"}},
		dir: newFakeDirectory()}
	env.RegisterWorkflow(workflows.ExceptionWorkflow)
	reg := func(name string, fn any) { env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name}) }
	// The authority rules run for real, on a fake directory.
	real := &activities.Activities{Dir: r.dir, Loc: tokyo}
	r.acts = real
	reg("DelegationRules", real.DelegationRules)
	// The town's timings as the worker gives them: r.timings, nil being the embedded default.
	reg("CurrentTimings", func(ctx context.Context, kind string) (policy.Timings, error) {
		var town activities.Activities
		r.lock(func() { town.Timings = r.timings })
		return town.CurrentTimings(ctx, kind)
	})
	reg("AssignTask", func(ctx context.Context, a activities.AssignRequest) (activities.Assignment, error) {
		r.dir.mu.Lock()
		defer r.dir.mu.Unlock()
		return real.AssignTask(ctx, a)
	})
	reg("HandOverTask", func(_ context.Context, h activities.Handover) error {
		r.lock(func() { r.handovers = append(r.handovers, h) })
		return nil
	})
	reg("NoteTimeline", func(_ context.Context, n activities.TimelineNote) error {
		r.lock(func() {
			if strings.HasSuffix(n.Key, "/timings") {
				r.timingsNotes = append(r.timingsNotes, n.Note)
				return
			}
			r.notes = append(r.notes, n.Note)
		})
		return nil
	})
	reg("SendAuthorityNotice", func(_ context.Context, n activities.AuthorityNotice) error {
		if err := r.refuse(n.RecipientID, n.FailUndeliverable); err != nil {
			return err
		}
		r.lock(func() { r.notices = append(r.notices, mailed{n.Kind, n.TaskID, n.RecipientID, env.Now().In(tokyo)}) })
		return nil
	})
	reg("ResolveRoster", func(context.Context, activities.RosterRequest) (activities.Roster, error) { return r.roster, nil })
	reg("RecordStage", func(_ context.Context, c activities.StageChange) error {
		if env.Now().Before(r.registerDownUntil) {
			return errors.New("dial tcp 127.0.0.1:3306: connect: connection refused")
		}
		r.lock(func() { r.stages = append(r.stages, c) })
		return nil
	})
	reg("OpenTask", func(_ context.Context, s activities.TaskSpec) error {
		// The task row is written before the mail, as the real activity does.
		r.lock(func() { r.opened = append(r.opened, opened{s, env.Now().In(tokyo)}) })
		return r.refuse(s.AssigneeID, s.FailUndeliverable)
	})
	reg("RemindTask", func(_ context.Context, m activities.TaskMail) error {
		if err := r.refuse(m.RecipientID, m.FailUndeliverable); err != nil {
			return err
		}
		r.lock(func() { r.mails = append(r.mails, mailed{m.Kind, m.TaskID, m.RecipientID, env.Now().In(tokyo)}) })
		return nil
	})
	reg("EscalateTask", func(_ context.Context, m activities.TaskMail) error {
		if err := r.refuse(m.RecipientID, m.FailUndeliverable); err != nil {
			return err
		}
		r.lock(func() { r.mails = append(r.mails, mailed{m.Kind, m.TaskID, m.RecipientID, env.Now().In(tokyo)}) })
		return nil
	})
	reg("CloseTask", func(_ context.Context, c activities.TaskClosure) error {
		r.lock(func() { r.closed[c.TaskID] = c.Status })
		return nil
	})
	reg("RecordDecision", func(_ context.Context, d activities.DecisionRecord) error {
		r.lock(func() { r.decisions = append(r.decisions, d) })
		return nil
	})
	reg("RecordRevision", func(_ context.Context, v activities.RevisionRecord) error {
		r.lock(func() { r.revisions = append(r.revisions, v) })
		return nil
	})
	reg("SendNotice", func(_ context.Context, n activities.Notice) error {
		r.lock(func() {
			r.notices = append(r.notices, mailed{n.Kind, n.Key, n.RecipientID, env.Now().In(tokyo)})
			r.params[n.Key] = n.Params
		})
		return nil
	})
	return r
}

// refuse is the mail server's answer for a mail to id: a permanent refusal for the people in
// r.refused, failing the activity when the workflow asked (fail), else given up.
func (r *register) refuse(id string, fail bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.refused[id] {
		return nil
	}
	r.notes = append(r.notes, "mail to "+id+" could not be delivered")
	if !fail {
		return nil
	}
	return temporal.NewNonRetryableApplicationError("mail could not be delivered: permanent refusal (550 5.1.1)", activities.ErrUndeliverable, nil)
}

func (r *register) lock(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
}

// decideAt sends a decision on a task at a workflow time, as the API would, and records
// whether the workflow accepted it. The API uses the task ID as the update ID; the test
// environment (unlike the server) also remembers rejected update IDs, so each probe here gets
// its own.
func (r *register) decideAt(at time.Time, task, choice, by string) *updateResult {
	return r.decideWith(at, task, choice, by, nil)
}

// decideWith is decideAt with the form's select and date values, as the API sends them.
func (r *register) decideWith(at time.Time, task, choice, by string, values map[string]string) *updateResult {
	res := &updateResult{}
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(workflows.UpdateDecide, task+"|"+by+"|"+choice, &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { res.rejected = err },
			OnAccept:   func() { res.accepted = true },
			OnComplete: func(v any, err error) { res.value, res.err = v, err },
		}, signed(workflows.DecideRequest{TaskID: task, Choice: choice, DeciderID: by, Values: values, RequestID: "req-" + task + "-" + by, DecidedAt: at.UTC()}))
	}, at.Sub(r.env.Now()))
	return res
}

type updateResult struct {
	accepted bool
	rejected error
	value    any
	err      error
}

// run starts the exception workflow and returns its result.
func (r *register) run(in workflows.ExceptionInput) workflows.Result {
	r.t.Helper()
	in.Header = workflows.Header{ProcessID: wfID, Kind: "exception", Department: "residents", TimeZone: "Asia/Tokyo"}
	r.env.ExecuteWorkflow(workflows.ExceptionWorkflow, in)
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

func (r *register) stageNames() []string {
	var out []string
	for _, s := range r.stages {
		out = append(out, s.Status+"/"+s.Stage)
	}
	return out
}

func (r *register) taskIDs() []string {
	var out []string
	for _, o := range r.opened {
		out = append(out, o.spec.ID+"@"+o.spec.AssigneeID)
	}
	return out
}

// fakeDirectory is the directory as AssignTask reads it: who holds which post, who is absent.
// By default the CISO is C1, the GISO G1, every department's officer D1, and the systems
// S1/SYS1 and S2 are managed by I1 and I2. A test changes it to move a post or register an
// absence (callers outside the workflow lock mu).
type fakeDirectory struct {
	mu       sync.Mutex
	holders  map[string]string // "role/scope" or "role" → employee ID
	absences map[string]models.Absence
}

func newFakeDirectory() *fakeDirectory {
	return &fakeDirectory{
		holders:  map[string]string{"ciso": "C1", "giso": "G1", "diso": "D1", "ism/S1": "I1", "ism/SYS1": "I1", "ism/S2": "I2"},
		absences: map[string]models.Absence{},
	}
}

func (d *fakeDirectory) set(post, id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if id == "" {
		delete(d.holders, post)
		return
	}
	d.holders[post] = id
}

func (d *fakeDirectory) absent(id string, from, to time.Time, deputy string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.absences[id] = models.Absence{EmployeeID: id, From: from, To: to, DeputyID: deputy}
}

func (d *fakeDirectory) PostHolder(_ context.Context, role, scope string) (string, error) {
	if id, ok := d.holders[role+"/"+scope]; ok {
		return id, nil
	}
	if id, ok := d.holders[role]; ok && role != "ism" {
		return id, nil
	}
	return "", models.ErrNotFound
}

func (d *fakeDirectory) HoldsPost(ctx context.Context, personID, role, scope string) (bool, error) {
	id, err := d.PostHolder(ctx, role, scope)
	return err == nil && id == personID, nil
}

func (d *fakeDirectory) AbsenceAt(_ context.Context, id string, t time.Time) (models.Absence, error) {
	if a, ok := d.absences[id]; ok && !t.Before(a.From) && t.Before(a.To) {
		return a, nil
	}
	return models.Absence{}, models.ErrNotFound
}
