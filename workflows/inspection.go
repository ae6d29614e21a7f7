package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// Occasions of a self-inspection campaign: the fiscal year's (毎年度) or an extra one the GISO
// starts when needed (必要に応じて, §9.1(1)).
const (
	OccasionYearly = "yearly"
	OccasionExtra  = "extra"
)

// InspectionInput starts a self-inspection campaign (§9.1). A run started by the Temporal
// Schedule has no ProcessID: it is the fiscal year's, INS-FY<year>.
type InspectionInput struct {
	Header
	FiscalYear int
	Occasion   string
	Timing     InspectionTiming
}

// InspectionTiming holds the campaign's deadlines; the zero value means
// DefaultInspectionTiming. The policy sets none: they are town settings.
type InspectionTiming struct {
	// Inspect is how long an inspector has; InspectGrace how long after the escalation.
	Inspect, InspectGrace Deadline
	// MeasureGrace is how long a measure's owner has after its due date, once escalated.
	MeasureGrace Deadline
	RemindBefore []time.Duration
}

// DefaultInspectionTiming gives each inspector twenty business days (about a month), ten
// more once escalated; a measure's owner has until the due date the inspector set, and ten
// business days more once escalated.
var DefaultInspectionTiming = InspectionTiming{
	Inspect: Deadline{BusinessDays: 20}, InspectGrace: Deadline{BusinessDays: 10}, MeasureGrace: Deadline{BusinessDays: 10},
	RemindBefore: []time.Duration{5 * 24 * time.Hour, 24 * time.Hour},
}

// SignalStopInspection tells a target's workflow that its campaign was cancelled;
// SignalTargetInspected tells the campaign that a target's inspection is recorded (or that
// nobody inspected it in time), with the target's "kind/id".
const (
	SignalStopInspection  = "stop-inspection"
	SignalTargetInspected = "target-inspected"
)

// InspectionID is the process ID of the fiscal year's campaign; an extra one adds "-2", "-3"….
func InspectionID(fiscalYear, n int) string {
	if n <= 1 {
		return fmt.Sprintf("INS-FY%d", fiscalYear)
	}
	return fmt.Sprintf("INS-FY%d-%d", fiscalYear, n)
}

