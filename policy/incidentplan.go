package policy

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// An IncidentPlan is the town's emergency response plan (緊急時対応計画) as data: the CISO
// or the security committee sets and revises it (§7.3(1), (3)), not the code. The default
// is incident_plan.json; a town names its own in POLICYFLOW_INCIDENT_PLAN. Each incident
// copies the plan when it starts, so a revision applies to new incidents only.
type IncidentPlan struct {
	// Version names the revision; each incident records the version it runs under.
	Version string `json:"version"`
	// Notes say, in the file, how the town revises it.
	Notes []string `json:"notes,omitempty"`
	// PlanFrom is the lowest severity at which the plan always applies (§7.3(1): a breach
	// that has happened or may happen); below it the triage says whether it applies.
	// Empty means high, as RunsPlan says.
	PlanFrom Severity `json:"plan_from,omitempty"`
	// Steps are the plan's measures (§7.3(1)), phase by phase.
	Steps []PlanStepSpec `json:"steps"`
	// Contacts are the plan's emergency contact list (関係者の連絡先, §7.3(2)1): the contact
	// step shows each entry that applies to the incident's category to its handler, who
	// says whether it was reached. They are copied into each incident's history with the
	// plan: name offices and posts, not private people. The GISO's list in the register
	// (PUT /emergency-contacts/{id}) adds to them.
	Contacts []PlanContact `json:"contacts,omitempty"`
	// Categories route each category (who triages, who is told, the first hour).
	Categories map[Category]RouteSpec `json:"categories"`
	// Disconnection holds the deadlines of the first-hour path (§6.4(3)7).
	Disconnection struct {
		Deadline Duration `json:"deadline"`
		Grace    Duration `json:"grace"`
	} `json:"disconnection"`
	// CISOFrom is the lowest severity that always goes to the CISO for instructions; below
	// it the triager says. The department's officer reports to the CISO "when needed"
	// (必要に応じて, §5.3(1)3, §5.3(2)3): which severity is always needed is a town setting
	// (default high). Empty in a plan copied before the plan held it: high, as NeedsCISO
	// says.
	CISOFrom Severity `json:"ciso_from"`
	// Deadlines are those of the incident's human steps outside the plan's own steps: the
	// reporting chain (triage, the CISO's instructions), the record outside the plan, and
	// the root cause (§5.3(3)). Each is a town setting: the policy asks for the first ones
	// "promptly" (速やかに, §5.3(1)1–2) and names no number.
	Deadlines IncidentDeadlines `json:"deadlines"`
}

// IncidentDeadlines are the deadlines of the incident's steps besides the plan's own, as the
// plan file writes them (Period: {"clock": "1h"} or {"business_days": 5}). The reporting
// chain and the record run on clock hours; the root cause, its review and the measures,
// which are not an emergency, may count business days. Each *_grace is the time the one the
// step escalates to has after the deadline.
type IncidentDeadlines struct {
	// Triage is the triager's (§5.3(1)2), reminded TriageRemind before.
	Triage       Period     `json:"triage"`
	TriageGrace  Period     `json:"triage_grace"`
	TriageRemind []Duration `json:"triage_remind"`
	// CISO is the CISO's instructions (§5.3(1)3); at the deadline the GISO decides on own
	// judgement within CISOGrace (§2(2)5).
	CISO       Period     `json:"ciso"`
	CISOGrace  Period     `json:"ciso_grace"`
	CISORemind []Duration `json:"ciso_remind"`
	// Record is the triager's record of an incident outside the plan.
	Record       Period     `json:"record"`
	RecordGrace  Period     `json:"record_grace"`
	RecordRemind []Duration `json:"record_remind"`
	// RootCause is the GISO's record of the cause and measures, and the department's and
	// the system's part of it (§5.3(3)1); Review the CISO's check (§5.3(3)2); Measure each
	// recurrence-prevention measure. They are reminded RemindBefore before.
	RootCause      Period     `json:"root_cause"`
	RootCauseGrace Period     `json:"root_cause_grace"`
	Review         Period     `json:"review"`
	ReviewGrace    Period     `json:"review_grace"`
	Measure        Period     `json:"measure"`
	MeasureGrace   Period     `json:"measure_grace"`
	RemindBefore   []Duration `json:"remind_before"`
	// MaxRounds is how often a root-cause record or a measure nobody completes is asked
	// again before the incident closes as root_cause_missing or measures_incomplete.
	MaxRounds int `json:"max_rounds"`
}

