package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// OutsourcingInput starts an outsourcing contract review (外部委託, §8.1) and carries a
// running contract across Continue-As-New. The vendor, the work and the assets are in the
// register (models.OutsourcingReview); the workflow gets IDs, dates and levels only.
type OutsourcingInput struct {
	Header
	// RequesterID is the member of staff in charge of the contract: they revise the draft
	// and record the disposal of the assets at the end.
	RequesterID string
	// ContactID is the vendor's contact (models.ExternalContact), who is briefed, sends the
	// periodic reports and the renewed certificate through links of their own.
	ContactID      string
	Classification policy.Level
	// ContractStart and ContractEnd are YYYY-MM-DD; the contract ends at the end of its
	// last day.
	ContractStart, ContractEnd string
	// CertExpiry is the last day of the vendor's ISMS certificate (YYYY-MM-DD); empty when
	// the vendor holds none.
	CertExpiry string
	// Audit is policy.AuditNone, AuditPassed or AuditFindings.
	Audit string
	// ReportIntervalMonths is how often the vendor reports (§8.1(2) 定期報告).
	ReportIntervalMonths int
	// AssetClasses are the classes of information assets whose return or disposal is
	// recorded at the end (§3(2)9(イ)), e.g. electronic and paper.
	AssetClasses []string
	Timing       OutsourcingTiming
	// Running is set when a running contract continues as new: the review is done and the
	// contract's life goes on from where the previous run stopped.
	Running *OutsourcingRunning
}

// OutsourcingRunning is what a running contract carries into its next run.
type OutsourcingRunning struct {
	// NextReport is the number of the next periodic report (1 for the first).
	NextReport int
	// CertExpiry is the current certificate's last day, after any renewal.
	CertExpiry string
	// CertAsked is the expiry for which the renewed certificate was already asked.
	CertAsked string
	// Events and TaskSeq continue the register's event keys and the task IDs, so they stay
	// unique across runs.
	Events  int
	TaskSeq map[string]int
	// Runs counts the runs so far, for the record.
	Runs int
}

// OutsourcingTiming holds the deadlines of the review's steps and of the contract's life.
// The zero value means the town's timings, copied when the process starts (changeTimings).
type OutsourcingTiming struct {
	Selection, SelectionGrace Deadline
	Review, ReviewGrace       Deadline
	Revision, RevisionGrace   Deadline
	GISO                      Deadline
	Approval, ApprovalGrace   Deadline
	Briefing, BriefingGrace   Deadline
	Report, ReportGrace       Deadline
	Renewal, RenewalGrace     Deadline
	Disposal, DisposalGrace   Deadline
	RemindBefore              []time.Duration
	// MaxRounds is how many rounds of clause review may find clauses missing before the
	// GISO decides whether the draft gets another round.
	MaxRounds int
	// CertNotice is how long before the certificate's expiry the renewed one is asked for.
	CertNotice time.Duration
	// ReportsPerRun is how many periodic reports one run handles before it continues as
	// new, so that a contract of many years keeps a short history.
	ReportsPerRun int
}

// DefaultOutsourcingTiming is what processes started before changeTimings run under; never
// change it (the town's timings, policy/timings.json, hold the defaults). It gives each
// officer a business week, the vendor two for a report, three review rounds before the GISO
// steps in, and asks for a renewed certificate 60 days before the old one expires.
var DefaultOutsourcingTiming = OutsourcingTiming{
	Selection: Deadline{BusinessDays: 5}, SelectionGrace: Deadline{BusinessDays: 3},
	Review: Deadline{BusinessDays: 5}, ReviewGrace: Deadline{BusinessDays: 3},
	Revision: Deadline{BusinessDays: 10}, RevisionGrace: Deadline{BusinessDays: 5},
	GISO:     Deadline{BusinessDays: 5},
	Approval: Deadline{BusinessDays: 5}, ApprovalGrace: Deadline{BusinessDays: 3},
	Briefing: Deadline{BusinessDays: 10}, BriefingGrace: Deadline{BusinessDays: 5},
	Report: Deadline{BusinessDays: 10}, ReportGrace: Deadline{BusinessDays: 5},
	Renewal: Deadline{BusinessDays: 20}, RenewalGrace: Deadline{BusinessDays: 10},
	Disposal: Deadline{BusinessDays: 10}, DisposalGrace: Deadline{BusinessDays: 5},
	RemindBefore:  []time.Duration{48 * time.Hour, 4 * time.Hour},
	MaxRounds:     3,
	CertNotice:    60 * 24 * time.Hour,
	ReportsPerRun: 4,
}

// Changes to the outsourcing workflow since processes began running (workflow.GetVersion):
// each changes what a process does from the point where it is read, so a process begun before
// keeps its recorded history.
const (
	// changeSelectionFit: a "no" to §8.1(1)1 rules out approval; the officer may return the
	// selection to the requester (step selection_revision).
	changeSelectionFit = "outsourcing-selection-fit"
	// changeClauseAsNeeded: §8.1(2) 「必要に応じて」, a clause may be not applicable with a
	// reason the reviewer accepts or refuses (policy.ReviewClausesAsNeeded).
	changeClauseAsNeeded = "outsourcing-clause-as-needed"
	// changeDisposalPermission: the department security officer permits the disposal before
	// it is recorded (§3(2)9(ウ), step disposal_permission).
	changeDisposalPermission = "outsourcing-disposal-permission"
	// changeVendorIncident: a periodic report naming an incident files one and starts its
	// process (§5.3(1), contract item 10).
	changeVendorIncident = "outsourcing-vendor-incident"
	// changeSubcontracting: new subcontracting declared in a report is approved by the
	// officer and its subcontractor briefed (§5.1(3)); a briefing not acknowledged in time
	// becomes the officer's task (briefing_followup), not a note.
	changeSubcontracting = "outsourcing-subcontracting"
	// changeSelectionRevise: the returned selection (selection_revision) is a form holding
	// the vendor, its identifier, contact, certificate and audit; a resubmission is the
	// request's next version (RecordSelectionRevision), and the next selection round flags
	// the revised certificate and audit.
	changeSelectionRevise = "outsourcing-selection-revise"
)

// The outsourcing review's tasks use approve, reject, return, resubmit, withdraw, done,
// submit, and acknowledge (the vendor's acknowledgement of the briefing).

