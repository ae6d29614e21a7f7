package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

const (
	outID   = "OUT-TEST"
	contact = "ext:OUT-TEST"
	owner   = "Q1" // the member of staff in charge of the contract
)

func outTask(step string, n int) string { return fmt.Sprintf("%s/%s/%d", outID, step, n) }

// outRegister is the fake register with the outsourcing review's activities added.
type outRegister struct {
	*register
	clauseRounds []activities.ClauseReviewRecord
	reports      []activities.ReportRecord
	certs        []activities.CertificateRecord
	disposals    []activities.DisposalRequest
	briefings    []activities.Notice
	filed        []activities.IncidentFiling
	children     []workflows.IncidentInput
}

func newOutRegister(t *testing.T, start time.Time) *outRegister {
	r := &outRegister{register: newRegister(t, start)}
	r.env.RegisterWorkflow(workflows.OutsourcingWorkflow)
	reg := func(name string, fn any) { r.env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name}) }
	reg("ClauseReviewer", func(context.Context, string) (string, error) { return "R1", nil })
	reg("SendBriefing", func(_ context.Context, n activities.Notice) error {
		r.lock(func() { r.briefings = append(r.briefings, n) })
		return nil
	})
	reg("RecordClauseReview", func(_ context.Context, c activities.ClauseReviewRecord) error {
		r.lock(func() { r.clauseRounds = append(r.clauseRounds, c) })
		return nil
	})
	reg("RecordReport", func(_ context.Context, c activities.ReportRecord) error {
		r.lock(func() { r.reports = append(r.reports, c) })
		return nil
	})
	reg("RecordCertificate", func(_ context.Context, c activities.CertificateRecord) error {
		r.lock(func() { r.certs = append(r.certs, c) })
		return nil
	})
	reg("RecordDisposal", func(_ context.Context, c activities.DisposalRequest) error {
		r.lock(func() { r.disposals = append(r.disposals, c) })
		return nil
	})
	reg("RegisterSubcontractor", func(_ context.Context, sc activities.Subcontractor) (string, error) {
		return sc.ContactID, nil
	})
	reg("RecordSelectionRevision", func(_ context.Context, v activities.RevisionRecord) error {
		r.lock(func() { r.revisions = append(r.revisions, v) })
		return nil
	})
	reg("FileIncident", func(_ context.Context, f activities.IncidentFiling) error {
		r.lock(func() { r.filed = append(r.filed, f) })
		return nil
	})
	// The incident itself is tested on its own: here it only has to start.
	r.env.RegisterWorkflow(workflows.IncidentWorkflow)
	r.env.OnWorkflow(workflows.IncidentWorkflow, mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in workflows.IncidentInput) (workflows.Result, error) {
			r.lock(func() { r.children = append(r.children, in) })
			return workflows.Result{Status: "closed"}, nil
		})
	return r
}

// activityCount is how many activities this run executed: a measure of its history.
func (r *outRegister) activityCount() int {
	return len(r.stages) + len(r.opened) + len(r.mails) + len(r.closed) + len(r.decisions) + len(r.notices) +
		len(r.clauseRounds) + len(r.reports) + len(r.certs) + len(r.disposals) + len(r.briefings) + 1
}

// decideWith is decideAt with form values.
func (r *outRegister) decideWith(at time.Time, task, choice, by string, values map[string]string) *updateResult {
	res := &updateResult{}
	if !at.After(r.env.Now()) {
		return res // belongs to an earlier run
	}
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(workflows.UpdateDecide, task+"|"+by+"|"+choice+"|"+at.String(), &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { res.rejected = err },
			OnAccept:   func() { res.accepted = true },
			OnComplete: func(v any, err error) { res.value, res.err = v, err },
		}, signed(workflows.DecideRequest{TaskID: task, Choice: choice, DeciderID: by, Values: values, RequestID: "req-" + task, DecidedAt: at.UTC()}))
	}, at.Sub(r.env.Now()))
	return res
}

// execute runs one run of the workflow: its result, or the input of the next run when it
// continued as new.
func (r *outRegister) execute(in workflows.OutsourcingInput) (workflows.Result, *workflows.OutsourcingInput) {
	r.t.Helper()
	r.env.ExecuteWorkflow(workflows.OutsourcingWorkflow, in)
	if !r.env.IsWorkflowCompleted() {
		r.t.Fatal("workflow did not complete")
	}
	err := r.env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if errors.As(err, &can) {
		var next workflows.OutsourcingInput
		if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
			r.t.Fatal(err)
		}
		return workflows.Result{}, &next
	}
	if err != nil {
		r.t.Fatalf("workflow failed: %v", err)
	}
	var res workflows.Result
	if err := r.env.GetWorkflowResult(&res); err != nil {
		r.t.Fatal(err)
	}
	return res, nil
}

func outsourcing(level policy.Level, start, end string) workflows.OutsourcingInput {
	t := workflows.DefaultOutsourcingTiming
	return workflows.OutsourcingInput{
		Header:      workflows.Header{ProcessID: outID, Kind: "outsourcing_review", Department: "residents", TimeZone: "Asia/Tokyo"},
		RequesterID: owner, ContactID: contact, Classification: level,
		ContractStart: start, ContractEnd: end, CertExpiry: "2031-03-31", Audit: policy.AuditPassed,
		ReportIntervalMonths: 3, AssetClasses: []string{policy.AssetElectronic, policy.AssetPaper}, Timing: t,
	}
}

