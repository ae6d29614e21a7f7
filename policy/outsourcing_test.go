package policy_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/policyflow/policyflow/policy"
)

func TestContractClausesAreTheTwelveOfTheStandards(t *testing.T) {
	cs := policy.ContractClauses()
	if len(cs) != 12 {
		t.Fatalf("%d clauses, want the twelve of §8.1(2)", len(cs))
	}
	seen := map[string]bool{}
	for i, c := range cs {
		if c.N != i+1 || c.Key == "" || c.TitleJa == "" || c.TitleEn == "" || seen[c.Key] {
			t.Errorf("clause %d: %+v", i+1, c)
		}
		seen[c.Key] = true
	}
	// The policy's own wording, first and last.
	if cs[0].TitleJa != "情報セキュリティポリシー及び情報セキュリティ実施手順の遵守" || cs[11].TitleJa != "情報セキュリティポリシーが遵守されなかった場合の規定（損害賠償等）" {
		t.Errorf("wording differs from §8.1(2): %q … %q", cs[0].TitleJa, cs[11].TitleJa)
	}
}

func marks(def string, over map[string]string) map[string]string {
	m := map[string]string{}
	for _, c := range policy.ContractClauses() {
		m[c.Key] = def
	}
	for k, v := range over {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

func TestReviewClauses(t *testing.T) {
	tests := []struct {
		name     string
		level    policy.Level
		marks    map[string]string
		complete bool
		missing  []string
		unmarked []string
	}{
		{"level 1, all present", policy.Level1, marks("present", nil), true, nil, nil},
		{"level 1, one missing", policy.Level1, marks("present", map[string]string{"confidentiality": "missing"}), false, []string{"confidentiality"}, nil},
		{"level 2, not applicable counts as missing", policy.Level2, marks("present", map[string]string{"subcontracting": "not_applicable"}), false, []string{"subcontracting"}, nil},
		{"level 2, two missing in the policy's order", policy.Level2, marks("present", map[string]string{"non_compliance": "missing", "service_level": "missing"}), false, []string{"service_level", "non_compliance"}, nil},
		{"level 3, missing noted but not required", policy.Level3, marks("present", map[string]string{"service_level": "missing"}), true, []string{"service_level"}, nil},
		{"level 3, not applicable accepted", policy.Level3, marks("not_applicable", nil), true, nil, nil},
		{"level 3, unmarked clause", policy.Level3, marks("present", map[string]string{"publication": ""}), false, nil, []string{"publication"}},
		{"level 1, unknown mark is unmarked", policy.Level1, marks("present", map[string]string{"reporting": "maybe"}), false, nil, []string{"reporting"}},
		{"level 1, nothing marked", policy.Level1, map[string]string{}, false, nil, keys()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := policy.ReviewClauses(tt.level, tt.marks)
			if r.Complete() != tt.complete || !slices.Equal(r.Missing, tt.missing) || !slices.Equal(r.Unmarked, tt.unmarked) {
				t.Errorf("ReviewClauses = %+v (complete %t), want complete %t, missing %v, unmarked %v", r, r.Complete(), tt.complete, tt.missing, tt.unmarked)
			}
		})
	}
}

func keys() []string {
	var out []string
	for _, c := range policy.ContractClauses() {
		out = append(out, c.Key)
	}
	return out
}

// TestReviewClausesAsNeeded: §8.1(2) 「必要に応じて」: an item may be left out as not
// applicable with a reason the reviewer accepts; a refused reason returns the draft like a
// missing item. Removing either rule fails a case.
func TestReviewClausesAsNeeded(t *testing.T) {
	tests := []struct {
		name              string
		level             policy.Level
		marks             map[string]string
		complete          bool
		missing, na, refd []string
	}{
		{"all present", policy.Level1, marks("present", nil), true, nil, nil, nil},
		{"level 1, reason accepted", policy.Level1, marks("present", map[string]string{"publication": "not_applicable"}), true, nil, []string{"publication"}, nil},
		{"level 1, reason refused", policy.Level1, marks("present", map[string]string{"publication": "not_applicable_refused"}), false, []string{"publication"}, nil, []string{"publication"}},
		{"level 2, missing", policy.Level2, marks("present", map[string]string{"reporting": "missing"}), false, []string{"reporting"}, nil, nil},
		{"level 3, refused is noted only", policy.Level3, marks("present", map[string]string{"reporting": "not_applicable_refused"}), true, []string{"reporting"}, nil, []string{"reporting"}},
		{"unmarked", policy.Level1, marks("present", map[string]string{"reporting": ""}), false, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := policy.ReviewClausesAsNeeded(tt.level, tt.marks)
			if r.Complete() != tt.complete || !slices.Equal(r.Missing, tt.missing) || !slices.Equal(r.NotApplicable, tt.na) || !slices.Equal(r.Refused, tt.refd) {
				t.Errorf("got %+v complete=%v", r, r.Complete())
			}
		})
	}
	// The earlier reading still refuses "not applicable" at level 1, for processes begun under it.
	if policy.ReviewClauses(policy.Level1, marks("present", map[string]string{"publication": "not_applicable"})).Complete() {
		t.Error("ReviewClauses changed")
	}
}

