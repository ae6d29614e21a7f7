package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/api"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/proof"
	"github.com/policyflow/policyflow/workflows"
)

// Anything that reaches the Temporal frontend can send the decide Update. Without the API's
// proof it is refused, whoever it names, and leaves no trace; the link still decides
// afterwards (issue 12, item 7).
func TestDecideStraightToTemporalIsRefused(t *testing.T) {
	t.Parallel()
	s := sys(t)
	o := s.newOpenTask(t)
	other := s.newOpenTask(t)
	before, history := s.snapshot(t, o.ProcessID), s.historyLength(t, o.ProcessID)

	foreign, err := proof.Generate("current") // the API's key ID, another key
	if err != nil {
		t.Fatal(err)
	}
	req := func(decider string) workflows.DecideRequest {
		return workflows.DecideRequest{TaskID: o.Task.ID, Choice: "approve", DeciderID: decider,
			RequestID: "forged-" + decider, DecidedAt: time.Now().UTC()}
	}
	madeUp := req("X-nobody")
	madeUp.Proof = "current.AAAA"
	ciso := req(sharedCISO)
	anotherTask := req(sharedCISO)
	anotherTask.TaskID = other.Task.ID
	anotherTask.Proof = s.Keys.Sign(anotherTask)
	anotherTask.TaskID = o.Task.ID
	foreignKey := req(sharedCISO)
	foreignKey.Proof = foreign.Sign(foreignKey)
	unknownKey := req(sharedCISO)
	unknownKey.Proof = "retired." + s.Keys.Sign(unknownKey)[len("current."):]
	otherChoice := req(sharedCISO)
	otherChoice.Proof = s.Keys.Sign(otherChoice)
	otherChoice.Choice = "reject"

	for _, c := range []struct {
		name string
		req  workflows.DecideRequest
		want string
	}{
		{"a made-up decider", madeUp, "NotAssignee"},
		{"the assignee, without a proof", ciso, "NotFromAPI"},
		{"a proof for another task", anotherTask, "NotFromAPI"},
		{"a proof made with another key under the API's key ID", foreignKey, "NotFromAPI"},
		{"a proof naming a key not in the ring", unknownKey, "NotFromAPI"},
		{"a proof for another choice", otherChoice, "NotFromAPI"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		// The update ID is the task's, as the API's would be: a refusal must not claim it.
		h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			UpdateID: o.Task.ID, WorkflowID: o.Task.WorkflowID, UpdateName: workflows.UpdateDecide,
			Args: []any{c.req}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		cancel()
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.Type() != c.want {
			t.Errorf("%s: the Update answered %v, want a %s refusal", c.name, err, c.want)
		}
	}

	if after := s.snapshot(t, o.ProcessID); after != before {
		t.Errorf("refused Updates changed the register:\nbefore %s\nafter %s", before, after)
	}
	if h := s.historyLength(t, o.ProcessID); h != history {
		t.Errorf("refused Updates changed the workflow's history: %d events, then %d", history, h)
	}
	if n := s.countRows(t, &models.Decision{}, "task_id = ?", o.Task.ID); n != 0 {
		t.Errorf("%d decisions recorded", n)
	}

	// The link decides as before.
	if r := post(t, o.Link, decision("reject", "through the API"), true); r.Status != http.StatusOK {
		t.Fatalf("POST through the API after the refused Updates: %s", r)
	}
	s.waitIdle(t, o.ProcessID)
	d := s.process(t, o.ProcessID)
	if len(d.Decisions) != 1 || d.Decisions[0].Decision != "reject" || d.Decisions[0].DeciderID != sharedCISO {
		t.Errorf("decisions %+v, want the CISO's rejection only", d.Decisions)
	}
	if accepted, _ := s.historyCounts(t, o.ProcessID); accepted != 1 {
		t.Errorf("%d decide Updates accepted, want 1", accepted)
	}
}

// Keys rotate: an API still signing with the previous key (a rolling deploy) is believed by
// a worker that holds it; one signing with a key the worker lacks records nothing and tells
// the person to try again, and the link still works.
func TestDecisionKeyRotation(t *testing.T) {
	t.Parallel()
	s := sys(t)
	withKeys := func(keys *proof.Keyring) string {
		srv := &api.Server{Store: s.Store, Temporal: s.Temporal, Loc: tokyo, TimeZone: "Asia/Tokyo",
			Log: s.API.Log, UpdateTimeout: 5 * time.Second, DecisionKeys: keys}
		h := httptest.NewServer(srv.Handler())
		t.Cleanup(h.Close)
		return h.URL
	}
	relink := func(link, base string) string { return base + link[len(s.URL):] }

	// The previous key, still in the worker's ring.
	o := s.newOpenTask(t)
	if r := post(t, relink(o.Link, withKeys(s.PreviousKeys)), decision("approve", "signed with the previous key"), true); r.Status != http.StatusOK {
		t.Errorf("a decision signed with the rotated-out key still in the ring: %s", r)
	}
	s.waitIdle(t, o.ProcessID)
	if d := s.process(t, o.ProcessID); len(d.Decisions) != 1 || d.Decisions[0].Decision != "approve" {
		t.Errorf("decisions %+v, want the approval", d.Decisions)
	}

	// A key the worker does not hold.
	unknown, err := proof.Generate("next")
	if err != nil {
		t.Fatal(err)
	}
	o = s.newOpenTask(t)
	history := s.historyLength(t, o.ProcessID)
	e := post(t, relink(o.Link, withKeys(unknown)), decision("approve", "signed with an unknown key"), true).
		wantError(t, http.StatusServiceUnavailable, "unavailable")
	if !strings.Contains(e.Message, "try again") {
		t.Errorf("message %q does not say to try again", e.Message)
	}
	if h := s.historyLength(t, o.ProcessID); h != history {
		t.Errorf("a decision under an unknown key changed the workflow's history: %d events, then %d", history, h)
	}
	if n := s.countRows(t, &models.Decision{}, "task_id = ?", o.Task.ID); n != 0 {
		t.Errorf("%d decisions recorded under an unknown key", n)
	}
	if r := post(t, o.Link, decision("reject", "through the right API"), true); r.Status != http.StatusOK {
		t.Errorf("the link after a refusal for an unknown key: %s", r)
	}
}
