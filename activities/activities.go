// Package activities holds policyflow's side effects, called by the workflows: directory
// look-ups, writes to the register, and mail. Each activity is thin, idempotent (Temporal
// retries it) and says whether a failure is bad input (never retried) or an outage (retried).
package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// ErrBadInput is the application error type of failures that no retry can fix.
const ErrBadInput = "BadInput"

// Activities carries what the side effects need. One value is registered with the worker.
type Activities struct {
	Store     *models.Store
	Mailer    Mailer
	PublicURL string
	From      string
	Loc       *time.Location
	Log       *slog.Logger
	// Now is the clock for timestamps in the register; nil means time.Now.
	Now func() time.Time
	// CloudRules is the town's rules table for cloud services (POLICYFLOW_CLOUD_RULES);
	// nil means policy.DefaultCloudRules.
	CloudRules *policy.CloudRules
	// Delegation is the town's delegation rules (POLICYFLOW_DELEGATION_RULES); nil means
	// policy.DefaultDelegation.
	Delegation *policy.Delegation
	// IncidentPlan is the town's emergency response plan (POLICYFLOW_INCIDENT_PLAN); nil
	// means policy.DefaultIncidentPlan.
	IncidentPlan *policy.IncidentPlan
	// Timings are the town's deadlines and periods (POLICYFLOW_TIMINGS); nil means
	// policy.DefaultTimings.
	Timings *policy.Timings
	// Checklist is the town's self-inspection checklist (POLICYFLOW_INSPECTION_CHECKLIST);
	// nil means policy.DefaultChecklist. A campaign copies it when it starts.
	Checklist *policy.Checklist
	// Dir is the directory AssignTask reads; nil means Store.
	Dir Directory
	// Batches starts the items of a bulk batch of offboardings (RunBatchPage).
	Batches BatchRunner
	// ReportLinkTTL is how long a mailed link to the committee's yearly report works
	// (POLICYFLOW_REPORT_LINK_DAYS, a town setting); zero means DefaultReportLinkTTL.
	ReportLinkTTL time.Duration
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Activities) logger() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

// Text is a sentence in Japanese, the default, and English.
type Text struct {
	Ja string
	En string
}

// In picks the text for a locale.
func (t Text) In(locale string) string {
	if locale == "en" && t.En != "" {
		return t.En
	}
	return t.Ja
}

// badInput wraps err as a non-retryable application error.
func badInput(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrBadInput, nil)
}

// classify turns a store error into a bad-input error when retrying cannot help.
func classify(err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrBadInput, err)
	}
	return err
}

// RosterRequest asks who holds the roles a process needs.
type RosterRequest struct {
	DepartmentID string
	SystemIDs    []string
}

// Roster is the employee IDs holding the roles of §2 for one process.
type Roster struct {
	CISO string
	GISO string
	DISO string
	// ISMs are the managers of the systems asked about, sorted, without repeats.
	ISMs []string
	// Managers maps each system asked about to its manager (since the authority change;
	// older processes' rosters lack it).
	Managers map[string]string
}

// ResolveRoster looks up the CISO, the GISO, the department's security officer and the
// managers of the given systems. A role nobody holds is an error that is retried, so that
// the directory can be fixed while the process waits.
func (a *Activities) ResolveRoster(ctx context.Context, req RosterRequest) (Roster, error) {
	var r Roster
	var err error
	if r.CISO, err = a.Store.RoleHolder(ctx, "ciso", ""); err != nil {
		return r, fmt.Errorf("find the CISO: %w", err)
	}
	if r.GISO, err = a.Store.RoleHolder(ctx, "giso", ""); err != nil {
		return r, fmt.Errorf("find the GISO: %w", err)
	}
	if r.DISO, err = a.Store.RoleHolder(ctx, "diso", req.DepartmentID); err != nil && !errors.Is(err, models.ErrNotFound) {
		return r, fmt.Errorf("find the security officer of %s: %w", req.DepartmentID, err)
	}
	if r.ISMs, err = a.Store.SystemManagers(ctx, req.SystemIDs); err != nil {
		return r, fmt.Errorf("find the system managers: %w", err)
	}
	r.Managers = map[string]string{}
	for _, id := range req.SystemIDs {
		holder, err := a.Store.PostHolder(ctx, string(policy.RoleISM), id)
		if errors.Is(err, models.ErrNotFound) {
			continue
		}
		if err != nil {
			return r, fmt.Errorf("find the manager of %s: %w", id, err)
		}
		r.Managers[id] = holder
	}
	return r, nil
}

// StageChange moves a process in the register. Seq orders the process's changes and makes
// recording one idempotent.
type StageChange struct {
	ProcessID string
	Seq       int
	Status    string
	Stage     string
	Note      string
	Final     bool
}

// RecordStage writes a process's new status and stage, and a timeline entry.
func (a *Activities) RecordStage(ctx context.Context, c StageChange) error {
	err := a.Store.RecordStage(ctx, models.ProcessEvent{
		ProcessID: c.ProcessID, Key: fmt.Sprintf("%s/%d", c.ProcessID, c.Seq),
		Status: c.Status, Stage: c.Stage, Note: c.Note, At: a.now(),
	}, c.Final)
	if err != nil {
		return classify(fmt.Errorf("record stage %s of %s: %w", c.Stage, c.ProcessID, err))
	}
	return nil
}

// DecisionRecord is an accepted decision as the workflow saw it. The comment, client
// address and user agent are joined from the request the API stored under RequestID.
type DecisionRecord struct {
	TaskID    string
	ProcessID string
	Step      string
	Choice    string
	DeciderID string
	RequestID string
	DecidedAt time.Time
	// OnBehalfOf is the post's holder when the decider stood in for them (代決); Basis cites
	// the rule that allowed it.
	OnBehalfOf string
	Basis      string
}

// RecordDecision writes the decision to the register and closes the task. The API usually
// wrote it already; this makes sure it is there even if the API stopped after the workflow
// accepted the decision.
func (a *Activities) RecordDecision(ctx context.Context, d DecisionRecord) error {
	err := a.Store.RecordDecision(ctx, models.Decision{
		TaskID: d.TaskID, ProcessID: d.ProcessID, Step: d.Step, Choice: d.Choice,
		DeciderID: d.DeciderID, DecidedAt: d.DecidedAt, OnBehalfOf: d.OnBehalfOf, Basis: d.Basis,
	}, d.RequestID)
	if err != nil {
		return classify(fmt.Errorf("record decision on %s: %w", d.TaskID, err))
	}
	return nil
}

// TaskClosure closes a task without a decision.
type TaskClosure struct {
	TaskID string
	// Status is "expired" or "cancelled".
	Status string
}

// CloseTask marks a task expired or cancelled; its links stop working.
func (a *Activities) CloseTask(ctx context.Context, c TaskClosure) error {
	if c.Status != models.TaskExpired && c.Status != models.TaskCancelled {
		return badInput("close task %s: status %q", c.TaskID, c.Status)
	}
	if err := a.Store.CloseTask(ctx, c.TaskID, c.Status, a.now()); err != nil {
		return classify(fmt.Errorf("close task %s: %w", c.TaskID, err))
	}
	return nil
}
