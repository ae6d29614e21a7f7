package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// IncidentInput starts the response to a security incident (§5.3, §7.3). The report itself
// (description, a resident's contact details) stays in the register; the workflow carries
// only what decides its course.
type IncidentInput struct {
	Header
	// Source is "staff" (§5.3(1)) or "resident" (§5.3(2), the public window).
	Source string
	// ReporterID is the employee who reported; empty for a resident's report.
	ReporterID string
	Category   policy.Category
	SystemIDs  []string
	// DiscoveredAt is when the reporter noticed the incident; ReceivedAt when policyflow
	// received the report. Both start the record of the reporting chain.
	DiscoveredAt, ReceivedAt time.Time
	Timing                   IncidentTiming
}

// IncidentTiming holds the deadlines of the incident's human steps. Incidents run on clock
// hours; only the root-cause stage, which is not an emergency, counts business days. The
// zero value means the deadlines of the plan the incident copies at its start (since
// rulesPlanDeadlines; DefaultIncidentTiming before).
type IncidentTiming struct {
	Triage, TriageGrace       Deadline
	TriageRemind              []time.Duration
	CISO, CISOGrace           Deadline
	CISORemind                []time.Duration
	Record, RecordGrace       Deadline
	RecordRemind              []time.Duration
	RootCause, RootCauseGrace Deadline
	Review, ReviewGrace       Deadline
	Measure, MeasureGrace     Deadline
	// RemindBefore is the reminders of the business-day steps.
	RemindBefore []time.Duration
	// Plan is the plan's steps; nil means policy.PlanSteps().
	Plan []policy.PlanStep
	// MaxRounds bounds how often a stage that nobody completes is asked again.
	MaxRounds int
}

// DefaultIncidentTiming gives the officer an hour to triage and the CISO two hours to give
// instructions, each with as long again for the one it escalates to. It is what incidents
// started before rulesPlanDeadlines run under, and must never change; the embedded plan's
// deadlines (policy/incident_plan.json) say the same, so that a town that does not edit its
// plan sees no change (TestDefaultIncidentPlanDeadlinesAreTheCodes).
var DefaultIncidentTiming = IncidentTiming{
	Triage: Deadline{Clock: time.Hour}, TriageGrace: Deadline{Clock: time.Hour},
	TriageRemind: []time.Duration{30 * time.Minute},
	CISO:         Deadline{Clock: 2 * time.Hour}, CISOGrace: Deadline{Clock: 2 * time.Hour},
	CISORemind: []time.Duration{time.Hour},
	Record:     Deadline{Clock: 24 * time.Hour}, RecordGrace: Deadline{Clock: 24 * time.Hour},
	RecordRemind: []time.Duration{4 * time.Hour},
	RootCause:    Deadline{BusinessDays: 5}, RootCauseGrace: Deadline{BusinessDays: 3},
	Review: Deadline{BusinessDays: 3}, ReviewGrace: Deadline{BusinessDays: 2},
	Measure: Deadline{BusinessDays: 20}, MeasureGrace: Deadline{BusinessDays: 5},
	RemindBefore: []time.Duration{48 * time.Hour, 4 * time.Hour},
	MaxRounds:    5,
}

// incidentTiming is the plan's deadlines as the incident runs them; Plan is left nil.
func incidentTiming(p policy.IncidentPlan) IncidentTiming {
	d := p.Deadlines
	return IncidentTiming{
		Triage: deadline(d.Triage), TriageGrace: deadline(d.TriageGrace), TriageRemind: durations(d.TriageRemind),
		CISO: deadline(d.CISO), CISOGrace: deadline(d.CISOGrace), CISORemind: durations(d.CISORemind),
		Record: deadline(d.Record), RecordGrace: deadline(d.RecordGrace), RecordRemind: durations(d.RecordRemind),
		RootCause: deadline(d.RootCause), RootCauseGrace: deadline(d.RootCauseGrace),
		Review: deadline(d.Review), ReviewGrace: deadline(d.ReviewGrace),
		Measure: deadline(d.Measure), MeasureGrace: deadline(d.MeasureGrace),
		RemindBefore: durations(d.RemindBefore),
		MaxRounds:    d.MaxRounds,
	}
}

// Choices offered on the incident's tasks (besides ChoiceDone and ChoiceReturn).
const (
	ChoiceRecord   = "record"
	ChoiceInstruct = "instruct"
	ChoiceSubmit   = "submit"
	ChoiceAccept   = "accept"
)

// MaxMeasures is how many recurrence-prevention measures one root-cause record names.
const MaxMeasures = 3

// Final statuses of an incident.
const (
	IncidentClosed             = "closed"
	IncidentMeasuresIncomplete = "measures_incomplete"
	IncidentRootCauseMissing   = "root_cause_missing"
)

// incident is one incident's run: the process, its roster and its record of hops.
type incident struct {
	*process
	in    IncidentInput
	t     IncidentTiming
	r     activities.Roster
	setup activities.IncidentSetup
	hops  int
	// order is the version of changeIncidentOrder this incident runs under (issue 13).
	order workflow.Version
	// first is the first-hour path, when one runs beside the rest (§6.4(3)7).
	first *firstHour
	// received is when the report was received.
	received time.Time
	// disconnect and disconnectGrace are the first-hour path's deadlines.
	disconnect, disconnectGrace time.Duration
	// rules is the version of changeIncidentRules this incident runs under.
	rules workflow.Version
	// severity is the triage's; planVersion the plan's the incident copied, if any.
	severity    policy.Severity
	planVersion string
	// plan is the town's plan the incident copied (since orderPlanData; hasPlan says so).
	plan    policy.IncidentPlan
	hasPlan bool
	// disconnected are the first-hour path's confirmations, as they come (§6.4(3)7).
	disconnected []disconnection
}

// disconnection is one confirmation of the first-hour path: which task, who, when.
type disconnection struct {
	step, by string
	at       time.Time
}

// runsPlan reports whether the plan applies at severity s: since rulesPlanSeverity as the
// plan the incident copied says (plan_from), before it as policy.RunsPlan says.
func (x *incident) runsPlan(s policy.Severity, officerSaysApplies bool) bool {
	if x.rules >= rulesPlanSeverity && x.hasPlan {
		return x.plan.RunsPlan(s, officerSaysApplies)
	}
	return policy.RunsPlan(s, officerSaysApplies)
}

// needsCISO reports whether the incident goes to the CISO for instructions at severity s:
// since rulesPlanDeadlines as the plan the incident copied says (ciso_from), before it as
// policy.NeedsCISO says (high and critical always).
func (x *incident) needsCISO(s policy.Severity, triagerAsks bool) bool {
	if x.rules >= rulesPlanDeadlines && x.hasPlan {
		return x.plan.NeedsCISO(s, triagerAsks)
	}
	return policy.NeedsCISO(s, triagerAsks)
}

// changeIncidentOrder is the workflow.GetVersion change under which an incident takes its
// steps in the order and from the people the policy names (issue 13). Each version adds
// one rule; an incident keeps the version it started under:
//
//  1. the first-hour path (§6.4(3)7 「即時」): the disconnection is asked for as soon as
//     the report is received, side by side with the triage;
//  2. the CISO is told at triage of every incident the plan applies to, with its severity
//     (§2(3)5, §2(2)8);
//  3. each category is routed as its clause says (policy.RouteFor): a policy violation is
//     triaged by the GISO with the department's officer told (§7.2(2)); an attack notice
//     is triaged by the GISO, told to the CISO at once, never low, and always goes to the
//     CISO, who decides whether to stop systems (§6.5(2));
//  4. every incident ends with a root-cause record, a short one outside the plan: the
//     department's officer and the system's manager give their part, the GISO reports,
//     the CISO accepts (§5.3(3));
//  5. a resident's report is passed on to the department concerned once the GISO's
//     office names it at triage: its security officer is told and takes the department's
//     part from then on (§5.3(2)1–2);
//  6. the plan is the town's data (§7.3): the incident copies the town's plan when it
//     starts (POLICYFLOW_INCIDENT_PLAN, or the embedded default) and runs its steps,
//     routes and first-hour deadlines; its timeline names the plan's version.
const changeIncidentOrder = "incident-order"

// incidentOrder is the latest version of changeIncidentOrder.
const incidentOrder workflow.Version = 6

