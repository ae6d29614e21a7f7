package workflows

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// UpdateTerminateCloud is the Workflow Update that ends the use of an approved cloud service
// (POST /api/v1/cloud-assessments/{id}/terminate): the exit plan runs (§8.3(3)).
const UpdateTerminateCloud = "terminate_service"

// TerminateRequest asks to end the use of a cloud service. The reason is free text and stays
// in the register; history records who asked.
type TerminateRequest struct {
	By string
}

// Choices offered on the cloud assessment's tasks (besides approve, reject and done).
const (
	ChoiceAssessed = "assessed"
	ChoiceRenewed  = "renewed"
	ChoiceLapsed   = "lapsed"
	// ChoiceConfirmRefusal and ChoiceReferToCISO answer a denial by the rules (since
	// changeCloudJudgement): the department security officer refuses the service, or sends
	// the case to the CISO; either with a reason.
	ChoiceConfirmRefusal = "confirm_refusal"
	ChoiceReferToCISO    = "refer_to_ciso"
)

// changeCloudJudgement is the workflow.GetVersion change under which the rules' verdict
// advises and the department security officer judges (§8.3, issue 14): a "denied" verdict
// opens the officer's denial_review (confirm the refusal, or send it with a reason to the
// CISO, whose ciso_referral approves with conditions or refuses); every officer's task
// shows the verdict in its title (mail and page); the CISO's approvals cite the town's
// rules file instead of §4.1(5). Processes started before it replay as they ran: a denial
// closed them at once.
const changeCloudJudgement = "cloud-diso-judges"

// CloudInput starts a cloud service assessment (クラウドサービスの利用, §8.3). The request
// itself (service, provider, regions, contract terms, certifications, exit plan) is in the
// register; the workflow carries IDs only.
type CloudInput struct {
	Header
	RequesterID string
	// InUse is set on the runs that Continue-As-New starts each April 1: the service is in
	// use, and the run begins with the yearly reassessment of FiscalYear (§9.1).
	InUse      bool
	FiscalYear int
	Carry      CloudCarry
	Timing     CloudTiming
}

// CloudCarry is what one fiscal year's run hands the next on Continue-As-New, so that the
// register's keys and the task IDs stay unique over the years.
type CloudCarry struct {
	Events      int
	Tasks       map[string]int
	Evaluations int
}

// CloudTiming holds the deadlines of the cloud assessment's human steps. The zero value
// means the town's timings, copied when the process starts (changeTimings).
type CloudTiming struct {
	Assess, AssessGrace   Deadline
	Approve, ApproveGrace Deadline
	Renew, RenewGrace     Deadline
	Exit, ExitGrace       Deadline
	RemindBefore          []time.Duration
	// RenewalNotice is how long before a certification lapses the renewed one is asked for.
	RenewalNotice time.Duration
}

// DefaultCloudTiming is what processes started before changeTimings run under; never change it
// (the town's timings, policy/timings.json, hold the defaults). It gives the department
// security officer two business weeks to assess, the CISO one to approve, and four to confirm
// an exit; each escalates to the GISO.
var DefaultCloudTiming = CloudTiming{
	Assess: Deadline{BusinessDays: 10}, AssessGrace: Deadline{BusinessDays: 5},
	Approve: Deadline{BusinessDays: 5}, ApproveGrace: Deadline{BusinessDays: 3},
	Renew: Deadline{BusinessDays: 10}, RenewGrace: Deadline{BusinessDays: 5},
	Exit: Deadline{BusinessDays: 20}, ExitGrace: Deadline{BusinessDays: 10},
	RemindBefore:  []time.Duration{48 * time.Hour, 4 * time.Hour},
	RenewalNotice: 30 * 24 * time.Hour,
}

// cloud is one run of a cloud service's life: the process, its roster and the rules'
// latest word.
type cloud struct {
	p         *process
	in        CloudInput
	t         CloudTiming
	r         activities.Roster
	fy        int
	evals     int
	eval      policy.CloudEvaluation
	inUse     bool
	terminate *TerminateRequest
	// asked is the lapse day whose renewal was already asked for.
	asked string
	// judges is set for processes started since changeCloudJudgement.
	judges bool
}