// OutsourcingWorkflow runs one outsourcing contract from the vendor's selection to the
// disposal of the information at its end (§8.1, §5.1(3), §3(2)9).
//
//  1. Selection (§8.1(1)): the department security officer (DISO) checks the vendor's ISMS
//     certificate and audits against the work; the page flags a certificate that ends
//     before the contract does.
//  2. Clause review (§8.1(2)): a reviewer in the GISO's office marks each of the twelve
//     requirements present (with the contract's article), missing or not applicable. For
//     level 1 or 2 information anything missing returns the draft to the requester to revise;
//     after MaxRounds such rounds the GISO decides whether it gets another.
//  3. Approval by the DISO.
//  4. Briefing (§5.1(3)): the vendor's contact is mailed what they must keep and
//     acknowledges it through the link.
//  5. While the contract runs: periodic reports asked of the vendor by link, overdue ones
//     escalated to the DISO; the renewed certificate asked for before the old one expires.
//     Every ReportsPerRun reports the workflow continues as new.
//  6. At the end: the requester records the return or disposal of each asset class (date,
//     person, method, §3(2)9(イ)); only then does the process close.
func OutsourcingWorkflow(ctx workflow.Context, in OutsourcingInput) (Result, error) {
	p, err := begin(ctx, in.Header)
	if err != nil {
		return Result{}, err
	}
	// The deadlines are the town's, copied now and carried into the next runs, or as given
	// (changeTimings).
	t, copied, err := timingOf(ctx, p, p.copyTimings(ctx, in.Timing.Review != (Deadline{}), in.Running != nil), in.Timing, DefaultOutsourcingTiming, outsourcingTiming)
	if err != nil {
		return Result{}, err
	}
	if copied {
		in.Timing = t
	}
	c, err := newContract(p, in)
	if err != nil {
		return Result{}, err
	}
	r, err := lookup[activities.Roster](ctx, p, "Look up the CISO, GISO and department security officer",
		acts.ResolveRoster, activities.RosterRequest{DepartmentID: in.Department})
	if err != nil {
		return Result{}, err
	}
	diso, disoRole := r.DISO, policy.RoleDISO
	if diso == "" {
		diso, disoRole = r.GISO, policy.RoleGISO
	}
	c.diso, c.disoRole, c.giso = diso, disoRole, r.GISO
	// The requester decides none of the steps held by a post (separation of duties).
	p.parties = []string{in.RequesterID}

	if in.Running != nil {
		p.events = in.Running.Events
		if in.Running.TaskSeq != nil {
			p.tasks.seq = in.Running.TaskSeq
		}
		res, err := c.live(ctx, t, *in.Running)
		if err != nil {
			return p.end(ctx, err)
		}
		return res, nil
	}
	res, err := c.review(ctx, t)
	if err != nil || res.Status != "" {
		if err != nil {
			return p.end(ctx, err)
		}
		return res, nil
	}
	// The certificate is the selection's, revised or not (changeSelectionRevise).
	res, err = c.live(ctx, t, OutsourcingRunning{NextReport: 1, CertExpiry: c.in.CertExpiry})
	if err != nil {
		return p.end(ctx, err)
	}
	return res, nil
}

// contract is one outsourcing review's state in a run.
type contract struct {
	p              *process
	in             OutsourcingInput
	start, end     time.Time
	endsAt         time.Time
	diso, giso     string
	disoRole       policy.Role
	reportsThisRun int
}

// revise asks the requester to resubmit or withdraw what was returned (the selection, the
// draft), in the step s names. It returns the revision's decision and reports whether the
// process ended (withdrawn, or neither in time) and how.
func (c *contract) revise(ctx workflow.Context, t OutsourcingTiming, what string, s Step) (Decision, Result, bool, error) {
	p := c.p
	s.Assignee, s.AssigneeRole, s.Choices = c.in.RequesterID, policy.RoleStaff, []string{ChoiceResubmit, ChoiceWithdraw}
	s.Deadline, s.Grace, s.RemindBefore = t.Revision, t.RevisionGrace, t.RemindBefore
	s.EscalateTo, s.EscalateToRole, s.EscalatePost = c.diso, c.disoRole, c.disoPost()
	rv, err := p.ask(ctx, s)
	switch {
	case err != nil:
		return rv, Result{}, true, err
	case rv.TimedOut:
		res, err := p.finish(ctx, "expired", "the returned "+what+" was neither resubmitted nor withdrawn")
		return rv, res, true, err
	case rv.Choice == ChoiceWithdraw:
		res, err := p.finish(ctx, "withdrawn", "withdrawn by "+rv.DeciderID)
		return rv, res, true, err
	}
	return rv, Result{}, false, nil
}

// disoPost is the post that decides for the department: its security officer, or the GISO
// where the department has none.
func (c *contract) disoPost() policy.Post {
	if c.disoRole == policy.RoleDISO {
		return policy.Post{Role: policy.RoleDISO, Scope: c.p.department}
	}
	return policy.Post{Role: policy.RoleGISO}
}

func newContract(p *process, in OutsourcingInput) (*contract, error) {
	start, err1 := policy.ParseDate(in.ContractStart, p.cal.Loc)
	end, err2 := policy.ParseDate(in.ContractEnd, p.cal.Loc)
	if err1 != nil || err2 != nil || !end.After(start) || in.ReportIntervalMonths < 1 {
		return nil, temporal.NewNonRetryableApplicationError("bad contract period or report interval", activities.ErrBadInput, nil)
	}
	if _, err := policy.ParseLevel(int(in.Classification)); err != nil {
		return nil, temporal.NewNonRetryableApplicationError("bad classification", activities.ErrBadInput, err)
	}
	return &contract{p: p, in: in, start: start, end: end, endsAt: p.cal.EndOfDay(end)}, nil
}