// Versions of changeIncidentOrder.
const (
	orderFirstHour workflow.Version = 1
	orderCISOTold  workflow.Version = 2
	orderRouted    workflow.Version = 3
	orderRootCause workflow.Version = 4
	orderPassOn    workflow.Version = 5
	orderPlanData  workflow.Version = 6
)

// changeIncidentRules is the workflow.GetVersion change that continues changeIncidentOrder
// (issue 13): each version adds one rule, and an incident keeps the version it started
// under:
//
//  1. when an incident closes, whatever its outcome, a report goes to the security
//     committee (情報セキュリティ委員会): what happened, the timeline with the minutes since
//     discovery, the cause and the measures (activities.ReportToCommittee, §7.3(2)2, §7.3(3));
//  2. the plan says which of its steps run for which severity, from which severity it
//     always applies (plan_from), and holds the emergency contact list (§7.3(2)1) that the
//     contact step shows, before the GISO's list in the register;
//  3. when the first-hour disconnection was confirmed, the containment step does not ask
//     the §6.4(3)7 checklist again: it shows who confirmed it and when;
//  4. a resident's report passed on to the department concerned (§5.3(2)1–2) becomes that
//     department's process: the register's row and the Department search attribute;
//  5. the plan holds the incident's other deadlines (triage, the CISO's instructions, the
//     record outside the plan, the root cause, its review, the measures, their reminders and
//     rounds) and the severity from which the CISO always instructs (ciso_from): an incident
//     given no Timing runs under those of the plan it copied at its start, so a revised plan
//     applies to new incidents only;
//  6. each step of the plan names its owner's role (owner: giso, ism, diso or ciso): the
//     holder of that post in this incident handles the step when the triager names nobody.
const changeIncidentRules = "incident-rules"

// incidentRules is the latest version of changeIncidentRules.
const incidentRules workflow.Version = 6

// Versions of changeIncidentRules.
const (
	rulesCommitteeReport workflow.Version = 1
	rulesPlanSeverity    workflow.Version = 2
	rulesFirstHourShown  workflow.Version = 3
	rulesDepartmentMoved workflow.Version = 4
	rulesPlanDeadlines   workflow.Version = 5
	rulesStepOwner       workflow.Version = 6
)

// IncidentWorkflow runs the response to one security incident, from report to closure.
//
//  0. For malware (a category whose route is Immediate), at the moment the report is
//     received: the reporter and the system's manager get the disconnection instructions
//     of §6.4(3)7 as confirmation tasks with a 15-minute deadline, escalating to the GISO.
//     This first-hour path runs beside everything that follows; the incident closes only
//     after it.
//  1. The triager the category's route names (policy.RouteFor: the department security
//     officer; the GISO for a policy violation (§7.2(2)), an attack notice (§6.5(2)), a
//     resident's report, or a department without an officer) triages at once: severity,
//     whether the emergency response plan applies, whether the CISO is to be told, who
//     handles each step. Those the route names are told of the report (§5.3(1)2).
//     When the plan applies, the CISO is told with the severity (§2(3)5, §2(2)8).
//  2. Incidents from the plan's ciso_from severity up (high and critical by default),
//     attack notices, and any the officer chooses, go to the CISO for instructions
//     (§5.3(1)3); for an attack notice the CISO decides whether to
//     stop systems (§6.5(2)). When the CISO does not answer in time the task escalates to
//     the GISO, who decides on own judgement (§2(2)5); the record says so.
//  3. Outside the plan (low severity, or medium without it) the triager records what was
//     done; then a short root cause (5).
//  4. Under the plan (§7.3): the plan's steps for the severity — contact and evidence
//     preservation side by side, then containment (for malware with the disconnection
//     steps of §6.4(3)7, unless the first hour confirmed them), then recovery.
//  5. Root cause (§5.3(3)): the department's officer and the system's manager give their
//     part, the GISO submits the cause and the measures, the CISO accepts or returns the
//     record (never its author), and each measure is a task to completion. Then it closes.
//  6. Whatever the outcome, the security committee gets the incident's report
//     (activities.ReportToCommittee).
//
// Every deadline is the plan's (since changeIncidentRules 5), unless the starter gave a
// Timing. Incidents started before changeIncidentOrder (or under an earlier version of it)
// run as they did: see changeIncidentOrder and changeIncidentRules for what each version
// adds.
//
// Every hop of the reporting chain is recorded with its time (RecordIncidentHop).
func IncidentWorkflow(ctx workflow.Context, in IncidentInput) (Result, error) {
	p, err := begin(ctx, in.Header)
	if err != nil {
		return Result{}, err
	}
	x := &incident{process: p, in: in, t: in.Timing}
	if x.t.Triage == (Deadline{}) {
		x.t = DefaultIncidentTiming
	}
	if x.t.Plan == nil {
		x.t.Plan = policy.PlanSteps()
	}
	if x.t.MaxRounds <= 0 {
		x.t.MaxRounds = DefaultIncidentTiming.MaxRounds
	}
	res, err := x.respond(ctx)
	if err != nil {
		if errors.Is(err, errCancelled) {
			// The first-hour path closes its own tasks as cancelled before the process ends.
			_ = x.first.wait(ctx)
		}
		return p.end(ctx, err)
	}
	return res, nil
}

func (x *incident) respond(ctx workflow.Context) (Result, error) {
	var err error
	x.order = workflow.GetVersion(ctx, changeIncidentOrder, workflow.DefaultVersion, incidentOrder)
	x.rules = workflow.GetVersion(ctx, changeIncidentRules, workflow.DefaultVersion, incidentRules)
	route := policy.RouteFor(x.in.Category)
	x.disconnect, x.disconnectGrace = policy.DisconnectionDeadline, policy.DisconnectionGrace
	if x.order >= orderPlanData {
		// §7.3: the plan is the town's; this incident runs under the version it copies now.
		plan, err := lookup[policy.IncidentPlan](ctx, x.process, "Copy the town's emergency response plan (緊急時対応計画, §7.3)",
			acts.CurrentIncidentPlan, x.id)
		if err != nil {
			return Result{}, err
		}
		if x.in.Timing.Plan == nil {
			x.t.Plan = plan.PlanSteps()
		}
		if x.rules >= rulesPlanDeadlines && x.in.Timing.Triage == (Deadline{}) && plan.Deadlines.Triage != (policy.Period{}) {
			// The deadlines are the plan's too (§7.3(1), (3)): those of the copy taken now,
			// to the incident's end. (A copy without them cannot come from a checked file.)
			t := incidentTiming(plan)
			t.Plan = x.t.Plan
			x.t = t
		}
		route = plan.Route(x.in.Category)
		x.planVersion, x.plan, x.hasPlan = plan.Version, plan, true
		x.disconnect, x.disconnectGrace = time.Duration(plan.Disconnection.Deadline), time.Duration(plan.Disconnection.Grace)
		if err := x.note(ctx, x.id+"/plan", fmt.Sprintf("runs under the emergency response plan version %q (§7.3)", plan.Version)); err != nil {
			return Result{}, err
		}
	}
	if x.setup, err = lookup[activities.IncidentSetup](ctx, x.process, "Register the incident's report and look up the department's members and the emergency contacts",
		acts.RegisterIncident, activities.IncidentRef{ProcessID: x.id, Department: x.department, Category: string(x.in.Category),
			Resident: x.order >= orderPassOn && x.in.Source == models.IncidentFromResident}); err != nil {
		return Result{}, err
	}
	if x.r, err = lookup[activities.Roster](ctx, x.process, "Look up the CISO, GISO, department officer and system managers",
		acts.ResolveRoster, activities.RosterRequest{DepartmentID: x.department, SystemIDs: x.in.SystemIDs}); err != nil {
		return Result{}, err
	}
	if !x.in.DiscoveredAt.IsZero() {
		if err := x.hopAt(ctx, x.in.DiscoveredAt, "discovered", x.in.ReporterID, "discovered by the reporter"); err != nil {
			return Result{}, err
		}
	}
	received := x.in.ReceivedAt
	if received.IsZero() {
		received = x.now(ctx)
	}
	x.received = received
	if err := x.hopAt(ctx, received, "received", x.in.ReporterID, "report received from "+x.in.Source); err != nil {
		return Result{}, err
	}

	// 0. The first hour (§6.4(3)7 「即時」): the disconnection runs beside everything else.
	if x.order >= orderFirstHour && route.Immediate {
		if err := x.startFirstHour(ctx); err != nil {
			return Result{}, err
		}
	}

	// 1. Triage, at once, by the department's officer (the GISO's office for residents).
	if x.order < orderRouted {
		route = policy.CategoryRoute{Triager: policy.RoleDISO, Told: []policy.Role{policy.RoleGISO, policy.RoleISM}, Clause: "5.3(1)2"}
	}
	triager, triagerRole := x.r.DISO, policy.RoleDISO
	if route.Triager == policy.RoleGISO || x.in.Source == models.IncidentFromResident || triager == "" {
		triager, triagerRole = x.r.GISO, policy.RoleGISO
	}
	if err := x.setStage(ctx, "triage", "triage", fmt.Sprintf("reported (%s); waiting for the %s's triage (§%s)", x.in.Category, triagerRole, route.Clause)); err != nil {
		return Result{}, err
	}
	if err := x.tellReported(ctx, triager, received, route); err != nil {
		return Result{}, err
	}
	tri, err := x.triage(ctx, triager, triagerRole, route)
	if err != nil {
		return Result{}, err
	}
	x.severity = tri.severity
	if route.CISO {
		tri.askCISO = true // §6.5(2): the CISO and the GISO decide on an attack notice
	}
	if tri.department != "" {
		if err := x.passOn(ctx, tri); err != nil {
			return Result{}, err
		}
	}
	if x.order >= orderCISOTold && x.runsPlan(tri.severity, tri.plan) {
		if err := x.tellCISO(ctx, tri); err != nil {
			return Result{}, err
		}
	}

	// 2. The CISO's instructions when needed, or the GISO's own judgement (§2(2)5).
	if x.needsCISO(tri.severity, tri.askCISO) {
		if err := x.cisoInstruction(ctx, route); err != nil {
			return Result{}, err
		}
	}

	// 3. Outside the plan: the officer records what was done, and it closes.
	if !x.runsPlan(tri.severity, tri.plan) {
		return x.recordAndClose(ctx, tri, triager, triagerRole)
	}

	// 4. The plan's steps, phase by phase (§7.3).
	if err := x.runPlan(ctx, tri); err != nil {
		return Result{}, err
	}

	// 5. Root cause and recurrence prevention (§5.3(3)).
	return x.rootCause(ctx, tri)
}