// CloudWorkflow runs a cloud service from its assessment to the end of its use (§8.3,
// §9.1).
//
// The town's rules run first and their verdict and reasons go to the register, so every
// task page shows them, and every officer's task names the verdict in its title (mail and
// page). Whether to use the service is the department security officer's judgement (§8.3):
// a "denied" verdict asks the officer to confirm the refusal or to send the case, with a
// reason, to the CISO (denial_review, ciso_referral; since changeCloudJudgement, before
// which a denial ended the process at once). Otherwise the officer assesses each of the
// five criteria of §8.3 on a form (pass or fail, with a note); a failed criterion rejects.
// Level 1 information, information outside Japan or a conditional outcome then needs the
// CISO's approval (town rules in cloud_rules.json). An approved service is registered and
// in use until the next April 1, when the run continues as new for the fiscal year's
// reassessment by the same steps (§9.1). Before a certification lapses the renewed one is asked for; a lapse without
// renewal reassesses at once. Ending the service (the terminate Update), or a reassessment
// that does not approve it again, runs the exit plan (§8.3(3)): the officer confirms that the
// data was migrated and deleted.
func CloudWorkflow(ctx workflow.Context, in CloudInput) (Result, error) {
	p, err := begin(ctx, in.Header)
	if err != nil {
		return Result{}, err
	}
	p.events = in.Carry.Events
	// Copying into a map gives the same map in any order.
	maps.Copy(p.tasks.seq, in.Carry.Tasks) //workflowcheck:ignore
	c := &cloud{p: p, in: in, t: in.Timing, evals: in.Carry.Evaluations, fy: in.FiscalYear}
	timings := p.copyTimings(ctx, in.Timing.Assess != (Deadline{}), in.InUse)
	c.judges = workflow.GetVersion(ctx, changeCloudJudgement, workflow.DefaultVersion, 1) >= 1
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdateTerminateCloud,
		func(ctx workflow.Context, req TerminateRequest) error {
			c.terminate = &req
			return nil
		},
		workflow.UpdateHandlerOptions{
			Validator: func(ctx workflow.Context, req TerminateRequest) error {
				switch {
				case c.terminate != nil:
					return temporal.NewApplicationError("the service is already being ended", "AlreadyTerminating")
				case !c.inUse:
					return temporal.NewApplicationError("the service is not in use (it is being assessed, or has ended)", "NotInUse")
				case req.By == "":
					return temporal.NewApplicationError("who ends the service is required", "BadInput")
				}
				return nil
			},
			Description: "End the use of this cloud service: the exit plan runs (§8.3(3)).",
		})
	if err != nil {
		return Result{}, err
	}
	// The deadlines are the town's, copied at the start and carried into each fiscal year's
	// run, or as given (changeTimings).
	copied := false
	if c.t, copied, err = timingOf(ctx, p, timings, in.Timing, DefaultCloudTiming, cloudTiming); err != nil {
		return Result{}, err
	}
	if copied {
		in.Timing = c.t
	}
	if c.r, err = lookup[activities.Roster](ctx, p, "Look up the CISO, GISO and department security officer",
		acts.ResolveRoster, activities.RosterRequest{DepartmentID: in.Department}); err != nil {
		return Result{}, err
	}
	if c.r.DISO == "" { // the API refuses a department without one; the directory may change
		c.r.DISO = c.r.GISO
	}
	// The requester decides none of the steps held by a post (separation of duties).
	p.parties = []string{in.RequesterID}

	if !in.InUse {
		c.fy = policy.FiscalYear(p.now(ctx))
		if err := p.record(ctx, "Open the cloud register's entry from the request", acts.OpenCloudService, p.id); err != nil {
			return p.end(ctx, err)
		}
		status, note, ok, err := c.assess(ctx, "pending", "initial assessment")
		if err != nil {
			return p.end(ctx, err)
		}
		if err := c.tell(ctx, status, note); err != nil {
			return p.end(ctx, err)
		}
		if !ok {
			if err := c.status(ctx, registerStatus(status), "", false); err != nil {
				return p.end(ctx, err)
			}
			return p.finish(ctx, status, note)
		}
	} else {
		if err := p.run(ctx, fmt.Sprintf("Tell the department security officer (%s) that the FY%d reassessment starts (§9.1)", c.r.DISO, c.fy),
			acts.SendNotice, activities.Notice{
				Key: fmt.Sprintf("%s/reassessment/%d", p.id, c.fy), ProcessID: p.id, RecipientID: c.r.DISO,
				Kind: activities.NoticeCloudReassessment, Params: map[string]string{"fiscal_year": fmt.Sprint(c.fy)},
			}); err != nil {
			return p.end(ctx, err)
		}
		if err := c.status(ctx, models.CloudReassessing, "", false); err != nil {
			return p.end(ctx, err)
		}
		status, note, ok, err := c.assess(ctx, "reassessing", fmt.Sprintf("FY%d reassessment (§9.1)", c.fy))
		if err != nil {
			return p.end(ctx, err)
		}
		if !ok {
			return c.exit(ctx, "withdrawn", fmt.Sprintf("not approved again in the FY%d reassessment (%s: %s)", c.fy, status, note))
		}
	}

	// In use until the next April 1, asking for renewed certifications on the way.
	first := !in.InUse
	for {
		next := policy.FiscalYearStart(c.fy+1, p.cal.Loc)
		nextDay := next.Format(policy.DateLayout)
		// From here the service may be ended (the terminate Update); the cloud register is
		// written before the process's stage, so that whoever sees "approved" finds it there.
		c.inUse = true
		if err := c.status(ctx, models.CloudApproved, nextDay, first); err != nil {
			return p.end(ctx, err)
		}
		if err := p.setStage(ctx, "approved", "in_use", fmt.Sprintf("in use in FY%d (rules: %s); reassessed from %s (§9.1)", c.fy, c.eval.Outcome, nextDay)); err != nil {
			return p.end(ctx, err)
		}
		first = false
		wake, why, summary := next, "reassess", fmt.Sprintf("In use until the FY%d reassessment on %s", c.fy+1, nextDay)
		if lapse, err := policy.ParseDate(c.eval.NextExpiry, p.cal.Loc); err == nil && lapse.Before(next) {
			if c.asked != c.eval.NextExpiry {
				wake, why, summary = lapse.Add(-c.t.RenewalNotice), "renew", fmt.Sprintf("Ask for the renewed %s before it lapses on %s", c.eval.NextExpiryKind, c.eval.NextExpiry)
			} else {
				wake, why, summary = lapse, "lapse", fmt.Sprintf("The %s lapses on %s", c.eval.NextExpiryKind, c.eval.NextExpiry)
			}
		}
		if _, err := p.waitUntil(ctx, wake, summary, func() bool { return c.terminate != nil || p.cancelled != nil }); err != nil {
			return p.end(ctx, err)
		}
		c.inUse = false
		switch {
		case p.cancelled != nil:
			return p.end(ctx, errCancelled)
		case c.terminate != nil:
			return c.exit(ctx, "terminated", "the use of the service ends, at the request of "+c.terminate.By)
		case why == "renew":
			if err := c.renew(ctx); err != nil {
				return p.end(ctx, err)
			}
			if c.eval.Outcome != policy.CloudDenied {
				continue
			}
			fallthrough // the renewal did not satisfy the rules
		case why == "lapse":
			status, note, ok, err := c.assess(ctx, "reassessing", "reassessment: a certification lapsed (§8.3(5))")
			if err != nil {
				return p.end(ctx, err)
			}
			if !ok {
				return c.exit(ctx, "withdrawn", fmt.Sprintf("not approved again after a certification lapsed (%s: %s)", status, note))
			}
			continue
		}
		break
	}
	// April 1: the new fiscal year's reassessment starts in a fresh run, so the history of a
	// service used for years stays one year long.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return p.end(ctx, err)
	}
	return Result{}, workflow.NewContinueAsNewError(ctx, CloudWorkflow, CloudInput{
		Header: in.Header, RequesterID: in.RequesterID, InUse: true, FiscalYear: c.fy + 1, Timing: in.Timing,
		Carry: CloudCarry{Events: p.events, Tasks: maps.Clone(p.tasks.seq), Evaluations: c.evals},
	})
}