// InspectionWorkflow runs one self-inspection campaign (§9.1). The population is frozen when
// it starts: every system, inspected by its manager (§9.1(1)1), and every department,
// inspected by its security officer (§9.1(1)2), against the town's checklist copied into the
// campaign. Each target runs as a child workflow (InspectionTargetWorkflow) with its own
// history: its task, then each improvement measure to completion. When all have ended, the
// results and measures are compiled and mailed to the security committee (§9.1(2)).
func InspectionWorkflow(ctx workflow.Context, in InspectionInput) (Result, error) {
	if in.TimeZone == "" {
		in.TimeZone = "Asia/Tokyo"
	}
	if in.ProcessID == "" {
		loc, err := zone(in.TimeZone)
		if err != nil {
			return Result{}, err
		}
		in.FiscalYear = policy.FiscalYear(workflow.Now(ctx).In(loc))
		in.ProcessID, in.Kind, in.Occasion = InspectionID(in.FiscalYear, 1), models.KindInspection, OccasionYearly
	}
	if in.Occasion == "" {
		in.Occasion = OccasionYearly
	}
	t := in.Timing
	if t.Inspect == (Deadline{}) {
		t = DefaultInspectionTiming
	}
	p, err := begin(ctx, in.Header)
	if err != nil {
		return Result{}, err
	}
	setup, err := lookup[activities.InspectionSetup](ctx, p, fmt.Sprintf("Register the campaign and freeze who inspects what (fiscal year %d, %s)", in.FiscalYear, in.Occasion),
		acts.OpenInspection, activities.InspectionStart{ProcessID: p.id, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
			FiscalYear: in.FiscalYear, Occasion: in.Occasion})
	if err != nil {
		return Result{}, err
	}
	if setup.Skipped {
		// The register's entry is another workflow's (the GISO started the year's campaign
		// through the API): this run leaves it alone.
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("Skipped: %s is running already.", p.id))
		return Result{Status: "skipped", Stage: "closed"}, nil
	}
	systems, depts := 0, 0
	for _, x := range setup.Targets {
		if x.Kind == policy.TargetSystem {
			systems++
		} else {
			depts++
		}
	}
	if err := p.setStage(ctx, "in_progress", "inspection", fmt.Sprintf("%d systems and %d departments inspect against checklist %s (§9.1(1))",
		systems, depts, setup.Checklist.Version)); err != nil {
		return p.end(ctx, err)
	}
	results := make([]InspectionTargetResult, len(setup.Targets))
	ended := make([]bool, len(setup.Targets))
	errs := make([]error, len(setup.Targets))
	ids := make([]string, len(setup.Targets))
	for i, x := range setup.Targets {
		// Named by the campaign's process ID: unique per campaign, and what a person finds
		// in the Temporal UI next to the campaign.
		ids[i] = fmt.Sprintf("%s/%s/%s", p.id, x.Kind, x.TargetID)
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID: ids[i], TaskQueue: TaskQueue,
			// A cancelled campaign stops its targets itself (SignalStopInspection), so that
			// their open tasks are closed in the register.
			ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
			StaticSummary:     fmt.Sprintf("Self-inspection %s: the %s %s (§9.1(1))", p.id, x.Kind, x.TargetID),
			TypedSearchAttributes: temporal.NewSearchAttributes(ProcessKind.ValueSet(models.KindInspection),
				ProcessStage.ValueSet("inspection"), Department.ValueSet(x.Department)),
		})
		f := workflow.ExecuteChildWorkflow(cctx, InspectionTargetWorkflow, InspectionTargetInput{
			Header: Header{ProcessID: p.id, Kind: models.KindInspection, Department: x.Department, TimeZone: in.TimeZone},
			Target: x, Items: setup.Checklist.For(x.Kind), Timing: t,
		})
		workflow.Go(ctx, func(ctx workflow.Context) {
			errs[i] = f.Get(ctx, &results[i])
			ended[i] = true
		})
	}
	// A target's workflow signals when its inspection is recorded (or overdue): once every
	// target has, the results and the measures planned are reported (§9.1(2)); the measures
	// are then followed to their end, and how they ended is reported again.
	inspected := map[string]bool{}
	signals := workflow.GetSignalChannel(ctx, SignalTargetInspected)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var key string
			signals.Receive(ctx, &key)
			inspected[key] = true
		}
	})
	all := func(done func(i int) bool) func() bool {
		return func() bool {
			for i := range ids {
				if !done(i) {
					return false
				}
			}
			return true
		}
	}
	allEnded := all(func(i int) bool { return ended[i] })
	allInspected := all(func(i int) bool {
		x := setup.Targets[i]
		return ended[i] || inspected[x.Kind+"/"+x.TargetID]
	})
	stopped := func(ctx workflow.Context) (Result, error) {
		for i := range ids {
			if !ended[i] {
				_ = workflow.SignalExternalWorkflow(ctx, ids[i], "", SignalStopInspection, *p.cancelled).Get(ctx, nil)
			}
		}
		if err := workflow.Await(ctx, allEnded); err != nil {
			return p.end(ctx, err)
		}
		return p.end(ctx, errCancelled)
	}
	failed := func() error {
		for i, err := range errs {
			if ended[i] && err != nil {
				return fmt.Errorf("inspection of %s: %w", ids[i], err)
			}
		}
		return nil
	}
	if err := workflow.Await(ctx, func() bool { return allInspected() || p.cancelled != nil || failed() != nil }); err != nil {
		return p.end(ctx, err)
	}
	if p.cancelled != nil {
		return stopped(ctx)
	}
	if err := failed(); err != nil {
		return p.end(ctx, err)
	}
	if _, err := p.report(ctx, activities.ReportResults); err != nil {
		return p.end(ctx, err)
	}
	if err := p.setStage(ctx, "in_progress", "measures", "the improvement measures are carried out (§9.1(2))"); err != nil {
		return p.end(ctx, err)
	}
	if err := workflow.Await(ctx, func() bool { return allEnded() || p.cancelled != nil }); err != nil {
		return p.end(ctx, err)
	}
	if p.cancelled != nil {
		return stopped(ctx)
	}
	if err := failed(); err != nil {
		return p.end(ctx, err)
	}
	overdue, open := 0, 0
	for i := range results {
		if results[i].Status == models.InspectionOverdue {
			overdue++
		}
		open += results[i].Overdue
	}
	n, err := p.report(ctx, activities.ReportMeasures)
	if err != nil {
		return p.end(ctx, err)
	}
	note := fmt.Sprintf("reported to %d members of the security committee", n)
	if n == 0 {
		note = "compiled; no member of the security committee to report to (see the timeline)"
	}
	if workflow.GetVersion(ctx, changeInspectionYearReport, workflow.DefaultVersion, 1) >= 1 {
		if err := p.mailYearReport(ctx, in.FiscalYear); err != nil {
			return p.end(ctx, err)
		}
	}
	if overdue > 0 || open > 0 {
		return p.finish(ctx, "incomplete", fmt.Sprintf("%s; %d targets not inspected in time, %d measures overdue", note, overdue, open))
	}
	return p.finish(ctx, "completed", note)
}