// triageResult is the officer's judgement.
type triageResult struct {
	severity      policy.Severity
	plan, askCISO bool
	handlers      map[string]string
	decider       string
	// department is the department concerned by a resident's report, when the GISO's
	// office names it (§5.3(2)1–2).
	department string
}

// hopAt records a hop of the reporting chain at a given time.
func (x *incident) hopAt(ctx workflow.Context, at time.Time, hop, actor, note string) error {
	x.hops++
	who := ""
	if actor != "" {
		who = " (" + actor + ")"
	}
	return x.record(ctx, fmt.Sprintf("Record hop %q%s at %s", hop, who, x.stamp(at)), acts.RecordIncidentHop,
		activities.IncidentHop{ProcessID: x.id, Seq: x.hops, Hop: hop, ActorID: actor, Note: note, At: at.UTC()})
}

// hop records a hop of the reporting chain now.
func (x *incident) hop(ctx workflow.Context, hop, actor, note string) error {
	return x.hopAt(ctx, x.now(ctx), hop, actor, note)
}

// tellReported tells those the route names of the report, besides the triager: the GISO
// and the systems' managers (§5.3(1)2); the department's officer too for a policy violation
// (§7.2(2)1), and the CISO for an attack notice (§6.5(2)).
func (x *incident) tellReported(ctx workflow.Context, triager string, received time.Time, route policy.CategoryRoute) error {
	var to []string
	var roles []policy.Role
	for _, role := range route.Told {
		var ids []string
		switch role {
		case policy.RoleCISO:
			ids = []string{x.r.CISO}
		case policy.RoleGISO:
			ids = []string{x.r.GISO}
		case policy.RoleDISO:
			ids = []string{x.r.DISO}
		case policy.RoleISM:
			ids = x.r.ISMs
		}
		for _, id := range ids {
			if id != "" && id != triager && !slices.Contains(to, id) {
				to, roles = append(to, id), append(roles, role)
			}
		}
	}
	calls := make([]call, len(to))
	for i, id := range to {
		calls[i] = call{fmt.Sprintf("Tell the %s (%s) of the report (§%s)", roles[i], id, route.Clause), acts.SendNotice, activities.Notice{
			Key: x.id + "/reported/" + id, ProcessID: x.id, RecipientID: id, Kind: activities.NoticeIncidentReported,
			Params: map[string]string{"category": x.in.Category.Title("ja") + " / " + x.in.Category.Title("en"),
				"received_at": x.stamp(received), "triage_by": triager},
		}}
	}
	return x.runEach(ctx, calls, func(i int) error {
		return x.hop(ctx, string(roles[i])+"_notified", to[i], "told of the report")
	})
}

var yesNo = []activities.Option{
	{Value: "yes", Label: activities.Text{Ja: "はい", En: "Yes"}},
	{Value: "no", Label: activities.Text{Ja: "いいえ", En: "No"}},
}