// assess runs the same steps for a new service and for a reassessment: the rules, the
// department security officer's judgement, and the CISO's approval when the town's rules ask
// for it. It returns the final status and a note when the service is not approved.
func (c *cloud) assess(ctx workflow.Context, status, round string) (string, string, bool, error) {
	p := c.p
	if err := c.evaluate(ctx, round); err != nil {
		return "", "", false, err
	}
	note := rulesNote(c.eval)
	if c.eval.Outcome == policy.CloudDenied {
		if c.judges {
			return c.reviewDenial(ctx, status, round, note)
		}
		return "denied", note, false, p.setStage(ctx, status, "rules", round+": "+note)
	}
	if err := p.setStage(ctx, status, "diso_assessment", round+": "+note+"; the department security officer assesses the five criteria (§8.3)"); err != nil {
		return "", "", false, err
	}
	title := activities.Text{Ja: "クラウドサービス利用の評価（§8.3）", En: "Assess the use of a cloud service (§8.3)"}
	if c.judges {
		title = c.withVerdict(title)
	}
	d, err := p.ask(ctx, Step{
		Name:     "diso_assessment",
		Title:    title,
		Assignee: c.r.DISO, AssigneeRole: policy.RoleDISO, Post: policy.Post{Role: policy.RoleDISO, Scope: c.p.department}, Choices: []string{ChoiceAssessed}, Form: assessmentForm(c.eval),
		Deadline: c.t.Assess, Grace: c.t.AssessGrace, RemindBefore: c.t.RemindBefore,
		EscalateTo: c.r.GISO, EscalateToRole: policy.RoleGISO, EscalatePost: policy.Post{Role: policy.RoleGISO},
	})
	if err != nil {
		return "", "", false, err
	}
	if d.TimedOut {
		return "expired", "the department security officer did not assess the service in time", false, nil
	}
	var failed []string
	for _, k := range policy.CloudCriteria {
		if d.Values[k.Name] != "pass" {
			failed = append(failed, "§"+k.Clause)
		}
	}
	if len(failed) > 0 {
		return "rejected", "the department security officer found " + strings.Join(failed, ", ") + " not met", false, nil
	}
	if !c.eval.CISORequired {
		return "approved", note, true, nil
	}
	// Before changeCloudJudgement the CISO's approval was cited as §4.1(5); it is the town's
	// rule (cloud_rules.json), and each reason now names its rule.
	cite, titleCite := "§4.1(5)", activities.Text{Ja: "§4.1(5)", En: "§4.1(5)"}
	var why []string
	for _, f := range c.eval.CISOReasons {
		if c.judges {
			why = append(why, f.En+" ("+f.Cite()+")")
		} else {
			why = append(why, f.En)
		}
	}
	if c.judges {
		cite = "town rules " + policy.RulesFile
		titleCite = activities.Text{Ja: "町の規則 " + policy.RulesFile, En: "town rules " + policy.RulesFile}
	}
	if err := p.setStage(ctx, status, "ciso_approval", round+": the CISO's approval is needed ("+cite+"): "+strings.Join(why, "; ")); err != nil {
		return "", "", false, err
	}
	d, err = p.ask(ctx, Step{
		Name:     "ciso_approval",
		Title:    activities.Text{Ja: "クラウドサービス利用の承認（" + titleCite.Ja + "）", En: "Approve the use of a cloud service (" + titleCite.En + ")"},
		Assignee: c.r.CISO, AssigneeRole: policy.RoleCISO, Post: policy.Post{Role: policy.RoleCISO}, Choices: []string{ChoiceApprove, ChoiceReject},
		Deadline: c.t.Approve, Grace: c.t.ApproveGrace, RemindBefore: c.t.RemindBefore,
		EscalateTo: c.r.GISO, EscalateToRole: policy.RoleGISO, EscalatePost: policy.Post{Role: policy.RoleGISO},
	})
	switch {
	case err != nil:
		return "", "", false, err
	case d.TimedOut:
		return "expired", "neither the CISO nor the GISO decided on the approval in time", false, nil
	case d.Choice != ChoiceApprove:
		return "rejected", "not approved by " + d.DeciderID + " (" + cite + ")", false, nil
	}
	return "approved", note + "; approved by " + d.DeciderID + " (" + cite + ")", true, nil
}

