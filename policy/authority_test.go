package policy

import (
	"strings"
	"testing"
)

func TestDefaultDelegationGivesTheCISOsDecisionsNoDeputy(t *testing.T) {
	d := DefaultDelegation()
	for _, s := range []struct{ kind, step, why string }{
		{"exception", "ciso_review", "§7.4(1) 「CISOの許可を得て」"},
		{"exception", "ciso_ratification", "§7.4(2)"},
		{"cloud_assessment", "ciso_approval", "town rules cloud_rules.json"},
		{"cloud_assessment", "denial_review", "§8.3: the department officer's judgement"},
		{"cloud_assessment", "ciso_referral", "the CISO's decision on a denial the officer sent"},
		{"incident", "root_cause_review", "§5.3(3)2"},
		{"incident", "root_cause", "the GISO's record (§5.3(3))"},
		{"outsourcing_review", "approval", "§8.1: the department officer's approval"},
		{"outsourcing_review", "giso_decision", "the GISO's own decision"},
	} {
		if dep := d.ForKind(s.kind).DeputyFor(s.kind, s.step); dep.Post != "" {
			t.Errorf("%s.%s (%s) has a deputy %s by default; want none", s.kind, s.step, s.why, dep.Post)
		}
	}
}

func TestPolicyDeputies(t *testing.T) {
	// A town file with no rules still has the policy's own deputies.
	d := Delegation{Version: "empty"}
	dep := d.ForKind("incident").DeputyFor("incident", "ciso_instruction")
	if dep.Post != RoleGISO || !dep.Allows(OnAbsence) || !dep.Allows(OnEscalation) || !strings.Contains(dep.Basis, "§2(2)5") {
		t.Errorf("incident.ciso_instruction deputy = %+v; want the GISO on absence and escalation under §2(2)5", dep)
	}
	if dep.Allows(OnParty) {
		t.Error("§2(2)5 does not cover a CISO who is a party")
	}
	if got := d.ForKind("exception").DeputyFor("exception", "ciso_review"); got.Post != "" {
		t.Errorf("exception.ciso_review deputy = %+v; want none", got)
	}
}

func TestDeputyForNumberedSteps(t *testing.T) {
	d := DefaultDelegation().ForKind("incident")
	if dep := d.DeputyFor("incident", "measure_3"); dep.Post != RoleGISO {
		t.Errorf("measure_3 deputy = %q; want the rule for measure (giso)", dep.Post)
	}
	if StepBase("measure_x") != "measure_x" || StepBase("root_cause") != "root_cause" {
		t.Error("StepBase changed a name that is not a numbered measure")
	}
}

func TestForKindKeepsOnlyThatKind(t *testing.T) {
	d := DefaultDelegation().ForKind("exception")
	for _, r := range d.Rules {
		found := false
		for _, s := range r.Steps {
			found = found || strings.HasPrefix(s, "exception.")
		}
		if !found {
			t.Errorf("ForKind(exception) kept a rule for %v", r.Steps)
		}
	}
	if d.DeputyFor("offboarding", "disable_accounts").Post != "" {
		t.Error("an exception's copy of the rules answers for an offboarding step")
	}
}

func TestParseDelegationRefusesBadRules(t *testing.T) {
	for name, c := range map[string]struct{ json, want string }{
		"unknown kind":   {`{"version":"1","rules":[{"steps":["payroll.x"],"deputy":"giso","on":["escalation"],"review":"notice","basis":"b"}]}`, `step "payroll.x"`},
		"unknown step":   {`{"version":"1","rules":[{"steps":["exception.approve"],"deputy":"giso","on":["escalation"],"review":"notice","basis":"b"}]}`, "has no such step"},
		"deputy":         {`{"version":"1","rules":[{"steps":["exception.*"],"deputy":"staff","on":["escalation"],"review":"notice","basis":"b"}]}`, "deputy"},
		"occasion":       {`{"version":"1","rules":[{"steps":["exception.*"],"deputy":"giso","on":["weekend"],"review":"notice","basis":"b"}]}`, `on "weekend"`},
		"no basis":       {`{"version":"1","rules":[{"steps":["exception.*"],"deputy":"giso","on":["absence"],"review":"notice","basis":" "}]}`, "basis"},
		"no version":     {`{"rules":[]}`, "version"},
		"unknown field":  {`{"version":"1","rules":[],"extra":1}`, "unknown field"},
		"review missing": {`{"version":"1","rules":[{"steps":["exception.*"],"deputy":"giso","on":["absence"],"basis":"b"}]}`, "review"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseDelegation([]byte(c.json))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v; want one naming %q", err, c.want)
			}
		})
	}
}

func TestLoadDelegation(t *testing.T) {
	if d, err := LoadDelegation(""); err != nil || len(d.Rules) == 0 {
		t.Fatalf("LoadDelegation(\"\") = %v, %v; want the default", d, err)
	}
	if _, err := LoadDelegation(t.TempDir() + "/missing.json"); err == nil {
		t.Error("a missing file loaded")
	}
}
