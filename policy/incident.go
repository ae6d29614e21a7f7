package policy

import (
	"fmt"
	"slices"
	"time"
)

// A Category is the kind of a security incident (情報セキュリティインシデント) as a report
// names it. The category decides what the plan's steps ask: malware brings the disconnection
// steps of §6.4(3)7 into containment, and the contact list can be kept per category.
type Category string

// The categories a report may name.
const (
	CategoryMalware            Category = "malware"
	CategoryUnauthorizedAccess Category = "unauthorized_access"
	CategoryLeak               Category = "leak"
	CategoryLossTheft          Category = "loss_theft"
	CategoryDoS                Category = "dos"
	CategoryMisdeliveredMail   Category = "misdelivered_mail"
	// CategoryPolicyViolation is a violation of the policy found by staff (§7.2(2)): handled
	// under the plan when it may at once have a serious effect.
	CategoryPolicyViolation Category = "policy_violation"
	// CategoryAttackNotice is a notice of an attack (§6.5(2)), which may mean stopping
	// systems.
	CategoryAttackNotice Category = "attack_notice"
	CategoryOther        Category = "other"
)

var categoryTitles = map[Category]title{
	CategoryMalware:            {"不正プログラム感染", "Malware infection"},
	CategoryUnauthorizedAccess: {"不正アクセス", "Unauthorized access"},
	CategoryLeak:               {"情報漏えい", "Information leak"},
	CategoryLossTheft:          {"紛失・盗難", "Loss or theft"},
	CategoryDoS:                {"サービス妨害", "Denial of service"},
	CategoryMisdeliveredMail:   {"メール誤送信", "Misdelivered mail"},
	CategoryPolicyViolation:    {"情報セキュリティポリシー違反", "Policy violation"},
	CategoryAttackNotice:       {"攻撃の予告", "Notice of an attack"},
	CategoryOther:              {"その他", "Other"},
}

// Categories lists every category, in a fixed order.
func Categories() []Category {
	return []Category{CategoryMalware, CategoryUnauthorizedAccess, CategoryLeak, CategoryLossTheft, CategoryDoS,
		CategoryMisdeliveredMail, CategoryPolicyViolation, CategoryAttackNotice, CategoryOther}
}

// ParseCategory returns the category named s exactly.
func ParseCategory(s string) (Category, error) {
	if _, ok := categoryTitles[Category(s)]; !ok {
		return "", fmt.Errorf("parse category %q: unknown category", s)
	}
	return Category(s), nil
}

// Title names the category in Japanese (locale "ja…") or English.
func (c Category) Title(locale string) string {
	t, ok := categoryTitles[c]
	if !ok {
		return string(c)
	}
	if japanese(locale) {
		return t.ja
	}
	return t.en
}

// A Severity is the department security officer's judgement of an incident at triage.
type Severity string

// The severities, from least to most serious.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

var severityTitles = map[Severity]title{
	SeverityLow: {"低", "Low"}, SeverityMedium: {"中", "Medium"}, SeverityHigh: {"高", "High"}, SeverityCritical: {"重大", "Critical"},
}

// Severities lists the severities from least to most serious.
func Severities() []Severity {
	return []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}
}

// ParseSeverity returns the severity named s exactly.
func ParseSeverity(s string) (Severity, error) {
	if _, ok := severityTitles[Severity(s)]; !ok {
		return "", fmt.Errorf("parse severity %q: want low, medium, high or critical", s)
	}
	return Severity(s), nil
}

// Title names the severity in Japanese or English.
func (s Severity) Title(locale string) string {
	t, ok := severityTitles[s]
	if !ok {
		return string(s)
	}
	if japanese(locale) {
		return t.ja
	}
	return t.en
}

// AtLeast reports whether s is as serious as other or more.
func (s Severity) AtLeast(other Severity) bool {
	return slices.Index(Severities(), s) >= slices.Index(Severities(), other)
}

// NeedsCISO reports whether an incident goes to the CISO for instructions. The department
// security officer reports to the CISO "when needed" (必要に応じて, §5.3(1)3, §5.3(2)3);
// policyflow took a high or critical incident to be always needed, and anything else
// when the officer says so. Since the change incident-rules 5 the plan says from which
// severity (IncidentPlan.NeedsCISO, ciso_from, default high); this is the rule of the
// incidents started before it.
func NeedsCISO(s Severity, officerAsks bool) bool {
	return s.AtLeast(SeverityHigh) || officerAsks
}