func clauseMarks(over map[string]string) map[string]string {
	v := map[string]string{}
	for _, c := range policy.ContractClauses() {
		v[activities.ClauseField(c.Key)] = policy.ClausePresent
	}
	for k, m := range over {
		v[activities.ClauseField(k)] = m
	}
	return v
}

var selectionOK = map[string]string{"certificate_check": "valid", "audit_check": "passed", "measures_fit": "yes"}

func reportValues(from, to, incidents string) map[string]string {
	v := map[string]string{"period_from": from, "period_to": to, "incidents": incidents, "staff_changes": "none", "subcontracting_changes": "none"}
	if incidents == "some" {
		v["incident_category"], v["incident_discovered_on"] = "leak", to
	}
	return v
}

var disposalValues = map[string]string{"electronic_method": "erased", "electronic_date": "2026-12-02", "paper_method": "returned", "paper_date": "2026-12-02"}

// approveAll schedules a quick, complete review: selection, one clean clause round,
// approval and the vendor's acknowledgement, an hour apart.
func (r *outRegister) approveAll(t0 time.Time) {
	r.decideWith(t0.Add(1*time.Hour), outTask("selection_review", 1), "approve", "D1", selectionOK)
	r.decideWith(t0.Add(2*time.Hour), outTask("clause_review", 1), "done", "R1", clauseMarks(nil))
	r.decideWith(t0.Add(3*time.Hour), outTask("approval", 1), "approve", "D1", nil)
	r.decideWith(t0.Add(4*time.Hour), outTask("briefing_acknowledgement", 1), "acknowledge", contact, nil)
}

func TestOutsourcingClausesMissingThenFixed(t *testing.T) {
	r := newOutRegister(t, monday)
	r.decideWith(monday.Add(1*time.Hour), outTask("selection_review", 1), "approve", "D1", selectionOK)
	r.decideWith(monday.Add(2*time.Hour), outTask("clause_review", 1), "done", "R1", clauseMarks(map[string]string{"confidentiality": "missing", "publication": "not_applicable_refused"}))
	r.decideWith(monday.Add(3*time.Hour), outTask("requester_revision", 1), "resubmit", owner, nil)
	r.decideWith(monday.Add(4*time.Hour), outTask("clause_review", 2), "done", "R1", clauseMarks(nil))
	r.decideWith(monday.Add(5*time.Hour), outTask("approval", 1), "approve", "D1", nil)
	r.decideWith(monday.Add(6*time.Hour), outTask("briefing_acknowledgement", 1), "acknowledge", contact, nil)
	// Two quarterly reports, asked for the day after each quarter, answered an hour later.
	r.decideWith(jst("2026-09-01 10:00"), outTask("periodic_report", 1), "submit", contact, reportValues("2026-06-01", "2026-08-31", "none"))
	r.decideWith(jst("2026-12-01 10:00"), outTask("periodic_report", 2), "submit", contact, reportValues("2026-09-01", "2026-11-30", "some"))
	r.decideWith(jst("2026-12-01 11:00"), outTask("disposal_permission", 1), "approve", "D1", nil)
	r.decideWith(jst("2026-12-02 10:00"), outTask("disposal_record", 1), "done", owner, disposalValues)
	res, next := r.execute(outsourcing(policy.Level1, "2026-06-01", "2026-11-30"))
	if next != nil {
		t.Fatal("a short contract continued as new")
	}
	equal(t, "status", res.Status, "completed")
	want := []string{"pending/selection_review", "pending/clause_review", "returned/requester_revision", "pending/clause_review",
		"pending/approval", "approved/briefing", "approved/awaiting_start", "in_effect/contract_running",
		"in_effect/periodic_report", "in_effect/contract_running", "in_effect/periodic_report", "in_effect/contract_running",
		"in_effect/contract_running", "ended/disposal_permission", "ended/disposal_permission", "ended/disposal", "completed/closed"}
	if !slices.Equal(r.stageNames(), want) {
		t.Errorf("stages = %v\nwant %v", r.stageNames(), want)
	}
	// The returned draft names the review that returned it, so its mail and page list the
	// clauses found missing; the requester answers for each clause, and the answers are the
	// request's next version before round 2 (issue 14).
	for _, o := range r.opened {
		if o.spec.ID != outTask("requester_revision", 1) {
			continue
		}
		equal(t, "the revision answers", o.spec.ReturnOf, outTask("clause_review", 1))
		revises := 0
		for _, f := range o.spec.Form {
			if f.Revises {
				revises++
			}
		}
		equal(t, "revising fields (a mark, an article, a reason for each of the twelve clauses)", revises, 36)
	}
	if len(r.revisions) != 1 || r.revisions[0].TaskID != outTask("requester_revision", 1) || r.revisions[0].ReturnOf != outTask("clause_review", 1) {
		t.Errorf("revisions = %+v, want the resubmitted draft answering round 1", r.revisions)
	}
	// Level 1: a "not applicable" whose reason the reviewer refused returns the draft too;
	// the note names both clauses.
	if note := r.stages[2].Note; !strings.Contains(note, "confidentiality") || !strings.Contains(note, "reason refused: publication") {
		t.Errorf("return note = %q", note)
	}
	equal(t, "clause rounds recorded", len(r.clauseRounds), 2)
	equal(t, "round 2", r.clauseRounds[1].Round, 2)
	equal(t, "revision assignee", r.opened[2].spec.AssigneeID, owner)
	equal(t, "clause reviewer", r.opened[1].spec.AssigneeID, "R1")
	equal(t, "clause form fields", len(r.opened[1].spec.Form), 36) // mark, article, reason per clause
	equal(t, "briefing to", r.briefings[0].RecipientID, contact)
	equal(t, "reports", len(r.reports), 2)
	equal(t, "report 1 asked", r.opened[6].at, jst("2026-09-01 09:00"))
	equal(t, "report 1 assignee", r.opened[6].spec.AssigneeID, contact)
	equal(t, "report 2 period", r.reports[1].PeriodTo, "2026-11-30")
	// Report 2 named an incident: the department security officer is told.
	equal(t, "incident notice", len(r.notices), 1)
	equal(t, "incident notice kind", r.notices[0].kind, activities.NoticeVendorIncident)
	equal(t, "incident notice to", r.notices[0].to, "D1")
	// …and starts an incident process (§5.3(1), contract item 10), triaged in the department.
	if len(r.filed) != 1 || len(r.children) != 1 {
		t.Fatalf("incidents filed %d, started %d; want 1 and 1", len(r.filed), len(r.children))
	}
	f, child := r.filed[0], r.children[0]
	equal(t, "incident id", f.ProcessID, "INC-TEST-R2")
	equal(t, "child id", child.ProcessID, "INC-TEST-R2")
	equal(t, "incident department", child.Department, "residents")
	equal(t, "incident category", child.Category, policy.CategoryLeak)
	equal(t, "incident reported by", child.ReporterID, contact)
	equal(t, "incident source", child.Source, "staff")
	equal(t, "found on", child.DiscoveredAt.In(tokyo), jst("2026-11-30 00:00"))
	equal(t, "details from the report", f.DetailsFrom, outTask("periodic_report", 2))
	equal(t, "classification", f.Report.Classification, 1)
	// The report's form asks the incident's kind and day when it names one.
	noKind := reportValues("2026-09-01", "2026-11-30", "some")
	delete(noKind, "incident_category")
	if bad := activities.CheckValues(r.opened[7].spec.Form, noKind); bad["incident_category"] == "" {
		t.Errorf("a report naming an incident without its kind passed: %v", bad)
	}
	equal(t, "disposal classes", strings.Join(r.disposals[0].Classes, ","), "electronic,paper")
}