// reviewDenial runs a "denied" verdict past the department security officer, whose
// judgement the use of a cloud service is (§8.3; since changeCloudJudgement). The officer
// confirms the refusal, with a reason (the process ends "refused"), or sends the case with
// a reason to the CISO, who approves with conditions or refuses (ciso_referral). Both steps
// run under the authority rules: deadline, reminders, and at the deadline the GISO told
// (no deputy decides either); the referring officer, like the requester, does not decide
// the CISO's step. Silence keeps the rules' refusal ("expired"). The reasons and conditions
// are free text: they stay in the register with the decisions, never in history.
func (c *cloud) reviewDenial(ctx workflow.Context, status, round, note string) (string, string, bool, error) {
	p := c.p
	if err := p.setStage(ctx, status, "denial_review", round+": "+note+"; the department security officer judges: confirm the refusal or send it to the CISO (§8.3)"); err != nil {
		return "", "", false, err
	}
	d, err := p.ask(ctx, Step{
		Name: "denial_review",
		Title: c.withVerdict(activities.Text{
			Ja: "クラウドサービス利用の判断：規則の判定は「不可」です。拒否を確定するか、理由を付してCISOに判断を求めてください（§8.3）",
			En: "Judge the use of a cloud service: the rules say \"denied\". Confirm the refusal, or send it to the CISO with your reason (§8.3)",
		}),
		Assignee: c.r.DISO, AssigneeRole: policy.RoleDISO, Post: policy.Post{Role: policy.RoleDISO, Scope: p.department},
		Choices: []string{ChoiceConfirmRefusal, ChoiceReferToCISO},
		Form: []activities.Field{
			{Name: "reason", Kind: activities.FieldTextarea, Required: true, Label: activities.Text{
				Ja: "理由（拒否の理由、またはCISOに判断を求める理由）", En: "Reason (for the refusal, or for sending it to the CISO)"}},
		},
		Deadline: c.t.Assess, Grace: c.t.AssessGrace, RemindBefore: c.t.RemindBefore,
		EscalatePost: policy.Post{Role: policy.RoleGISO},
	})
	switch {
	case err != nil:
		return "", "", false, err
	case d.TimedOut:
		return "expired", note + "; the department security officer did not judge the rules' refusal in time: it stands", false, nil
	case d.Choice == ChoiceConfirmRefusal:
		return "refused", note + "; the department security officer " + d.DeciderID + " confirmed the refusal (§8.3; the reason is in the register)", false, nil
	}
	referrer := d.DeciderID
	if err := p.setStage(ctx, status, "ciso_referral", round+": "+note+"; the department security officer "+referrer+" sent it to the CISO with a reason (in the register)"); err != nil {
		return "", "", false, err
	}
	d, err = p.ask(ctx, Step{
		Name: "ciso_referral",
		Title: activities.Text{
			Ja: "クラウドサービス利用の判断：規則の判定は「不可」、情報セキュリティ責任者が判断を求めています（条件付き承認または拒否）",
			En: "Decide on a cloud service the rules deny, sent to you by the department security officer (approve with conditions, or refuse)",
		},
		Assignee: c.r.CISO, AssigneeRole: policy.RoleCISO, Post: policy.Post{Role: policy.RoleCISO},
		Choices: []string{ChoiceApprove, ChoiceReject},
		Form: []activities.Field{
			{Name: "conditions", Kind: activities.FieldTextarea, RequiredFor: ChoiceApprove, Label: activities.Text{
				Ja: "承認の条件（承認する場合は必須）", En: "Conditions of the approval (required to approve)"}},
		},
		Deadline: c.t.Approve, Grace: c.t.ApproveGrace, RemindBefore: c.t.RemindBefore,
		EscalatePost: policy.Post{Role: policy.RoleGISO},
		Parties:      []string{referrer},
	})
	switch {
	case err != nil:
		return "", "", false, err
	case d.TimedOut:
		return "expired", note + "; the CISO did not decide in time on the case the department security officer sent: the refusal stands", false, nil
	case d.Choice != ChoiceApprove:
		return "rejected", note + "; sent to the CISO by " + referrer + " and refused by " + d.DeciderID, false, nil
	}
	return "approved", note + "; sent to the CISO by " + referrer + " and approved with conditions by " + d.DeciderID + " (the conditions are in the register)", true, nil
}

