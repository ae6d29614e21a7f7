package policy

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The cloud rules turn the five criteria of §8.3 into data: a town changes what level 1 data
// needs, which certifications count or how old a SOC 2 report may be by editing a JSON file
// (POLICYFLOW_CLOUD_RULES), never the workflow. EvaluateCloud is the small pure evaluator.

// A CloudOutcome is what the rules say of a cloud service, and what each finding says.
type CloudOutcome string

// The outcomes, from best to worst.
const (
	// CloudAllowed: every criterion is met.
	CloudAllowed CloudOutcome = "allowed"
	// CloudConditional: usable if the conditions listed in the findings are met; the CISO
	// decides (town rule cloud_rules.json: ciso_approval_conditional).
	CloudConditional CloudOutcome = "conditional"
	// CloudDenied: the rules advise against the service for this information. The decision
	// stays the department security officer's (§8.3): they confirm the refusal or send it,
	// with a reason, to the CISO.
	CloudDenied CloudOutcome = "denied"
)

func (o CloudOutcome) rank() int {
	switch o {
	case CloudAllowed:
		return 0
	case CloudConditional:
		return 1
	case CloudDenied:
		return 2
	}
	return -1
}

// worse returns the worse of two outcomes.
func worse(a, b CloudOutcome) CloudOutcome {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// The five criteria of §8.3, in the clause's order.
const (
	// CriterionClassification is §8.3(1): may information of this classification be entrusted?
	CriterionClassification = "classification"
	// CriterionJurisdiction is §8.3(2): foreign law, place of processing, governing law and court.
	CriterionJurisdiction = "jurisdiction"
	// CriterionExitPlan is §8.3(3): migration when the service is interrupted or ends.
	CriterionExitPlan = "exit_plan"
	// CriterionSecurityDesign is §8.3(4): security designed over the whole information flow.
	CriterionSecurityDesign = "security_design"
	// CriterionReliability is §8.3(5): audit reports and certifications.
	CriterionReliability = "reliability"
)

// CloudCriteria lists the five criteria with their clauses, in order.
var CloudCriteria = []struct{ Name, Clause, Ja, En string }{
	{CriterionClassification, "8.3(1)", "情報の分類と取扱制限", "Classification and handling limits"},
	{CriterionJurisdiction, "8.3(2)", "国外法令のリスク・準拠法・裁判管轄", "Foreign law, governing law and courts"},
	{CriterionExitPlan, "8.3(3)", "中断・終了時の移行", "Migration on interruption or end"},
	{CriterionSecurityDesign, "8.3(4)", "情報の流通経路全般のセキュリティ設計", "Security design of the whole information flow"},
	{CriterionReliability, "8.3(5)", "監査報告書・認証による信頼性", "Reliability from audit reports and certifications"},
}

// CloudRules is the rules table. The default is embedded (cloud_rules.json beside this
// file); LoadCloudRules reads a town's own.
type CloudRules struct {
	// Version names this table in every evaluation, so the record says which rules applied.
	Version string `json:"version"`
	// HomeRegions are the ISO 3166-1 alpha-2 codes where data may stay without the foreign
	// law risk of §8.3(2) (Japan: ["JP"]).
	HomeRegions []string `json:"home_regions"`
	// HomeLaw is the country whose law and courts the contract should name (§8.3(2)).
	HomeLaw string `json:"home_law"`
	// Certifications are the certifications and audit reports the rules know (§8.3(5)).
	Certifications map[string]CertificationRule `json:"certifications"`
	// ExpiryWarningDays: a certificate ending within this many days is noted.
	ExpiryWarningDays int `json:"expiry_warning_days"`
	// Levels holds one rule per classification level (§3(1)).
	Levels []CloudLevelRule `json:"levels"`
	// CISOOutsideHomeRegions: data stored or processed outside HomeRegions needs the CISO's
	// approval (town rule; absent means true, the default).
	CISOOutsideHomeRegions *bool `json:"ciso_approval_outside_home_regions,omitempty"`
	// CISOConditional: a conditional outcome needs the CISO's approval (town rule; absent
	// means true, the default).
	CISOConditional *bool `json:"ciso_approval_conditional,omitempty"`
}

// RulesFile names the town's cloud rules in citations: a rule the town adds beyond the
// policy is cited as "town rule cloud_rules.json: <rule id>" (see CloudFinding.Cite), never
// as a clause of the policy. §8.3 sets no CISO approval of a cloud service, and §4.1(5)
// (equipment the town places outside its premises) is not what these rules check.
const RulesFile = "cloud_rules.json"

// The IDs of the town's rules that ask for the CISO's approval, as CloudFinding.Rule names
// them. A level's own rule is "levels[level=N].ciso_approval" (CISOLevelRule).
const (
	RuleCISOOutsideHomeRegions = "ciso_approval_outside_home_regions"
	RuleCISOConditional        = "ciso_approval_conditional"
)

// CISOLevelRule is the ID of the rule that makes a level always go to the CISO.
func CISOLevelRule(level int) string { return fmt.Sprintf("levels[level=%d].ciso_approval", level) }

// CertificationRule describes one kind of certification or audit report.
type CertificationRule struct {
	Ja string `json:"ja"`
	En string `json:"en"`
	// MaxAgeDays, when set, is how old the report (its issued_on date) may be: a SOC 2 type
	// II report older than a year is stale.
	MaxAgeDays int `json:"max_age_days,omitempty"`
}

// CloudLevelRule is what the rules ask of a service holding information of one level. Each
// "effect" field says what follows when its check fails: allowed (noted only), conditional
// or denied.
type CloudLevelRule struct {
	Level int `json:"level"`
	// CloudAllowed false means no cloud service may hold this level at all (§8.3(1)).
	CloudAllowed bool `json:"cloud_allowed"`
	// OutsideHomeRegions: storage or processing outside HomeRegions (§8.3(2)).
	OutsideHomeRegions CloudOutcome `json:"outside_home_regions"`
	// ForeignLawOrCourt: governing law or court jurisdiction not HomeLaw (§8.3(2)).
	ForeignLawOrCourt CloudOutcome `json:"foreign_law_or_court"`
	// NoExitPlan: no plan for interruption or termination (§8.3(3)).
	NoExitPlan CloudOutcome `json:"no_exit_plan"`
	// NoSecurityDesign: no reference to a security design of the whole flow (§8.3(4)).
	NoSecurityDesign CloudOutcome `json:"no_security_design"`
	// CertificationSets: any one set, every member valid on the day, is enough (§8.3(5)).
	CertificationSets [][]string `json:"certification_sets"`
	// NoCertificationSet: no set is complete and current (§8.3(5)).
	NoCertificationSet CloudOutcome `json:"no_certification_set"`
	// CISOApproval: this level always needs the CISO's approval (a town rule: the policy
	// leaves the judgement to the department security officer, §8.3).
	CISOApproval bool `json:"ciso_approval"`
}

//go:embed cloud_rules.json
var defaultCloudRules []byte

// DefaultCloudRules returns the embedded rules table.
//
// Level 1 (personal information) may go to a cloud only with storage and processing in
// Japan, Japanese law and courts, an exit plan, a security design, and either ISMAP
// registration or the equivalent set ISO/IEC 27001 + ISO/IEC 27017 + a SOC 2 type II report
// not older than a year: ISMAP's own control set is built on 27001/27017, and the SOC 2
// report adds an independent audit of operation over a period, which a certificate alone
// does not give. Anything short of that is denied, and level 1 always goes to the CISO.
// Level 2 turns most shortcomings into conditions for the CISO; level 3 needs only an exit
// plan to be allowed.
func DefaultCloudRules() CloudRules {
	r, err := ParseCloudRules(defaultCloudRules)
	if err != nil {
		panic("embedded cloud rules: " + err.Error())
	}
	return r
}

// LoadCloudRules reads a rules table from path, or returns the default when path is empty.
func LoadCloudRules(path string) (CloudRules, error) {
	return loadSetting("cloud rules", path, ParseCloudRules, DefaultCloudRules)
}

// ParseCloudRules decodes and checks a rules table: one rule for each level 1–3, known
// effects, certification sets naming known certifications.
func ParseCloudRules(b []byte) (CloudRules, error) {
	var r CloudRules
	if err := decodeStrict(b, &r); err != nil {
		return CloudRules{}, err
	}
	var errs []error
	if r.Version == "" {
		errs = append(errs, errors.New("version is required"))
	}
	if len(r.HomeRegions) == 0 || r.HomeLaw == "" {
		errs = append(errs, errors.New("home_regions and home_law are required"))
	}
	seen := map[int]bool{}
	for _, l := range r.Levels {
		if l.Level < 1 || l.Level > 3 || seen[l.Level] {
			errs = append(errs, fmt.Errorf("level %d: levels must be 1, 2 and 3, once each", l.Level))
			continue
		}
		seen[l.Level] = true
		for name, e := range map[string]CloudOutcome{"outside_home_regions": l.OutsideHomeRegions, "foreign_law_or_court": l.ForeignLawOrCourt,
			"no_exit_plan": l.NoExitPlan, "no_security_design": l.NoSecurityDesign, "no_certification_set": l.NoCertificationSet} {
			if e.rank() < 0 {
				errs = append(errs, fmt.Errorf("level %d: %s must be allowed, conditional or denied", l.Level, name))
			}
		}
		for _, set := range l.CertificationSets {
			if len(set) == 0 {
				errs = append(errs, fmt.Errorf("level %d: an empty certification set", l.Level))
			}
			for _, k := range set {
				if _, ok := r.Certifications[k]; !ok {
					errs = append(errs, fmt.Errorf("level %d: certification %q is not in certifications", l.Level, k))
				}
			}
		}
	}
	if len(seen) != 3 {
		errs = append(errs, errors.New("one rule is needed for each of the levels 1, 2 and 3"))
	}
	yes := true
	if r.CISOOutsideHomeRegions == nil {
		r.CISOOutsideHomeRegions = &yes
	}
	if r.CISOConditional == nil {
		r.CISOConditional = &yes
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return r, errors.Join(errs...)
}

func (r CloudRules) level(l int) (CloudLevelRule, bool) {
	for _, x := range r.Levels {
		if x.Level == l {
			return x, true
		}
	}
	return CloudLevelRule{}, false
}

// CloudService is what the rules look at: the facts of one cloud service assessment.
type CloudService struct {
	Classification    int
	StorageRegions    []string
	ProcessingRegions []string
	GoverningLaw      string
	Jurisdiction      string
	Certifications    []Certification
	HasExitPlan       bool
	SecurityDesignRef string
}

// Certification is one certification or audit report held by the service or its provider.
type Certification struct {
	Kind      string `json:"kind"`
	Reference string `json:"reference,omitempty"`
	// IssuedOn is the certificate's date, or a report's date (end of the audited period).
	IssuedOn string `json:"issued_on"`
	// ValidUntil is the last day the certificate is valid; empty for a report.
	ValidUntil string `json:"valid_until,omitempty"`
}

// CloudFinding is one reason of an evaluation, citing its clause of the policy, or (Rule)
// the town's rule that the policy does not set.
type CloudFinding struct {
	Criterion string       `json:"criterion"`
	Clause    string       `json:"clause,omitempty"`
	Rule      string       `json:"rule,omitempty"`
	Result    CloudOutcome `json:"result"`
	Ja        string       `json:"ja"`
	En        string       `json:"en"`
}

// Cite names where the finding comes from: "§8.3(3)" for a clause of the policy, "town
// rule cloud_rules.json: ciso_approval_conditional" for a rule the town adds.
func (f CloudFinding) Cite() string {
	if f.Rule != "" {
		return "town rule " + RulesFile + ": " + f.Rule
	}
	return "§" + f.Clause
}

// String gives the finding in English, e.g. "§8.3(3) denied: no exit plan".
func (f CloudFinding) String() string { return f.Cite() + " " + string(f.Result) + ": " + f.En }

// CloudEvaluation is the rules' answer for one service on one day.
type CloudEvaluation struct {
	Outcome      CloudOutcome   `json:"outcome"`
	RulesVersion string         `json:"rules_version"`
	AsOf         string         `json:"as_of"`
	Findings     []CloudFinding `json:"findings"`
	// CISORequired is set when the town's rules ask for the CISO's approval: level 1 data,
	// data outside the home regions, or a conditional outcome (by default). CISOReasons say
	// why, each citing its town rule (CloudFinding.Rule).
	CISORequired bool           `json:"ciso_required"`
	CISOReasons  []CloudFinding `json:"ciso_reasons,omitempty"`
	// NextExpiry is the first day after asOf on which a certificate the outcome relies on
	// is no longer valid (YYYY-MM-DD), or empty: then the service must show a new one.
	NextExpiry string `json:"next_expiry,omitempty"`
	// NextExpiryKind is the certification that lapses on NextExpiry.
	NextExpiryKind string `json:"next_expiry_kind,omitempty"`
}

// Criterion returns the worst result of the findings of one criterion.
func (e CloudEvaluation) Criterion(name string) CloudOutcome {
	out := CloudAllowed
	for _, f := range e.Findings {
		if f.Criterion == name {
			out = worse(out, f.Result)
		}
	}
	return out
}

// EvaluateCloud applies the rules to a service on the day asOf (in the town's zone) and
// returns the outcome with its findings, at least one per criterion of §8.3.
func EvaluateCloud(r CloudRules, s CloudService, asOf time.Time) CloudEvaluation {
	asOf = time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, asOf.Location())
	day := asOf.Format(DateLayout)
	e := CloudEvaluation{Outcome: CloudAllowed, RulesVersion: r.Version, AsOf: day}
	add := func(criterion, clause string, result CloudOutcome, ja, en string) {
		e.Findings = append(e.Findings, CloudFinding{Criterion: criterion, Clause: clause, Result: result, Ja: ja, En: en})
		e.Outcome = worse(e.Outcome, result)
	}
	lr, ok := r.level(s.Classification)
	if !ok {
		add(CriterionClassification, "8.3(1)", CloudDenied, fmt.Sprintf("情報の分類 %d は規則にありません", s.Classification),
			fmt.Sprintf("classification %d is not in the rules", s.Classification))
		return e
	}

	// §8.3(1) classification and its handling limits.
	if lr.CloudAllowed {
		add(CriterionClassification, "8.3(1)", CloudAllowed, fmt.Sprintf("レベル%dの情報はクラウドサービスに委ねることができます（次の条件による）", lr.Level),
			fmt.Sprintf("level %d information may be entrusted to a cloud service, under the conditions below", lr.Level))
	} else {
		add(CriterionClassification, "8.3(1)", CloudDenied, fmt.Sprintf("レベル%dの情報はクラウドサービスに委ねることができません", lr.Level),
			fmt.Sprintf("level %d information may not be entrusted to a cloud service", lr.Level))
	}

	// §8.3(2) foreign law: where the data is stored and processed, governing law and courts.
	var outside []string
	for _, c := range append(slices.Clone(s.StorageRegions), s.ProcessingRegions...) {
		if !slices.Contains(r.HomeRegions, c) && !slices.Contains(outside, c) {
			outside = append(outside, c)
		}
	}
	slices.Sort(outside)
	home := strings.Join(r.HomeRegions, ", ")
	if len(s.StorageRegions) == 0 || len(s.ProcessingRegions) == 0 {
		add(CriterionJurisdiction, "8.3(2)", worse(CloudConditional, lr.OutsideHomeRegions), "保存場所・処理場所が示されていません。契約で指定すること",
			"where data is stored and processed is not stated; the contract must specify it")
	}
	if len(outside) > 0 {
		add(CriterionJurisdiction, "8.3(2)", lr.OutsideHomeRegions,
			fmt.Sprintf("国外（%s）で保存・処理されるため国内法以外の法令が適用されるリスクがあります（許容範囲: %s）。処理場所を契約で指定すること", strings.Join(outside, ", "), home),
			fmt.Sprintf("data is stored or processed outside %s (%s): foreign law may apply; the place of processing must be specified in the contract", home, strings.Join(outside, ", ")))
	} else if len(s.StorageRegions) > 0 && len(s.ProcessingRegions) > 0 {
		add(CriterionJurisdiction, "8.3(2)", CloudAllowed, "保存・処理はすべて国内です", "data is stored and processed in "+home+" only")
	}
	if s.GoverningLaw != r.HomeLaw || s.Jurisdiction != r.HomeLaw {
		add(CriterionJurisdiction, "8.3(2)", lr.ForeignLawOrCourt,
			fmt.Sprintf("準拠法（%s）または裁判管轄（%s）が%sではありません。契約で%s法・%sの裁判所を指定すること", orNone(s.GoverningLaw), orNone(s.Jurisdiction), r.HomeLaw, r.HomeLaw, r.HomeLaw),
			fmt.Sprintf("governing law (%s) or court jurisdiction (%s) is not %s: the contract must name %s law and courts", orNone(s.GoverningLaw), orNone(s.Jurisdiction), r.HomeLaw, r.HomeLaw))
	} else {
		add(CriterionJurisdiction, "8.3(2)", CloudAllowed, "準拠法・裁判管轄は国内です", "governing law and courts are "+r.HomeLaw)
	}

	// §8.3(3) exit plan.
	if s.HasExitPlan {
		add(CriterionExitPlan, "8.3(3)", CloudAllowed, "中断・終了時の移行計画があります", "there is a plan for migration on interruption or end")
	} else {
		add(CriterionExitPlan, "8.3(3)", lr.NoExitPlan, "中断・終了時の移行計画がありません（選定の要件）", "no plan for migration on interruption or end (a selection requirement)")
	}

	// §8.3(4) security design of the whole information flow.
	if strings.TrimSpace(s.SecurityDesignRef) != "" {
		add(CriterionSecurityDesign, "8.3(4)", CloudAllowed, "情報の流通経路全般のセキュリティ設計: "+s.SecurityDesignRef,
			"security design of the whole information flow: "+s.SecurityDesignRef)
	} else {
		add(CriterionSecurityDesign, "8.3(4)", lr.NoSecurityDesign, "情報の流通経路全般のセキュリティ設計が示されていません。設計し要件を定めること",
			"no security design of the whole information flow: it must be designed and its requirements set")
	}

	// §8.3(5) reliability from certifications and audit reports.
	valid := map[string]Certification{}
	for _, c := range s.Certifications {
		cr, known := r.Certifications[c.Kind]
		issued, err1 := time.ParseInLocation(DateLayout, c.IssuedOn, asOf.Location())
		switch {
		case !known:
			add(CriterionReliability, "8.3(5)", CloudAllowed, c.Kind+" は規則にない認証のため考慮しません", c.Kind+" is not a certification the rules know; not counted")
		case err1 != nil || issued.After(asOf):
			add(CriterionReliability, "8.3(5)", CloudAllowed, cr.Ja+"の日付が評価日より後です", cr.En+" is dated after the day of assessment; not counted")
		case c.ValidUntil != "" && c.ValidUntil < day:
			add(CriterionReliability, "8.3(5)", CloudAllowed, cr.Ja+"は "+c.ValidUntil+" に期限切れです", cr.En+" expired on "+c.ValidUntil)
		case cr.MaxAgeDays > 0 && asOf.Sub(issued) > time.Duration(cr.MaxAgeDays)*24*time.Hour:
			add(CriterionReliability, "8.3(5)", CloudAllowed, fmt.Sprintf("%s（%s）は%d日より古く、最新ではありません", cr.Ja, c.IssuedOn, cr.MaxAgeDays),
				fmt.Sprintf("%s of %s is older than %d days: stale", cr.En, c.IssuedOn, cr.MaxAgeDays))
		default:
			if prev, ok := valid[c.Kind]; !ok || lastDay(c, cr, asOf.Location()) > lastDay(prev, cr, asOf.Location()) {
				valid[c.Kind] = c
			}
		}
	}
	var met []string
	for _, set := range lr.CertificationSets {
		if !slices.ContainsFunc(set, func(k string) bool { _, ok := valid[k]; return !ok }) {
			met = set
			break
		}
	}
	if met == nil {
		var sets []string
		for _, set := range lr.CertificationSets {
			sets = append(sets, strings.Join(set, " + "))
		}
		add(CriterionReliability, "8.3(5)", lr.NoCertificationSet,
			"有効な認証の組合せがありません（必要: "+strings.Join(sets, " または ")+"）",
			"no complete set of current certifications (needs "+strings.Join(sets, " or ")+")")
	} else {
		var names []string
		end := ""
		for _, k := range met {
			names = append(names, r.Certifications[k].En)
			if d := lastDay(valid[k], r.Certifications[k], asOf.Location()); d != "" && (end == "" || d < end) {
				end = d
				e.NextExpiryKind = k
			}
		}
		add(CriterionReliability, "8.3(5)", CloudAllowed, "有効な認証: "+strings.Join(met, " + "), "current certifications: "+strings.Join(names, " + "))
		if end != "" {
			last, _ := time.ParseInLocation(DateLayout, end, asOf.Location())
			e.NextExpiry = last.AddDate(0, 0, 1).Format(DateLayout)
			if r.ExpiryWarningDays > 0 && last.Sub(asOf) <= time.Duration(r.ExpiryWarningDays)*24*time.Hour {
				add(CriterionReliability, "8.3(5)", CloudAllowed, "認証の有効期限が近づいています（"+end+"）。更新後の証明を求めます",
					"a certification ends soon ("+end+"); the renewed one will be asked for")
			}
		}
	}

	// The CISO's approval is the town's rule, not the policy's: §8.3 leaves the judgement to
	// the department security officer, and §4.1(5) is about equipment the town places
	// outside its premises, which these rules do not check.
	if e.Outcome != CloudDenied {
		ciso := func(rule, ja, en string) {
			e.CISORequired = true
			e.CISOReasons = append(e.CISOReasons, CloudFinding{Criterion: "ciso_approval", Rule: rule, Result: CloudConditional, Ja: ja, En: en})
		}
		if lr.CISOApproval {
			ciso(CISOLevelRule(lr.Level), fmt.Sprintf("レベル%dの情報を扱うためCISOの承認が必要です", lr.Level), fmt.Sprintf("level %d information needs the CISO's approval", lr.Level))
		}
		if len(outside) > 0 && (r.CISOOutsideHomeRegions == nil || *r.CISOOutsideHomeRegions) {
			ciso(RuleCISOOutsideHomeRegions, "国外で保存・処理されるためCISOの承認が必要です", "data outside "+home+" needs the CISO's approval")
		}
		if e.Outcome == CloudConditional && (r.CISOConditional == nil || *r.CISOConditional) {
			ciso(RuleCISOConditional, "条件付きの判定のためCISOの承認が必要です", "a conditional outcome needs the CISO's approval")
		}
	}
	return e
}

// lastDay is the last day on which a certification counts: its ValidUntil, or for a report
// with a maximum age the last day before it becomes stale ("" when it never lapses).
func lastDay(c Certification, cr CertificationRule, loc *time.Location) string {
	end := c.ValidUntil
	if cr.MaxAgeDays > 0 {
		issued, err := time.ParseInLocation(DateLayout, c.IssuedOn, loc)
		if err == nil {
			stale := issued.AddDate(0, 0, cr.MaxAgeDays).Format(DateLayout)
			if end == "" || stale < end {
				end = stale
			}
		}
	}
	return end
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// FiscalYear is the Japanese fiscal year (April to March) that t falls in: 2026 for
// 2026-04-01 to 2027-03-31.
func FiscalYear(t time.Time) int {
	if t.Month() < time.April {
		return t.Year() - 1
	}
	return t.Year()
}

// FiscalYearStart is the first instant (April 1, 00:00 in loc) of fiscal year fy: the day
// from which a yearly self-inspection (§9.1) reassesses a cloud service.
func FiscalYearStart(fy int, loc *time.Location) time.Time {
	return time.Date(fy, time.April, 1, 0, 0, 0, 0, loc)
}
