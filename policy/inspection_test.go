package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultChecklistCoversBothKindsFromChaptersThreeToEight(t *testing.T) {
	c := DefaultChecklist()
	if len(c.For(TargetSystem)) == 0 || len(c.For(TargetDepartment)) == 0 {
		t.Fatalf("the default checklist must ask systems and departments: %d, %d", len(c.For(TargetSystem)), len(c.For(TargetDepartment)))
	}
	chapters := map[byte]bool{}
	for _, it := range c.Items {
		chapters[it.Clause[len("§")]] = true
	}
	for _, ch := range "345678" {
		if !chapters[byte(ch)] {
			t.Errorf("no item checks chapter %c of the standards", ch)
		}
	}
}

func TestParseChecklistRefusesWithClearErrors(t *testing.T) {
	item := func(id, applies, clause, ja, en string) string {
		return `{"id":"` + id + `","applies_to":"` + applies + `","clause":"` + clause + `","ja":"` + ja + `","en":"` + en + `"}`
	}
	ok := item("s1", "system", "§6.1(2)", "バックアップ", "Backups") + "," + item("d1", "department", "§5.2(1)", "研修", "Training")
	for _, c := range []struct {
		name, json, want string
	}{
		{"no version", `{"items":[` + ok + `]}`, "version is required"},
		{"unknown field", `{"version":"1","items":[` + ok + `],"extra":1}`, `unknown field "extra"`},
		{"id twice", `{"version":"1","items":[` + ok + "," + item("s1", "system", "§6.1(3)", "a", "b") + `]}`, "item 3 (s1): id is used twice"},
		{"bad id", `{"version":"1","items":[` + ok + "," + item("S 1", "system", "§6.1(3)", "a", "b") + `]}`, "id must be 1-48 lower-case"},
		{"applies to", `{"version":"1","items":[` + ok + "," + item("x", "network", "§6.1(3)", "a", "b") + `]}`, `applies_to "network": want system or department`},
		{"clause outside 3-8", `{"version":"1","items":[` + ok + "," + item("x", "system", "§9.1(1)", "a", "b") + `]}`, `clause "§9.1(1)": want a clause of the standards' chapters 3 to 8`},
		{"no clause mark", `{"version":"1","items":[` + ok + "," + item("x", "system", "6.1", "a", "b") + `]}`, `clause "6.1"`},
		{"english missing", `{"version":"1","items":[` + ok + "," + item("x", "system", "§6.1(3)", "a", "") + `]}`, "both ja and en texts are required"},
		{"no department item", `{"version":"1","items":[` + item("s1", "system", "§6.1(2)", "a", "b") + `]}`, "no item applies to a department"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseChecklist([]byte(c.json))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := ParseChecklist([]byte(`{"version":"1","items":[` + ok + `]}`)); err != nil {
		t.Errorf("a good checklist refused: %v", err)
	}
}

func TestLoadChecklistNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "town.json")
	if err := os.WriteFile(path, []byte(`{"version":"town-1","items":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadChecklist(path)
	if err == nil || !strings.Contains(err.Error(), "inspection checklist "+path) || !strings.Contains(err.Error(), "no item applies to a system") {
		t.Errorf("error %v, want it to name the file and the problem", err)
	}
	if _, err := LoadChecklist(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "read inspection checklist") {
		t.Errorf("a missing file: %v", err)
	}
	if c, err := LoadChecklist(""); err != nil || c.Version != DefaultChecklist().Version {
		t.Errorf("no path must give the default: %v", err)
	}
}

func TestParseMonthDay(t *testing.T) {
	for _, c := range []struct {
		in   string
		m, d int
		ok   bool
	}{
		{"10-01", 10, 1, true}, {"04-30", 4, 30, true}, {"12-31", 12, 31, true},
		{"02-29", 0, 0, false}, {"04-31", 0, 0, false}, {"13-01", 0, 0, false}, {"1-1", 0, 0, false}, {"", 0, 0, false}, {"10/01", 0, 0, false},
	} {
		m, d, err := ParseMonthDay(c.in)
		if (err == nil) != c.ok || m != c.m || d != c.d {
			t.Errorf("ParseMonthDay(%q) = %d, %d, %v", c.in, m, d, err)
		}
	}
}

func TestNeedsMeasure(t *testing.T) {
	for a, want := range map[string]bool{AnswerCompliant: false, AnswerPartly: true, AnswerNot: true, AnswerNotApplicable: false} {
		if NeedsMeasure(a) != want {
			t.Errorf("NeedsMeasure(%q) = %v, want %v", a, !want, want)
		}
	}
}