// handlerOptions are the people an officer may name for a step: the default role, the
// department's members, the GISO and the systems' managers.
func (x *incident) handlerOptions() []activities.Option {
	ids := slices.Clone(x.setup.Members)
	for _, id := range append([]string{x.r.GISO, x.r.DISO}, x.r.ISMs...) {
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	opts := []activities.Option{{Value: "default", Label: activities.Text{Ja: "既定の担当（役割による）", En: "Default (by role)"}}}
	for _, id := range ids {
		opts = append(opts, activities.Option{Value: id, Label: activities.Text{Ja: id, En: id}})
	}
	return opts
}

// planLabel is the triage's question whether the plan applies, with the severities at which
// it always does.
func (x *incident) planLabel() activities.Text {
	if x.rules >= rulesPlanSeverity && x.hasPlan && x.plan.PlanFrom != "" {
		var ja, en []string
		for _, s := range policy.Severities() {
			if s.AtLeast(x.plan.PlanFrom) {
				ja, en = append(ja, s.Title("ja")), append(en, s.Title("en"))
			}
		}
		return activities.Text{Ja: "緊急時対応計画を適用する（" + strings.Join(ja, "・") + "は常に適用）",
			En: "The emergency response plan applies (always for " + strings.ToLower(strings.Join(en, ", ")) + ")"}
	}
	return activities.Text{Ja: "緊急時対応計画を適用する（高・重大は常に適用）", En: "The emergency response plan applies (always for high and critical)"}
}

// cisoLabel is the triage's question whether to report to the CISO, with the severities that
// always go.
func (x *incident) cisoLabel() activities.Text {
	if x.rules >= rulesPlanDeadlines && x.hasPlan && x.plan.CISOFrom != "" {
		var ja, en []string
		for _, s := range policy.Severities() {
			if s.AtLeast(x.plan.CISOFrom) {
				ja, en = append(ja, s.Title("ja")), append(en, s.Title("en"))
			}
		}
		return activities.Text{Ja: "CISOに報告し指示を仰ぐ（" + strings.Join(ja, "・") + "は常に）",
			En: "Report to the CISO for instructions (always for " + strings.ToLower(strings.Join(en, ", ")) + ")"}
	}
	return activities.Text{Ja: "CISOに報告し指示を仰ぐ（高・重大は常に）", En: "Report to the CISO for instructions (always for high and critical)"}
}

// triage asks the officer for severity, whether the plan applies, whether to tell the CISO
// and who handles each step. Nobody triaging in time is taken as high severity.
func (x *incident) triage(ctx workflow.Context, triager string, role policy.Role, route policy.CategoryRoute) (triageResult, error) {
	sev := make([]activities.Option, 0, 4)
	for _, s := range route.SeveritiesFrom() {
		sev = append(sev, activities.Option{Value: string(s), Label: activities.Text{Ja: s.Title("ja"), En: s.Title("en")}})
	}
	form := []activities.Field{
		{Name: "severity", Kind: activities.FieldSelect, Required: true, Options: sev,
			Label: activities.Text{Ja: "重大度", En: "Severity"}},
		{Name: "plan", Kind: activities.FieldSelect, Required: true, Options: yesNo, Label: x.planLabel()},
		{Name: "ciso", Kind: activities.FieldSelect, Required: true, Options: yesNo, Label: x.cisoLabel()},
	}
	opts := x.handlerOptions()
	for _, s := range x.t.Plan {
		form = append(form, activities.Field{Name: "handler_" + s.Name, Kind: activities.FieldSelect, Options: opts,
			Label: activities.Text{Ja: "担当者：" + s.TitleJa, En: "Handler: " + s.TitleEn}})
	}
	if x.order >= orderPassOn && len(x.setup.Departments) > 0 {
		opts := []activities.Option{{Value: "unknown", Label: activities.Text{Ja: "未特定（統括情報セキュリティ責任者の下で対応）", En: "Not known (handled by the GISO's office)"}}}
		for _, d := range x.setup.Departments {
			opts = append(opts, activities.Option{Value: d, Label: activities.Text{Ja: d, En: d}})
		}
		form = append(form, activities.Field{Name: "department", Kind: activities.FieldSelect, Required: true, Options: opts,
			Label: activities.Text{Ja: "所管部局（§5.3(2)1–2：情報セキュリティ責任者へ引き継ぐ）", En: "Department concerned (§5.3(2)1–2: passed on to its security officer)"}})
	}
	form = append(form, activities.Field{Name: "notes", Kind: activities.FieldTextarea, Label: activities.Text{Ja: "所見", En: "Notes"}})
	escalate, escRole := x.r.GISO, policy.RoleGISO
	if triager == x.r.GISO {
		escalate, escRole = x.r.CISO, policy.RoleCISO
	}
	if err := x.hop(ctx, "triage_requested", triager, "triage asked of the "+string(role)); err != nil {
		return triageResult{}, err
	}
	d, err := x.ask(ctx, Step{
		Name:     "triage",
		Title:    activities.Text{Ja: "情報セキュリティインシデントの判定（重大度・計画の適用・担当者）", En: "Triage a security incident (severity, plan, handlers)"},
		Assignee: triager, AssigneeRole: role, Choices: []string{ChoiceRecord}, Form: form,
		Deadline: x.t.Triage, RemindBefore: x.t.TriageRemind, EscalateTo: escalate, EscalateToRole: escRole, Grace: x.t.TriageGrace,
		Post: x.post(role), EscalatePost: policy.Post{Role: escRole},
	})
	if err != nil {
		return triageResult{}, err
	}
	if d.TimedOut {
		res := triageResult{severity: policy.SeverityHigh, plan: true, askCISO: true, handlers: map[string]string{}}
		if err := x.hop(ctx, "triage_overdue", "", "nobody triaged in time: handled as high severity"); err != nil {
			return res, err
		}
		return res, x.setStage(ctx, "responding", "triage_overdue", "nobody triaged by the deadline: handled as high severity under the plan")
	}
	s, err := policy.ParseSeverity(d.Values["severity"])
	if err != nil { // the validator admitted only the options
		s = policy.SeverityHigh
	}
	res := triageResult{severity: s, plan: d.Values["plan"] == "yes", askCISO: d.Values["ciso"] == "yes", handlers: map[string]string{}, decider: d.DeciderID}
	if v := d.Values["department"]; v != "" && v != "unknown" && slices.Contains(x.setup.Departments, v) {
		res.department = v
	}
	for _, st := range x.t.Plan {
		if v := d.Values["handler_"+st.Name]; v != "" && v != "default" {
			res.handlers[st.Name] = v
		}
	}
	return res, x.hop(ctx, "triaged", d.DeciderID, fmt.Sprintf("severity %s, plan %t, CISO asked %t", s, x.runsPlan(s, res.plan), x.needsCISO(s, res.askCISO)))
}

// cisoInstruction asks the CISO for instructions. When the CISO does not answer by the
// deadline the task escalates to the GISO, who may decide on own judgement (§2(2)5); the
// register's timeline and hops say which of them decided.
func (x *incident) cisoInstruction(ctx workflow.Context, route policy.CategoryRoute) error {
	if err := x.setStage(ctx, "ciso_instruction", "ciso_instruction", "reported to the CISO for instructions (§5.3(1)3)"); err != nil {
		return err
	}
	if err := x.hop(ctx, "ciso_asked", x.r.CISO, "instructions asked of the CISO"); err != nil {
		return err
	}
	d, err := x.ask(ctx, Step{
		Name:     "ciso_instruction",
		Title:    activities.Text{Ja: "情報セキュリティインシデントへの対応の指示", En: "Give instructions on a security incident"},
		Assignee: x.r.CISO, AssigneeRole: policy.RoleCISO, Choices: []string{ChoiceInstruct},
		Form:     x.instructionForm(route),
		Deadline: x.t.CISO, RemindBefore: x.t.CISORemind, EscalateTo: x.r.GISO, EscalateToRole: policy.RoleGISO, Grace: x.t.CISOGrace,
		Post: policy.Post{Role: policy.RoleCISO}, EscalatePost: policy.Post{Role: policy.RoleGISO},
	})
	if err == nil && !d.TimedOut && route.CISO {
		if err := x.hop(ctx, "stop_systems_decided", d.DeciderID, "§6.5(2): stop the systems: "+d.Values["stop_systems"]); err != nil {
			return err
		}
	}
	switch {
	case err != nil:
		return err
	case d.TimedOut:
		if err := x.hop(ctx, "ciso_unanswered", "", "neither the CISO nor the GISO gave instructions in time"); err != nil {
			return err
		}
		return x.setStage(ctx, "responding", "ciso_unanswered", "neither the CISO nor the GISO gave instructions in time: the plan runs on the officer's triage")
	case x.authority && d.ForHolder != "":
		// §2(2)5: the CISO is absent — registered as such, or silent past the deadline.
		why := "did not answer in time"
		if d.Occasion == policy.OnAbsence {
			why = "is registered absent"
		}
		if err := x.hop(ctx, "giso_own_judgement", d.DeciderID, "the CISO "+why+"; the GISO decided on own judgement (§2(2)5)"); err != nil {
			return err
		}
		return x.setStage(ctx, "responding", "giso_judgement", fmt.Sprintf("the CISO (%s) %s: the GISO (%s) decided on own judgement (§2(2)5)", d.ForHolder, why, d.DeciderID))
	case !x.authority && d.DeciderID != x.r.CISO:
		if err := x.hop(ctx, "giso_own_judgement", d.DeciderID, "the CISO did not answer in time; the GISO decided on own judgement (§2(2)5)"); err != nil {
			return err
		}
		return x.setStage(ctx, "responding", "giso_judgement", fmt.Sprintf("the CISO (%s) did not answer in time: the GISO (%s) decided on own judgement (§2(2)5)", x.r.CISO, d.DeciderID))
	}
	if err := x.hop(ctx, "ciso_instructed", d.DeciderID, "the CISO gave instructions"); err != nil {
		return err
	}
	return x.setStage(ctx, "responding", "ciso_instructed", "the CISO gave instructions")
}

// instructionForm is the CISO's form: the instructions, and for an attack notice whether
// systems are stopped, which the CISO (or the GISO in the CISO's place) decides (§6.5(2)).
func (x *incident) instructionForm(route policy.CategoryRoute) []activities.Field {
	var form []activities.Field
	if route.CISO {
		form = append(form, activities.Field{Name: "stop_systems", Kind: activities.FieldSelect, Required: true, Options: yesNo,
			Label: activities.Text{Ja: "システムを停止する（§6.5(2)）", En: "Stop the systems (§6.5(2))"}})
	}
	return append(form, activities.Field{Name: "instructions", Kind: activities.FieldTextarea, Required: true,
		Label: activities.Text{Ja: "指示内容", En: "Instructions"}})
}

// recordAndClose is the path outside the plan: the officer records what was done, the
// incident closes and the GISO is told.
func (x *incident) recordAndClose(ctx workflow.Context, tri triageResult, triager string, role policy.Role) (Result, error) {
	if err := x.setStage(ctx, "recording", "record", fmt.Sprintf("severity %s, outside the plan: the %s records what was done", tri.severity, role)); err != nil {
		return Result{}, err
	}
	escalate, escRole := x.r.GISO, policy.RoleGISO
	if triager == x.r.GISO {
		escalate, escRole = x.r.CISO, policy.RoleCISO
	}
	d, err := x.ask(ctx, Step{
		Name:     "record",
		Title:    activities.Text{Ja: "情報セキュリティインシデントの対応記録", En: "Record what was done about a security incident"},
		Assignee: triager, AssigneeRole: role, Choices: []string{ChoiceRecord},
		Form: []activities.Field{
			{Name: "actions", Kind: activities.FieldTextarea, Required: true, Label: activities.Text{Ja: "対応内容", En: "What was done"}},
			{Name: "cause", Kind: activities.FieldTextarea, Label: activities.Text{Ja: "原因", En: "Cause"}},
		},
		Deadline: x.t.Record, RemindBefore: x.t.RecordRemind, EscalateTo: escalate, EscalateToRole: escRole, Grace: x.t.RecordGrace,
		Post: x.post(role), EscalatePost: policy.Post{Role: escRole},
	})
	if err != nil {
		return Result{}, err
	}
	how := "the officer recorded what was done"
	if d.TimedOut {
		how = "nobody recorded what was done in time"
	} else if err := x.hop(ctx, "recorded", d.DeciderID, "what was done is recorded"); err != nil {
		return Result{}, err
	}
	if x.order >= orderRootCause {
		// §5.3(3): outside the plan too, the cause is found and reported to the CISO.
		return x.rootCause(ctx, tri)
	}
	if err := x.tellClosed(ctx, tri.severity, how); err != nil {
		return Result{}, err
	}
	if err := x.hop(ctx, "closed", "", how); err != nil {
		return Result{}, err
	}
	return x.close(ctx, IncidentClosed, fmt.Sprintf("severity %s, outside the plan: %s; the GISO is told", tri.severity, how))
}

// tellClosed tells the GISO that the incident closed, once the first-hour path (if one
// runs) has ended.
func (x *incident) tellClosed(ctx workflow.Context, sev policy.Severity, how string) error {
	if err := x.first.wait(ctx); err != nil {
		return err
	}
	return x.run(ctx, fmt.Sprintf("Tell the GISO (%s) that the incident is closed", x.r.GISO), acts.SendNotice, activities.Notice{
		Key: x.id + "/closed/" + x.r.GISO, ProcessID: x.id, RecipientID: x.r.GISO, Kind: activities.NoticeIncidentClosed,
		Params: map[string]string{"severity": sev.Title("ja") + " / " + sev.Title("en"), "how": how},
	})
}

// handlerFor is who handles a plan step: the officer's choice; since rulesStepOwner the
// holder of the post the plan names as the step's owner; before it by role: the GISO, who
// keeps the contact network (§2(2)7), contacts; the system's manager (or the department's
// officer) does the rest. A post nobody holds in this incident falls to the department's
// officer, then the GISO.
func (x *incident) handlerFor(s policy.PlanStep, tri triageResult) (string, policy.Role) {
	if id, ok := tri.handlers[s.Name]; ok {
		return id, policy.RoleStaff
	}
	if x.rules >= rulesStepOwner && s.Owner != "" {
		switch {
		case s.Owner == policy.RoleCISO && x.r.CISO != "":
			return x.r.CISO, policy.RoleCISO
		case s.Owner == policy.RoleGISO && x.r.GISO != "":
			return x.r.GISO, policy.RoleGISO
		case s.Owner == policy.RoleISM && len(x.r.ISMs) > 0:
			return x.r.ISMs[0], policy.RoleISM
		case s.Owner != policy.RoleGISO && s.Owner != policy.RoleCISO && x.r.DISO != "":
			return x.r.DISO, policy.RoleDISO
		}
		return x.r.GISO, policy.RoleGISO
	}
	switch {
	case s.Name == policy.StepContact && x.r.GISO != "":
		return x.r.GISO, policy.RoleGISO
	case len(x.r.ISMs) > 0:
		return x.r.ISMs[0], policy.RoleISM
	case x.r.DISO != "":
		return x.r.DISO, policy.RoleDISO
	}
	return x.r.GISO, policy.RoleGISO
}

// post is the post a role holds in this incident: the department's officer, the system's
// manager (of the first system named), or a town-wide post; none for a handler the officer
// chose by name (RoleStaff), who is asked as a person.
func (x *incident) post(role policy.Role) policy.Post {
	switch role {
	case policy.RoleDISO:
		return policy.Post{Role: role, Scope: x.department}
	case policy.RoleISM:
		if len(x.in.SystemIDs) == 0 {
			return policy.Post{}
		}
		return policy.Post{Role: role, Scope: x.in.SystemIDs[0]}
	case policy.RoleCISO, policy.RoleGISO:
		return policy.Post{Role: role}
	}
	return policy.Post{}
}

// planStep builds the task of one step of the plan.
func (x *incident) planStep(s policy.PlanStep, tri triageResult) Step {
	who, role := x.handlerFor(s, tri)
	escalate, escRole := x.r.GISO, policy.RoleGISO
	if who == x.r.GISO {
		escalate, escRole = x.r.CISO, policy.RoleCISO
	}
	var form []activities.Field
	done := []activities.Option{
		{Value: "done", Label: activities.Text{Ja: "実施した", En: "Done"}},
		{Value: "not_applicable", Label: activities.Text{Ja: "該当しない", En: "Not applicable"}},
	}
	title := activities.Text{Ja: "緊急時対応：" + s.TitleJa, En: "Emergency response: " + s.TitleEn}
	switch s.Name {
	case policy.StepContact:
		reached := []activities.Option{
			{Value: "contacted", Label: activities.Text{Ja: "連絡した", En: "Contacted"}},
			{Value: "unreachable", Label: activities.Text{Ja: "連絡がつかない", En: "Unreachable"}},
			{Value: "not_needed", Label: activities.Text{Ja: "不要", En: "Not needed"}},
		}
		var listed []string
		if x.rules >= rulesPlanSeverity && x.hasPlan {
			// §7.3(2)1: the plan's own contact list first, with how to reach each entry.
			for _, c := range x.plan.ContactsFor(x.in.Category) {
				listed = append(listed, c.ID)
				form = append(form, activities.Field{Name: "contact_" + c.ID, Kind: activities.FieldSelect, Required: true,
					Label:   activities.Text{Ja: "緊急連絡先（計画）：" + c.Line(), En: "Emergency contact (plan): " + c.Line()},
					Options: reached})
			}
		}
		for _, id := range x.setup.Contacts {
			if slices.Contains(listed, id) {
				continue
			}
			form = append(form, activities.Field{Name: "contact_" + id, Kind: activities.FieldSelect, Required: true,
				Label: activities.Text{Ja: "連絡先 " + id, En: "Contact " + id}, Options: reached})
		}
	case policy.StepContainment:
		if x.rules >= rulesFirstHourShown && len(x.disconnected) > 0 && len(policy.ContainmentChecklist(x.in.Category)) > 0 {
			// §6.4(3)7 was done in the first hour and is on the record: not asked twice.
			var ja, en []string
			for _, c := range x.disconnected {
				ja = append(ja, fmt.Sprintf("%s が %s に確認", c.by, x.stamp(c.at)))
				en = append(en, fmt.Sprintf("by %s at %s", c.by, x.stamp(c.at)))
			}
			title.Ja += "（§6.4(3)7の切り離しは確認済み：" + strings.Join(ja, "、") + "）"
			title.En += " (the disconnection of §6.4(3)7 was confirmed " + strings.Join(en, "; ") + ")"
			break
		}
		for _, d := range policy.ContainmentChecklist(x.in.Category) {
			form = append(form, activities.Field{Name: "disconnect_" + d.Name, Kind: activities.FieldSelect, Required: true,
				Label: activities.Text{Ja: d.TitleJa + "（§6.4(3)7）", En: d.TitleEn + " (§6.4(3)7)"}, Options: done})
		}
	}
	form = append(form, activities.Field{Name: "actions", Kind: activities.FieldTextarea, Label: activities.Text{Ja: "実施内容", En: "What was done"}})
	return Step{
		Name:     s.Name,
		Title:    title,
		Assignee: who, AssigneeRole: role, Choices: []string{ChoiceDone}, Form: form,
		Deadline: Deadline{Clock: s.Deadline}, RemindBefore: s.RemindBefore,
		EscalateTo: escalate, EscalateToRole: escRole, Grace: Deadline{Clock: s.Grace},
		Post: x.post(role), EscalatePost: policy.Post{Role: escRole},
	}
}

// runPlan runs the plan's steps phase by phase; the steps of a phase run side by side.
// A step nobody confirms is recorded as overdue, and the plan goes on.
func (x *incident) runPlan(ctx workflow.Context, tri triageResult) error {
	phases := map[int][]policy.PlanStep{}
	var order []int
	var skipped []string
	for _, s := range x.t.Plan {
		if x.rules >= rulesPlanSeverity && !s.For(tri.severity) {
			skipped = append(skipped, s.Name)
			continue
		}
		if _, ok := phases[s.Phase]; !ok {
			order = append(order, s.Phase)
		}
		phases[s.Phase] = append(phases[s.Phase], s)
	}
	slices.Sort(order)
	if len(skipped) > 0 {
		if err := x.hop(ctx, "plan_steps_skipped", "", fmt.Sprintf("the plan (version %q) does not run %s for a %s incident (§7.3)",
			x.planVersion, strings.Join(skipped, ", "), tri.severity)); err != nil {
			return err
		}
	}
	for _, ph := range order {
		var names []string
		steps := make([]Step, 0, len(phases[ph]))
		for _, s := range phases[ph] {
			names = append(names, s.Name)
			steps = append(steps, x.planStep(s, tri))
		}
		if err := x.setStage(ctx, "responding", strings.Join(names, "+"), fmt.Sprintf("emergency response plan (§7.3): %s", strings.Join(names, ", "))); err != nil {
			return err
		}
		ds, err := x.askAll(ctx, steps...)
		if err != nil {
			return err
		}
		for i, d := range ds {
			if d.TimedOut {
				if err := x.hop(ctx, names[i]+"_overdue", "", "nobody confirmed the step in time"); err != nil {
					return err
				}
				continue
			}
			if err := x.hop(ctx, names[i]+"_done", d.DeciderID, "step done"); err != nil {
				return err
			}
		}
	}
	return nil
}

// rootCause runs §5.3(3): the GISO records the cause and the measures, the CISO accepts or
// returns the record, and each measure is tracked to completion.
func (x *incident) rootCause(ctx workflow.Context, tri triageResult) (Result, error) {
	var owners []string
	accepted := false
	// short is the record of an incident outside the plan: the cause, and measures only
	// where the GISO names some.
	short := x.order >= orderRootCause && !x.runsPlan(tri.severity, tri.plan)
	if x.order >= orderRootCause {
		if err := x.causeFromDepartment(ctx); err != nil {
			return Result{}, err
		}
	}
	// returned is the CISO's return of the last round's record (changeReturnRevise): the next
	// round's task shows who returned it, when, and the instructions.
	returned := ""
	for round := 1; round <= x.t.MaxRounds && !accepted; round++ {
		if err := x.setStage(ctx, "root_cause", "root_cause", fmt.Sprintf("round %d: the GISO investigates the cause with the department and proposes measures (§5.3(3)1)", round)); err != nil {
			return Result{}, err
		}
		form := []activities.Field{{Name: "cause", Kind: activities.FieldTextarea, Required: true, Label: activities.Text{Ja: "原因", En: "Cause"}}}
		opts := x.handlerOptions()[1:]
		for i := 1; i <= MaxMeasures; i++ {
			form = append(form,
				activities.Field{Name: fmt.Sprintf("measure_%d", i), Kind: activities.FieldTextarea, Required: i == 1 && !short,
					Label: activities.Text{Ja: fmt.Sprintf("再発防止策 %d", i), En: fmt.Sprintf("Measure %d", i)}},
				activities.Field{Name: fmt.Sprintf("owner_%d", i), Kind: activities.FieldSelect, Required: i == 1 && !short, Options: opts,
					Label: activities.Text{Ja: fmt.Sprintf("再発防止策 %d の担当者", i), En: fmt.Sprintf("Owner of measure %d", i)}})
		}
		d, err := x.ask(ctx, Step{
			Name:     "root_cause",
			Title:    activities.Text{Ja: "インシデントの原因究明と再発防止策の報告", En: "Report the incident's root cause and recurrence prevention"},
			Assignee: x.r.GISO, AssigneeRole: policy.RoleGISO, Choices: []string{ChoiceSubmit}, Form: form,
			Deadline: x.t.RootCause, RemindBefore: x.t.RemindBefore, EscalateTo: x.r.CISO, EscalateToRole: policy.RoleCISO, Grace: x.t.RootCauseGrace,
			Post: policy.Post{Role: policy.RoleGISO}, EscalatePost: policy.Post{Role: policy.RoleCISO},
			ReturnOf: returned,
		})
		if err != nil {
			return Result{}, err
		}
		if d.TimedOut {
			if err := x.hop(ctx, "root_cause_overdue", "", fmt.Sprintf("round %d: no root-cause record in time", round)); err != nil {
				return Result{}, err
			}
			continue
		}
		owners = owners[:0]
		for i := 1; i <= MaxMeasures; i++ {
			if o := d.Values[fmt.Sprintf("owner_%d", i)]; o != "" {
				owners = append(owners, o)
			}
		}
		if err := x.hop(ctx, "root_cause_reported", d.DeciderID, fmt.Sprintf("round %d: root cause and %d measures reported to the CISO", round, len(owners))); err != nil {
			return Result{}, err
		}
		if err := x.setStage(ctx, "root_cause", "root_cause_review", fmt.Sprintf("round %d: the CISO checks the root-cause record (§5.3(3)2)", round)); err != nil {
			return Result{}, err
		}
		r, err := x.ask(ctx, Step{
			Name:     "root_cause_review",
			Title:    activities.Text{Ja: "原因究明と再発防止策の確認・指示", En: "Check the root cause and order the measures"},
			Assignee: x.r.CISO, AssigneeRole: policy.RoleCISO, Choices: []string{ChoiceAccept, ChoiceReturn},
			Form:     []activities.Field{{Name: "instructions", Kind: activities.FieldTextarea, Label: activities.Text{Ja: "指示・差戻しの理由", En: "Instructions, or why it is returned"}}},
			Deadline: x.t.Review, RemindBefore: x.t.RemindBefore, EscalateTo: x.r.GISO, EscalateToRole: policy.RoleGISO, Grace: x.t.ReviewGrace,
			// §5.3(3)2: the CISO checks the record; its author never reviews it.
			Post: policy.Post{Role: policy.RoleCISO}, EscalatePost: policy.Post{Role: policy.RoleGISO}, Parties: []string{d.DeciderID},
		})
		if err != nil {
			return Result{}, err
		}
		returned = ""
		switch {
		case r.TimedOut:
			if err := x.hop(ctx, "root_cause_review_overdue", "", fmt.Sprintf("round %d: the record was not checked in time; it is asked for again", round)); err != nil {
				return Result{}, err
			}
		case r.Choice == ChoiceReturn:
			if err := x.hop(ctx, "root_cause_returned", r.DeciderID, fmt.Sprintf("round %d: returned for more", round)); err != nil {
				return Result{}, err
			}
			if workflow.GetVersion(ctx, changeReturnRevise, workflow.DefaultVersion, 1) >= 1 {
				returned = r.TaskID
			}
		default:
			accepted = true
			note := "the CISO accepted the record and ordered the measures"
			if x.authority && r.ForHolder != "" {
				note = fmt.Sprintf("%s accepted the record for the CISO (%s) under %s", r.DeciderID, r.ForHolder, r.Occasion)
			} else if !x.authority && r.DeciderID != x.r.CISO {
				note = "the CISO did not answer in time; the GISO accepted on own judgement (§2(2)5)"
			}
			if err := x.hop(ctx, "root_cause_accepted", r.DeciderID, note); err != nil {
				return Result{}, err
			}
		}
	}
	if !accepted {
		return x.close(ctx, IncidentRootCauseMissing, fmt.Sprintf("no accepted root-cause record after %d rounds", x.t.MaxRounds))
	}
	return x.measures(ctx, tri, owners)
}

// measures tracks each recurrence-prevention measure as a task to completion; a measure
// not done in time is asked again, up to MaxRounds.
func (x *incident) measures(ctx workflow.Context, tri triageResult, owners []string) (Result, error) {
	open := make([]int, len(owners))
	for i := range owners {
		open[i] = i + 1
	}
	for round := 1; round <= x.t.MaxRounds && len(open) > 0; round++ {
		if err := x.setStage(ctx, "measures", "measures", fmt.Sprintf("round %d: %d recurrence-prevention measures in progress", round, len(open))); err != nil {
			return Result{}, err
		}
		steps := make([]Step, 0, len(open))
		for _, n := range open {
			who := owners[n-1]
			escalate, escRole := x.r.GISO, policy.RoleGISO
			if who == x.r.GISO {
				escalate, escRole = x.r.CISO, policy.RoleCISO
			}
			steps = append(steps, Step{
				Name:     fmt.Sprintf("measure_%d", n),
				Title:    activities.Text{Ja: fmt.Sprintf("再発防止策 %d の実施", n), En: fmt.Sprintf("Carry out recurrence-prevention measure %d", n)},
				Assignee: who, AssigneeRole: policy.RoleStaff, Choices: []string{ChoiceDone},
				Form:     []activities.Field{{Name: "result", Kind: activities.FieldTextarea, Label: activities.Text{Ja: "実施結果", En: "Result"}}},
				Deadline: x.t.Measure, RemindBefore: x.t.RemindBefore, EscalateTo: escalate, EscalateToRole: escRole, Grace: x.t.MeasureGrace,
				EscalatePost: policy.Post{Role: escRole},
			})
		}
		ds, err := x.askAll(ctx, steps...)
		if err != nil {
			return Result{}, err
		}
		var still []int
		for i, d := range ds {
			n := open[i]
			if d.TimedOut {
				still = append(still, n)
				if err := x.hop(ctx, fmt.Sprintf("measure_%d_overdue", n), "", "not done in time; asked again"); err != nil {
					return Result{}, err
				}
				continue
			}
			if err := x.hop(ctx, fmt.Sprintf("measure_%d_done", n), d.DeciderID, "measure done"); err != nil {
				return Result{}, err
			}
		}
		open = still
	}
	if len(open) > 0 {
		return x.close(ctx, IncidentMeasuresIncomplete, fmt.Sprintf("%d measures not done after %d rounds", len(open), x.t.MaxRounds))
	}
	how := "plan executed"
	if !x.runsPlan(tri.severity, tri.plan) {
		how = "outside the plan: recorded" // only since orderRootCause
	}
	if err := x.tellClosed(ctx, tri.severity, how+", root cause accepted, measures done"); err != nil {
		return Result{}, err
	}
	if err := x.hop(ctx, "closed", "", "measures done"); err != nil {
		return Result{}, err
	}
	return x.close(ctx, IncidentClosed, fmt.Sprintf("severity %s: %s, root cause accepted, %d measures done", tri.severity, how, len(owners)))
}

// close waits for the first-hour path, if one runs, and ends the incident with a final
// status: its confirmations belong to the record the incident closes with.
func (x *incident) close(ctx workflow.Context, status, note string) (Result, error) {
	if err := x.first.wait(ctx); err != nil {
		return Result{}, err
	}
	if x.rules >= rulesCommitteeReport {
		if err := x.reportToCommittee(ctx, status); err != nil {
			return Result{}, err
		}
	}
	return x.finish(ctx, status, note)
}

// reportToCommittee sends the security committee the report the incident closes with
// (activities.ReportToCommittee): the report is made from the register and kept with the
// incident, mailed to each member, and a committee without members is on the record, not
// a reason to stay open.
func (x *incident) reportToCommittee(ctx workflow.Context, outcome string) error {
	var rep activities.CommitteeReported
	if err := workflow.ExecuteActivity(withSummary(ctx, "Report the closing incident to the security committee (情報セキュリティ委員会, §7.3(2)2, §7.3(3))"),
		acts.ReportToCommittee, activities.CommitteeReport{ProcessID: x.id, Severity: x.severity, Outcome: outcome, PlanVersion: x.planVersion}).Get(ctx, &rep); err != nil {
		return err
	}
	if len(rep.Members) == 0 {
		return x.hop(ctx, "committee_reported", "", "the security committee has no members in the directory: the report is kept with the incident, nobody was mailed")
	}
	return x.hop(ctx, "committee_reported", "", fmt.Sprintf("report mailed to the %d members of the security committee: %s", len(rep.Members), strings.Join(rep.Members, ", ")))
}

// firstHour is the first-hour path of an incident, running beside the triage and all that
// follows it (§6.4(3)7).
type firstHour struct {
	done bool
	err  error
}

// wait blocks until the first-hour path has ended, and returns its error; a nil path has
// nothing to wait for.
func (f *firstHour) wait(ctx workflow.Context) error {
	if f == nil {
		return nil
	}
	if err := workflow.Await(ctx, func() bool { return f.done }); err != nil {
		return err
	}
	return f.err
}

// disconnectionForm is the confirmation of §6.4(3)7: one select per action, each done or
// not applicable, so that which actions were taken is on the record as values.
func disconnectionForm() []activities.Field {
	done := []activities.Option{
		{Value: "done", Label: activities.Text{Ja: "実施した", En: "Done"}},
		{Value: "not_applicable", Label: activities.Text{Ja: "該当しない", En: "Not applicable"}},
	}
	var form []activities.Field
	for _, d := range policy.MalwareDisconnection() {
		form = append(form, activities.Field{Name: "disconnect_" + d.Name, Kind: activities.FieldSelect, Required: true,
			Label: activities.Text{Ja: d.TitleJa + "（§6.4(3)7）", En: d.TitleEn + " (§6.4(3)7)"}, Options: done})
	}
	return append(form, activities.Field{Name: "actions", Kind: activities.FieldTextarea, Label: activities.Text{Ja: "補足", En: "Notes"}})
}

// startFirstHour opens the first-hour path as soon as the report is received (§6.4(3)7
// 「即時」): the reporter, who is at the device, and the system's manager (the department's
// officer when no system is named) each get the disconnection instructions as a
// confirmation task with a short deadline, escalating to the GISO. It runs side by side
// with the triage; the incident closes only once it has ended.
func (x *incident) startFirstHour(ctx workflow.Context) error {
	if err := x.hop(ctx, "disconnection_requested", x.in.ReporterID, "the disconnection of §6.4(3)7 asked for at once, before triage"); err != nil {
		return err
	}
	var steps []Step
	if x.in.ReporterID != "" {
		steps = append(steps, firstHourStep(Step{
			Name: "disconnection", // policy.StepDisconnection
			Title: activities.Text{Ja: "【即時】不正プログラム感染の疑い：端末をネットワークから切り離してください（§6.4(3)7）",
				En: "[At once] Suspected malware: take the device off the network (§6.4(3)7)"},
			Assignee: x.in.ReporterID, AssigneeRole: policy.RoleStaff,
		}, x))
	}
	checker, role := x.r.DISO, policy.RoleDISO
	if len(x.r.ISMs) > 0 {
		checker, role = x.r.ISMs[0], policy.RoleISM
	}
	if checker != "" && checker != x.in.ReporterID { // a manager who reported has one task
		steps = append(steps, firstHourStep(Step{
			Name: "disconnection_check", // policy.StepDisconnectionCheck
			Title: activities.Text{Ja: "【即時】不正プログラム感染の疑い：端末の切り離しを確認してください（§6.4(3)7）",
				En: "[At once] Suspected malware: confirm the device is off the network (§6.4(3)7)"},
			Assignee: checker, AssigneeRole: role, Post: x.post(role),
		}, x))
	}
	f := &firstHour{}
	x.first = f
	// Each confirmation is recorded as it comes, not when the other one does.
	wg := workflow.NewWaitGroup(ctx)
	for _, s := range steps {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			if err := x.confirmDisconnection(ctx, s); err != nil && f.err == nil {
				f.err = err
			}
		})
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		wg.Wait(ctx)
		f.done = true
	})
	return nil
}