func TestOutsourcingLevel3MissingClausesAreNotedNotReturned(t *testing.T) {
	r := newOutRegister(t, monday)
	r.decideWith(monday.Add(1*time.Hour), outTask("selection_review", 1), "approve", "D1", selectionOK)
	r.decideWith(monday.Add(2*time.Hour), outTask("clause_review", 1), "done", "R1", clauseMarks(map[string]string{"service_level": "missing"}))
	r.decideWith(monday.Add(3*time.Hour), outTask("approval", 1), "reject", "D1", nil)
	res, _ := r.execute(outsourcing(policy.Level3, "2026-06-01", "2026-11-30"))
	equal(t, "status", res.Status, "rejected")
	want := []string{"pending/selection_review", "pending/clause_review", "pending/clause_review", "pending/approval", "rejected/closed"}
	if !slices.Equal(r.stageNames(), want) {
		t.Errorf("stages = %v, want %v", r.stageNames(), want)
	}
	if !strings.Contains(r.stages[2].Note, "service_level") {
		t.Errorf("note = %q", r.stages[2].Note)
	}
}

func TestOutsourcingTooManyRoundsEscalateToTheGISO(t *testing.T) {
	r := newOutRegister(t, monday)
	in := outsourcing(policy.Level2, "2026-06-01", "2026-11-30")
	in.Timing.MaxRounds = 2
	missing := clauseMarks(map[string]string{"subcontracting": "missing"})
	r.decideWith(monday.Add(1*time.Hour), outTask("selection_review", 1), "approve", "D1", selectionOK)
	r.decideWith(monday.Add(2*time.Hour), outTask("clause_review", 1), "done", "R1", missing)
	r.decideWith(monday.Add(3*time.Hour), outTask("requester_revision", 1), "resubmit", owner, nil)
	r.decideWith(monday.Add(4*time.Hour), outTask("clause_review", 2), "done", "R1", missing)
	r.decideWith(monday.Add(5*time.Hour), outTask("giso_decision", 1), "reject", "G1", nil)
	res, _ := r.execute(in)
	equal(t, "status", res.Status, "rejected")
	want := []string{"pending/selection_review", "pending/clause_review", "returned/requester_revision", "pending/clause_review", "escalated/giso_decision", "rejected/closed"}
	if !slices.Equal(r.stageNames(), want) {
		t.Errorf("stages = %v, want %v", r.stageNames(), want)
	}
	equal(t, "GISO asked", r.opened[len(r.opened)-1].spec.AssigneeID, "G1")
	equal(t, "rounds recorded", len(r.clauseRounds), 2)
}

func TestOutsourcingGISOGivesAnotherRound(t *testing.T) {
	r := newOutRegister(t, monday)
	in := outsourcing(policy.Level1, "2026-06-01", "2026-11-30")
	in.Timing.MaxRounds = 1
	r.decideWith(monday.Add(1*time.Hour), outTask("selection_review", 1), "approve", "D1", selectionOK)
	r.decideWith(monday.Add(2*time.Hour), outTask("clause_review", 1), "done", "R1", clauseMarks(map[string]string{"reporting": "missing"}))
	r.decideWith(monday.Add(3*time.Hour), outTask("giso_decision", 1), "return", "G1", nil)
	r.decideWith(monday.Add(4*time.Hour), outTask("requester_revision", 1), "withdraw", owner, nil)
	res, _ := r.execute(in)
	equal(t, "status", res.Status, "withdrawn")
	// The revision answers the GISO's return (whose page lists the clauses of the last
	// review); a withdrawal keeps no new version.
	equal(t, "the revision answers", r.opened[len(r.opened)-1].spec.ReturnOf, outTask("giso_decision", 1))
	equal(t, "versions kept", len(r.revisions), 0)
}

