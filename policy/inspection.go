package policy

import (
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The yearly self-inspection (自己点検, §9.1). Every fiscal year, and when needed, the GISO and
// each system manager inspect the networks and systems they own (§9.1(1)1) and each
// department's security officer the measures of their department (§9.1(1)2); the results and
// the improvement measures are compiled and reported to the security committee (§9.1(2)).
// What is inspected is the town's checklist: a town setting (POLICYFLOW_INSPECTION_CHECKLIST)
// whose embedded default draws its items from the standards' chapters 3 to 8.

// Kinds of inspection target: a system, inspected by its manager (§9.1(1)1), or a department,
// inspected by its security officer (§9.1(1)2).
const (
	TargetSystem     = "system"
	TargetDepartment = "department"
)

// Answers to a checklist item.
const (
	AnswerCompliant     = "compliant"
	AnswerPartly        = "partly"
	AnswerNot           = "not"
	AnswerNotApplicable = "not_applicable"
)

// Answers lists the answers in the order a form offers them.
var Answers = []string{AnswerCompliant, AnswerPartly, AnswerNot, AnswerNotApplicable}

// NeedsMeasure reports whether an answer needs an improvement measure (改善策, §9.1(2)): what
// is done, by whom and by when. A town rule: an item not or only partly kept.
func NeedsMeasure(answer string) bool { return answer == AnswerNot || answer == AnswerPartly }

// ChecklistItem is one question of the self-inspection.
type ChecklistItem struct {
	ID string `json:"id"`
	// AppliesTo is TargetSystem or TargetDepartment.
	AppliesTo string `json:"applies_to"`
	// Clause is the clause of the standards the item checks, e.g. "§6.2(1)2".
	Clause string `json:"clause"`
	Ja     string `json:"ja"`
	En     string `json:"en"`
}

// Checklist is the town's self-inspection checklist.
type Checklist struct {
	Version string          `json:"version"`
	Items   []ChecklistItem `json:"items"`
}

// MaxChecklistItems bounds the items of one kind: each is five fields of one task's form.
const MaxChecklistItems = 40

//go:embed inspection_checklist.json
var defaultChecklist []byte

// DefaultChecklist returns the embedded checklist.
func DefaultChecklist() Checklist {
	c, err := ParseChecklist(defaultChecklist)
	if err != nil {
		panic("embedded inspection checklist: " + err.Error())
	}
	return c
}

// LoadChecklist reads the town's checklist from path (POLICYFLOW_INSPECTION_CHECKLIST); an
// empty path gives the default.
func LoadChecklist(path string) (Checklist, error) {
	return loadSetting("inspection checklist", path, ParseChecklist, DefaultChecklist)
}

var (
	itemID = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,47}$`)
	// clauseRef is a clause of the standards' chapters 3 to 8, which the self-inspection checks.
	clauseRef = regexp.MustCompile(`^§[3-8](\.[0-9]+)?(\([0-9]+\))?[0-9]*(\([^)]+\))?$`)
)

// ParseChecklist decodes and checks a checklist: a version, unique item IDs (lower-case
// letters, digits, '-', '_', '.'), both texts, a clause of chapters 3–8, what the item applies
// to, and at least one and at most MaxChecklistItems items for each kind of target.
func ParseChecklist(b []byte) (Checklist, error) {
	var c Checklist
	if err := decodeStrict(b, &c); err != nil {
		return Checklist{}, err
	}
	var errs []error
	if strings.TrimSpace(c.Version) == "" {
		errs = append(errs, errors.New("version is required"))
	}
	seen := map[string]bool{}
	count := map[string]int{}
	for i, it := range c.Items {
		at := fmt.Sprintf("item %d", i+1)
		if it.ID != "" {
			at += " (" + it.ID + ")"
		}
		switch {
		case !itemID.MatchString(it.ID):
			errs = append(errs, fmt.Errorf("%s: id must be 1-48 lower-case letters, digits, '-', '_' or '.'", at))
		case seen[it.ID]:
			errs = append(errs, fmt.Errorf("%s: id is used twice", at))
		}
		seen[it.ID] = true
		if it.AppliesTo != TargetSystem && it.AppliesTo != TargetDepartment {
			errs = append(errs, fmt.Errorf("%s: applies_to %q: want system or department", at, it.AppliesTo))
		}
		count[it.AppliesTo]++
		if !clauseRef.MatchString(it.Clause) {
			errs = append(errs, fmt.Errorf("%s: clause %q: want a clause of the standards' chapters 3 to 8, such as §6.2(1)2", at, it.Clause))
		}
		if strings.TrimSpace(it.Ja) == "" || strings.TrimSpace(it.En) == "" {
			errs = append(errs, fmt.Errorf("%s: both ja and en texts are required", at))
		}
		if len([]rune(it.Ja)) > 300 || len([]rune(it.En)) > 300 {
			errs = append(errs, fmt.Errorf("%s: a text is longer than 300 characters", at))
		}
	}
	for _, kind := range []string{TargetSystem, TargetDepartment} {
		switch n := count[kind]; {
		case n == 0:
			errs = append(errs, fmt.Errorf("no item applies to a %s: each kind of target needs at least one", kind))
		case n > MaxChecklistItems:
			errs = append(errs, fmt.Errorf("%d items apply to a %s: at most %d", n, kind, MaxChecklistItems))
		}
	}
	return c, errors.Join(errs...)
}

// For returns the items that apply to a kind of target, in the checklist's order.
func (c Checklist) For(kind string) []ChecklistItem {
	var out []ChecklistItem
	for _, it := range c.Items {
		if it.AppliesTo == kind {
			out = append(out, it)
		}
	}
	return out
}

// ParseMonthDay reads the day of the year a yearly schedule runs, "MM-DD" (a town setting:
// POLICYFLOW_INSPECTION_START). 29 February is refused: it would skip three years in four.
func ParseMonthDay(s string) (month, day int, err error) {
	m, d, ok := strings.Cut(s, "-")
	if ok && len(m) == 2 && len(d) == 2 {
		month, err1 := strconv.Atoi(m)
		day, err2 := strconv.Atoi(d)
		if err1 == nil && err2 == nil && month >= 1 && month <= 12 && day >= 1 &&
			day <= time.Date(2026, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
			return month, day, nil
		}
	}
	return 0, 0, fmt.Errorf("%q: want a day of the year MM-DD such as 10-01 (not 02-29)", s)
}
