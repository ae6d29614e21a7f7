package policy

import (
	"reflect"
	"strings"
	"testing"
)

// The embedded plan says what the code's defaults say, so that incidents started before
// the plan became data run the same way as those that copy it.
func TestDefaultIncidentPlanMatchesTheDefaults(t *testing.T) {
	p := DefaultIncidentPlan()
	if !reflect.DeepEqual(p.PlanSteps(), PlanSteps()) {
		t.Errorf("steps = %+v\nwant %+v", p.PlanSteps(), PlanSteps())
	}
	for _, c := range Categories() {
		if got, want := p.Route(c), RouteFor(c); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: route %+v, want %+v", c, got, want)
		}
	}
	if p.Disconnection.Deadline != Duration(DisconnectionDeadline) || p.Disconnection.Grace != Duration(DisconnectionGrace) {
		t.Errorf("disconnection = %+v", p.Disconnection)
	}
}

// A town's plan with a mistake is refused with an error naming it.
func TestParseIncidentPlanRefuses(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"no version", `"version": "default-2026-12"`, `"version": ""`, "version is required"},
		{"unknown step", `"name": "recovery"`, `"name": "prayer"`, "step 4 (prayer)"},
		{"step twice", `"name": "evidence"`, `"name": "contact"`, "named twice"},
		{"bad duration", `"deadline": "72h"`, `"deadline": "3 days"`, "time: unknown unit"},
		{"reminder after deadline", `"remind_before": ["30m"]`, `"remind_before": ["3h"]`, "before its deadline"},
		{"bad triager", `"policy_violation": {"triager": "giso"`, `"policy_violation": {"triager": "ciso"`, "categories.policy_violation: triager"},
		{"missing category", `"other": {"triager": "diso", "told": ["giso", "ism"], "clause": "5.3(1)2"}`, `"unknown": {"triager": "diso", "told": ["giso"], "clause": "x"}`, "other has no route"},
		{"bad severity", `"min_severity": "medium"`, `"min_severity": "huge"`, "parse severity"},
		{"slow disconnection", `"disconnection": {"deadline": "15m"`, `"disconnection": {"deadline": "4h"`, "at most 1h"},
		{"unknown field", `"version":`, `"verison": "x", "version":`, "unknown field"},
		{"unknown severity of a step", `"grace": "24h",
     "severities": ["low",`, `"grace": "24h",
     "severities": ["lowest",`, "step 4 (recovery): severities: parse severity \"lowest\""},
		{"bad plan_from", `"plan_from": "high"`, `"plan_from": "urgent"`, "plan_from: parse severity"},
		{"empty contact name", `"contacts": []`, `"contacts": [{"id": "police", "name": " ", "phone": "0120-000-000"}]`, "contacts 1 (police): name is required"},
		{"contact without a way to reach", `"contacts": []`, `"contacts": [{"id": "police", "name": "警察署"}]`, "contacts 1 (police): a phone, an email or an address is required"},
		{"contact twice", `"contacts": []`, `"contacts": [{"id": "p", "name": "a", "phone": "1"}, {"id": "p", "name": "b", "phone": "2"}]`, "contacts 2 (p): id named twice"},
		{"contact without id", `"contacts": []`, `"contacts": [{"id": "a b", "name": "a", "phone": "1"}]`, "contacts 1 (a b): id is required"},
		{"contact of an unknown category", `"contacts": []`, `"contacts": [{"id": "p", "name": "a", "phone": "1", "categories": ["fire"]}]`, "contacts 1 (p): categories: parse category"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := string(defaultIncidentPlan)
			if !strings.Contains(src, tc.from) {
				t.Fatalf("the default plan lacks %s", tc.from)
			}
			_, err := ParseIncidentPlan([]byte(strings.Replace(src, tc.from, tc.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

// A plan in which no step runs for a severity is refused: an incident of that severity
// under the plan would run nothing.
func TestParseIncidentPlanRefusesASeverityWithoutSteps(t *testing.T) {
	src := strings.ReplaceAll(string(defaultIncidentPlan), `"severities": ["low", "medium", "high", "critical"]`, `"severities": ["medium", "high", "critical"]`)
	_, err := ParseIncidentPlan([]byte(src))
	if err == nil || !strings.Contains(err.Error(), "no step runs for severity low") {
		t.Errorf("error = %v", err)
	}
}

// The plan says which steps run for which severity, from which severity it always applies,
// and whom the contact step calls for which category.
func TestIncidentPlanSeveritiesAndContacts(t *testing.T) {
	src := strings.Replace(string(defaultIncidentPlan), `"plan_from": "high"`, `"plan_from": "medium"`, 1)
	src = strings.Replace(src, `"clause": "7.3(1)", "phase": 1, "deadline": "4h", "remind_before": ["1h"], "grace": "2h",
     "severities": ["low", "medium", "high", "critical"]`, `"clause": "7.3(1)", "phase": 1, "deadline": "4h", "remind_before": ["1h"], "grace": "2h",
     "severities": ["high", "critical"]`, 1)
	src = strings.Replace(src, `"contacts": []`, `"contacts": [
     {"id": "police", "name": "町警察署 生活安全課", "role": "警察", "phone": "0000-00-0000", "categories": ["malware", "unauthorized_access"]},
     {"id": "vendor", "name": "保守業者", "email": "support@vendor.example", "address": "東京都千代田区1-1"}]`, 1)
	p, err := ParseIncidentPlan([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var low []string
	for _, s := range p.PlanSteps() {
		if s.For(SeverityLow) {
			low = append(low, s.Name)
		}
	}
	if strings.Join(low, ",") != "contact,containment,recovery" {
		t.Errorf("steps for low = %v", low)
	}
	if !p.RunsPlan(SeverityMedium, false) || p.RunsPlan(SeverityLow, false) || !p.RunsPlan(SeverityLow, true) {
		t.Error("plan_from medium: the plan always applies from medium, below it when the triage says so")
	}
	if DefaultIncidentPlan().RunsPlan(SeverityMedium, false) {
		t.Error("the default plan applies always from high only")
	}
	if got := p.ContactsFor(CategoryLeak); len(got) != 1 || got[0].ID != "vendor" {
		t.Errorf("contacts for a leak = %+v", got)
	}
	if got := p.ContactsFor(CategoryMalware); len(got) != 2 || got[0].Line() != "町警察署 生活安全課 / 警察 / 0000-00-0000" {
		t.Errorf("contacts for malware = %+v", got)
	}
}