func TestOutsourcingSelectionRejectedAndTimedOut(t *testing.T) {
	r := newOutRegister(t, monday)
	r.decideWith(monday.Add(time.Hour), outTask("selection_review", 1), "reject", "D1", map[string]string{"certificate_check": "none", "audit_check": "none", "measures_fit": "no"})
	res, _ := r.execute(outsourcing(policy.Level1, "2026-06-01", "2026-11-30"))
	equal(t, "status", res.Status, "rejected")

	// Nobody decides: the DISO is reminded; after five business days (Golden Week excluded)
	// the GISO is told but may not decide in the officer's place (§8.1(1)), and it expires
	// after three more.
	r = newOutRegister(t, monday)
	res, _ = r.execute(outsourcing(policy.Level1, "2026-06-01", "2026-11-30"))
	equal(t, "status", res.Status, "expired")
	equal(t, "selection due", r.opened[0].spec.DueAt.In(tokyo), jst("2026-05-08 17:15"))
	equal(t, "overdue to", r.mails[len(r.mails)-1], mailed{"overdue", outTask("selection_review", 1), "D1", jst("2026-05-08 17:15")})
	equal(t, "GISO told", slices.Contains(r.notices, mailed{"escalation_notice", outTask("selection_review", 1), "G1", jst("2026-05-08 17:15")}), true)
}

// contractLife is what happened over all the runs of one contract.
type contractLife struct {
	runs, reports, missing int
	counts                 []int // activities per run
	notices, escalations   []mailed
	certs                  []activities.CertificateRecord
	renewalAsked           time.Time
	res                    workflows.Result
}

// playThreeYears runs a three-year contract with quarterly reports run after run, as the
// server would after each Continue-As-New; report 6 is never sent.
func playThreeYears(t *testing.T, in workflows.OutsourcingInput, overdue int) contractLife {
	var l contractLife
	start := monday
	for next := &in; next != nil; l.runs++ {
		if l.runs > 10 {
			t.Fatal("too many runs")
		}
		r := newOutRegister(t, start)
		if l.runs == 0 {
			r.approveAll(monday)
		}
		for k := 1; k <= 12; k++ {
			due := jst("2026-06-01 09:00").AddDate(0, 3*k, 0)
			if k == overdue {
				continue
			}
			from := due.AddDate(0, -3, 0).Format("2006-01-02")
			to := due.AddDate(0, 0, -1).Format("2006-01-02")
			r.decideWith(due.Add(26*time.Hour), outTask("periodic_report", k), "submit", contact, reportValues(from, to, "none"))
		}
		// The certificate expires on 31 December 2027: asked for 60 days before.
		r.decideWith(jst("2027-11-02 10:00"), outTask("certificate_renewal", 1), "submit", contact, map[string]string{"cert_expiry": "2030-12-31"})
		r.decideWith(jst("2029-06-02 12:00"), outTask("disposal_permission", 1), "approve", "D1", nil)
		r.decideWith(jst("2029-06-03 10:00"), outTask("disposal_record", 1), "done", owner, disposalValues)
		l.res, next = r.execute(*next)
		start = r.env.Now()
		l.counts = append(l.counts, r.activityCount())
		l.reports += len(r.reports)
		for _, rep := range r.reports {
			if !rep.Received {
				l.missing++
				equal(t, "missing report", rep.Seq, overdue)
			}
		}
		l.notices = append(l.notices, r.notices...)
		l.certs = append(l.certs, r.certs...)
		for _, o := range r.opened {
			if strings.Contains(o.spec.ID, "certificate_renewal") {
				l.renewalAsked = o.at
			}
		}
		for _, m := range r.mails {
			if m.kind == "escalation" {
				l.escalations = append(l.escalations, m)
			}
		}
		if next != nil && next.Running == nil {
			t.Fatal("continued as new without the running state")
		}
	}
	return l
}

// TestOutsourcingThreeYearContract runs a three-year contract with quarterly reports: one
// report is overdue and never comes (escalated to the DISO, recorded missing), the ISMS
// certificate expires during the contract and is renewed, and the workflow continues as new
// every four reports so that no run's history grows with the contract's length.
func TestOutsourcingThreeYearContract(t *testing.T) {
	in := outsourcing(policy.Level1, "2026-06-01", "2029-05-31")
	in.CertExpiry = "2027-12-31"
	l := playThreeYears(t, in, 6)
	equal(t, "status", l.res.Status, "completed")
	equal(t, "runs", l.runs, 3)
	equal(t, "reports", l.reports, 12)
	equal(t, "missing reports", l.missing, 1)
	equal(t, "missing notice", len(l.notices), 1)
	equal(t, "missing notice kind", l.notices[0].kind, activities.NoticeReportMissing)
	equal(t, "missing notice to", l.notices[0].to, "D1")
	equal(t, "overdue report escalated", len(l.escalations), 1)
	equal(t, "escalated to", l.escalations[0].to, "D1")
	equal(t, "escalated task", l.escalations[0].task, outTask("periodic_report", 6))
	equal(t, "renewal asked", l.renewalAsked, jst("2027-11-01 09:00"))
	equal(t, "certificates", len(l.certs), 1)
	equal(t, "new expiry", l.certs[0].Expiry, "2030-12-31")
	// History stays bounded: every run does about the same amount of work however long the
	// contract runs.
	for i, n := range l.counts {
		if n > 45 {
			t.Errorf("run %d executed %d activities: history is not bounded (%v)", i+1, n, l.counts)
		}
	}
	// Without continuing as new, one run carries the whole contract.
	in.Timing.ReportsPerRun = 1000
	whole := playThreeYears(t, in, 6)
	equal(t, "runs without Continue-As-New", whole.runs, 1)
	equal(t, "status without Continue-As-New", whole.res.Status, "completed")
	if whole.counts[0] < 2*slices.Max(l.counts) {
		t.Errorf("one run executed %d activities; runs that continue as new %v", whole.counts[0], l.counts)
	}
	t.Logf("activities per run: %v; in a single run: %d", l.counts, whole.counts[0])
}