// RunsPlan reports whether the emergency response plan (緊急時対応計画, §7.3(1)) is
// executed: always for a high or critical incident (a security breach that has happened
// or may happen), otherwise when the officer judges that it applies. An incident outside
// the plan is recorded by the officer and closed, with the GISO informed.
func RunsPlan(s Severity, officerSaysApplies bool) bool {
	return s.AtLeast(SeverityHigh) || officerSaysApplies
}

// A PlanStep is one of the measures of the emergency response plan that §7.3(1) names:
// contact (連絡), evidence preservation (証拠保全), prevention of spread (被害拡大の防止)
// and recovery (復旧). Recurrence prevention (再発防止) is the root-cause stage of
// §5.3(3), which follows the steps.
type PlanStep struct {
	// Name identifies the step in tasks and records.
	Name string
	// TitleJa and TitleEn say what the step's handler is asked to do.
	TitleJa, TitleEn string
	// Clause is where the policy asks for the step.
	Clause string
	// Phase orders the steps: steps of one phase run side by side, and a phase starts
	// when the one before it has ended. Contact and evidence come first, then
	// containment, then recovery.
	Phase int
	// Deadline is the default time the handler has, in clock hours: incidents do not
	// wait for business days.
	Deadline time.Duration
	// RemindBefore says how long before the deadline the handler is reminded.
	RemindBefore []time.Duration
	// Grace is how long the escalation's recipient has after the deadline.
	Grace time.Duration
	// Severities are those the step runs for when the plan applies; nil means every
	// severity. The town's plan sets them (IncidentPlan).
	Severities []Severity
	// Owner is the post whose holder handles the step when the triager names nobody (the
	// GISO, the system's manager, the department's officer or the CISO); empty means the
	// rule of the code before the plan named owners (contact: the GISO; the rest: the
	// system's manager).
	Owner Role
}

// For reports whether the step runs for an incident of severity s under the plan.
func (p PlanStep) For(s Severity) bool {
	return len(p.Severities) == 0 || slices.Contains(p.Severities, s)
}

// The plan's step names.
const (
	StepContact     = "contact"
	StepEvidence    = "evidence"
	StepContainment = "containment"
	StepRecovery    = "recovery"
)

// PlanSteps returns the steps of the emergency response plan in order (§7.3(1), (2)3),
// with their default deadlines, each for every severity. The caller may modify the result.
func PlanSteps() []PlanStep {
	steps := []PlanStep{
		{Name: StepContact, TitleJa: "関係者への連絡（緊急連絡先）", TitleEn: "Contact those concerned (emergency contact list)",
			Clause: "7.3(2)1", Phase: 1, Deadline: 2 * time.Hour, RemindBefore: []time.Duration{30 * time.Minute}, Grace: 2 * time.Hour},
		{Name: StepEvidence, TitleJa: "証拠保全", TitleEn: "Preserve evidence",
			Clause: "7.3(1)", Phase: 1, Deadline: 4 * time.Hour, RemindBefore: []time.Duration{time.Hour}, Grace: 2 * time.Hour},
		{Name: StepContainment, TitleJa: "被害拡大の防止", TitleEn: "Contain the damage (prevent its spread)",
			Clause: "7.3(1)", Phase: 2, Deadline: 4 * time.Hour, RemindBefore: []time.Duration{time.Hour}, Grace: 2 * time.Hour},
		{Name: StepRecovery, TitleJa: "復旧", TitleEn: "Recover",
			Clause: "7.3(1)", Phase: 3, Deadline: 72 * time.Hour, RemindBefore: []time.Duration{24 * time.Hour, 4 * time.Hour}, Grace: 24 * time.Hour},
	}
	for i := range steps {
		steps[i].Severities = Severities()
		steps[i].Owner = RoleISM
	}
	steps[0].Owner = RoleGISO // the GISO keeps the contact network (§2(2)7)
	return steps
}

// A DisconnectionStep is one thing to do at once on a device infected, or suspected to be
// infected, with malware (§6.4(3)7).
type DisconnectionStep struct {
	Name             string
	TitleJa, TitleEn string
}