// review runs the steps before the contract starts. A Result with a status means the
// process ended there.
func (c *contract) review(ctx workflow.Context, t OutsourcingTiming) (Result, error) {
	p, in := c.p, c.in
	var certExpiry time.Time
	if in.CertExpiry != "" {
		certExpiry, _ = policy.ParseDate(in.CertExpiry, p.cal.Loc)
	}
	flags := policy.SelectionFlags(policy.Vendor{CertExpiry: certExpiry, Audit: in.Audit}, in.Classification, c.start, c.end)
	note := "the department security officer checks the vendor's certification and audits (§8.1(1))"
	if len(flags) > 0 {
		note += "; flagged: " + strings.Join(flags, ", ")
	}
	if err := p.setStage(ctx, "pending", "selection_review", note); err != nil {
		return Result{}, err
	}
	// Since changeSelectionFit the officer's "no" to §8.1(1)1 rules out approval, and the
	// selection may go back to the requester (another vendor, or the vendor's measures made
	// to fit) instead of ending.
	fit := workflow.GetVersion(ctx, changeSelectionFit, workflow.DefaultVersion, 1) >= 1
	choices := []string{ChoiceApprove, ChoiceReject}
	if fit {
		choices = []string{ChoiceApprove, ChoiceReturn, ChoiceReject}
	}
	for round := 1; ; round++ {
		if round > 1 {
			if err := p.setStage(ctx, "pending", "selection_review", fmt.Sprintf("round %d: %s", round, note)); err != nil {
				return Result{}, err
			}
		}
		d, err := p.ask(ctx, Step{
			Name:     "selection_review",
			Title:    activities.Text{Ja: "外部委託事業者の選定審査（認証取得状況・監査実施状況の確認）", En: "Review the vendor's selection (certification and audits)"},
			Assignee: c.diso, AssigneeRole: c.disoRole, Post: c.disoPost(), Choices: choices,
			Form: selectionForm(fit), Deadline: t.Selection, Grace: t.SelectionGrace, RemindBefore: t.RemindBefore,
			EscalateTo: c.giso, EscalateToRole: policy.RoleGISO, EscalatePost: policy.Post{Role: policy.RoleGISO},
		})
		if err != nil {
			return Result{}, err
		}
		switch {
		case d.TimedOut:
			return p.finish(ctx, "expired", "nobody reviewed the vendor's selection in time")
		case d.Choice == ChoiceReject:
			return p.finish(ctx, "rejected", "the vendor was not selected by "+d.DeciderID+" (§8.1(1))")
		case fit && d.Choice == ChoiceApprove && !policy.MaySelect(d.Values["measures_fit"]):
			// The validator refuses this decision; should one get through, it cannot approve.
			return p.finish(ctx, "rejected", "the vendor's measures do not fit the work (§8.1(1)1)")
		case d.Choice == ChoiceReturn:
			why := "the department security officer returned the selection"
			if !policy.MaySelect(d.Values["measures_fit"]) {
				why += ": the vendor's measures do not fit the work (§8.1(1)1)"
			}
			if err := p.setStage(ctx, "returned", "selection_revision", why); err != nil {
				return Result{}, err
			}
			s := Step{
				Name:  "selection_revision",
				Title: activities.Text{Ja: "委託先の選定の見直し（セキュリティ対策の確保）と再提出", En: "Revise the vendor's selection (its security measures) and resubmit"},
			}
			if workflow.GetVersion(ctx, changeReturnRevise, workflow.DefaultVersion, 1) >= 1 {
				s.ReturnOf = d.TaskID
			}
			// Since changeSelectionRevise the requester changes the selection in the task
			// itself (another vendor, or the vendor's certificate and audit brought to fit),
			// and the next round reviews and flags the revised one.
			revise := workflow.GetVersion(ctx, changeSelectionRevise, workflow.DefaultVersion, 1) >= 1
			if revise {
				s.Title = activities.Text{Ja: "委託先の選定の見直し（事業者・セキュリティ対策の修正）と再提出", En: "Revise the vendor's selection (the vendor, its security measures) and resubmit"}
				s.Form = selectionRevisionForm()
			}
			revision, res, ended, err := c.revise(ctx, t, "selection", s)
			if err != nil || ended {
				return res, err
			}
			if revise {
				if err := p.record(ctx, "Register: the revised selection as the request's next version (§8.1(1))", acts.RecordSelectionRevision,
					activities.RevisionRecord{ProcessID: p.id, TaskID: revision.TaskID, ReturnOf: d.TaskID}); err != nil {
					return Result{}, err
				}
				// The form holds the whole selection: no certificate is no certificate.
				v := revision.Values
				in.CertExpiry, c.in.CertExpiry = v["certificate_expiry"], v["certificate_expiry"]
				if a := v["audit_status"]; a != "" {
					in.Audit, c.in.Audit = a, a
				}
				certExpiry = time.Time{}
				if in.CertExpiry != "" {
					certExpiry, _ = policy.ParseDate(in.CertExpiry, p.cal.Loc)
				}
				flags = policy.SelectionFlags(policy.Vendor{CertExpiry: certExpiry, Audit: in.Audit}, in.Classification, c.start, c.end)
				note = "the department security officer checks the revised selection (§8.1(1))"
				if len(flags) > 0 {
					note += "; flagged: " + strings.Join(flags, ", ")
				}
			}
			continue
		}
		break
	}

	// Since changeClauseAsNeeded a clause may be not applicable with a reason the reviewer
	// accepts or refuses (§8.1(2) 「必要に応じて」).
	asNeeded := workflow.GetVersion(ctx, changeClauseAsNeeded, workflow.DefaultVersion, 1) >= 1
	for round, failed := 1, 0; ; round++ {
		if err := p.setStage(ctx, "pending", "clause_review", fmt.Sprintf("round %d: a reviewer in the GISO's office checks the twelve contract clauses (§8.1(2))", round)); err != nil {
			return Result{}, err
		}
		reviewer, err := lookup[string](ctx, p, "Find a reviewer in the GISO's office", acts.ClauseReviewer, c.giso)
		if err != nil {
			return Result{}, err
		}
		role := policy.RoleStaff
		if reviewer == c.giso {
			role = policy.RoleGISO
		}
		d, err := p.ask(ctx, Step{
			Name:     "clause_review",
			Title:    activities.Text{Ja: "委託契約書の情報セキュリティ要件（12項目）の確認", En: "Check the contract for the twelve security requirements"},
			Assignee: reviewer, AssigneeRole: role, Choices: []string{ChoiceDone},
			Form: clauseForm(asNeeded), Deadline: t.Review, Grace: t.ReviewGrace, RemindBefore: t.RemindBefore,
			EscalateTo: c.giso, EscalateToRole: policy.RoleGISO, EscalatePost: policy.Post{Role: policy.RoleGISO},
		})
		if err != nil {
			return Result{}, err
		}
		if d.TimedOut {
			return p.finish(ctx, "expired", fmt.Sprintf("round %d of the clause review was not done in time", round))
		}
		if err := p.record(ctx, fmt.Sprintf("Register: the clause marks of round %d", round), acts.RecordClauseReview,
			activities.ClauseReviewRecord{ProcessID: p.id, Round: round, TaskID: d.TaskID}); err != nil {
			return Result{}, err
		}
		marks := map[string]string{}
		for _, cl := range policy.ContractClauses() {
			marks[cl.Key] = d.Values[activities.ClauseField(cl.Key)]
		}
		verdict := policy.ReviewClauses(in.Classification, marks)
		if asNeeded {
			verdict = policy.ReviewClausesAsNeeded(in.Classification, marks)
		}
		if verdict.Complete() {
			var notes []string
			if len(verdict.Missing) > 0 {
				notes = append(notes, "level 3: clauses not required, noted as missing: "+strings.Join(verdict.Missing, ", "))
			}
			if len(verdict.NotApplicable) > 0 {
				notes = append(notes, "not applicable, the reason accepted (§8.1(2) 必要に応じて; the reasons are in the register): "+strings.Join(verdict.NotApplicable, ", "))
			}
			if len(notes) > 0 {
				if err := p.setStage(ctx, "pending", "clause_review", strings.Join(notes, "; ")); err != nil {
					return Result{}, err
				}
			}
			break
		}
		failed++
		why := "missing: " + strings.Join(append(verdict.Missing, verdict.Unmarked...), ", ")
		if len(verdict.Refused) > 0 {
			why += " (not applicable, the reason refused: " + strings.Join(verdict.Refused, ", ") + ")"
		}
		returnedBy := d.TaskID
		if failed >= t.MaxRounds {
			if err := p.setStage(ctx, "escalated", "giso_decision", fmt.Sprintf("%d rounds with clauses missing (%s): the GISO decides", failed, why)); err != nil {
				return Result{}, err
			}
			g, err := p.ask(ctx, Step{
				Name:     "giso_decision",
				Title:    activities.Text{Ja: "契約条項の不備が解消されない外部委託の判断", En: "Decide on an outsourcing contract whose clauses stay incomplete"},
				Assignee: c.giso, AssigneeRole: policy.RoleGISO, Post: policy.Post{Role: policy.RoleGISO}, Choices: []string{ChoiceReturn, ChoiceReject},
				Deadline: t.GISO, RemindBefore: t.RemindBefore,
			})
			if err != nil {
				return Result{}, err
			}
			if g.TimedOut {
				return p.finish(ctx, "expired", "the GISO did not decide on the incomplete contract in time")
			}
			if g.Choice == ChoiceReject {
				return p.finish(ctx, "rejected", "the GISO rejected the contract: "+why)
			}
			returnedBy = g.TaskID
		}
		if err := p.setStage(ctx, "returned", "requester_revision", fmt.Sprintf("round %d returned to the requester: %s", round, why)); err != nil {
			return Result{}, err
		}
		s := Step{
			Name:  "requester_revision",
			Title: activities.Text{Ja: "委託契約書案の修正と再提出", En: "Revise and resubmit the draft contract"},
		}
		// Since changeReturnRevise the requester is shown who returned the draft and each
		// clause found missing with the reviewer's note, and answers for each clause where the
		// revised draft states it or why it does not apply; the answers are the register's
		// next version of the request, which the next round reviews.
		revise := workflow.GetVersion(ctx, changeReturnRevise, workflow.DefaultVersion, 1) >= 1
		if revise {
			s.ReturnOf, s.Form = returnedBy, draftRevisionForm()
		}
		revision, res, ended, err := c.revise(ctx, t, "draft", s)
		if err != nil || ended {
			return res, err
		}
		if revise {
			// revise returned without ending: the draft was resubmitted.
			if err := p.record(ctx, "Register: the revised draft's clauses as the request's next version", acts.RecordRevision,
				activities.RevisionRecord{ProcessID: p.id, TaskID: revision.TaskID, ReturnOf: returnedBy}); err != nil {
				return Result{}, err
			}
		}
	}

	if err := p.setStage(ctx, "pending", "approval", "the department security officer approves the contract"); err != nil {
		return Result{}, err
	}
	a, err := p.ask(ctx, Step{
		Name:     "approval",
		Title:    activities.Text{Ja: "外部委託契約の承認", En: "Approve the outsourcing contract"},
		Assignee: c.diso, AssigneeRole: c.disoRole, Post: c.disoPost(), Choices: []string{ChoiceApprove, ChoiceReject},
		Deadline: t.Approval, Grace: t.ApprovalGrace, RemindBefore: t.RemindBefore,
		EscalateTo: c.giso, EscalateToRole: policy.RoleGISO, EscalatePost: policy.Post{Role: policy.RoleGISO},
	})
	if err != nil {
		return Result{}, err
	}
	switch {
	case a.TimedOut:
		return p.finish(ctx, "expired", "the contract was not approved in time")
	case a.Choice == ChoiceReject:
		return p.finish(ctx, "rejected", "the contract was rejected by "+a.DeciderID)
	}

	if err := p.setStage(ctx, "approved", "briefing", "the vendor's contact is briefed on what of the policy they must keep (§5.1(3))"); err != nil {
		return Result{}, err
	}
	if err := p.run(ctx, fmt.Sprintf("Mail the briefing of §5.1(3) to the vendor's contact (%s)", in.ContactID), acts.SendBriefing,
		activities.Notice{Key: p.id + "/briefing", ProcessID: p.id, RecipientID: in.ContactID, Params: map[string]string{
			"contract_start": in.ContractStart, "contract_end": in.ContractEnd, "report_interval": fmt.Sprint(in.ReportIntervalMonths)}}); err != nil {
		return Result{}, err
	}
	b, err := p.ask(ctx, Step{
		Name:     "briefing_acknowledgement",
		Title:    activities.Text{Ja: "情報セキュリティ要件の説明内容の確認", En: "Acknowledge the security briefing"},
		Assignee: in.ContactID, AssigneeRole: "vendor contact", Choices: []string{ChoiceAcknowledge},
		Deadline: t.Briefing, Grace: t.BriefingGrace, RemindBefore: t.RemindBefore,
		EscalateTo: c.diso, EscalateToRole: c.disoRole, EscalatePost: c.disoPost(),
	})
	if err != nil {
		return Result{}, err
	}
	if b.TimedOut {
		if workflow.GetVersion(ctx, changeSubcontracting, workflow.DefaultVersion, 1) >= 1 {
			if err := c.briefingFollowup(ctx, t, "the vendor"); err != nil {
				return Result{}, err
			}
			return Result{}, nil
		}
		if err := p.setStage(ctx, "approved", "briefing", "the briefing was not acknowledged: the department security officer must brief the vendor directly"); err != nil {
			return Result{}, err
		}
	}
	return Result{}, nil
}