func TestOutsourcingCertificateNotRenewedIsFlagged(t *testing.T) {
	r := newOutRegister(t, monday)
	in := outsourcing(policy.Level2, "2026-06-01", "2026-11-30")
	in.CertExpiry = "2026-09-30"
	in.ReportIntervalMonths = 6
	r.approveAll(monday)
	r.decideWith(jst("2026-12-01 10:00"), outTask("periodic_report", 1), "submit", contact, reportValues("2026-06-01", "2026-11-30", "none"))
	r.decideWith(jst("2026-12-01 11:00"), outTask("disposal_permission", 1), "approve", "D1", nil)
	r.decideWith(jst("2026-12-02 10:00"), outTask("disposal_record", 1), "done", owner, disposalValues)
	res, _ := r.execute(in)
	equal(t, "status", res.Status, "completed")
	var flagged bool
	for _, s := range r.stages {
		if strings.Contains(s.Note, "flagged: no renewed certificate") {
			flagged = true
		}
	}
	if !flagged {
		t.Errorf("no flag for the unrenewed certificate: %v", r.stageNames())
	}
	// The selection already flagged the certificate ending before the contract.
	if !strings.Contains(r.stages[0].Note, "certificate_expires_before_contract_end") {
		t.Errorf("selection note = %q", r.stages[0].Note)
	}
	equal(t, "renewal asked", r.opened[4].at, jst("2026-08-01 09:00"))
	equal(t, "renewal asked of", r.opened[4].spec.AssigneeID, contact)
}

func TestOutsourcingDisposalIsAskedUntilRecorded(t *testing.T) {
	r := newOutRegister(t, monday)
	in := outsourcing(policy.Level1, "2026-06-01", "2026-11-30")
	in.ReportIntervalMonths = 6
	r.approveAll(monday)
	r.decideWith(jst("2026-12-01 10:00"), outTask("periodic_report", 1), "submit", contact, reportValues("2026-06-01", "2026-11-30", "none"))
	r.decideWith(jst("2026-12-01 11:00"), outTask("disposal_permission", 1), "approve", "D1", nil)
	// Nobody records the first round (escalated to the DISO); the second is recorded.
	r.decideWith(jst("2027-01-05 10:00"), outTask("disposal_record", 2), "done", owner, disposalValues)
	res, _ := r.execute(in)
	equal(t, "status", res.Status, "completed")
	equal(t, "disposal closed", r.closed[outTask("disposal_record", 1)], "expired")
	var esc []string
	for _, m := range r.mails {
		if m.kind == "escalation" {
			esc = append(esc, m.task+"@"+m.to)
		}
	}
	want := []string{outTask("disposal_record", 1) + "@D1"}
	if !slices.Equal(esc, want) {
		t.Errorf("escalations = %v, want %v", esc, want)
	}
	equal(t, "disposals recorded", len(r.disposals), 1)
	equal(t, "recorded from", r.disposals[0].TaskID, outTask("disposal_record", 2))
	if got := r.stageNames(); got[len(got)-1] != "completed/closed" || got[len(got)-2] != "ended/disposal" || got[len(got)-3] != "ended/disposal" {
		t.Errorf("stages = %v", got)
	}
	// The disposal form asks date, person and method for each asset class.
	equal(t, "disposal form", len(r.opened[len(r.opened)-1].spec.Form), 8)
}

func TestOutsourcingValidatorRefusesAnIncompleteClauseForm(t *testing.T) {
	r := newOutRegister(t, monday)
	r.decideWith(monday.Add(1*time.Hour), outTask("selection_review", 1), "approve", "D1", selectionOK)
	bad := clauseMarks(nil)
	delete(bad, activities.ClauseField("publication"))
	res := r.decideAt(monday.Add(90*time.Minute), outTask("clause_review", 1), "done", "R1") // no values at all
	r.decideWith(monday.Add(2*time.Hour), outTask("clause_review", 1), "done", "R1", bad)
	r.decideWith(monday.Add(3*time.Hour), outTask("clause_review", 1), "done", "R1", clauseMarks(nil))
	r.decideWith(monday.Add(4*time.Hour), outTask("approval", 1), "reject", "D1", nil)
	out, _ := r.execute(outsourcing(policy.Level1, "2026-06-01", "2026-11-30"))
	equal(t, "status", out.Status, "rejected")
	if res.rejected == nil {
		t.Error("a clause review without marks was accepted")
	}
	equal(t, "clause rounds", len(r.clauseRounds), 1)
}

