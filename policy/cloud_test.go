package policy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var cloudDay = time.Date(2026, time.April, 27, 10, 30, 0, 0, mustTokyo())

func mustTokyo() *time.Location {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return loc
}

// goodService is a service every level allows: data in Japan, Japanese law and courts,
// ISMAP registration, an exit plan and a security design.
func goodService(level int) CloudService {
	return CloudService{
		Classification: level, StorageRegions: []string{"JP"}, ProcessingRegions: []string{"JP"},
		GoverningLaw: "JP", Jurisdiction: "JP", HasExitPlan: true, SecurityDesignRef: "SEC-DESIGN-2026-01",
		Certifications: []Certification{{Kind: "ismap", IssuedOn: "2025-10-01", ValidUntil: "2027-09-30"}},
	}
}

func TestEvaluateCloudCriteria(t *testing.T) {
	type change func(*CloudService)
	equivalentSet := func(soc2 string) change {
		return func(s *CloudService) {
			s.Certifications = []Certification{
				{Kind: "iso27001", IssuedOn: "2025-01-10", ValidUntil: "2028-01-09"},
				{Kind: "iso27017", IssuedOn: "2025-01-10", ValidUntil: "2028-01-09"},
				{Kind: "soc2_type2", IssuedOn: soc2},
			}
		}
	}
	cases := []struct {
		name      string
		level     int
		change    change
		outcome   CloudOutcome
		criterion string // the criterion that decides, with its clause
		clause    string
		ciso      bool
	}{
		// §8.3(1)
		{"level 1 in Japan with ISMAP", 1, nil, CloudAllowed, CriterionClassification, "8.3(1)", true},
		{"level 2 in Japan with ISMAP", 2, nil, CloudAllowed, CriterionClassification, "8.3(1)", false},
		{"level 3 in Japan with ISMAP", 3, nil, CloudAllowed, CriterionClassification, "8.3(1)", false},
		{"unknown classification", 4, nil, CloudDenied, CriterionClassification, "8.3(1)", false},
		// §8.3(2)
		{"level 1 stored abroad", 1, func(s *CloudService) { s.StorageRegions = []string{"JP", "US"} }, CloudDenied, CriterionJurisdiction, "8.3(2)", false},
		{"level 1 processed abroad", 1, func(s *CloudService) { s.ProcessingRegions = []string{"SG"} }, CloudDenied, CriterionJurisdiction, "8.3(2)", false},
		{"level 1 under foreign law", 1, func(s *CloudService) { s.GoverningLaw = "US" }, CloudDenied, CriterionJurisdiction, "8.3(2)", false},
		{"level 1 before foreign courts", 1, func(s *CloudService) { s.Jurisdiction = "IE" }, CloudDenied, CriterionJurisdiction, "8.3(2)", false},
		{"level 2 stored abroad", 2, func(s *CloudService) { s.StorageRegions = []string{"US"} }, CloudConditional, CriterionJurisdiction, "8.3(2)", true},
		{"level 2 under foreign law", 2, func(s *CloudService) { s.GoverningLaw = "US" }, CloudConditional, CriterionJurisdiction, "8.3(2)", true},
		{"level 3 abroad is allowed but goes to the CISO", 3, func(s *CloudService) { s.StorageRegions = []string{"US"}; s.GoverningLaw = "US" }, CloudAllowed, CriterionJurisdiction, "8.3(2)", true},
		{"level 3 with regions not stated", 3, func(s *CloudService) { s.ProcessingRegions = nil }, CloudConditional, CriterionJurisdiction, "8.3(2)", true},
		// §8.3(3)
		{"level 1 without exit plan", 1, func(s *CloudService) { s.HasExitPlan = false }, CloudDenied, CriterionExitPlan, "8.3(3)", false},
		{"level 3 without exit plan", 3, func(s *CloudService) { s.HasExitPlan = false }, CloudDenied, CriterionExitPlan, "8.3(3)", false},
		// §8.3(4)
		{"level 1 without security design", 1, func(s *CloudService) { s.SecurityDesignRef = " " }, CloudDenied, CriterionSecurityDesign, "8.3(4)", false},
		{"level 2 without security design", 2, func(s *CloudService) { s.SecurityDesignRef = "" }, CloudConditional, CriterionSecurityDesign, "8.3(4)", true},
		// §8.3(5)
		{"level 1 with the equivalent set", 1, equivalentSet("2026-01-31"), CloudAllowed, CriterionReliability, "8.3(5)", true},
		{"level 1 with a stale SOC 2 report", 1, equivalentSet("2025-04-26"), CloudDenied, CriterionReliability, "8.3(5)", false},
		{"level 1 with a SOC 2 report exactly a year old", 1, equivalentSet("2025-04-27"), CloudAllowed, CriterionReliability, "8.3(5)", true},
		{"level 1 with ISO 27001 alone", 1, func(s *CloudService) {
			s.Certifications = []Certification{{Kind: "iso27001", IssuedOn: "2025-01-10", ValidUntil: "2028-01-09"}}
		}, CloudDenied, CriterionReliability, "8.3(5)", false},
		{"level 1 with an expired ISMAP registration", 1, func(s *CloudService) { s.Certifications[0].ValidUntil = "2026-04-26" }, CloudDenied, CriterionReliability, "8.3(5)", false},
		{"level 1 with ISMAP valid to the day", 1, func(s *CloudService) { s.Certifications[0].ValidUntil = "2026-04-27" }, CloudAllowed, CriterionReliability, "8.3(5)", true},
		{"level 1 with a certificate dated in the future", 1, func(s *CloudService) { s.Certifications[0].IssuedOn = "2026-05-01" }, CloudDenied, CriterionReliability, "8.3(5)", false},
		{"level 2 with 27001 + SOC 2", 2, func(s *CloudService) {
			s.Certifications = []Certification{{Kind: "iso27001", IssuedOn: "2025-01-10", ValidUntil: "2028-01-09"}, {Kind: "soc2_type2", IssuedOn: "2025-12-31"}}
		}, CloudAllowed, CriterionReliability, "8.3(5)", false},
		{"level 2 without certifications", 2, func(s *CloudService) { s.Certifications = nil }, CloudConditional, CriterionReliability, "8.3(5)", true},
		{"level 3 with an unknown certification only", 3, func(s *CloudService) { s.Certifications = []Certification{{Kind: "csa_star", IssuedOn: "2025-01-01"}} }, CloudConditional, CriterionReliability, "8.3(5)", true},
	}
	rules := DefaultCloudRules()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := goodService(c.level)
			if c.change != nil {
				c.change(&s)
			}
			e := EvaluateCloud(rules, s, cloudDay)
			if e.Outcome != c.outcome {
				t.Errorf("outcome = %s, want %s; findings:\n%s", e.Outcome, c.outcome, findings(e))
			}
			if got := e.Criterion(c.criterion); got != c.outcome {
				t.Errorf("criterion %s = %s, want %s", c.criterion, got, c.outcome)
			}
			if !slices.ContainsFunc(e.Findings, func(f CloudFinding) bool {
				return f.Criterion == c.criterion && f.Clause == c.clause && f.Result == c.outcome && f.Ja != "" && f.En != ""
			}) {
				t.Errorf("no %s finding citing §%s:\n%s", c.outcome, c.clause, findings(e))
			}
			if e.CISORequired != c.ciso {
				t.Errorf("CISO required = %t, want %t (%v)", e.CISORequired, c.ciso, e.CISOReasons)
			}
			// The CISO's approval is the town's rule: each reason cites the rules file, never
			// a clause (§4.1(5) is about equipment placed outside the premises).
			for _, f := range e.CISOReasons {
				if f.Clause != "" || f.Rule == "" || !strings.HasPrefix(f.Cite(), "town rule cloud_rules.json: ") {
					t.Errorf("CISO reason cites %q (clause %q)", f.Cite(), f.Clause)
				}
			}
			if e.RulesVersion != rules.Version || e.AsOf != "2026-04-27" {
				t.Errorf("evaluation not labelled: %q %q", e.RulesVersion, e.AsOf)
			}
			if c.level <= 3 {
				// Every criterion of §8.3 has its say.
				for _, k := range CloudCriteria {
					if !slices.ContainsFunc(e.Findings, func(f CloudFinding) bool { return f.Criterion == k.Name && f.Clause == k.Clause }) {
						t.Errorf("no finding for %s (§%s)", k.Name, k.Clause)
					}
				}
			}
		})
	}
}