// briefingFollowup asks the department security officer to brief whom a mailed briefing
// did not reach (§5.1(3) 「説明しなければならない」 is the officer's duty): a task, so it is done
// and recorded, not a note. Nobody doing it by the end of the escalation is recorded.
func (c *contract) briefingFollowup(ctx workflow.Context, t OutsourcingTiming, whom string) error {
	p := c.p
	status := p.status
	if err := p.setStage(ctx, status, "briefing_followup", "the briefing of "+whom+" was not acknowledged: the department security officer briefs them directly (§5.1(3))"); err != nil {
		return err
	}
	d, err := p.ask(ctx, Step{
		Name:     "briefing_followup",
		Title:    activities.Text{Ja: "委託先への情報セキュリティ要件の直接説明（確認が得られなかったもの）", En: "Brief the vendor or subcontractor directly (the mailed briefing was not acknowledged)"},
		Assignee: c.diso, AssigneeRole: c.disoRole, Post: c.disoPost(), Choices: []string{ChoiceDone},
		Deadline: t.Briefing, Grace: t.BriefingGrace, RemindBefore: t.RemindBefore,
		EscalateTo: c.giso, EscalateToRole: policy.RoleGISO, EscalatePost: policy.Post{Role: policy.RoleGISO},
	})
	if err != nil {
		return err
	}
	note := whom + " briefed directly by " + d.DeciderID + " (§5.1(3))"
	if d.TimedOut {
		note = "flagged: nobody recorded briefing " + whom + " (§5.1(3))"
	}
	return p.setStage(ctx, status, "briefing_followup", note)
}

// subcontracting handles new subcontracting declared in periodic report n: the department
// security officer approves it (§8.1(2) 再委託に関する制限事項), and the new subcontractor's
// contact is briefed and acknowledges (§5.1(3), subcontractors included), or the officer
// briefs them directly.
func (c *contract) subcontracting(ctx workflow.Context, t OutsourcingTiming, n int, d Decision) error {
	p := c.p
	if err := p.setStage(ctx, "in_effect", "subcontracting_approval", fmt.Sprintf("report %d declares new subcontracting: the department security officer decides whether to approve it", n)); err != nil {
		return err
	}
	a, err := p.ask(ctx, Step{
		Name:     "subcontracting_approval",
		Title:    activities.Text{Ja: "定期報告で申告された再委託の承認", En: "Approve the subcontracting declared in a periodic report"},
		Assignee: c.diso, AssigneeRole: c.disoRole, Post: c.disoPost(), Choices: []string{ChoiceApprove, ChoiceReject},
		Deadline: t.Approval, Grace: t.ApprovalGrace, RemindBefore: t.RemindBefore,
		EscalateTo: c.giso, EscalateToRole: policy.RoleGISO, EscalatePost: policy.Post{Role: policy.RoleGISO},
	})
	if err != nil {
		return err
	}
	if a.TimedOut || a.Choice != ChoiceApprove {
		why := "refused by " + a.DeciderID
		if a.TimedOut {
			why = "not approved in time"
		}
		return p.setStage(ctx, "in_effect", "contract_running", fmt.Sprintf("the subcontracting declared in report %d was %s: the vendor may not subcontract this work", n, why))
	}
	sub, err := lookup[string](ctx, p, fmt.Sprintf("Register the subcontractor's contact named in report %d", n), acts.RegisterSubcontractor,
		activities.Subcontractor{ProcessID: p.id, TaskID: d.TaskID, ContactID: fmt.Sprintf("%s-S%d", c.in.ContactID, n)})
	if err != nil {
		return err
	}
	if sub == "" {
		if err := c.briefingFollowup(ctx, t, "the new subcontractor (no usable address)"); err != nil {
			return err
		}
		return p.setStage(ctx, "in_effect", "contract_running", fmt.Sprintf("the subcontracting of report %d is approved", n))
	}
	if err := p.setStage(ctx, "in_effect", "subcontractor_briefing", fmt.Sprintf("the subcontracting of report %d is approved by %s; its subcontractor is briefed (§5.1(3))", n, a.DeciderID)); err != nil {
		return err
	}
	if err := p.run(ctx, fmt.Sprintf("Mail the briefing of §5.1(3) to the new subcontractor's contact (%s)", sub), acts.SendBriefing,
		activities.Notice{Key: fmt.Sprintf("%s/briefing/S%d", p.id, n), ProcessID: p.id, RecipientID: sub, Params: map[string]string{
			"contract_start": c.in.ContractStart, "contract_end": c.in.ContractEnd, "report_interval": fmt.Sprint(c.in.ReportIntervalMonths)}}); err != nil {
		return err
	}
	b, err := p.ask(ctx, Step{
		Name:     "subcontractor_briefing_acknowledgement",
		Title:    activities.Text{Ja: "情報セキュリティ要件の説明内容の確認（再委託先）", En: "Acknowledge the security briefing (subcontractor)"},
		Assignee: sub, AssigneeRole: "subcontractor contact", Choices: []string{ChoiceAcknowledge},
		Deadline: t.Briefing, RemindBefore: t.RemindBefore,
	})
	if err != nil {
		return err
	}
	if b.TimedOut {
		if err := c.briefingFollowup(ctx, t, "the new subcontractor"); err != nil {
			return err
		}
	}
	return p.setStage(ctx, "in_effect", "contract_running", fmt.Sprintf("the subcontracting of report %d is approved and its subcontractor briefed", n))
}

