package policy

import (
	"slices"
	"testing"
	"time"
)

func TestParseCategory(t *testing.T) {
	for _, c := range Categories() {
		if got, err := ParseCategory(string(c)); err != nil || got != c {
			t.Errorf("ParseCategory(%q) = %q, %v", c, got, err)
		}
		if c.Title("ja") == string(c) || c.Title("en") == string(c) {
			t.Errorf("category %q has no title", c)
		}
	}
	for _, bad := range []string{"", "Malware", "virus", " malware"} {
		if _, err := ParseCategory(bad); err == nil {
			t.Errorf("ParseCategory(%q) accepted", bad)
		}
	}
	if len(Categories()) != 9 {
		t.Errorf("%d categories, want 9", len(Categories()))
	}
}

func TestSeverityRules(t *testing.T) {
	tests := []struct {
		sev              Severity
		officerAsksCISO  bool
		officerSaysPlan  bool
		wantCISO, wantPl bool
	}{
		{SeverityLow, false, false, false, false},
		{SeverityLow, true, false, true, false},
		{SeverityLow, false, true, false, true},
		{SeverityMedium, false, false, false, false},
		{SeverityMedium, true, true, true, true},
		{SeverityHigh, false, false, true, true},
		{SeverityCritical, false, false, true, true},
	}
	for _, tt := range tests {
		if got := NeedsCISO(tt.sev, tt.officerAsksCISO); got != tt.wantCISO {
			t.Errorf("NeedsCISO(%s, %t) = %t", tt.sev, tt.officerAsksCISO, got)
		}
		if got := RunsPlan(tt.sev, tt.officerSaysPlan); got != tt.wantPl {
			t.Errorf("RunsPlan(%s, %t) = %t", tt.sev, tt.officerSaysPlan, got)
		}
	}
	for _, s := range []string{"", "High", "severe"} {
		if _, err := ParseSeverity(s); err == nil {
			t.Errorf("ParseSeverity(%q) accepted", s)
		}
	}
	if !SeverityCritical.AtLeast(SeverityHigh) || SeverityMedium.AtLeast(SeverityHigh) || !SeverityLow.AtLeast(SeverityLow) {
		t.Error("AtLeast orders severities wrongly")
	}
}

func TestPlanSteps(t *testing.T) {
	steps := PlanSteps()
	want := []struct {
		name  string
		phase int
	}{{StepContact, 1}, {StepEvidence, 1}, {StepContainment, 2}, {StepRecovery, 3}}
	if len(steps) != len(want) {
		t.Fatalf("%d steps, want %d", len(steps), len(want))
	}
	for i, w := range want {
		s := steps[i]
		if s.Name != w.name || s.Phase != w.phase {
			t.Errorf("step %d = %s phase %d, want %s phase %d", i, s.Name, s.Phase, w.name, w.phase)
		}
		if s.Deadline <= 0 || s.Deadline > 7*24*time.Hour || s.Grace <= 0 || s.Clause == "" || s.TitleJa == "" {
			t.Errorf("step %s: deadline %s, grace %s, clause %q", s.Name, s.Deadline, s.Grace, s.Clause)
		}
		for _, r := range s.RemindBefore {
			if r <= 0 || r >= s.Deadline {
				t.Errorf("step %s: reminder %s before a deadline of %s", s.Name, r, s.Deadline)
			}
		}
	}
}

func TestContainmentChecklist(t *testing.T) {
	tests := []struct {
		c    Category
		want []string
	}{
		{CategoryMalware, []string{"lan_cable", "wireless", "power", "mobile"}},
		{CategoryLeak, nil},
		{CategoryDoS, nil},
	}
	for _, tt := range tests {
		got := ContainmentChecklist(tt.c)
		if len(got) != len(tt.want) {
			t.Errorf("%s: %d steps, want %d", tt.c, len(got), len(tt.want))
			continue
		}
		for i, s := range got {
			if s.Name != tt.want[i] || s.TitleJa == "" || s.TitleEn == "" {
				t.Errorf("%s step %d = %+v", tt.c, i, s)
			}
		}
	}
}

// Each category is routed as its clause says; removing a rule fails its row.
func TestRouteFor(t *testing.T) {
	for _, tc := range []struct {
		c         Category
		triager   Role
		told      []Role
		immediate bool
		ciso      bool
		min       Severity
		clause    string
	}{
		// §6.4(3)7: the device is taken off the network at once.
		{CategoryMalware, RoleDISO, []Role{RoleGISO, RoleISM}, true, false, SeverityLow, "6.4(3)7"},
		// §7.2(2)1: reported to both the GISO and the department's officer; §7.2(2)2: the
		// GISO judges whether the plan applies.
		{CategoryPolicyViolation, RoleGISO, []Role{RoleDISO, RoleISM}, false, false, SeverityLow, "7.2(2)"},
		// §6.5(2): the CISO and the GISO, who may stop systems; never closed as low.
		{CategoryAttackNotice, RoleGISO, []Role{RoleCISO, RoleDISO, RoleISM}, false, true, SeverityMedium, "6.5(2)"},
		// §5.3(1)2: the department's officer, with the GISO and the system's manager told.
		{CategoryLeak, RoleDISO, []Role{RoleGISO, RoleISM}, false, false, SeverityLow, "5.3(1)2"},
	} {
		r := RouteFor(tc.c)
		if r.Triager != tc.triager || !slices.Equal(r.Told, tc.told) || r.Immediate != tc.immediate || r.CISO != tc.ciso || r.Clause != tc.clause {
			t.Errorf("%s: route %+v", tc.c, r)
		}
		if got := r.SeveritiesFrom()[0]; got != tc.min {
			t.Errorf("%s: lowest severity %s, want %s", tc.c, got, tc.min)
		}
	}
}
