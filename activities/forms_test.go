package activities_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/policyflow/policyflow/activities"
)

var rootCause = []activities.Field{
	{Name: "severity", Kind: activities.FieldSelect, Required: true, Options: []activities.Option{{Value: "low"}, {Value: "high"}}},
	{Name: "found_on", Kind: activities.FieldDate},
	{Name: "cause", Kind: activities.FieldTextarea, Required: true},
}

func TestCheckValues(t *testing.T) {
	cases := []struct {
		name   string
		values map[string]string
		bad    []string
	}{
		{"complete", map[string]string{"severity": "high", "found_on": "2026-04-30", "cause": "USB memory"}, nil},
		{"optional left out", map[string]string{"severity": "low", "cause": "x"}, nil},
		{"required missing", map[string]string{"found_on": "2026-04-30"}, []string{"severity", "cause"}},
		{"not an option", map[string]string{"severity": "extreme", "cause": "x"}, []string{"severity"}},
		{"bad date", map[string]string{"severity": "low", "cause": "x", "found_on": "30/04/2026"}, []string{"found_on"}},
		{"too long", map[string]string{"severity": "low", "cause": strings.Repeat("長", activities.MaxFieldLength+1)}, []string{"cause"}},
		{"invalid UTF-8", map[string]string{"severity": "low", "cause": "\xff"}, []string{"cause"}},
		{"unknown field", map[string]string{"severity": "low", "cause": "x", "admin": "1"}, []string{"admin"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := activities.CheckValues(rootCause, c.values)
			got := make([]string, 0, len(bad))
			for k := range maps.Keys(bad) {
				got = append(got, k)
			}
			if len(got) != len(c.bad) {
				t.Fatalf("bad fields = %v, want %v", bad, c.bad)
			}
			for _, name := range c.bad {
				if bad[name] == "" {
					t.Errorf("%s not reported: %v", name, bad)
				}
			}
		})
	}
}

// A reason is required only when the account is kept (§6.2(1)2(イ)(ウ)).
func TestCheckValuesRequiredWhen(t *testing.T) {
	form := []activities.Field{
		{Name: "account:u1", Kind: activities.FieldSelect, Required: true, Options: []activities.Option{{Value: "keep"}, {Value: "disable"}}},
		{Name: "reason:u1", Kind: activities.FieldTextarea, RequiredIf: &activities.Condition{Field: "account:u1", Values: []string{"keep"}}},
	}
	cases := []struct {
		name   string
		values map[string]string
		bad    []string
	}{
		{"disabled, no reason needed", map[string]string{"account:u1": "disable"}, nil},
		{"kept with a reason", map[string]string{"account:u1": "keep", "reason:u1": "still serves the committee"}, nil},
		{"kept without a reason", map[string]string{"account:u1": "keep"}, []string{"reason:u1"}},
		{"nothing chosen", map[string]string{}, []string{"account:u1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := activities.CheckValues(form, c.values)
			if len(bad) != len(c.bad) {
				t.Fatalf("bad fields = %v, want %v", bad, c.bad)
			}
			for _, name := range c.bad {
				if bad[name] == "" {
					t.Errorf("%s not reported: %v", name, bad)
				}
			}
		})
	}
}

// A field that goes with one choice: required with it, refused with the others.
func TestCheckDecisionRequiredFor(t *testing.T) {
	form := []activities.Field{{Name: "designee", Kind: activities.FieldSelect, RequiredFor: "designate", Options: []activities.Option{{Value: "S1"}}}}
	cases := []struct {
		name, choice string
		values       map[string]string
		bad          bool
	}{
		{"done alone", "done", nil, false},
		{"designate with a designee", "designate", map[string]string{"designee": "S1"}, false},
		{"designate without one", "designate", nil, true},
		{"done with a designee", "done", map[string]string{"designee": "S1"}, true},
		{"designate someone not offered", "designate", map[string]string{"designee": "V1"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if bad := activities.CheckDecision(form, c.choice, c.values); (len(bad) > 0) != c.bad {
				t.Errorf("CheckDecision = %v, want bad %v", bad, c.bad)
			}
		})
	}
}

// Free text never travels to the workflow; selects and dates do.
func TestSteeringValues(t *testing.T) {
	got := activities.SteeringValues(rootCause, map[string]string{"severity": "high", "found_on": "2026-04-30", "cause": "a name"})
	if len(got) != 2 || got["severity"] != "high" || got["found_on"] != "2026-04-30" {
		t.Errorf("steering values = %v", got)
	}
}

// A field required only with some answer of another, and an answer that rules out a choice:
// the reason of a clause not applicable (§8.1(2)), the "no" that forbids approval (§8.1(1)1).
func TestRequiredIfAndCheckChoice(t *testing.T) {
	form := []activities.Field{
		{Name: "mark", Kind: activities.FieldSelect, Required: true, Options: []activities.Option{{Value: "present"}, {Value: "not_applicable"}}},
		{Name: "reason", Kind: activities.FieldTextarea, RequiredIf: &activities.Condition{Field: "mark", Values: []string{"not_applicable"}}},
		{Name: "fit", Kind: activities.FieldSelect, Options: []activities.Option{{Value: "yes"}, {Value: "no", Forbids: []string{"approve"}}}},
	}
	if bad := activities.CheckValues(form, map[string]string{"mark": "present"}); len(bad) > 0 {
		t.Errorf("present, no reason: %v", bad)
	}
	if bad := activities.CheckValues(form, map[string]string{"mark": "not_applicable"}); bad["reason"] == "" {
		t.Errorf("not applicable without a reason passed: %v", bad)
	}
	if bad := activities.CheckChoice(form, "approve", map[string]string{"fit": "no"}); bad["fit"] == "" {
		t.Errorf("approve with fit=no passed: %v", bad)
	}
	for _, c := range []struct{ choice, fit string }{{"reject", "no"}, {"approve", "yes"}} {
		if bad := activities.CheckChoice(form, c.choice, map[string]string{"fit": c.fit}); len(bad) > 0 {
			t.Errorf("%s with fit=%s: %v", c.choice, c.fit, bad)
		}
	}
}