func findings(e CloudEvaluation) string {
	var b strings.Builder
	for _, f := range e.Findings {
		b.WriteString("  " + f.String() + "\n")
	}
	return b.String()
}

func TestEvaluateCloudNextExpiry(t *testing.T) {
	rules := DefaultCloudRules()
	cases := []struct {
		name  string
		certs []Certification
		want  string
		warn  bool
	}{
		{"ISMAP", []Certification{{Kind: "ismap", IssuedOn: "2025-10-01", ValidUntil: "2027-09-30"}}, "2027-10-01", false},
		{"the earlier of a set, a SOC 2 report going stale", []Certification{
			{Kind: "iso27001", IssuedOn: "2025-01-10", ValidUntil: "2028-01-09"},
			{Kind: "iso27017", IssuedOn: "2025-01-10", ValidUntil: "2028-01-09"},
			{Kind: "soc2_type2", IssuedOn: "2026-01-31"},
		}, "2027-02-01", false},
		{"ending soon is noted", []Certification{{Kind: "ismap", IssuedOn: "2024-06-01", ValidUntil: "2026-06-30"}}, "2026-07-01", true},
		{"the newer of two certificates counts", []Certification{
			{Kind: "ismap", IssuedOn: "2024-06-01", ValidUntil: "2026-06-30"},
			{Kind: "ismap", IssuedOn: "2026-04-01", ValidUntil: "2028-03-31"},
		}, "2028-04-01", false},
		{"none current", []Certification{{Kind: "ismap", IssuedOn: "2024-06-01", ValidUntil: "2025-06-30"}}, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := goodService(1)
			s.Certifications = c.certs
			e := EvaluateCloud(rules, s, cloudDay)
			if e.NextExpiry != c.want || (c.want != "") != (e.NextExpiryKind != "") {
				t.Errorf("next expiry = %q, want %q\n%s", e.NextExpiry, c.want, findings(e))
			}
			warned := slices.ContainsFunc(e.Findings, func(f CloudFinding) bool { return strings.Contains(f.En, "ends soon") })
			if warned != c.warn {
				t.Errorf("warned = %t, want %t", warned, c.warn)
			}
		})
	}
}