// TestOutsourcingMeasuresThatDoNotFitCannotBeApproved: §8.1(1)1, the officer must confirm
// that the vendor's security fits the work. Approving with measures_fit = no is refused by
// the validator (no trace); the officer returns the selection to the requester, who
// resubmits; the second round is approved with a "yes".
func TestOutsourcingMeasuresThatDoNotFitCannotBeApproved(t *testing.T) {
	r := newOutRegister(t, monday)
	notFit := map[string]string{"certificate_check": "valid", "audit_check": "passed", "measures_fit": "no"}
	refused := r.decideWith(monday.Add(1*time.Hour), outTask("selection_review", 1), "approve", "D1", notFit)
	r.decideWith(monday.Add(2*time.Hour), outTask("selection_review", 1), "return", "D1", notFit)
	r.decideWith(monday.Add(3*time.Hour), outTask("selection_revision", 1), "resubmit", owner, nil)
	r.decideWith(monday.Add(4*time.Hour), outTask("selection_review", 2), "approve", "D1", selectionOK)
	r.decideWith(monday.Add(5*time.Hour), outTask("clause_review", 1), "done", "R1", clauseMarks(nil))
	r.decideWith(monday.Add(6*time.Hour), outTask("approval", 1), "reject", "D1", nil)
	res, _ := r.execute(outsourcing(policy.Level1, "2026-06-01", "2026-11-30"))
	if refused.rejected == nil {
		t.Fatal("approving a vendor whose measures do not fit the work was accepted (§8.1(1)1)")
	}
	equal(t, "status", res.Status, "rejected")
	want := []string{"pending/selection_review", "returned/selection_revision", "pending/selection_review", "pending/clause_review", "pending/approval", "rejected/closed"}
	if !slices.Equal(r.stageNames(), want) {
		t.Errorf("stages = %v, want %v", r.stageNames(), want)
	}
	if !strings.Contains(r.stages[1].Note, "§8.1(1)1") {
		t.Errorf("return note = %q", r.stages[1].Note)
	}
	equal(t, "revision asked of", r.opened[1].spec.AssigneeID, owner)
	equal(t, "selection choices", strings.Join(r.opened[0].spec.Choices, ","), "approve,return,reject")
	// The form says so too, so the task page refuses it before the workflow does.
	if bad := activities.CheckChoice(r.opened[0].spec.Form, "approve", notFit); bad["measures_fit"] == "" {
		t.Errorf("the selection form does not rule out approval: %v", bad)
	}
}

// TestOutsourcingSelectionRevisedThroughTheForm: a selection returned because the vendor's
// measures do not fit the work (§8.1(1)1) is revised in the task itself (issue 14,
// changeSelectionRevise): the revision's form holds the vendor and what §8.1(1)2 has the
// officer refer to, the resubmission is kept as the request's next version, and the next
// round flags the revised certificate and audit, not the ones first filed.
func TestOutsourcingSelectionRevisedThroughTheForm(t *testing.T) {
	r := newOutRegister(t, monday)
	notFit := map[string]string{"certificate_check": "none", "audit_check": "none", "measures_fit": "no"}
	r.decideWith(monday.Add(1*time.Hour), outTask("selection_review", 1), "return", "D1", notFit)
	r.decideWith(monday.Add(2*time.Hour), outTask("selection_revision", 1), "resubmit", owner,
		map[string]string{"certificate_expiry": "2028-03-31", "audit_status": policy.AuditPassed, "contact_locale": "ja"})
	r.decideWith(monday.Add(3*time.Hour), outTask("selection_review", 2), "approve", "D1", selectionOK)
	r.decideWith(monday.Add(4*time.Hour), outTask("clause_review", 1), "done", "R1", clauseMarks(nil))
	r.decideWith(monday.Add(5*time.Hour), outTask("approval", 1), "reject", "D1", nil)
	in := outsourcing(policy.Level1, "2026-06-01", "2027-05-31")
	in.CertExpiry, in.Audit = "", policy.AuditNone
	res, _ := r.execute(in)
	equal(t, "status", res.Status, "rejected")

	rev := r.opened[1].spec
	equal(t, "revision step", rev.Step, "selection_revision")
	equal(t, "revision answers", rev.ReturnOf, outTask("selection_review", 1))
	revising := map[string]bool{}
	for _, f := range rev.Form {
		if f.Revises && f.EmptyClears {
			revising[f.Name] = true
		}
	}
	for _, name := range []string{"vendor_name", "corporate_number", "other_identifier", "identifier_reason", "contact_name", "contact_email",
		"certificate_number", "certificate_expiry", "audit_status", "audit_summary"} {
		if !revising[name] {
			t.Errorf("the selection's revision form does not hold %s (form: %+v)", name, rev.Form)
		}
	}
	if len(r.revisions) != 1 || r.revisions[0] != (activities.RevisionRecord{ProcessID: outID, TaskID: outTask("selection_revision", 1), ReturnOf: outTask("selection_review", 1)}) {
		t.Errorf("revisions kept = %+v, want the resubmitted selection answering selection_review/1", r.revisions)
	}
	var notes []string
	for _, st := range r.stages {
		if st.Stage == "selection_review" {
			notes = append(notes, st.Note)
		}
	}
	if len(notes) != 2 || !strings.Contains(notes[0], policy.FlagNoCertificate) || !strings.Contains(notes[0], policy.FlagNoAudit) {
		t.Fatalf("selection notes = %q", notes)
	}
	if strings.Contains(notes[1], policy.FlagNoCertificate) || strings.Contains(notes[1], policy.FlagNoAudit) || !strings.Contains(notes[1], "revised selection") {
		t.Errorf("the second round flags the selection first filed, not the revised one: %q", notes[1])
	}
}