// withVerdict adds the rules' verdict to a task's title, so that the mail's subject, its
// body and the task page all show it (issue 14).
func (c *cloud) withVerdict(t activities.Text) activities.Text {
	ja := map[policy.CloudOutcome]string{policy.CloudAllowed: "可", policy.CloudConditional: "条件付き", policy.CloudDenied: "不可"}[c.eval.Outcome]
	return activities.Text{
		Ja: t.Ja + " — 規則の判定：" + ja + "（" + string(c.eval.Outcome) + "）",
		En: t.En + " — rules: " + string(c.eval.Outcome),
	}
}

// evaluate runs the rules on the register's record of the service, today.
func (c *cloud) evaluate(ctx workflow.Context, round string) error {
	c.evals++
	e, err := lookup[policy.CloudEvaluation](ctx, c.p, fmt.Sprintf("Apply the cloud rules of §8.3 (%s, FY%d)", round, c.fy),
		acts.EvaluateCloudService, activities.CloudEvaluationRequest{
			ProcessID: c.p.id, Seq: c.evals, FiscalYear: c.fy, AsOf: c.p.now(ctx).Format(policy.DateLayout),
		})
	if err != nil {
		return err
	}
	c.eval = e
	return nil
}

// renew asks the department security officer for the renewed certification, records it,
// and runs the rules again.
func (c *cloud) renew(ctx workflow.Context) error {
	p, kind, lapse := c.p, c.eval.NextExpiryKind, c.eval.NextExpiry
	c.asked = lapse
	if err := p.setStage(ctx, "approved", "certificate_renewal", fmt.Sprintf("the %s lapses on %s: the renewed one is asked for (§8.3(5))", kind, lapse)); err != nil {
		return err
	}
	d, err := p.ask(ctx, Step{
		Name:     "certificate_renewal",
		Title:    activities.Text{Ja: "クラウドサービスの認証の更新（" + kind + "）", En: "Renewed certification of a cloud service (" + kind + ")"},
		Assignee: c.r.DISO, AssigneeRole: policy.RoleDISO, Post: policy.Post{Role: policy.RoleDISO, Scope: c.p.department}, Choices: []string{ChoiceRenewed, ChoiceLapsed},
		Form: []activities.Field{
			{Name: "issued_on", Kind: activities.FieldDate, Label: activities.Text{Ja: "更新後の認証日・報告書の日付", En: "Date of the renewed certificate or report"}},
			{Name: "valid_until", Kind: activities.FieldDate, Label: activities.Text{Ja: "有効期限（報告書は空欄）", En: "Valid until (empty for a report)"}},
			{Name: "reference", Kind: activities.FieldText, Label: activities.Text{Ja: "認証番号・報告書の参照", En: "Certificate number or report reference"}},
		},
		Deadline: c.t.Renew, Grace: c.t.RenewGrace, RemindBefore: c.t.RemindBefore,
		EscalateTo: c.r.GISO, EscalateToRole: policy.RoleGISO, EscalatePost: policy.Post{Role: policy.RoleGISO},
	})
	if err != nil {
		return err
	}
	if d.TimedOut || d.Choice != ChoiceRenewed || d.Values["issued_on"] == "" {
		return nil // the lapse day comes, and with it a reassessment
	}
	if err := p.record(ctx, fmt.Sprintf("Register the renewed %s, dated %s", kind, d.Values["issued_on"]), acts.RenewCloudCertificate,
		activities.CertificateRenewal{ProcessID: p.id, Kind: kind, IssuedOn: d.Values["issued_on"], ValidUntil: d.Values["valid_until"]}); err != nil {
		return err
	}
	return c.evaluate(ctx, "renewed "+kind)
}

