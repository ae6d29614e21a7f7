package policy

import (
	"regexp"
	"slices"
	"testing"
)

var clauseID = regexp.MustCompile(`^[3-9](\.[1-9])?\([1-9][0-9]?\)$|^[3-9]\.[1-9]$`)

func TestClauses(t *testing.T) {
	cs := Clauses()
	if len(cs) < 40 || len(cs) > 100 {
		t.Errorf("len(Clauses()) = %d; want 40 to 100", len(cs))
	}
	seen := make(map[string]bool)
	for i, c := range cs {
		if !clauseID.MatchString(c.ID) {
			t.Errorf("clause %q: malformed ID", c.ID)
		}
		if seen[c.ID] {
			t.Errorf("clause %q: duplicate ID", c.ID)
		}
		seen[c.ID] = true
		if c.TitleJa == "" || c.TitleEn == "" || c.SectionJa == "" || c.SectionEn == "" {
			t.Errorf("clause %q: missing title: %+v", c.ID, c)
		}
		if i > 0 && CompareClauseIDs(cs[i-1].ID, c.ID) >= 0 {
			t.Errorf("clause %q follows %q: not sorted", c.ID, cs[i-1].ID)
		}
	}
	for _, excluded := range []string{"7.4(1)", "7.4(2)", "7.5", "7.6(1)"} {
		if seen[excluded] {
			t.Errorf("clause %q is listed; an exception cannot depart from it", excluded)
		}
	}
}

func TestClausesReturnsCopy(t *testing.T) {
	cs := Clauses()
	cs[0].ID = "changed"
	if Clauses()[0].ID == "changed" {
		t.Error("Clauses() returned shared storage")
	}
}

func TestLookupClause(t *testing.T) {
	tests := []struct {
		id      string
		ok      bool
		titleJa string
	}{
		{"3(1)", true, "情報資産の分類"},
		{"4.1(5)", true, "庁外への機器の設置"},
		{"4.3", true, "職員等の利用する端末や電磁的記録媒体等の管理"},
		{"5.1(1)", true, "職員等の遵守事項"},
		{"6.1(18)", true, "無線LAN及びネットワークの盗聴対策"},
		{"6.2(1)", true, "アクセス制御等"},
		{"§6.2(1)", true, "アクセス制御等"},
		{"8.1(2)", true, "契約項目"},
		{"8.3", true, "クラウドサービスの利用"},
		{"9.2", true, "情報セキュリティポリシー及び関係規程等の見直し"},
		{"99.9(9)", false, ""},
		{"6.2", false, ""},
		{"6.2(1)2", false, ""},
		{"7.4(1)", false, ""},
		{"", false, ""},
	}
	for _, tt := range tests {
		c, ok := LookupClause(tt.id)
		if ok != tt.ok || c.TitleJa != tt.titleJa {
			t.Errorf("LookupClause(%q) = %q, %v; want %q, %v", tt.id, c.TitleJa, ok, tt.titleJa, tt.ok)
		}
	}
}

func TestCompareClauseIDs(t *testing.T) {
	want := []string{"3(1)", "3(2)", "4.1(6)", "4.2(1)", "4.3", "5.1(1)", "6.1(2)", "6.1(10)", "8.3", "9.1(1)", "9.2", "(1)", "6.x", "§3(1)"}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortFunc(got, CompareClauseIDs)
	if !slices.Equal(got, want) {
		t.Errorf("sorted = %q; want %q", got, want)
	}
	tests := []struct {
		a, b string
		want int
	}{
		{"6.1(9)", "6.1(10)", -1},
		{"6.1(10)", "6.1(9)", +1},
		{"6.2(1)", "6.2(1)", 0},
		{"4.2(3)", "4.3", -1},
		{"4.3", "4.3(1)", -1},
		{"6.1(01)", "6.1(1)", +1}, // malformed sorts last
	}
	for _, tt := range tests {
		if got := CompareClauseIDs(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareClauseIDs(%q, %q) = %d; want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