// confirmDisconnection asks one confirmation of the first-hour path and records it: who
// confirmed, when, and which of the actions of §6.4(3)7 were taken.
func (x *incident) confirmDisconnection(ctx workflow.Context, s Step) error {
	d, err := x.ask(ctx, s)
	if err != nil {
		return err
	}
	if d.TimedOut {
		return x.hop(ctx, s.Name+"_overdue", "", "nobody confirmed the disconnection in time (§6.4(3)7)")
	}
	var done []string
	for _, a := range policy.MalwareDisconnection() {
		done = append(done, a.Name+"="+d.Values["disconnect_"+a.Name])
	}
	x.disconnected = append(x.disconnected, disconnection{step: s.Name, by: d.DeciderID, at: x.now(ctx)})
	return x.hop(ctx, s.Name+"_confirmed", d.DeciderID, "§6.4(3)7: "+strings.Join(done, ", "))
}

// firstHourStep completes a task of the first-hour path: the checklist of §6.4(3)7, the
// plan's short deadline (a quarter of an hour by default), a reminder five minutes before,
// and the GISO told at the deadline.
func firstHourStep(s Step, x *incident) Step {
	s.Choices, s.Form = []string{ChoiceDone}, disconnectionForm()
	s.Deadline = Deadline{Clock: x.disconnect}
	if x.disconnect > 5*time.Minute {
		s.RemindBefore = []time.Duration{5 * time.Minute}
	}
	s.EscalateTo, s.EscalateToRole, s.EscalatePost = x.r.GISO, policy.RoleGISO, policy.Post{Role: policy.RoleGISO}
	s.Grace = Deadline{Clock: x.disconnectGrace}
	return s
}