// TestOutsourcingMeasuresThatDoNotFitEndAsRejected: the other way a "no" ends (§8.1(1)1).
func TestOutsourcingMeasuresThatDoNotFitEndAsRejected(t *testing.T) {
	r := newOutRegister(t, monday)
	r.decideWith(monday.Add(1*time.Hour), outTask("selection_review", 1), "reject", "D1", map[string]string{"certificate_check": "valid", "audit_check": "passed", "measures_fit": "no"})
	res, _ := r.execute(outsourcing(policy.Level2, "2026-06-01", "2026-11-30"))
	equal(t, "status", res.Status, "rejected")
	equal(t, "tasks opened", len(r.opened), 1)
}

// TestOutsourcingClauseNotApplicableAsNeeded: §8.1(2) states the twelve items 「必要に応じて」:
// at level 1 an item marked not applicable with a reason the reviewer accepts does not return
// the draft; the stage note names it and the reason is required by the form.
func TestOutsourcingClauseNotApplicableAsNeeded(t *testing.T) {
	r := newOutRegister(t, monday)
	r.decideWith(monday.Add(1*time.Hour), outTask("selection_review", 1), "approve", "D1", selectionOK)
	r.decideWith(monday.Add(2*time.Hour), outTask("clause_review", 1), "done", "R1", clauseMarks(map[string]string{"service_level": "not_applicable"}))
	r.decideWith(monday.Add(3*time.Hour), outTask("approval", 1), "reject", "D1", nil)
	res, _ := r.execute(outsourcing(policy.Level1, "2026-06-01", "2026-11-30"))
	equal(t, "status", res.Status, "rejected")
	want := []string{"pending/selection_review", "pending/clause_review", "pending/clause_review", "pending/approval", "rejected/closed"}
	if !slices.Equal(r.stageNames(), want) {
		t.Errorf("stages = %v, want %v", r.stageNames(), want)
	}
	if note := r.stages[2].Note; !strings.Contains(note, "reason accepted") || !strings.Contains(note, "service_level") {
		t.Errorf("note = %q", note)
	}
	// The reason is asked for with the mark (the page refuses a mark without it).
	form := r.opened[1].spec.Form
	values := clauseMarks(map[string]string{"service_level": "not_applicable"})
	if bad := activities.CheckValues(form, values); bad[activities.ReasonField("service_level")] == "" {
		t.Errorf("a not-applicable mark without a reason passed: %v", bad)
	}
	values[activities.ReasonField("service_level")] = "運用を伴わない一回限りのデータ移行のため"
	if bad := activities.CheckValues(form, values); len(bad) > 0 {
		t.Errorf("a not-applicable mark with a reason: %v", bad)
	}
}

// TestOutsourcingDisposalNeedsPermissionFirst: §3(2)9(ウ), the department security officer
// permits the disposal before it happens, so the permission task comes before the record's.
// Refused, the information is returned instead: the record offers only "returned", a record
// of erasure is refused, and the process closes once the return is recorded (§3(2)9(イ)).
func TestOutsourcingDisposalNeedsPermissionFirst(t *testing.T) {
	for _, permit := range []string{"approve", "reject"} {
		t.Run(permit, func(t *testing.T) {
			r := newOutRegister(t, monday)
			in := outsourcing(policy.Level1, "2026-06-01", "2026-11-30")
			in.ReportIntervalMonths = 6
			r.approveAll(monday)
			r.decideWith(jst("2026-12-01 10:00"), outTask("periodic_report", 1), "submit", contact, reportValues("2026-06-01", "2026-11-30", "none"))
			r.decideWith(jst("2026-12-01 11:00"), outTask("disposal_permission", 1), permit, "D1", nil)
			erased := r.decideWith(jst("2026-12-02 09:00"), outTask("disposal_record", 1), "done", owner, disposalValues)
			returned := map[string]string{"electronic_method": "returned", "electronic_date": "2026-12-02", "paper_method": "returned", "paper_date": "2026-12-02"}
			r.decideWith(jst("2026-12-02 10:00"), outTask("disposal_record", 1), "done", owner, returned)
			res, _ := r.execute(in)
			equal(t, "status", res.Status, "completed")
			var order []string
			for _, o := range r.opened {
				order = append(order, o.spec.Step)
			}
			n := len(order)
			if n < 2 || order[n-2] != "disposal_permission" || order[n-1] != "disposal_record" {
				t.Fatalf("tasks opened = %v: the permission must come before the record", order)
			}
			equal(t, "permission asked of", r.opened[n-2].spec.AssigneeID, "D1")
			methods := r.opened[n-1].spec.Form[0].Options
			var notes []string
			for _, s := range r.stages {
				notes = append(notes, s.Note)
			}
			if permit == "approve" {
				equal(t, "methods offered", len(methods), 3)
				equal(t, "the erasure recorded", erased.rejected == nil, true)
				equal(t, "recorded from", r.disposals[0].TaskID, outTask("disposal_record", 1))
				if !strings.Contains(strings.Join(notes, "\n"), "disposal permitted by D1") {
					t.Errorf("notes = %v", notes)
				}
				return
			}
			equal(t, "methods offered", len(methods), 1)
			equal(t, "the only method", methods[0].Value, policy.DisposalReturned)
			if erased.rejected == nil {
				t.Error("a disposal was recorded though the officer refused it (§3(2)9(ウ))")
			}
			equal(t, "disposals recorded", len(r.disposals), 1)
			if !strings.Contains(strings.Join(notes, "\n"), "disposal refused by D1") {
				t.Errorf("notes = %v", notes)
			}
		})
	}
}