// MalwareDisconnection returns the steps of §6.4(3)7 in the policy's order: for a PC, (ア)
// take the LAN cable out at once; on a wireless connection cut the wireless link or turn
// the power off at once; if it starts by itself, pull the power cable or take the battery
// out; for a mobile device, (イ) stop using it and switch it to no communication, or turn
// it off at once.
func MalwareDisconnection() []DisconnectionStep {
	return []DisconnectionStep{
		{Name: "lan_cable", TitleJa: "（パソコン等）LANケーブルを即時に取り外した",
			TitleEn: "(PC) The LAN cable was taken out at once"},
		{Name: "wireless", TitleJa: "（パソコン等・無線接続）無線を切断した、または即時に電源を切った",
			TitleEn: "(PC on wireless) The wireless link was cut, or the power turned off at once"},
		{Name: "power", TitleJa: "（意図せず起動する場合）電源ケーブルを抜線した、またはバッテリーを取り外した",
			TitleEn: "(If it starts by itself) The power cable was pulled or the battery taken out"},
		{Name: "mobile", TitleJa: "（モバイル端末）直ちに利用を中止し通信を行わない設定にした、または即時に電源を切った",
			TitleEn: "(Mobile device) Use stopped at once and communication switched off, or the power turned off"},
	}
}

// ContainmentChecklist returns the disconnection steps the containment task lists for an
// incident of category c: those of §6.4(3)7 for malware, none otherwise.
func ContainmentChecklist(c Category) []DisconnectionStep {
	if c == CategoryMalware {
		return MalwareDisconnection()
	}
	return nil
}

// A CategoryRoute is how the policy routes one category of incident: who judges (triages)
// it, who is told of the report at once, and what follows without waiting for the triage.
// It is the plan's data, per category; RouteFor gives the town's default.
type CategoryRoute struct {
	// Triager is the post that triages the report: the department's security officer
	// (§5.3(1)2), or the GISO where the policy says so.
	Triager Role
	// Told are the posts told of the report at once, besides the triager (§5.3(1)2).
	Told []Role
	// Immediate marks the first-hour path: the reporter and the system's manager get the
	// disconnection instructions of §6.4(3)7 and a confirmation task as soon as the report
	// is received, side by side with the triage (「即時」).
	Immediate bool
	// MinSeverity is the lowest severity the triage may give ("" is low).
	MinSeverity Severity
	// CISO marks a category that always goes to the CISO for instructions, whatever the
	// severity, with the decision whether to stop systems on the CISO's form (§6.5(2)).
	CISO bool
	// Clause is where the policy routes the category so.
	Clause string
}

// RouteFor returns how category c is routed:
//
//   - malware: the department's officer triages; the device is taken off the network at
//     once, before any triage (§6.4(3)7 「即時」);
//   - a policy violation: staff report it to both the GISO and their department's officer,
//     and it is the GISO who judges whether it is serious enough for the plan (§7.2(2)1–2);
//   - a notice of an attack: to the CISO and the GISO, who may decide to stop systems
//     (§6.5(2)); the GISO triages, the CISO is told at once and always instructs, and it
//     is never closed as low;
//   - anything else: the department's officer triages, the GISO and the system's manager
//     are told (§5.3(1)2).
func RouteFor(c Category) CategoryRoute {
	switch c {
	case CategoryMalware:
		return CategoryRoute{Triager: RoleDISO, Told: []Role{RoleGISO, RoleISM}, Immediate: true, Clause: "6.4(3)7"}
	case CategoryPolicyViolation:
		return CategoryRoute{Triager: RoleGISO, Told: []Role{RoleDISO, RoleISM}, Clause: "7.2(2)"}
	case CategoryAttackNotice:
		return CategoryRoute{Triager: RoleGISO, Told: []Role{RoleCISO, RoleDISO, RoleISM}, MinSeverity: SeverityMedium, CISO: true, Clause: "6.5(2)"}
	}
	return CategoryRoute{Triager: RoleDISO, Told: []Role{RoleGISO, RoleISM}, Clause: "5.3(1)2"}
}

// SeveritiesFrom lists the severities a triage may give under the route: from its
// MinSeverity up.
func (r CategoryRoute) SeveritiesFrom() []Severity {
	all := Severities()
	if r.MinSeverity == "" {
		return all
	}
	return all[slices.Index(all, r.MinSeverity):]
}

// Deadlines of the first-hour path (§6.4(3)7 「即時」): the reporter and the system's
// manager confirm the disconnection within a quarter of an hour; the GISO, who is told at
// the deadline, has as long again.
const (
	DisconnectionDeadline = 15 * time.Minute
	DisconnectionGrace    = 15 * time.Minute
)

// StepDisconnection and StepDisconnectionCheck are the first-hour path's tasks: the
// reporter confirms what was done at the device, and the system's manager that it is off
// the network (§6.4(3)7).
const (
	StepDisconnection      = "disconnection"
	StepDisconnectionCheck = "disconnection_check"
)