// tellCISO tells the CISO at triage of an incident the plan applies to, with its severity:
// a breach in a department is reported to the GISO and the CISO promptly (§2(3)5), and in
// an emergency the GISO reports to the CISO without delay (§2(2)8). The notice says whether
// the CISO's instructions are also asked for.
func (x *incident) tellCISO(ctx workflow.Context, tri triageResult) error {
	if x.r.CISO == "" {
		return nil
	}
	by := tri.decider
	if by == "" {
		by = "nobody in time: handled as high / 期限内の判定なし（高として対応）"
	}
	instruction := "not asked / 求めない"
	if x.needsCISO(tri.severity, tri.askCISO) {
		instruction = "asked: a task follows / 求める（別途依頼）"
	}
	if err := x.run(ctx, fmt.Sprintf("Tell the CISO (%s) of the %s incident under the plan (§2(3)5, §2(2)8)", x.r.CISO, tri.severity), acts.SendNotice, activities.Notice{
		Key: x.id + "/triaged/" + x.r.CISO, ProcessID: x.id, RecipientID: x.r.CISO, Kind: activities.NoticeIncidentTriaged,
		Params: map[string]string{"category": x.in.Category.Title("ja") + " / " + x.in.Category.Title("en"),
			"severity": tri.severity.Title("ja") + " / " + tri.severity.Title("en"), "triaged_by": by,
			"triaged_at": x.stamp(x.now(ctx)), "instruction": instruction},
	}); err != nil {
		return err
	}
	return x.hop(ctx, "ciso_notified", x.r.CISO, fmt.Sprintf("told of the %s incident under the plan (§2(3)5, §2(2)8)", tri.severity))
}

