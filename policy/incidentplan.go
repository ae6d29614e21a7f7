package policy

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	// Steps are the plan's measures (§7.3(1)), phase by phase.
	Steps []PlanStepSpec `json:"steps"`
	// Categories route each category (who triages, who is told, the first hour).
	Categories map[Category]RouteSpec `json:"categories"`
	// Disconnection holds the deadlines of the first-hour path (§6.4(3)7).
	Disconnection struct {
		Deadline Duration `json:"deadline"`
		Grace    Duration `json:"grace"`
	} `json:"disconnection"`
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
// each once, with a phase and deadlines; a route for every category, with a triager that
// is the department's officer or the GISO and known posts to tell.
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
	}
	if len(p.Steps) == 0 {
		errs = append(errs, errors.New("steps: the plan needs at least one step (§7.3(1))"))
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
	return p, errors.Join(errs...)
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
			Deadline: time.Duration(s.Deadline), RemindBefore: r, Grace: time.Duration(s.Grace)})
	}
	return out
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
