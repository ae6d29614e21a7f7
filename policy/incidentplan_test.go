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
	// ciso_from high: the CISO instructs as NeedsCISO always said (§5.3(1)3). The deadlines
	// are compared with the workflow's defaults in workflows (TestDefaultIncidentPlanDeadlinesAreTheCodes).
	for _, s := range Severities() {
		for _, asks := range []bool{false, true} {
			if p.NeedsCISO(s, asks) != NeedsCISO(s, asks) {
				t.Errorf("NeedsCISO(%s, %t): the plan says %t", s, asks, p.NeedsCISO(s, asks))
			}
		}
	}
}

// ciso_from says from which severity the CISO always instructs; below it the triager says.
func TestIncidentPlanCISOFrom(t *testing.T) {
	p := DefaultIncidentPlan()
	p.CISOFrom = SeverityMedium
	if !p.NeedsCISO(SeverityMedium, false) || p.NeedsCISO(SeverityLow, false) || !p.NeedsCISO(SeverityLow, true) {
		t.Error("ciso_from medium: from medium always, below it when the triager asks")
	}
	p.CISOFrom = SeverityCritical
	if p.NeedsCISO(SeverityHigh, false) || !p.NeedsCISO(SeverityCritical, false) {
		t.Error("ciso_from critical: high goes only when the triager asks")
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
		{"unknown owner", `"owner": "giso"`, `"owner": "mayor"`, `step 1 (contact): owner "mayor": want giso, ism, diso or ciso`},
		{"no owner", `, "owner": "ism"}`, `}`, `step 2 (evidence): owner "": want giso`},
		{"no ciso_from", `"ciso_from": "high",`, ``, "ciso_from is required"},
		{"bad ciso_from", `"ciso_from": "high"`, `"ciso_from": "always"`, "ciso_from: parse severity"},
		{"no deadlines", `"deadlines": {`, `"deadlines_": {`, "unknown field"},
		{"triage missing", `"triage": {"clock": "1h"}, `, ``, `deadlines.triage: is required`},
		{"triage on business days", `"triage": {"clock": "1h"}`, `"triage": {"business_days": 1}`, "deadlines.triage: runs on clock hours"},
		{"slow triage", `"triage": {"clock": "1h"}`, `"triage": {"clock": "200h"}`, "deadlines.triage: must be at most 168h"},
		{"triage reminder after its deadline", `"triage_remind": ["30m"]`, `"triage_remind": ["1h"]`, "deadlines.triage_remind: the reminder 1h0m0s before the deadline comes before deadlines.triage opens (1h0m0s)"},
		{"ciso reminder after its deadline", `"ciso_remind": ["1h"]`, `"ciso_remind": ["3h"]`, "deadlines.ciso_remind: the reminder 3h0m0s"},
		{"record grace on business days", `"record_grace": {"clock": "24h"}`, `"record_grace": {"business_days": 2}`, "deadlines.record_grace: runs on clock hours"},
		{"review grace missing", `"review_grace": {"business_days": 2}`, `"review_grace": {}`, "deadlines.review_grace: is required"},
		{"measure too long", `"measure": {"business_days": 20}`, `"measure": {"business_days": 400}`, "deadlines.measure: business_days must be from 1 to 250"},
		{"reminder longer than the review", `"remind_before": ["48h", "4h"]`, `"remind_before": ["96h", "4h"]`, "deadlines.remind_before: the reminder 96h0m0s before the deadline comes before deadlines.review opens (3 business days)"},
		{"reminders not longest first", `"remind_before": ["48h", "4h"]`, `"remind_before": ["4h", "48h"]`, "deadlines.remind_before: give the reminders longest first"},
		{"no rounds", `"max_rounds": 5`, `"max_rounds": 0`, "deadlines.max_rounds: must be from 1 to 100"},
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