// changeInspectionYearReport is the workflow.GetVersion change under which a campaign, once
// it has ended, mails every member of the security committee a link to the whole fiscal
// year's report (§9.1(2), §2(6)3); campaigns that ended before it did not.
const changeInspectionYearReport = "inspection-year-report"

// mailYearReport mails every member of the security committee a link of their own to the
// fiscal year's report, which includes this campaign's results (§9.1(2): the committee reviews
// them; issue 16: "at the end of each campaign … a mail to the committee's members with the
// link"). With nobody on the committee in the directory (activities.ErrNoRecipients) the
// campaign's timeline says so and the campaign goes on: its work is done, only the mail is
// missing.
func (p *process) mailYearReport(ctx workflow.Context, fiscalYear int) error {
	res, err := get[activities.CommitteeReportResult](ctx, p,
		fmt.Sprintf("Mail every member of the security committee a link to the report of fiscal year %d (§9.1(2))", fiscalYear),
		acts.MailCommitteeReport, activities.CommitteeReportRequest{FiscalYear: fiscalYear, Reason: fmt.Sprintf("self-inspection %s completed", p.id)})
	var app *temporal.ApplicationError
	switch {
	case errors.As(err, &app) && app.Type() == activities.ErrNoRecipients:
		return p.note(ctx, p.id+"/year-report",
			fmt.Sprintf("the link to the report of fiscal year %d was not mailed: the directory names no member of the security committee (role committee)", fiscalYear))
	case err != nil:
		return err
	}
	return p.note(ctx, p.id+"/year-report", fmt.Sprintf("the link to the report of fiscal year %d was mailed to %d members of the security committee (%s)",
		fiscalYear, len(res.Mailed), strings.Join(res.Mailed, ", ")))
}

// report compiles the campaign's results and mails them to every member of the security
// committee (§9.1(2)): when every target is inspected (the results and the measures planned),
// and when every measure has ended (how they ended). It returns how many members it mailed.
func (p *process) report(ctx workflow.Context, round string) (int, error) {
	if err := p.setStage(ctx, "in_progress", "report_"+round, "the "+round+" are compiled and reported to the security committee (§9.1(2))"); err != nil {
		return 0, err
	}
	return get[int](ctx, p, fmt.Sprintf("Compile the %s and mail them to every member of the security committee (§9.1(2))", round),
		acts.ReportInspection, activities.InspectionReport{ProcessID: p.id, Round: round})
}

// InspectionTargetInput is one target of a campaign: its process header is the campaign's.
type InspectionTargetInput struct {
	Header
	Target activities.InspectionTargetRef
	Items  []policy.ChecklistItem
	Timing InspectionTiming
}

// InspectionTargetResult is how one target's inspection ended: inspected or overdue, and
// its measures done and overdue.
type InspectionTargetResult struct {
	Status        string
	Done, Overdue int
}

