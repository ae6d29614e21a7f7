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