// PlanStepSpec is a PlanStep as the plan file writes it.
type PlanStepSpec struct {
	Name         string     `json:"name"`
	TitleJa      string     `json:"title_ja"`
	TitleEn      string     `json:"title_en"`
	Clause       string     `json:"clause"`
	Phase        int        `json:"phase"`
	Deadline     Duration   `json:"deadline"`
	RemindBefore []Duration `json:"remind_before,omitempty"`
	Grace        Duration   `json:"grace"`
	// Severities are those the step runs for when the plan applies; empty means all.
	Severities []Severity `json:"severities,omitempty"`
	// Owner is the post whose holder handles the step unless the triager names someone:
	// giso, ism (the system's manager), diso (the department's officer) or ciso.
	Owner Role `json:"owner"`
}

// A PlanContact is one entry of the plan's emergency contact list (§7.3(2)1).
type PlanContact struct {
	// ID names the entry in the contact step's form (contact_<id>).
	ID string `json:"id"`
	// Name is who is called: an office or a post, e.g. 「○○警察署 生活安全課」.
	Name string `json:"name"`
	// Role says why they are called, e.g. "police", "the system's vendor".
	Role    string `json:"role,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Email   string `json:"email,omitempty"`
	Address string `json:"address,omitempty"`
	// Categories limits the entry to incidents of these categories; empty means all.
	Categories []Category `json:"categories,omitempty"`
}

// AppliesTo reports whether the entry is called for an incident of category c.
func (c PlanContact) AppliesTo(cat Category) bool {
	return len(c.Categories) == 0 || slices.Contains(c.Categories, cat)
}

// Line is the entry as the contact step shows it: name, role, phone, mail and address.
func (c PlanContact) Line() string {
	parts := []string{c.Name}
	for _, v := range []string{c.Role, c.Phone, c.Email, c.Address} {
		if v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, " / ")
}

// RouteSpec is a CategoryRoute as the plan file writes it.
type RouteSpec struct {
	Triager     Role     `json:"triager"`
	Told        []Role   `json:"told"`
	Immediate   bool     `json:"immediate,omitempty"`
	MinSeverity Severity `json:"min_severity,omitempty"`
	CISO        bool     `json:"ciso,omitempty"`
	Clause      string   `json:"clause"`
}

// A Duration is a time.Duration written as Go writes it ("15m", "72h") in a settings file.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration written as a string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"2h\" or \"30m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

//go:embed incident_plan.json
var defaultIncidentPlan []byte

// DefaultIncidentPlan returns the embedded plan, which says what RouteFor and PlanSteps say.
func DefaultIncidentPlan() IncidentPlan {
	p, err := ParseIncidentPlan(defaultIncidentPlan)
	if err != nil {
		panic("embedded incident plan: " + err.Error())
	}
	return p
}

// LoadIncidentPlan reads the town's plan from path (POLICYFLOW_INCIDENT_PLAN); an empty
// path gives the default.
func LoadIncidentPlan(path string) (IncidentPlan, error) {
	return loadSetting("incident plan", path, ParseIncidentPlan, DefaultIncidentPlan)
}

// ParseIncidentPlan decodes and checks a plan: a version; the four measures of §7.3(1),
// each once, with a phase, deadlines and known severities, and a step for every severity;
// a known plan_from and ciso_from; a route for every category, with a triager that is the
// department's officer or the GISO and known posts to tell; contacts with an ID, a name and
// a way to reach them; every one of the deadlines, within bounds, with reminders shorter
// than the deadlines they remind of (checkDeadlines).
func ParseIncidentPlan(b []byte) (IncidentPlan, error) {
	var p IncidentPlan
	if err := decodeStrict(b, &p); err != nil {
		return IncidentPlan{}, err
	}
	var errs []error
	if p.Version == "" {
		errs = append(errs, errors.New("version is required"))
	}
	known := []string{StepContact, StepEvidence, StepContainment, StepRecovery}
	var seen []string
	for i, s := range p.Steps {
		where := fmt.Sprintf("step %d (%s)", i+1, s.Name)
		switch {
		case !slices.Contains(known, s.Name):
			errs = append(errs, fmt.Errorf("%s: want one of %v", where, known))
		case slices.Contains(seen, s.Name):
			errs = append(errs, fmt.Errorf("%s: named twice", where))
		}
		seen = append(seen, s.Name)
		if s.TitleJa == "" || s.TitleEn == "" || s.Clause == "" {
			errs = append(errs, fmt.Errorf("%s: title_ja, title_en and clause are required", where))
		}
		if s.Phase < 1 {
			errs = append(errs, fmt.Errorf("%s: phase must be 1 or more", where))
		}
		if s.Deadline <= 0 || time.Duration(s.Deadline) > 7*24*time.Hour || s.Grace <= 0 || time.Duration(s.Grace) > 7*24*time.Hour {
			errs = append(errs, fmt.Errorf("%s: deadline and grace must be more than 0 and at most 168h", where))
		}
		for _, r := range s.RemindBefore {
			if r <= 0 || r >= s.Deadline {
				errs = append(errs, fmt.Errorf("%s: a reminder must come after the step opens and before its deadline", where))
			}
		}
		if !slices.Contains([]Role{RoleGISO, RoleISM, RoleDISO, RoleCISO}, s.Owner) {
			errs = append(errs, fmt.Errorf("%s: owner %q: want giso, ism, diso or ciso (the post that handles the step)", where, s.Owner))
		}
		for _, sev := range s.Severities {
			if _, err := ParseSeverity(string(sev)); err != nil {
				errs = append(errs, fmt.Errorf("%s: severities: %w", where, err))
			}
		}
	}
	if len(p.Steps) == 0 {
		errs = append(errs, errors.New("steps: the plan needs at least one step (§7.3(1))"))
	}
	if _, err := ParseSeverity(string(p.PlanFrom)); p.PlanFrom != "" && err != nil {
		errs = append(errs, fmt.Errorf("plan_from: %w", err))
	}
	for _, sev := range Severities() {
		runs := false
		for _, s := range p.PlanSteps() {
			runs = runs || s.For(sev)
		}
		if !runs && len(p.Steps) > 0 {
			errs = append(errs, fmt.Errorf("steps: no step runs for severity %s: name it in a step's severities", sev))
		}
	}
	var ids []string
	for i, c := range p.Contacts {
		where := fmt.Sprintf("contacts %d (%s)", i+1, c.ID)
		switch {
		case !validContactID(c.ID):
			errs = append(errs, fmt.Errorf("%s: id is required: letters, digits, - _ . (at most 64)", where))
		case slices.Contains(ids, c.ID):
			errs = append(errs, fmt.Errorf("%s: id named twice", where))
		}
		ids = append(ids, c.ID)
		if strings.TrimSpace(c.Name) == "" {
			errs = append(errs, fmt.Errorf("%s: name is required", where))
		}
		if c.Phone == "" && c.Email == "" && c.Address == "" {
			errs = append(errs, fmt.Errorf("%s: a phone, an email or an address is required", where))
		}
		for _, cat := range c.Categories {
			if _, err := ParseCategory(string(cat)); err != nil {
				errs = append(errs, fmt.Errorf("%s: categories: %w", where, err))
			}
		}
	}
	for _, c := range Categories() {
		r, ok := p.Categories[c]
		if !ok {
			errs = append(errs, fmt.Errorf("categories: %s has no route", c))
			continue
		}
		if r.Triager != RoleDISO && r.Triager != RoleGISO {
			errs = append(errs, fmt.Errorf("categories.%s: triager %q: want diso or giso", c, r.Triager))
		}
		for _, t := range r.Told {
			if !slices.Contains([]Role{RoleCISO, RoleGISO, RoleDISO, RoleISM}, t) {
				errs = append(errs, fmt.Errorf("categories.%s: told %q: want ciso, giso, diso or ism", c, t))
			}
		}
		if _, err := ParseSeverity(string(r.MinSeverity)); r.MinSeverity != "" && err != nil {
			errs = append(errs, fmt.Errorf("categories.%s: %w", c, err))
		}
		if r.Clause == "" {
			errs = append(errs, fmt.Errorf("categories.%s: clause is required", c))
		}
	}
	for c := range p.Categories {
		if _, err := ParseCategory(string(c)); err != nil {
			errs = append(errs, fmt.Errorf("categories: %w", err))
		}
	}
	if p.Disconnection.Deadline <= 0 || time.Duration(p.Disconnection.Deadline) > time.Hour || p.Disconnection.Grace <= 0 || time.Duration(p.Disconnection.Grace) > time.Hour {
		errs = append(errs, errors.New("disconnection: deadline and grace must be more than 0 and at most 1h (§6.4(3)7 「即時」)"))
	}
	if p.CISOFrom == "" {
		errs = append(errs, errors.New("ciso_from is required: the lowest severity that always goes to the CISO (low, medium, high or critical)"))
	} else if _, err := ParseSeverity(string(p.CISOFrom)); err != nil {
		errs = append(errs, fmt.Errorf("ciso_from: %w", err))
	}
	errs = append(errs, checkDeadlines(p.Deadlines)...)
	return p, errors.Join(errs...)
}

// maxIncidentClock bounds the clock-hour deadlines of the incident: a week, as the plan's
// steps.
const maxIncidentClock = 7 * 24 * time.Hour

// checkDeadlines checks the plan's deadlines as ParseTimings checks the timings file, each
// error naming the field (deadlines.triage_grace): every field given and within bounds; the
// reporting chain and the record on clock hours, at most 168h (an emergency does not wait
// for business days); each list of reminders longest first and shorter than the deadlines
// it reminds of; max_rounds from 1 to 100.
func checkDeadlines(d IncidentDeadlines) []error {
	c := &timingsCheck{}
	const s = "deadlines"
	c.reminded(s, s+".triage_remind", d.TriageRemind, map[string]Period{"triage": d.Triage})
	c.reminded(s, s+".ciso_remind", d.CISORemind, map[string]Period{"ciso": d.CISO})
	c.reminded(s, s+".record_remind", d.RecordRemind, map[string]Period{"record": d.Record})
	c.periods(s, map[string]Period{"triage_grace": d.TriageGrace, "ciso_grace": d.CISOGrace, "record_grace": d.RecordGrace})
	clock := map[string]Period{"triage": d.Triage, "triage_grace": d.TriageGrace, "ciso": d.CISO, "ciso_grace": d.CISOGrace,
		"record": d.Record, "record_grace": d.RecordGrace}
	for _, name := range sortedKeys(clock) {
		switch p := clock[name]; {
		case p.BusinessDays != 0:
			c.fail(s+"."+name, `runs on clock hours, not business days: give {"clock": "1h"}`)
		case time.Duration(p.Clock) > maxIncidentClock:
			c.fail(s+"."+name, "must be at most 168h (7 days): an incident's reporting chain runs on clock hours (§5.3(1) 「速やかに」)")
		}
	}
	c.steps(s, d.RemindBefore, map[string]Period{"root_cause": d.RootCause, "review": d.Review, "measure": d.Measure})
	c.periods(s, map[string]Period{"root_cause_grace": d.RootCauseGrace, "review_grace": d.ReviewGrace, "measure_grace": d.MeasureGrace})
	c.count(s+".max_rounds", d.MaxRounds)
	return c.errs
}

// NeedsCISO reports whether an incident of severity s goes to the CISO for instructions under
// the plan: from CISOFrom up, below it when the triager asks (§5.3(1)3 「必要に応じて」). A
// plan without ciso_from (copied before it held one) says what NeedsCISO says.
func (p IncidentPlan) NeedsCISO(s Severity, triagerAsks bool) bool {
	if p.CISOFrom == "" {
		return NeedsCISO(s, triagerAsks)
	}
	return s.AtLeast(p.CISOFrom) || triagerAsks
}

// PlanSteps returns the plan's steps as the workflow runs them.
func (p IncidentPlan) PlanSteps() []PlanStep {
	out := make([]PlanStep, 0, len(p.Steps))
	for _, s := range p.Steps {
		r := make([]time.Duration, len(s.RemindBefore))
		for i, d := range s.RemindBefore {
			r[i] = time.Duration(d)
		}
		out = append(out, PlanStep{Name: s.Name, TitleJa: s.TitleJa, TitleEn: s.TitleEn, Clause: s.Clause, Phase: s.Phase,
			Deadline: time.Duration(s.Deadline), RemindBefore: r, Grace: time.Duration(s.Grace), Severities: slices.Clone(s.Severities), Owner: s.Owner})
	}
	return out
}

// RunsPlan reports whether the plan applies to an incident of severity s: always from
// PlanFrom up (high when the plan does not say), below it when the triage says so.
func (p IncidentPlan) RunsPlan(s Severity, officerSaysApplies bool) bool {
	if p.PlanFrom == "" {
		return RunsPlan(s, officerSaysApplies)
	}
	return s.AtLeast(p.PlanFrom) || officerSaysApplies
}

// ContactsFor returns the entries of the plan's contact list that apply to category c.
func (p IncidentPlan) ContactsFor(c Category) []PlanContact {
	var out []PlanContact
	for _, x := range p.Contacts {
		if x.AppliesTo(c) {
			out = append(out, x)
		}
	}
	return out
}

// validContactID is an ID usable in a form field's name.
func validContactID(v string) bool {
	if v == "" || len(v) > 64 {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// Route returns the plan's route for category c; a category the plan does not name (it was
// checked at start-up, so only an unknown one) goes as RouteFor says.
func (p IncidentPlan) Route(c Category) CategoryRoute {
	r, ok := p.Categories[c]
	if !ok {
		return RouteFor(c)
	}
	return CategoryRoute{Triager: r.Triager, Told: slices.Clone(r.Told), Immediate: r.Immediate, MinSeverity: r.MinSeverity, CISO: r.CISO, Clause: r.Clause}
}