// InspectionTargetWorkflow inspects one system or department of a campaign: its inspector
// answers the checklist, every item not or partly kept with an improvement measure (what,
// owner, due date), and each measure is then its owner's task until done.
func InspectionTargetWorkflow(ctx workflow.Context, in InspectionTargetInput) (InspectionTargetResult, error) {
	var out InspectionTargetResult
	p, err := begin(ctx, in.Header)
	if err != nil {
		return out, err
	}
	x := in.Target
	p.scope = x.Kind + "/" + x.TargetID
	stop := workflow.GetSignalChannel(ctx, SignalStopInspection)
	workflow.Go(ctx, func(ctx workflow.Context) {
		var req CancelRequest
		stop.Receive(ctx, &req)
		p.cancelled = &req
	})
	t := in.Timing
	today := p.now(ctx).Format("2006-01-02")
	s := Step{
		Name:  "inspect_system",
		Title: activities.Text{Ja: "自己点検の実施（情報システム " + x.TargetID + "）", En: "Self-inspection of the system " + x.TargetID},
		Post:  policy.Post{Role: policy.RoleISM, Scope: x.TargetID}, AssigneeRole: policy.RoleISM,
		// A late system manager is the department's security officer's concern.
		EscalatePost: policy.Post{Role: policy.RoleDISO, Scope: x.Department},
	}
	if x.Kind == policy.TargetDepartment {
		s = Step{
			Name:  "inspect_department",
			Title: activities.Text{Ja: "自己点検の実施（部局 " + x.TargetID + "）", En: "Self-inspection of the department " + x.TargetID},
			Post:  policy.Post{Role: policy.RoleDISO, Scope: x.TargetID}, AssigneeRole: policy.RoleDISO,
			// A late department officer is the GISO's concern.
			EscalatePost: policy.Post{Role: policy.RoleGISO},
		}
	}
	if x.InspectorRole == string(policy.RoleGISO) {
		// Nobody held the target's own post when the campaign started: the GISO inspects it
		// (§9.1(1)1), and a late GISO is the CISO's concern.
		s.Post, s.AssigneeRole, s.EscalatePost = policy.Post{Role: policy.RoleGISO}, policy.RoleGISO, policy.Post{Role: policy.RoleCISO}
	}
	s.Assignee, s.Choices, s.Form = x.Inspector, []string{ChoiceSubmit}, inspectionForm(in.Items, x.Members, today)
	s.Deadline, s.Grace, s.RemindBefore = t.Inspect, t.InspectGrace, t.RemindBefore
	d, err := p.ask(ctx, s)
	if err != nil {
		return p.endTarget(ctx, out, err)
	}
	if d.TimedOut {
		out.Status = models.InspectionOverdue
		return out, p.record(ctx, fmt.Sprintf("Register: the %s %s was not inspected in time", x.Kind, x.TargetID), acts.SetInspectionTargetStatus,
			activities.InspectionTargetStatus{ProcessID: p.id, Kind: x.Kind, TargetID: x.TargetID, Status: models.InspectionOverdue, TaskID: d.TaskID})
	}
	out.Status = models.InspectionInspected
	refs := make([]activities.ItemRef, len(in.Items))
	for i, it := range in.Items {
		refs[i] = activities.ItemRef{ID: it.ID, Clause: it.Clause}
	}
	if err := p.record(ctx, fmt.Sprintf("Register: the answers of %s on the %s %s", d.DeciderID, x.Kind, x.TargetID), acts.RecordInspection,
		activities.InspectionRecord{ProcessID: p.id, Kind: x.Kind, TargetID: x.TargetID, TaskID: d.TaskID, DeciderID: d.DeciderID,
			DecidedAt: d.DecidedAt, Items: refs}); err != nil {
		return out, err
	}
	if parent := workflow.GetInfo(ctx).ParentWorkflowExecution; parent != nil {
		// The campaign reports the results once every target is inspected (§9.1(2)).
		if err := workflow.SignalExternalWorkflow(ctx, parent.ID, "", SignalTargetInspected, x.Kind+"/"+x.TargetID).Get(ctx, nil); err != nil {
			return out, err
		}
	}
	var steps []Step
	var items []policy.ChecklistItem
	for _, it := range in.Items {
		if !policy.NeedsMeasure(d.Values["answer:"+it.ID]) {
			continue
		}
		owner := d.Values["owner:"+it.ID]
		due, err := time.ParseInLocation("2006-01-02", d.Values["due:"+it.ID], p.cal.Loc)
		if err != nil {
			return out, temporal.NewNonRetryableApplicationError(fmt.Sprintf("due date of the measure for %s: %v", it.ID, err), "BadInput", err)
		}
		// The measure is due at the close of the office's day the inspector set (the next
		// business day's if that is a holiday); one already due gets one business day.
		deadline := Deadline{BusinessDays: 1}
		if end := p.cal.EndOfBusinessDay(due, 0); end.After(p.now(ctx).Add(time.Hour)) {
			deadline = Deadline{Clock: end.Sub(p.now(ctx))}
		}
		// §9.1(2): a measure the department's officer does not see done goes to them; one the
		// officer owns goes to the GISO.
		tell := policy.Post{Role: policy.RoleDISO, Scope: x.Department}
		if owner == x.DISO || x.DISO == "" {
			tell = policy.Post{Role: policy.RoleGISO}
		}
		steps = append(steps, Step{
			Name: "improvement_measure",
			Title: activities.Text{Ja: fmt.Sprintf("自己点検の改善策の実施（%s %s：%s %s）", x.Kind, x.TargetID, it.Clause, it.Ja),
				En: fmt.Sprintf("Carry out the self-inspection's improvement measure (%s %s: %s %s)", x.Kind, x.TargetID, it.Clause, it.En)},
			Assignee: owner, AssigneeRole: policy.RoleStaff, Choices: []string{ChoiceDone},
			Form:     []activities.Field{{Name: "result", Kind: activities.FieldTextarea, Label: activities.Text{Ja: "実施結果", En: "What was done"}}},
			Deadline: deadline, Grace: t.MeasureGrace, RemindBefore: t.RemindBefore, EscalatePost: tell,
		})
		items = append(items, it)
	}
	if len(steps) == 0 {
		return out, nil
	}
	ds, err := p.askAll(ctx, steps...)
	if err != nil {
		return p.endTarget(ctx, out, err)
	}
	for i, m := range ds {
		status := models.MeasureDone
		if m.TimedOut {
			status = models.MeasureOverdue
			out.Overdue++
		} else {
			out.Done++
		}
		if err := p.record(ctx, fmt.Sprintf("Register: the measure for %s on the %s %s is %s", items[i].ID, x.Kind, x.TargetID, status), acts.RecordMeasure,
			activities.MeasureUpdate{ProcessID: p.id, Kind: x.Kind, TargetID: x.TargetID, ItemID: items[i].ID, Status: status,
				TaskID: m.TaskID, At: p.now(ctx)}); err != nil {
			return out, err
		}
	}
	return out, nil
}