// causeFromDepartment asks the department's security officer and the system's manager, side
// by side, for their part of the cause: the GISO finds the cause together with them
// (§5.3(3)1). Their answers are on the record before the GISO's report; one not given in
// time is recorded as overdue and the GISO reports without it.
func (x *incident) causeFromDepartment(ctx workflow.Context) error {
	form := []activities.Field{{Name: "cause", Kind: activities.FieldTextarea, Required: true,
		Label: activities.Text{Ja: "原因についての所見", En: "What you found about the cause"}}}
	common := func(s Step) Step {
		s.Choices, s.Form = []string{ChoiceSubmit}, form
		s.Deadline, s.RemindBefore = x.t.RootCause, x.t.RemindBefore
		s.EscalateTo, s.EscalateToRole, s.EscalatePost, s.Grace = x.r.GISO, policy.RoleGISO, policy.Post{Role: policy.RoleGISO}, x.t.RootCauseGrace
		return s
	}
	var steps []Step
	if x.r.DISO != "" {
		steps = append(steps, common(Step{
			Name:     "cause_department",
			Title:    activities.Text{Ja: "インシデントの原因究明への協力（所管部局）", En: "The department's part of an incident's root cause"},
			Assignee: x.r.DISO, AssigneeRole: policy.RoleDISO, Post: x.post(policy.RoleDISO),
		}))
	}
	if len(x.r.ISMs) > 0 && x.r.ISMs[0] != x.r.DISO {
		steps = append(steps, common(Step{
			Name:     "cause_system",
			Title:    activities.Text{Ja: "インシデントの原因究明への協力（情報システム管理者）", En: "The system's part of an incident's root cause"},
			Assignee: x.r.ISMs[0], AssigneeRole: policy.RoleISM, Post: x.post(policy.RoleISM),
		}))
	}
	if len(steps) == 0 {
		return nil
	}
	if err := x.setStage(ctx, "root_cause", "cause_department", "the department's officer and the system's manager give their part of the cause (§5.3(3)1)"); err != nil {
		return err
	}
	ds, err := x.askAll(ctx, steps...)
	if err != nil {
		return err
	}
	for i, d := range ds {
		if d.TimedOut {
			if err := x.hop(ctx, steps[i].Name+"_overdue", "", "no part of the cause given in time; the GISO reports without it"); err != nil {
				return err
			}
			continue
		}
		if err := x.hop(ctx, steps[i].Name+"_given", d.DeciderID, "part of the cause given to the GISO (§5.3(3)1)"); err != nil {
			return err
		}
	}
	return nil
}