// TestOutsourcingNewSubcontractingIsApprovedAndBriefed: §5.1(3) briefs subcontractors too
// (「外部委託事業者から再委託を受ける事業者も含めて」). A report declaring new subcontracting asks
// the department security officer to approve it, then mails the briefing to the new
// subcontractor's contact, who acknowledges through a link of their own; not acknowledged in
// time, it becomes the officer's task to brief them directly, not a note.
func TestOutsourcingNewSubcontractingIsApprovedAndBriefed(t *testing.T) {
	sub := contact + "-S1"
	for _, acked := range []bool{true, false} {
		t.Run(fmt.Sprintf("acknowledged=%v", acked), func(t *testing.T) {
			r := newOutRegister(t, monday)
			in := outsourcing(policy.Level2, "2026-06-01", "2026-11-30")
			in.ReportIntervalMonths = 6
			r.approveAll(monday)
			rep := reportValues("2026-06-01", "2026-11-30", "none")
			rep["subcontracting_changes"] = "some"
			r.decideWith(jst("2026-12-01 10:00"), outTask("periodic_report", 1), "submit", contact, rep)
			r.decideWith(jst("2026-12-01 11:00"), outTask("subcontracting_approval", 1), "approve", "D1", nil)
			end := jst("2026-12-01 12:00")
			if acked {
				r.decideWith(end, outTask("subcontractor_briefing_acknowledgement", 1), "acknowledge", sub, nil)
			} else {
				end = jst("2026-12-16 10:00")
				r.decideWith(end, outTask("briefing_followup", 1), "done", "D1", nil)
			}
			r.decideWith(end.Add(time.Hour), outTask("disposal_permission", 1), "approve", "D1", nil)
			r.decideWith(end.Add(2*time.Hour), outTask("disposal_record", 1), "done", owner, disposalValues)
			res, _ := r.execute(in)
			equal(t, "status", res.Status, "completed")
			var steps []string
			for _, o := range r.opened {
				steps = append(steps, o.spec.Step+"@"+o.spec.AssigneeID)
			}
			want := []string{"selection_review@D1", "clause_review@R1", "approval@D1", "briefing_acknowledgement@" + contact,
				"periodic_report@" + contact, "subcontracting_approval@D1", "subcontractor_briefing_acknowledgement@" + sub}
			if !acked {
				want = append(want, "briefing_followup@D1")
			}
			want = append(want, "disposal_permission@D1", "disposal_record@"+owner)
			if !slices.Equal(steps, want) {
				t.Errorf("tasks = %v\nwant %v", steps, want)
			}
			equal(t, "briefings", len(r.briefings), 2)
			equal(t, "briefing to the subcontractor", r.briefings[1].RecipientID, sub)
		})
	}
}

// TestOutsourcingSubcontractingRefused: refused, nobody is briefed and the register says so.
func TestOutsourcingSubcontractingRefused(t *testing.T) {
	r := newOutRegister(t, monday)
	in := outsourcing(policy.Level2, "2026-06-01", "2026-11-30")
	in.ReportIntervalMonths = 6
	r.approveAll(monday)
	rep := reportValues("2026-06-01", "2026-11-30", "none")
	rep["subcontracting_changes"] = "some"
	r.decideWith(jst("2026-12-01 10:00"), outTask("periodic_report", 1), "submit", contact, rep)
	r.decideWith(jst("2026-12-01 11:00"), outTask("subcontracting_approval", 1), "reject", "D1", nil)
	r.decideWith(jst("2026-12-01 12:00"), outTask("disposal_permission", 1), "approve", "D1", nil)
	r.decideWith(jst("2026-12-02 10:00"), outTask("disposal_record", 1), "done", owner, disposalValues)
	res, _ := r.execute(in)
	equal(t, "status", res.Status, "completed")
	equal(t, "briefings", len(r.briefings), 1)
	var refused bool
	for _, st := range r.stages {
		refused = refused || strings.Contains(st.Note, "refused by D1: the vendor may not subcontract")
	}
	if !refused {
		t.Errorf("stages = %v", r.stageNames())
	}
}

// TestOutsourcingBriefingNotAcknowledgedIsATask: the vendor's own briefing, unacknowledged,
// becomes the officer's task (§5.1(3)), not a note.
func TestOutsourcingBriefingNotAcknowledgedIsATask(t *testing.T) {
	r := newOutRegister(t, monday)
	r.decideWith(monday.Add(1*time.Hour), outTask("selection_review", 1), "approve", "D1", selectionOK)
	r.decideWith(monday.Add(2*time.Hour), outTask("clause_review", 1), "done", "R1", clauseMarks(nil))
	r.decideWith(monday.Add(3*time.Hour), outTask("approval", 1), "approve", "D1", nil)
	in := outsourcing(policy.Level2, "2026-09-01", "2026-11-30")
	in.ReportIntervalMonths = 6
	r.decideWith(jst("2026-06-01 10:00"), outTask("briefing_followup", 1), "done", "D1", nil)
	r.decideWith(jst("2026-12-01 10:00"), outTask("periodic_report", 1), "submit", contact, reportValues("2026-09-01", "2026-11-30", "none"))
	r.decideWith(jst("2026-12-01 11:00"), outTask("disposal_permission", 1), "approve", "D1", nil)
	r.decideWith(jst("2026-12-02 10:00"), outTask("disposal_record", 1), "done", owner, disposalValues)
	res, _ := r.execute(in)
	equal(t, "status", res.Status, "completed")
	equal(t, "follow-up asked of", r.opened[4].spec.Step+"@"+r.opened[4].spec.AssigneeID, "briefing_followup@D1")
	var done bool
	for _, st := range r.stages {
		done = done || strings.Contains(st.Note, "the vendor briefed directly by D1")
	}
	if !done {
		t.Errorf("stages = %v", r.stageNames())
	}
}