// endTarget ends a target's workflow: a campaign's cancellation ends it as cancelled (its
// open tasks were closed as cancelled); other errors fail it.
func (p *process) endTarget(ctx workflow.Context, out InspectionTargetResult, err error) (InspectionTargetResult, error) {
	if errors.Is(err, errCancelled) {
		out.Status = "cancelled"
		return out, nil
	}
	return out, err
}

// inspectionForm is an inspector's form: for each item its answer, a comment (required unless
// the item is kept), and for an item not or only partly kept the improvement measure: what is
// done, its owner among the department's people and its due date, not before today (§9.1(2)).
func inspectionForm(items []policy.ChecklistItem, members []string, today string) []activities.Field {
	answers := make([]activities.Option, 0, len(policy.Answers))
	names := map[string]activities.Text{
		policy.AnswerCompliant: {Ja: "適合", En: "Compliant"}, policy.AnswerPartly: {Ja: "一部適合（改善策を記入）", En: "Partly (give a measure)"},
		policy.AnswerNot: {Ja: "不適合（改善策を記入）", En: "Not compliant (give a measure)"}, policy.AnswerNotApplicable: {Ja: "該当なし（理由を記入）", En: "Not applicable (say why)"},
	}
	for _, a := range policy.Answers {
		answers = append(answers, activities.Option{Value: a, Label: names[a]})
	}
	owners := make([]activities.Option, 0, len(members))
	for _, id := range members {
		owners = append(owners, activities.Option{Value: id, Label: activities.Text{Ja: id, En: id}})
	}
	measured := []string{policy.AnswerPartly, policy.AnswerNot}
	form := make([]activities.Field, 0, 5*len(items))
	for _, it := range items {
		id := it.ID
		form = append(form,
			activities.Field{Name: "answer:" + id, Kind: activities.FieldSelect, Required: true, Options: answers,
				Label: activities.Text{Ja: it.Clause + " " + it.Ja, En: it.Clause + " " + it.En}},
			activities.Field{Name: "comment:" + id, Kind: activities.FieldTextarea,
				RequiredIf: &activities.Condition{Field: "answer:" + id, Values: []string{policy.AnswerPartly, policy.AnswerNot, policy.AnswerNotApplicable}},
				Label:      activities.Text{Ja: it.ID + "：所見", En: it.ID + ": comment"}},
			activities.Field{Name: "measure:" + id, Kind: activities.FieldTextarea,
				RequiredIf: &activities.Condition{Field: "answer:" + id, Values: measured},
				Label:      activities.Text{Ja: it.ID + "：改善策", En: it.ID + ": improvement measure"}},
			activities.Field{Name: "owner:" + id, Kind: activities.FieldSelect, Options: owners,
				RequiredIf: &activities.Condition{Field: "answer:" + id, Values: measured},
				Label:      activities.Text{Ja: it.ID + "：改善策の担当者", En: it.ID + ": owner of the measure"}},
			activities.Field{Name: "due:" + id, Kind: activities.FieldDate, NotBefore: today,
				RequiredIf: &activities.Condition{Field: "answer:" + id, Values: measured},
				Label:      activities.Text{Ja: it.ID + "：改善策の期限", En: it.ID + ": due date of the measure"}},
		)
	}
	return form
}