// live runs the contract from where run left it: periodic reports, certificate renewal and,
// at the end, the disposal record. It continues as new every ReportsPerRun reports.
func (c *contract) live(ctx workflow.Context, t OutsourcingTiming, run OutsourcingRunning) (Result, error) {
	p, in := c.p, c.in
	if c.start.After(p.now(ctx)) {
		if err := p.setStage(ctx, "approved", "awaiting_start", "the contract starts on "+in.ContractStart); err != nil {
			return Result{}, err
		}
		if err := p.sleepUntil(ctx, c.start, "Contract starts on "+in.ContractStart); err != nil {
			return Result{}, err
		}
	}
	if run.Runs == 0 {
		if err := p.setStage(ctx, "in_effect", "contract_running", "the contract runs until the end of "+in.ContractEnd); err != nil {
			return Result{}, err
		}
	}
	for {
		from, to, due, last := c.reportPeriod(run.NextReport)
		// The certificate renewal comes first when it is due before the next report.
		if ask, ok := c.certAsk(run, t); ok && ask.Before(due) {
			if err := p.sleepUntil(ctx, ask, "Ask for the renewed ISMS certificate before "+run.CertExpiry+" (60 days' notice)"); err != nil {
				return Result{}, err
			}
			if err := c.renewCertificate(ctx, t, &run); err != nil {
				return Result{}, err
			}
			continue
		}
		if run.NextReport > 1 && c.reportsThisRun >= t.ReportsPerRun {
			return Result{}, c.continueAsNew(ctx, run)
		}
		if err := p.sleepUntil(ctx, due, fmt.Sprintf("Periodic report %d (%s to %s) is asked for on %s", run.NextReport, from, to, p.stamp(due))); err != nil {
			return Result{}, err
		}
		if err := c.periodicReport(ctx, t, run.NextReport, from, to); err != nil {
			return Result{}, err
		}
		run.NextReport++
		c.reportsThisRun++
		if last {
			break
		}
	}
	if err := p.sleepUntil(ctx, c.endsAt, "Contract ends at the end of "+in.ContractEnd); err != nil {
		return Result{}, err
	}
	return c.dispose(ctx, t)
}

// reportPeriod gives report n's period (from, to as YYYY-MM-DD), when it is asked for
// (09:00 on the day after the period), and whether it is the last one.
func (c *contract) reportPeriod(n int) (from, to string, due time.Time, last bool) {
	months := c.in.ReportIntervalMonths
	f := c.start.AddDate(0, (n-1)*months, 0)
	next := c.start.AddDate(0, n*months, 0)
	if !next.Before(c.end.AddDate(0, 0, 1)) {
		next, last = c.end.AddDate(0, 0, 1), true
	}
	day := next.AddDate(0, 0, -1)
	return f.Format(policy.DateLayout), day.Format(policy.DateLayout), next.Add(9 * time.Hour), last
}

// certAsk says when to ask for a renewed certificate: CertNotice before the current one
// expires, if it expires before the contract ends and was not asked for yet.
func (c *contract) certAsk(run OutsourcingRunning, t OutsourcingTiming) (time.Time, bool) {
	if run.CertExpiry == "" || run.CertAsked == run.CertExpiry {
		return time.Time{}, false
	}
	exp, err := policy.ParseDate(run.CertExpiry, c.p.cal.Loc)
	if err != nil || !exp.Before(c.end) {
		return time.Time{}, false
	}
	return exp.Add(-t.CertNotice).Add(9 * time.Hour), true
}

// periodicReport asks the vendor for report n, escalating to the DISO when it is overdue,
// and records it as received or missing.
func (c *contract) periodicReport(ctx workflow.Context, t OutsourcingTiming, n int, from, to string) error {
	p := c.p
	if err := p.setStage(ctx, "in_effect", "periodic_report", fmt.Sprintf("report %d (%s to %s) asked of the vendor", n, from, to)); err != nil {
		return err
	}
	// Since changeVendorIncident a report naming an incident starts the incident's process,
	// and the form asks its category and when it was found.
	vendorIncident := workflow.GetVersion(ctx, changeVendorIncident, workflow.DefaultVersion, 1) >= 1
	subcontracting := workflow.GetVersion(ctx, changeSubcontracting, workflow.DefaultVersion, 1) >= 1
	d, err := p.ask(ctx, Step{
		Name:     "periodic_report",
		Title:    activities.Text{Ja: fmt.Sprintf("委託業務の定期報告（%s〜%s）", from, to), En: fmt.Sprintf("Periodic report on the outsourced work (%s to %s)", from, to)},
		Assignee: c.in.ContactID, AssigneeRole: "vendor contact", Choices: []string{ChoiceSubmit},
		Form: reportForm(vendorIncident, subcontracting), Deadline: t.Report, Grace: t.ReportGrace, RemindBefore: t.RemindBefore,
		EscalateTo: c.diso, EscalateToRole: c.disoRole, EscalatePost: c.disoPost(),
	})
	if err != nil {
		return err
	}
	rec := activities.ReportRecord{ProcessID: p.id, Seq: n, TaskID: d.TaskID, PeriodFrom: from, PeriodTo: to, Received: !d.TimedOut}
	if err := p.record(ctx, fmt.Sprintf("Register: periodic report %d as %s", n, map[bool]string{true: "received", false: "missing"}[!d.TimedOut]),
		acts.RecordReport, rec); err != nil {
		return err
	}
	outcome := "received"
	if d.TimedOut {
		outcome = "missing: it never came"
	}
	if err := p.setStage(ctx, "in_effect", "contract_running", fmt.Sprintf("report %d (%s to %s) %s", n, from, to, outcome)); err != nil {
		return err
	}
	params := map[string]string{"period_from": from, "period_to": to}
	switch {
	case d.TimedOut:
		return p.run(ctx, fmt.Sprintf("Tell the %s (%s) that report %d never came", c.disoRole, c.diso, n), acts.SendNotice,
			activities.Notice{Key: fmt.Sprintf("%s/report-missing/%d", p.id, n), ProcessID: p.id, RecipientID: c.diso, Kind: activities.NoticeReportMissing, Params: params})
	case d.Values["incidents"] == "some":
		if err := p.run(ctx, fmt.Sprintf("Tell the %s (%s) that report %d names an incident", c.disoRole, c.diso, n), acts.SendNotice,
			activities.Notice{Key: fmt.Sprintf("%s/report-incident/%d", p.id, n), ProcessID: p.id, RecipientID: c.diso, Kind: activities.NoticeVendorIncident, Params: params}); err != nil {
			return err
		}
		if vendorIncident {
			if err := c.reportIncident(ctx, n, from, to, d); err != nil {
				return err
			}
		}
	}
	if subcontracting && d.Values["subcontracting_changes"] == "some" {
		return c.subcontracting(ctx, t, n, d)
	}
	return nil
}