// TestMaySelect: §8.1(1)1, the officer must confirm that the vendor's measures fit the work.
func TestMaySelect(t *testing.T) {
	for v, want := range map[string]bool{"yes": true, "no": false, "": false} {
		if got := policy.MaySelect(v); got != want {
			t.Errorf("MaySelect(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestSelectionFlags(t *testing.T) {
	day := func(s string) time.Time { d, _ := policy.ParseDate(s, time.UTC); return d }
	start, end := day("2027-04-01"), day("2030-03-31")
	tests := []struct {
		name  string
		v     policy.Vendor
		level policy.Level
		want  []string
	}{
		{"certificate covers the contract, audit passed", policy.Vendor{CertExpiry: day("2030-06-30"), Audit: "passed"}, policy.Level1, nil},
		{"certificate ends on the contract's last day", policy.Vendor{CertExpiry: day("2030-03-31"), Audit: "passed"}, policy.Level1, nil},
		{"certificate ends a day early", policy.Vendor{CertExpiry: day("2030-03-30"), Audit: "passed"}, policy.Level1, []string{"certificate_expires_before_contract_end"}},
		{"certificate already expired", policy.Vendor{CertExpiry: day("2027-03-31"), Audit: "passed"}, policy.Level2, []string{"certificate_expired"}},
		{"no certificate, audit passed", policy.Vendor{Audit: "passed"}, policy.Level1, []string{"no_certificate"}},
		{"certificate, no audit", policy.Vendor{CertExpiry: day("2031-01-01"), Audit: "none"}, policy.Level1, []string{"no_audit"}},
		{"audit with open findings", policy.Vendor{CertExpiry: day("2031-01-01"), Audit: "findings"}, policy.Level3, []string{"audit_findings"}},
		{"nothing at all, level 1", policy.Vendor{Audit: "none"}, policy.Level1, []string{"no_certificate", "no_audit", "no_evidence_for_important_information"}},
		{"nothing at all, level 3", policy.Vendor{Audit: "none"}, policy.Level3, []string{"no_certificate", "no_audit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := policy.SelectionFlags(tt.v, tt.level, start, end); !slices.Equal(got, tt.want) {
				t.Errorf("SelectionFlags = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckCorporateNumber(t *testing.T) {
	tests := []struct {
		number string
		ok     bool
	}{
		// Published corporate numbers: the National Tax Agency (国税庁), which assigns them;
		// the Cabinet Office (内閣府); Toyota Motor Corporation.
		{"7000012050002", true},
		{"2000012010019", true},
		{"1180301018771", true},
		// A sum divisible by nine gives the check digit 9 (9 − 0).
		{"9000000000000", true},
		{"0000000000000", false},
		// One digit changed, two digits swapped, the check digit changed.
		{"7000012050003", false},
		{"7000012500002", false},
		{"8000012050002", false},
		{"700001205000", false},
		{"70000120500021", false},
		{"7000012O50002", false},
		{"７000012050002", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.number, func(t *testing.T) {
			err := policy.CheckCorporateNumber(tt.number)
			if (err == nil) != tt.ok {
				t.Errorf("CheckCorporateNumber(%q) = %v, want ok %t", tt.number, err, tt.ok)
			}
			if err != nil && !errors.Is(err, policy.ErrCorporateNumber) {
				t.Errorf("error %v does not wrap ErrCorporateNumber", err)
			}
		})
	}
	if d, err := policy.CorporateNumberCheckDigit("000012050002"); d != 7 || err != nil {
		t.Errorf("check digit of the NTA's base = %d, %v; want 7", d, err)
	}
}