// exit runs the exit plan (§8.3(3)): the department security officer confirms that the data
// was migrated and deleted, then the service leaves the register's approved list.
func (c *cloud) exit(ctx workflow.Context, status, why string) (Result, error) {
	p := c.p
	if err := p.setStage(ctx, "exiting", "exit_plan", why+"; the exit plan runs (§8.3(3))"); err != nil {
		return p.end(ctx, err)
	}
	if err := c.status(ctx, models.CloudExiting, "", false); err != nil {
		return p.end(ctx, err)
	}
	d, err := p.ask(ctx, Step{
		Name:     "exit_confirmation",
		Title:    activities.Text{Ja: "クラウドサービス終了時のデータ移行・削除の確認（§8.3(3)）", En: "Confirm data migrated and deleted at the end of a cloud service (§8.3(3))"},
		Assignee: c.r.DISO, AssigneeRole: policy.RoleDISO, Post: policy.Post{Role: policy.RoleDISO, Scope: c.p.department}, Choices: []string{ChoiceDone},
		Form: []activities.Field{
			{Name: "data_migrated", Kind: activities.FieldSelect, Required: true, Label: activities.Text{Ja: "データの移行", En: "Data migrated"},
				Options: []activities.Option{{Value: "migrated", Label: activities.Text{Ja: "移行済み", En: "Migrated"}}, {Value: "not_needed", Label: activities.Text{Ja: "移行不要", En: "Not needed"}}}},
			{Name: "data_deleted", Kind: activities.FieldSelect, Required: true, Label: activities.Text{Ja: "事業者側のデータ削除", En: "Data deleted by the provider"},
				Options: []activities.Option{{Value: "confirmed", Label: activities.Text{Ja: "削除を確認した", En: "Deletion confirmed"}}}},
			{Name: "deleted_on", Kind: activities.FieldDate, Required: true, Label: activities.Text{Ja: "削除日", En: "Deleted on"}},
			{Name: "evidence", Kind: activities.FieldTextarea, Label: activities.Text{Ja: "削除証明等の記録", En: "Evidence (deletion certificate and the like)"}},
		},
		Deadline: c.t.Exit, Grace: c.t.ExitGrace, RemindBefore: c.t.RemindBefore,
		EscalateTo: c.r.GISO, EscalateToRole: policy.RoleGISO, EscalatePost: policy.Post{Role: policy.RoleGISO},
	})
	if err != nil {
		return p.end(ctx, err)
	}
	if err := c.status(ctx, models.CloudTerminated, "", false); err != nil {
		return p.end(ctx, err)
	}
	if d.TimedOut {
		return p.finish(ctx, "exit_unconfirmed", why+"; nobody confirmed that the data was migrated and deleted")
	}
	return p.finish(ctx, status, fmt.Sprintf("%s; data %s and deleted on %s (§8.3(3))", why, d.Values["data_migrated"], d.Values["deleted_on"]))
}