// reportIncident starts the incident process for a security incident the vendor named in
// periodic report n (contract item 10, 緊急時報告義務; §5.3(1): an incident reported to the
// department's security officer, who triages it). The incident runs on its own; the contract
// waits only until it has started.
func (c *contract) reportIncident(ctx workflow.Context, n int, from, to string, d Decision) error {
	p := c.p
	id := fmt.Sprintf("INC-%s-R%d", strings.TrimPrefix(p.id, "OUT-"), n)
	category, err := policy.ParseCategory(d.Values["incident_category"])
	if err != nil {
		category = policy.CategoryOther
	}
	now := p.now(ctx)
	discovered := d.DecidedAt
	if day, err := policy.ParseDate(d.Values["incident_discovered_on"], p.cal.Loc); err == nil {
		discovered = day.UTC()
	}
	filing := activities.IncidentFiling{
		ProcessID: id, Department: p.department, RequesterID: c.in.RequesterID, DetailsFrom: d.TaskID,
		Summary: fmt.Sprintf("Incident: reported by the vendor in periodic report %d of outsourcing %s", n, p.id),
		Report: activities.IncidentReport{
			Source: models.IncidentFromStaff, Reporter: c.in.ContactID, Department: p.department,
			Category: string(category), Classification: int(c.in.Classification),
			Description:  fmt.Sprintf("The vendor's periodic report %d (%s to %s) of outsourcing %s names a security incident (contract item 10, §5.3(1)).", n, from, to, p.id),
			DiscoveredAt: discovered, ReceivedAt: now.UTC(),
		},
	}
	if err := p.fileIncident(ctx, fmt.Sprintf("Register incident %s reported by the vendor in report %d", id, n), filing,
		fmt.Sprintf("**Security incident** (§5.3(1), contract item 10) reported by the vendor of outsourcing `%s` in periodic report %d.", p.id, n),
		IncidentInput{
			Header: Header{ProcessID: id, Kind: models.KindIncident, Department: p.department, TimeZone: p.cal.Loc.String()},
			Source: models.IncidentFromStaff, ReporterID: c.in.ContactID, Category: category,
			DiscoveredAt: discovered, ReceivedAt: now.UTC(),
		}); err != nil {
		return err
	}
	return p.setStage(ctx, "in_effect", "contract_running", fmt.Sprintf("report %d names a security incident: incident %s started (§5.3(1))", n, id))
}

// renewCertificate asks the vendor for its renewed ISMS certificate and takes its expiry.
func (c *contract) renewCertificate(ctx workflow.Context, t OutsourcingTiming, run *OutsourcingRunning) error {
	p := c.p
	run.CertAsked = run.CertExpiry
	if err := p.setStage(ctx, "in_effect", "certificate_renewal", "the ISMS certificate expires on "+run.CertExpiry+", before the contract ends: the renewed one is asked for"); err != nil {
		return err
	}
	d, err := p.ask(ctx, Step{
		Name:     "certificate_renewal",
		Title:    activities.Text{Ja: "更新後のISMS認証（ISO/IEC 27001）の登録", En: "Send the renewed ISMS (ISO/IEC 27001) certificate"},
		Assignee: c.in.ContactID, AssigneeRole: "vendor contact", Choices: []string{ChoiceSubmit},
		Form: certificateForm(), Deadline: t.Renewal, Grace: t.RenewalGrace, RemindBefore: t.RemindBefore,
		EscalateTo: c.diso, EscalateToRole: c.disoRole, EscalatePost: c.disoPost(),
	})
	if err != nil {
		return err
	}
	if d.TimedOut {
		return p.setStage(ctx, "in_effect", "contract_running", "flagged: no renewed certificate was sent; the one on file expires on "+run.CertExpiry)
	}
	exp := d.Values["cert_expiry"]
	if err := p.record(ctx, "Register: the renewed certificate, valid until "+exp, acts.RecordCertificate,
		activities.CertificateRecord{ProcessID: p.id, TaskID: d.TaskID, Expiry: exp}); err != nil {
		return err
	}
	if exp > run.CertExpiry {
		run.CertExpiry = exp
	}
	return p.setStage(ctx, "in_effect", "contract_running", "the certificate is renewed until "+run.CertExpiry)
}

// dispose asks the requester to record the return or disposal of each asset class, round
// after round until it is recorded: the process closes only then (§3(2)9(イ)).
//
// Since changeDisposalPermission the department security officer is first asked to permit
// the disposal (§3(2)9(ウ) 「情報資産の廃棄を行う者は、情報セキュリティ責任者の許可を得なければ
// ならない」): permission comes before the disposal, so before the record of it. Without
// permission (refused, or not given in time) the information may not be disposed of: the
// vendor returns it to the town (contract item 9, 返還), and the record then offers only
// "returned". Either way the process closes only once the record is made (§3(2)9(イ)).
func (c *contract) dispose(ctx workflow.Context, t OutsourcingTiming) (Result, error) {
	p := c.p
	mayDispose := true
	if workflow.GetVersion(ctx, changeDisposalPermission, workflow.DefaultVersion, 1) >= 1 {
		var err error
		if mayDispose, err = c.disposalPermission(ctx, t); err != nil {
			return Result{}, err
		}
	}
	for round := 1; ; round++ {
		escalate, role, escalatePost := c.diso, c.disoRole, c.disoPost()
		if round > 1 {
			escalate, role, escalatePost = c.giso, policy.RoleGISO, policy.Post{Role: policy.RoleGISO}
		}
		if err := p.setStage(ctx, "ended", "disposal", fmt.Sprintf("round %d: the requester records the return or disposal of the information (§3(2)9)", round)); err != nil {
			return Result{}, err
		}
		d, err := p.ask(ctx, Step{
			Name:     "disposal_record",
			Title:    activities.Text{Ja: "委託終了に伴う情報資産の返還・廃棄の記録", En: "Record the return or disposal of the information assets"},
			Assignee: c.in.RequesterID, AssigneeRole: policy.RoleStaff, Choices: []string{ChoiceDone},
			Form: disposalForm(c.in.AssetClasses, mayDispose), Deadline: t.Disposal, Grace: t.DisposalGrace, RemindBefore: t.RemindBefore,
			EscalateTo: escalate, EscalateToRole: role, EscalatePost: escalatePost,
		})
		if err != nil {
			return Result{}, err
		}
		if d.TimedOut {
			continue
		}
		if err := p.record(ctx, "Register: the disposal record of each asset class (§3(2)9(イ))", acts.RecordDisposal,
			activities.DisposalRequest{ProcessID: p.id, TaskID: d.TaskID, Classes: c.in.AssetClasses}); err != nil {
			return Result{}, err
		}
		return p.finish(ctx, "completed", "the contract ended on "+c.in.ContractEnd+"; the information's return or disposal is recorded")
	}
}

// disposalPermission asks the department security officer to permit the vendor's disposal
// of the town's information before it happens (§3(2)9(ウ)), and reports whether they did.
// A refusal, or no answer by the end of the escalation, is recorded and means no permission.
func (c *contract) disposalPermission(ctx workflow.Context, t OutsourcingTiming) (bool, error) {
	p := c.p
	if err := p.setStage(ctx, "ended", "disposal_permission", "the department security officer is asked to permit the disposal of the information before it happens (§3(2)9(ウ))"); err != nil {
		return false, err
	}
	d, err := p.ask(ctx, Step{
		Name:     "disposal_permission",
		Title:    activities.Text{Ja: "委託終了に伴う情報資産の廃棄の許可", En: "Permit the disposal of the information assets at the end of the contract"},
		Assignee: c.diso, AssigneeRole: c.disoRole, Post: c.disoPost(), Choices: []string{ChoiceApprove, ChoiceReject},
		Deadline: t.Approval, Grace: t.ApprovalGrace, RemindBefore: t.RemindBefore,
		EscalateTo: c.giso, EscalateToRole: policy.RoleGISO, EscalatePost: policy.Post{Role: policy.RoleGISO},
	})
	if err != nil {
		return false, err
	}
	note := "disposal permitted by " + d.DeciderID + " (§3(2)9(ウ))"
	switch {
	case d.TimedOut:
		note = "no permission to dispose was given in time (§3(2)9(ウ)): the information is to be returned to the town, not disposed of"
	case d.Choice == ChoiceReject:
		note = "disposal refused by " + d.DeciderID + " (§3(2)9(ウ)): the information is to be returned to the town, not disposed of"
	}
	if err := p.setStage(ctx, "ended", "disposal_permission", note); err != nil {
		return false, err
	}
	return !d.TimedOut && d.Choice == ChoiceApprove, nil
}