// passOn passes a resident's report on to the department concerned, once the GISO's office
// has named it at triage: the report goes to that department's security officer (§5.3(2)1),
// who reports to the GISO and the system's manager (§5.3(2)2) — the GISO already has it.
// From then on the department's steps (the department's part of the root cause, a step
// handled by the department's officer) are that department's.
func (x *incident) passOn(ctx workflow.Context, tri triageResult) error {
	r, err := lookup[activities.Roster](ctx, x.process, "Look up the security officer of the department concerned ("+tri.department+")",
		acts.ResolveRoster, activities.RosterRequest{DepartmentID: tri.department, SystemIDs: x.in.SystemIDs})
	if err != nil {
		return err
	}
	if x.rules >= rulesDepartmentMoved && tri.department != x.department {
		if err := x.record(ctx, fmt.Sprintf("Register: the department concerned is now %s (§5.3(2)1–2)", tri.department), acts.MoveIncident,
			activities.IncidentMove{ProcessID: x.id, Department: tri.department}); err != nil {
			return err
		}
		if err := workflow.UpsertTypedSearchAttributes(ctx, Department.ValueSet(tri.department)); err != nil {
			return err
		}
	}
	x.department, x.r.DISO = tri.department, r.DISO
	if r.DISO == "" || r.DISO == x.r.GISO {
		return x.hop(ctx, "passed_on", r.DISO, fmt.Sprintf("§5.3(2)1–2: the department concerned is %s; it has no other security officer to tell", tri.department))
	}
	if err := x.run(ctx, fmt.Sprintf("Pass the resident's report on to the security officer of %s (%s) (§5.3(2)1–2)", tri.department, r.DISO), acts.SendNotice, activities.Notice{
		Key: x.id + "/passed_on/" + r.DISO, ProcessID: x.id, RecipientID: r.DISO, Kind: activities.NoticeIncidentReported,
		Params: map[string]string{"category": x.in.Category.Title("ja") + " / " + x.in.Category.Title("en"),
			"received_at": x.stamp(x.received), "triage_by": tri.decider},
	}); err != nil {
		return err
	}
	return x.hop(ctx, "passed_on", r.DISO, fmt.Sprintf("§5.3(2)1–2: passed on to the department concerned (%s)", tri.department))
}

// fileIncident registers an incident another process found (an offboarding's missing asset,
// a vendor's reported incident) and starts its process as a child that outlives its parent,
// waiting only until it has started. The child is found in the Temporal UI like any incident.
func (p *process) fileIncident(ctx workflow.Context, summary string, filing activities.IncidentFiling, details string, in IncidentInput) error {
	if err := p.record(ctx, summary, acts.FileIncident, filing); err != nil {
		return err
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:        in.ProcessID,
		TaskQueue:         TaskQueue,
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		StaticSummary:     filing.Summary,
		StaticDetails:     details,
		TypedSearchAttributes: temporal.NewSearchAttributes(ProcessKind.ValueSet(models.KindIncident),
			ProcessStage.ValueSet("submitted"), Department.ValueSet(in.Department)),
	})
	var started workflow.Execution
	return workflow.ExecuteChildWorkflow(cctx, IncidentWorkflow, in).GetChildWorkflowExecution().Get(ctx, &started)
}
