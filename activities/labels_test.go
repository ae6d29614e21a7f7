package activities_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/policy"
)

// The staff pages show a process's stage and status by name, in Japanese and English
// (issue 17): every step of policy.Steps, every stage and status the workflows set by
// literal, and the incident plan's phases have one.
func TestEveryStageHasALabel(t *testing.T) {
	stages := map[string]bool{"submitted": true, "closed": true}
	for _, steps := range policy.Steps {
		for _, s := range steps {
			stages[s] = true
		}
	}
	statuses := map[string]bool{"starting": true}
	files, err := filepath.Glob("../workflows/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("workflows' sources: %v", err)
	}
	setStage := regexp.MustCompile(`setStage\(ctx, (?:"([a-z_]+)"|[a-zA-Z.]+), "([a-z_]+)"`)
	finish := regexp.MustCompile(`finish\(ctx, "([a-z_]+)"`)
	for _, f := range files {
		if filepath.Ext(f) != ".go" || regexp.MustCompile(`_test\.go$`).MatchString(f) {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range setStage.FindAllStringSubmatch(string(src), -1) {
			if m[1] != "" {
				statuses[m[1]] = true
			}
			if m[2] == "report_" { // a self-inspection's two reports (§9.1(2))
				stages["report_"+activities.ReportResults], stages["report_"+activities.ReportMeasures] = true, true
				continue
			}
			stages[m[2]] = true
		}
		for _, m := range finish.FindAllStringSubmatch(string(src), -1) {
			statuses[m[1]] = true
		}
	}
	if len(stages) < 40 || len(statuses) < 15 {
		t.Fatalf("found only %d stages and %d statuses: the patterns no longer match the workflows", len(stages), len(statuses))
	}
	for s := range stages {
		for _, lang := range []string{"ja", "en"} {
			if got := activities.StageLabel(s, lang); got == s || got == "" {
				t.Errorf("stage %q has no %s label", s, lang)
			}
		}
	}
	for s := range statuses {
		for _, lang := range []string{"ja", "en"} {
			if got := activities.StatusLabel(s, lang); got == s || got == "" {
				t.Errorf("status %q has no %s label", s, lang)
			}
		}
	}
}

func TestStageLabel(t *testing.T) {
	for _, c := range []struct{ stage, lang, want string }{
		{"triage", "ja", "初動判断（トリアージ）"},
		{"triage", "en", "Triage"},
		{"contact+evidence", "ja", "連絡・証拠の保全"},
		{"contact+evidence", "en", "Contact, Evidence"},
		{"measure_2", "en", "Measure against recurrence (2)"},
		{"no_such_stage", "ja", "no_such_stage"},
	} {
		if got := activities.StageLabel(c.stage, c.lang); got != c.want {
			t.Errorf("StageLabel(%q, %s) = %q, want %q", c.stage, c.lang, got, c.want)
		}
	}
}