// continueAsNew ends this run and starts the next with the contract's state.
func (c *contract) continueAsNew(ctx workflow.Context, run OutsourcingRunning) error {
	next := c.in
	run.Events = c.p.events
	run.TaskSeq = c.p.tasks.seq // this run ends here: no copy needed
	run.Runs++
	next.Running = &run
	return workflow.NewContinueAsNewError(ctx, OutsourcingWorkflow, next)
}

func selectOf(name string, label activities.Text, opts ...activities.Option) activities.Field {
	return activities.Field{Name: name, Label: label, Kind: activities.FieldSelect, Options: opts, Required: true}
}

// selectionForm is the officer's checklist of §8.1(1). With fit (changeSelectionFit), the
// answer that the measures do not fit the work forbids approving the vendor.
func selectionForm(fit bool) []activities.Field {
	var notFit []string
	if fit {
		notFit = []string{ChoiceApprove}
	}
	return []activities.Field{
		selectOf("certificate_check", activities.Text{Ja: "ISMS認証（ISO/IEC 27001）", En: "ISMS certificate (ISO/IEC 27001)"},
			activities.Option{Value: "valid", Label: activities.Text{Ja: "契約期間を通じて有効", En: "Valid for the whole contract"}},
			activities.Option{Value: "expires_during_contract", Label: activities.Text{Ja: "契約期間中に期限切れ（更新を確認する）", En: "Expires during the contract (renewal to be checked)"}},
			activities.Option{Value: "none", Label: activities.Text{Ja: "認証なし", En: "None"}}),
		selectOf("audit_check", activities.Text{Ja: "情報セキュリティ監査の実施状況", En: "Security audits"},
			activities.Option{Value: policy.AuditPassed, Label: activities.Text{Ja: "実施済み・重大な指摘なし", En: "Audited, no significant findings"}},
			activities.Option{Value: policy.AuditFindings, Label: activities.Text{Ja: "実施済み・指摘事項あり", En: "Audited, findings open"}},
			activities.Option{Value: policy.AuditNone, Label: activities.Text{Ja: "未実施", En: "Not audited"}}),
		selectOf("measures_fit", activities.Text{Ja: "委託内容に応じた情報セキュリティ対策が確保されているか（8.1(1)1）", En: "Do the vendor's measures fit the work (8.1(1)1)?"},
			activities.Option{Value: "yes", Label: activities.Text{Ja: "確保されている", En: "Yes"}},
			activities.Option{Value: "no", Label: activities.Text{Ja: "確保されていない（承認できない）", En: "No (the vendor cannot be approved)"}, Forbids: notFit}),
		{Name: "selection_note", Label: activities.Text{Ja: "確認内容・所見", En: "What was checked, findings"}, Kind: activities.FieldTextarea},
	}
}

// selectionRevisionForm is the requester's answer to a returned selection
// (changeSelectionRevise): the vendor and what the officer checks of it under §8.1(1) (its
// identifier, contact, ISMS certificate and security audits), holding the request's current
// values. It holds the whole selection (Field.EmptyClears): a vendor chosen instead may have
// no certificate or no corporate number. Not required here, where a withdrawal posts it too:
// the API checks a resubmission as POST /outsourcing-reviews checks a filing.
func selectionRevisionForm() []activities.Field {
	field := func(name, kind string, label activities.Text, opts ...activities.Option) activities.Field {
		return activities.Field{Name: name, Label: label, Kind: kind, Options: opts, Revises: true, EmptyClears: true}
	}
	return []activities.Field{
		field("vendor_name", activities.FieldText, activities.Text{Ja: "委託先事業者名", En: "Vendor"}),
		field("corporate_number", activities.FieldText, activities.Text{Ja: "法人番号（13桁）", En: "Corporate number (13 digits)"}),
		field("other_identifier", activities.FieldText, activities.Text{Ja: "法人番号がない場合の識別番号（適格請求書発行事業者登録番号など）", En: "Other identifier, for a vendor without a corporate number"}),
		field("identifier_reason", activities.FieldTextarea, activities.Text{Ja: "法人番号がない理由", En: "Why the vendor has no corporate number"}),
		field("contact_name", activities.FieldText, activities.Text{Ja: "委託先担当者", En: "Vendor contact"}),
		field("contact_email", activities.FieldText, activities.Text{Ja: "委託先担当者のメールアドレス", En: "Vendor contact's address"}),
		field("contact_locale", activities.FieldSelect, activities.Text{Ja: "委託先への連絡言語", En: "Vendor contact's language"},
			activities.Option{Value: "ja", Label: activities.Text{Ja: "日本語", En: "Japanese"}},
			activities.Option{Value: "en", Label: activities.Text{Ja: "英語", En: "English"}}),
		field("certificate_number", activities.FieldText, activities.Text{Ja: "ISMS認証登録番号（認証がない場合は空欄）", En: "ISMS certificate number (empty: none)"}),
		field("certificate_expiry", activities.FieldDate, activities.Text{Ja: "ISMS認証有効期限", En: "ISMS certificate valid until"}),
		field("audit_status", activities.FieldSelect, activities.Text{Ja: "情報セキュリティ監査の実施状況", En: "Security audits"},
			activities.Option{Value: policy.AuditPassed, Label: activities.Text{Ja: "実施済み・重大な指摘なし", En: "Audited, no significant findings"}},
			activities.Option{Value: policy.AuditFindings, Label: activities.Text{Ja: "実施済み・指摘事項あり", En: "Audited, findings open"}},
			activities.Option{Value: policy.AuditNone, Label: activities.Text{Ja: "未実施", En: "Not audited"}}),
		field("audit_summary", activities.FieldTextarea, activities.Text{Ja: "監査結果の概要", En: "Audit summary"}),
	}
}

// clauseForm is the reviewer's checklist of §8.1(2). With asNeeded (changeClauseAsNeeded)
// an item left out as not applicable carries its reason, which the reviewer accepts or
// refuses; the reason is free text, required with either answer, and stays in the register.
func clauseForm(asNeeded bool) []activities.Field {
	var form []activities.Field
	for _, cl := range policy.ContractClauses() {
		opts := []activities.Option{
			{Value: policy.ClausePresent, Label: activities.Text{Ja: "記載あり", En: "Present"}},
			{Value: policy.ClauseMissing, Label: activities.Text{Ja: "記載なし", En: "Missing"}},
			{Value: policy.ClauseNotApplicable, Label: activities.Text{Ja: "該当なし", En: "Not applicable"}},
		}
		if asNeeded {
			opts[2].Label = activities.Text{Ja: "該当なし（理由を認める）", En: "Not applicable (reason accepted)"}
			opts = append(opts, activities.Option{Value: policy.ClauseNotApplicableRefused, Label: activities.Text{Ja: "該当なしとされているが理由を認めない（記載を求める）", En: "Said not to apply, reason refused (must be written in)"}})
		}
		form = append(form,
			selectOf(activities.ClauseField(cl.Key), activities.Text{Ja: fmt.Sprintf("%d. %s", cl.N, cl.TitleJa), En: fmt.Sprintf("%d. %s", cl.N, cl.TitleEn)}, opts...),
			activities.Field{Name: activities.ArticleField(cl.Key), Label: activities.Text{Ja: fmt.Sprintf("%d. 記載箇所（条項）", cl.N), En: fmt.Sprintf("%d. Article of the contract", cl.N)}, Kind: activities.FieldText})
		if asNeeded {
			form = append(form, activities.Field{Name: activities.ReasonField(cl.Key),
				Label: activities.Text{Ja: fmt.Sprintf("%d. 該当なしとする理由", cl.N), En: fmt.Sprintf("%d. Why it does not apply", cl.N)}, Kind: activities.FieldTextarea,
				RequiredIf: &activities.Condition{Field: activities.ClauseField(cl.Key), Values: []string{policy.ClauseNotApplicable, policy.ClauseNotApplicableRefused}}})
		}
	}
	return form
}