// status records the service's status in the cloud register.
func (c *cloud) status(ctx workflow.Context, status, next string, approved bool) error {
	summary := "Cloud register: " + status
	if next != "" {
		summary += ", next reassessment " + next
	}
	return c.p.record(ctx, summary, acts.SetCloudStatus, activities.CloudStatus{ProcessID: c.p.id, Status: status, NextReassessment: next, Approved: approved})
}

// tell mails the requester how the first assessment ended.
func (c *cloud) tell(ctx workflow.Context, status, note string) error {
	return c.p.run(ctx, fmt.Sprintf("Tell the requester (%s) the outcome: %s", c.in.RequesterID, status), acts.SendNotice, activities.Notice{
		Key: c.p.id + "/decided", ProcessID: c.p.id, RecipientID: c.in.RequesterID, Kind: activities.NoticeCloudDecided,
		Params: map[string]string{"outcome": status, "note": note},
	})
}

// registerStatus is the cloud register's status of a service not approved: denied by the
// rules, or by the officer who confirmed the rules' refusal; otherwise rejected.
func registerStatus(status string) string {
	if status == "denied" || status == "refused" {
		return models.CloudDenied
	}
	return models.CloudRejected
}

// rulesNote sums up an evaluation for summaries: the outcome and the clauses that made it.
func rulesNote(e policy.CloudEvaluation) string {
	var why []string
	for _, f := range e.Findings {
		if f.Result != policy.CloudAllowed && !slices.Contains(why, "§"+f.Clause+" "+string(f.Result)) {
			why = append(why, "§"+f.Clause+" "+string(f.Result))
		}
	}
	if len(why) == 0 {
		return "rules: " + string(e.Outcome)
	}
	return "rules: " + string(e.Outcome) + " (" + strings.Join(why, ", ") + ")"
}

// assessmentForm is the department security officer's form: each criterion of §8.3, with
// what the rules found, to be judged pass or fail with a note.
func assessmentForm(e policy.CloudEvaluation) []activities.Field {
	passFail := []activities.Option{
		{Value: "pass", Label: activities.Text{Ja: "適合", En: "Pass"}},
		{Value: "fail", Label: activities.Text{Ja: "不適合", En: "Fail"}},
	}
	var form []activities.Field
	for _, k := range policy.CloudCriteria {
		var ja, en []string
		for _, f := range e.Findings {
			if f.Criterion == k.Name {
				ja, en = append(ja, f.Ja), append(en, f.En)
			}
		}
		r := e.Criterion(k.Name)
		form = append(form,
			activities.Field{Name: k.Name, Kind: activities.FieldSelect, Required: true, Options: passFail, Label: activities.Text{
				Ja: fmt.Sprintf("§%s %s（規則: %s — %s）", k.Clause, k.Ja, r, strings.Join(ja, "。")),
				En: fmt.Sprintf("§%s %s (rules: %s — %s)", k.Clause, k.En, r, strings.Join(en, "; ")),
			}},
			activities.Field{Name: k.Name + "_note", Kind: activities.FieldTextarea, Label: activities.Text{
				Ja: "§" + k.Clause + " の所見", En: "Note on §" + k.Clause,
			}})
	}
	return form
}