// A town changes its rules without touching code: here, a town that keeps level 2 data in
// Japan and refuses any cloud for level 1.
func TestLoadCloudRulesFromAFile(t *testing.T) {
	b, err := os.ReadFile("cloud_rules.json")
	if err != nil {
		t.Fatal(err)
	}
	strict := strings.Replace(string(b), `"level": 1,
      "cloud_allowed": true`, `"level": 1,
      "cloud_allowed": false`, 1)
	strict = strings.Replace(strict, `"outside_home_regions": "conditional"`, `"outside_home_regions": "denied"`, 1)
	strict = strings.Replace(strict, `"version": "default-2026"`, `"version": "strict-town"`, 1)
	path := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(path, []byte(strict), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := LoadCloudRules(path)
	if err != nil {
		t.Fatal(err)
	}
	if e := EvaluateCloud(r, goodService(1), cloudDay); e.Outcome != CloudDenied || e.Criterion(CriterionClassification) != CloudDenied || e.RulesVersion != "strict-town" {
		t.Errorf("level 1 under strict rules: %s\n%s", e.Outcome, findings(e))
	}
	abroad := goodService(2)
	abroad.StorageRegions = []string{"US"}
	if e := EvaluateCloud(r, abroad, cloudDay); e.Outcome != CloudDenied {
		t.Errorf("level 2 abroad under strict rules: %s", e.Outcome)
	}
	if d, err := LoadCloudRules(""); err != nil || d.Version != "default-2026" {
		t.Errorf("default rules: %v %v", d.Version, err)
	}
	if _, err := LoadCloudRules(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file was accepted")
	}
}

// The CISO's approvals are the town's rules: each reason names its rule in cloud_rules.json,
// a town may switch the two general ones off, and a file that names neither keeps them on.
func TestCloudCISOReasonsCiteTheTownRules(t *testing.T) {
	abroad := goodService(1)
	abroad.Classification = 2
	abroad.StorageRegions = []string{"JP", "US"}
	e := EvaluateCloud(DefaultCloudRules(), abroad, cloudDay)
	var got []string
	for _, f := range e.CISOReasons {
		got = append(got, f.Cite())
	}
	want := []string{"town rule cloud_rules.json: ciso_approval_outside_home_regions", "town rule cloud_rules.json: ciso_approval_conditional"}
	if !slices.Equal(got, want) {
		t.Errorf("level 2 abroad: CISO reasons %q, want %q", got, want)
	}
	e = EvaluateCloud(DefaultCloudRules(), goodService(1), cloudDay)
	if len(e.CISOReasons) != 1 || e.CISOReasons[0].Cite() != "town rule cloud_rules.json: levels[level=1].ciso_approval" {
		t.Errorf("level 1: CISO reasons %v", e.CISOReasons)
	}

	off := strings.Replace(string(defaultCloudRules), `"ciso_approval_outside_home_regions": true`, `"ciso_approval_outside_home_regions": false`, 1)
	off = strings.Replace(off, `"ciso_approval_conditional": true`, `"ciso_approval_conditional": false`, 1)
	r, err := ParseCloudRules([]byte(off))
	if err != nil {
		t.Fatal(err)
	}
	if e := EvaluateCloud(r, abroad, cloudDay); e.CISORequired {
		t.Errorf("a town that switched the CISO's approvals off: %v", e.CISOReasons)
	}
	old := strings.Replace(string(defaultCloudRules), `"ciso_approval_outside_home_regions": true,`, ``, 1)
	old = strings.Replace(old, `"ciso_approval_conditional": true,`, ``, 1)
	r, err = ParseCloudRules([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if e := EvaluateCloud(r, abroad, cloudDay); len(e.CISOReasons) != 2 {
		t.Errorf("a town file from before the switches: CISO reasons %v, want both defaults", e.CISOReasons)
	}
}

func TestParseCloudRulesRefusesBadTables(t *testing.T) {
	cases := map[string]string{
		"not JSON":          `{`,
		"unknown field":     `{"version":"x","home_regions":["JP"],"home_law":"JP","levelz":[]}`,
		"no levels":         `{"version":"x","home_regions":["JP"],"home_law":"JP","levels":[]}`,
		"bad effect":        strings.Replace(string(defaultCloudRules), `"no_exit_plan": "denied"`, `"no_exit_plan": "maybe"`, 1),
		"unknown cert":      strings.Replace(string(defaultCloudRules), `[["ismap"], ["iso27001", "iso27017", "soc2_type2"]]`, `[["ismap"], ["iso9001"]]`, 1),
		"duplicate level":   strings.Replace(string(defaultCloudRules), `"level": 2,`, `"level": 1,`, 1),
		"no home":           strings.Replace(string(defaultCloudRules), `"home_law": "JP"`, `"home_law": ""`, 1),
		"no version":        strings.Replace(string(defaultCloudRules), `"version": "default-2026"`, `"version": ""`, 1),
		"empty certificate": strings.Replace(string(defaultCloudRules), `[["ismap"], ["iso27001"], ["soc2_type2"]]`, `[[]]`, 1),
	}
	for name, text := range cases {
		if _, err := ParseCloudRules([]byte(text)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestFiscalYear(t *testing.T) {
	loc := mustTokyo()
	for _, c := range []struct {
		at   string
		want int
	}{{"2026-03-31", 2025}, {"2026-04-01", 2026}, {"2026-12-31", 2026}, {"2027-01-01", 2026}} {
		d, _ := ParseDate(c.at, loc)
		if got := FiscalYear(d); got != c.want {
			t.Errorf("FiscalYear(%s) = %d, want %d", c.at, got, c.want)
		}
	}
	if got := FiscalYearStart(2027, loc); got.Format(time.RFC3339) != "2027-04-01T00:00:00+09:00" {
		t.Errorf("start of FY2027 = %s", got)
	}
}