// draftRevisionForm is the requester's answer to a returned draft (changeReturnRevise): for
// each requirement of §8.1(2), whether the revised draft states it and in which article, or
// why it does not apply to the work (「必要に応じて」), which the next round's reviewer accepts
// or refuses. Not required here: a withdrawal posts the form too; the API requires an
// answer for each clause, and the reason of one not applicable, with a resubmission.
func draftRevisionForm() []activities.Field {
	var form []activities.Field
	for _, cl := range policy.ContractClauses() {
		form = append(form,
			activities.Field{Name: activities.ClauseField(cl.Key), Kind: activities.FieldSelect, Revises: true,
				Label: activities.Text{Ja: fmt.Sprintf("%d. %s", cl.N, cl.TitleJa), En: fmt.Sprintf("%d. %s", cl.N, cl.TitleEn)},
				Options: []activities.Option{
					{Value: policy.ClausePresent, Label: activities.Text{Ja: "記載した", En: "Stated in the draft"}},
					{Value: policy.ClauseNotApplicable, Label: activities.Text{Ja: "該当なし（理由を記載）", En: "Does not apply (reason below)"}},
				}},
			activities.Field{Name: activities.ArticleField(cl.Key), Kind: activities.FieldText, Revises: true,
				Label: activities.Text{Ja: fmt.Sprintf("%d. 記載箇所（条項）", cl.N), En: fmt.Sprintf("%d. Article of the draft", cl.N)}},
			activities.Field{Name: activities.ReasonField(cl.Key), Kind: activities.FieldTextarea, Revises: true,
				Label:      activities.Text{Ja: fmt.Sprintf("%d. 該当なしとする理由", cl.N), En: fmt.Sprintf("%d. Why it does not apply", cl.N)},
				RequiredIf: &activities.Condition{Field: activities.ClauseField(cl.Key), Values: []string{policy.ClauseNotApplicable}}})
	}
	return form
}

func noneOrSome(name string, label activities.Text) activities.Field {
	return selectOf(name, label,
		activities.Option{Value: "none", Label: activities.Text{Ja: "なし", En: "None"}},
		activities.Option{Value: "some", Label: activities.Text{Ja: "あり", En: "Some"}})
}

// reportForm is the vendor's periodic report. With vendorIncident (changeVendorIncident) an
// incident named in it asks for its category and the day it was found, which start the
// incident's process, and its details.
//
// With subcontracting (changeSubcontracting) new subcontracting names the subcontractor and
// its contact, who is briefed once the officer approves it (§5.1(3)).
func reportForm(vendorIncident, subcontracting bool) []activities.Field {
	form := []activities.Field{
		{Name: "period_from", Label: activities.Text{Ja: "報告対象期間（開始）", En: "Period from"}, Kind: activities.FieldDate, Required: true},
		{Name: "period_to", Label: activities.Text{Ja: "報告対象期間（終了）", En: "Period to"}, Kind: activities.FieldDate, Required: true},
		noneOrSome("incidents", activities.Text{Ja: "情報セキュリティインシデント", En: "Security incidents"}),
	}
	if vendorIncident {
		some := &activities.Condition{Field: "incidents", Values: []string{"some"}}
		var cats []activities.Option
		for _, k := range policy.Categories() {
			cats = append(cats, activities.Option{Value: string(k), Label: activities.Text{Ja: k.Title("ja"), En: k.Title("en")}})
		}
		form = append(form,
			activities.Field{Name: "incident_category", Label: activities.Text{Ja: "インシデントの種類", En: "Kind of incident"}, Kind: activities.FieldSelect, Options: cats, RequiredIf: some},
			activities.Field{Name: "incident_discovered_on", Label: activities.Text{Ja: "インシデントを認知した日", En: "Day the incident was found"}, Kind: activities.FieldDate, RequiredIf: some},
			activities.Field{Name: "incident_details", Label: activities.Text{Ja: "インシデントの内容", En: "Incident details"}, Kind: activities.FieldTextarea, RequiredIf: some})
	} else {
		form = append(form, activities.Field{Name: "incident_details", Label: activities.Text{Ja: "インシデントの内容", En: "Incident details"}, Kind: activities.FieldTextarea})
	}
	form = append(form,
		noneOrSome("staff_changes", activities.Text{Ja: "作業者の変更", En: "Changes of staff"}),
		activities.Field{Name: "staff_change_details", Label: activities.Text{Ja: "作業者の変更内容", En: "Staff changes"}, Kind: activities.FieldTextarea},
		noneOrSome("subcontracting_changes", activities.Text{Ja: "再委託の変更", En: "Changes of subcontracting"}),
		activities.Field{Name: "subcontracting_details", Label: activities.Text{Ja: "再委託の変更内容", En: "Subcontracting changes"}, Kind: activities.FieldTextarea},
	)
	if subcontracting {
		newSub := &activities.Condition{Field: "subcontracting_changes", Values: []string{"some"}}
		form = append(form,
			activities.Field{Name: "subcontractor_name", Label: activities.Text{Ja: "新たな再委託先の事業者名", En: "New subcontractor"}, Kind: activities.FieldText, RequiredIf: newSub},
			activities.Field{Name: "subcontractor_contact_name", Label: activities.Text{Ja: "再委託先の担当者", En: "Subcontractor's contact"}, Kind: activities.FieldText},
			activities.Field{Name: "subcontractor_contact_email", Label: activities.Text{Ja: "再委託先担当者のメールアドレス（説明を送付）", En: "Subcontractor contact's address (the briefing is mailed there)"}, Kind: activities.FieldText, RequiredIf: newSub})
	}
	return form
}

func certificateForm() []activities.Field {
	return []activities.Field{
		{Name: "cert_number", Label: activities.Text{Ja: "認証登録番号", En: "Certificate number"}, Kind: activities.FieldText, Required: true},
		{Name: "cert_expiry", Label: activities.Text{Ja: "有効期限", En: "Valid until"}, Kind: activities.FieldDate, Required: true},
	}
}

// disposalForm asks date, person and method for each asset class (§3(2)9(イ)). Without the
// officer's permission to dispose (mayDispose false, §3(2)9(ウ)) the only method offered is
// the return to the town.
func disposalForm(classes []string, mayDispose bool) []activities.Field {
	var form []activities.Field
	for _, a := range policy.AssetClasses() {
		if !slices.Contains(classes, a.Key) {
			continue
		}
		method, date, person, note := activities.DisposalFields(a.Key)
		opts := []activities.Option{{Value: policy.DisposalReturned, Label: activities.Text{Ja: "返還", En: "Returned"}}}
		if mayDispose {
			opts = append(opts,
				activities.Option{Value: policy.DisposalErased, Label: activities.Text{Ja: "復元不可能な消去", En: "Erased beyond recovery"}},
				activities.Option{Value: policy.DisposalDestroyed, Label: activities.Text{Ja: "物理的破壊・裁断・溶解", En: "Physically destroyed"}})
		}
		form = append(form,
			selectOf(method, activities.Text{Ja: a.TitleJa + "：処理内容", En: a.TitleEn + ": what was done"}, opts...),
			activities.Field{Name: date, Label: activities.Text{Ja: a.TitleJa + "：実施日", En: a.TitleEn + ": date"}, Kind: activities.FieldDate, Required: true},
			activities.Field{Name: person, Label: activities.Text{Ja: a.TitleJa + "：担当者", En: a.TitleEn + ": done by"}, Kind: activities.FieldText, Required: true},
			activities.Field{Name: note, Label: activities.Text{Ja: a.TitleJa + "：備考（証明書番号など）", En: a.TitleEn + ": note (certificate number and the like)"}, Kind: activities.FieldText})
	}
	return form
}
