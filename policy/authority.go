package policy

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// A Post is a position whose holder decides a step (§2): a role, and for a department's
// security officer the department, for a system's manager the system. Posts change hands, so
// a step names the post and the directory says who holds it when the step opens.
type Post struct {
	Role Role
	// Scope is the department (diso) or the system (ism) the post is held for; empty for the
	// town-wide posts (ciso, giso).
	Scope string
}

// IsZero reports whether no post is named.
func (p Post) IsZero() bool { return p.Role == "" }

// String names the post for summaries, e.g. "diso of soumu".
func (p Post) String() string {
	if p.Scope == "" {
		return string(p.Role)
	}
	return string(p.Role) + " of " + p.Scope
}

// When a deputy may stand in for a post's holder (代決).
const (
	// OnEscalation: the holder did not decide by the deadline; the deputy gets a link.
	OnEscalation = "escalation"
	// OnAbsence: the holder is registered as absent when the task opens, or when the absence
	// starts while it is open; the task goes to the deputy at once.
	OnAbsence = "absence"
	// OnParty: the holder is a party to the case (the requester, the author of the record
	// under review, the leaver): separation of duties sends the task to the deputy.
	OnParty = "party"
)

// ReviewNotice is the after-the-fact review (後閲) a holder gets when a deputy decided in their
// place: a notice that says who decided what. It is the only kind of review so far.
const ReviewNotice = "notice"

// A DelegationRule lets a deputy decide some steps in the holder's place (代決), under the
// town's rules of delegated decisions (事務決裁規程) or a clause of the policy itself.
type DelegationRule struct {
	// Steps are "kind.step" names ("offboarding.disable_accounts"), or "kind.*" for every step
	// of a process.
	Steps []string `json:"steps"`
	// Deputy is the post that may stand in: ciso, giso, or diso (the process's department's
	// officer).
	Deputy Role `json:"deputy"`
	// On lists when: escalation, absence, party.
	On []string `json:"on"`
	// Review is what the holder gets afterwards (後閲): "notice".
	Review string `json:"review"`
	// Basis cites the rule: a clause of the policy, or the town's own rule.
	Basis string `json:"basis"`
}

// Delegation is the town's delegation rules: who may stand in for whom, for which steps and
// when. A step no rule names has no deputy: only the holder decides, and silence escalates as
// pressure (a notice), never as authority.
type Delegation struct {
	Version string           `json:"version"`
	Rules   []DelegationRule `json:"rules"`
}

// PolicyDelegation are the deputies the policy itself names, which no town file removes.
var PolicyDelegation = []DelegationRule{
	{
		// §2(2)5: 「CISOが不在の場合…統括情報セキュリティ責任者が自らの判断に基づき対応する」 — for a
		// security breach (an incident) only.
		Steps: []string{"incident.ciso_instruction"}, Deputy: RoleGISO,
		On: []string{OnEscalation, OnAbsence}, Review: ReviewNotice,
		Basis: "§2(2)5: the GISO acts on own judgement in an incident while the CISO is absent",
	},
	{
		// §6.2(1)3(イ): privileged passwords are changed by the GISO or the system's manager.
		Steps: []string{"offboarding.rotate_credential"}, Deputy: RoleGISO,
		On: []string{OnEscalation, OnAbsence, OnParty}, Review: ReviewNotice,
		Basis: "§6.2(1)3(イ): the GISO or the system manager changes privileged passwords",
	},
}

//go:embed delegation.json
var defaultDelegation []byte

// DefaultDelegation returns the embedded default rules: the CISO's decisions (an exception's
// permission §7.4(1), a cloud service's approval (town rules cloud_rules.json), the root-cause review §5.3(3)2) and
// the department officers' approvals have no deputy; the GISO may stand in for routine
// confirmations of the GISO's own remit.
func DefaultDelegation() Delegation {
	d, err := ParseDelegation(defaultDelegation)
	if err != nil {
		panic("embedded delegation rules: " + err.Error())
	}
	return d
}

// LoadDelegation reads the town's delegation rules from path (POLICYFLOW_DELEGATION_RULES);
// an empty path gives the default.
func LoadDelegation(path string) (Delegation, error) {
	return loadSetting("delegation rules", path, ParseDelegation, DefaultDelegation)
}

// ParseDelegation decodes and checks delegation rules: known process kinds and step names,
// deputies that are posts, known occasions and reviews.
func ParseDelegation(b []byte) (Delegation, error) {
	var d Delegation
	if err := decodeStrict(b, &d); err != nil {
		return Delegation{}, err
	}
	var errs []error
	if d.Version == "" {
		errs = append(errs, errors.New("version is required"))
	}
	for i, r := range d.Rules {
		if err := r.check(); err != nil {
			errs = append(errs, fmt.Errorf("rule %d: %w", i+1, err))
		}
	}
	return d, errors.Join(errs...)
}

func (r DelegationRule) check() error {
	var errs []error
	if len(r.Steps) == 0 {
		errs = append(errs, errors.New("steps are required"))
	}
	for _, s := range r.Steps {
		kind, step, ok := strings.Cut(s, ".")
		steps, known := Steps[kind]
		switch {
		case !ok || !known:
			errs = append(errs, fmt.Errorf("step %q: want kind.step with a kind of %s", s, strings.Join(sortedKeys(Steps), ", ")))
		case step != "*" && !slices.Contains(steps, step):
			errs = append(errs, fmt.Errorf("step %q: %s has no such step (it has %s)", s, kind, strings.Join(steps, ", ")))
		}
	}
	if !slices.Contains([]Role{RoleCISO, RoleGISO, RoleDISO}, r.Deputy) {
		errs = append(errs, fmt.Errorf("deputy %q: want ciso, giso or diso", r.Deputy))
	}
	if len(r.On) == 0 {
		errs = append(errs, errors.New("on is required: escalation, absence, party"))
	}
	for _, on := range r.On {
		if !slices.Contains([]string{OnEscalation, OnAbsence, OnParty}, on) {
			errs = append(errs, fmt.Errorf("on %q: want escalation, absence or party", on))
		}
	}
	if r.Review != ReviewNotice {
		errs = append(errs, fmt.Errorf("review %q: want %q", r.Review, ReviewNotice))
	}
	if strings.TrimSpace(r.Basis) == "" {
		errs = append(errs, errors.New("basis is required: cite the rule"))
	}
	return errors.Join(errs...)
}

// ForKind keeps the rules that name steps of one process kind, the policy's own first: the
// part a process copies when it starts, so that a change of the town's rules applies to
// processes started after it.
func (d Delegation) ForKind(kind string) Delegation {
	out := Delegation{Version: d.Version}
	for _, r := range slices.Concat(PolicyDelegation, d.Rules) {
		for _, s := range r.Steps {
			if k, _, _ := strings.Cut(s, "."); k == kind {
				out.Rules = append(out.Rules, r)
				break
			}
		}
	}
	return out
}

// Deputy is who may stand in for one step's holder, and when.
type Deputy struct {
	Post   Role
	On     []string
	Review string
	Basis  string
}

// Allows reports whether the deputy may stand in on this occasion.
func (d Deputy) Allows(on string) bool { return d.Post != "" && slices.Contains(d.On, on) }

// DeputyFor returns the first rule naming the step (kind.step or kind.*), or no deputy.
func (d Delegation) DeputyFor(kind, step string) Deputy {
	step = StepBase(step)
	for _, r := range d.Rules {
		for _, s := range r.Steps {
			if s == kind+"."+step || s == kind+".*" {
				return Deputy{Post: r.Deputy, On: r.On, Review: r.Review, Basis: r.Basis}
			}
		}
	}
	return Deputy{}
}

// Steps lists the human steps of each process by kind, as the workflows name them: the
// delegation rules and the need-to-know table may name only these. Incident plan steps and
// measures are named by the plan (contact, evidence, containment, recovery) and by number.
var Steps = map[string][]string{
	"exception":          {"ciso_review", "ciso_ratification", "requester_revision", "restore_compliance"},
	"incident":           {"disconnection", "disconnection_check", "triage", "ciso_instruction", "record", "contact", "evidence", "containment", "recovery", "cause_department", "cause_system", "root_cause", "root_cause_review", "measure"},
	"outsourcing_review": {"selection_review", "clause_review", "giso_decision", "requester_revision", "selection_revision", "approval", "briefing_acknowledgement", "periodic_report", "subcontracting_approval", "subcontractor_briefing_acknowledgement", "briefing_followup", "certificate_renewal", "disposal_permission", "disposal_record"},
	"cloud_assessment":   {"diso_assessment", "denial_review", "ciso_referral", "ciso_approval", "certificate_renewal", "exit_confirmation"},
	"offboarding":        {"disable_accounts", "rotate_credential", "approve_rotation_designee", "confirm_assets", "secrecy_acknowledgement", "review_transfer_access"},
	"reconciliation":     {"reconcile_accounts"},
	"inspection":         {"inspect_system", "inspect_department", "improvement_measure"},
}

// StepBase is the name a numbered step goes by in the rules: "measure_2" is "measure".
func StepBase(step string) string {
	if base, n, ok := strings.Cut(step, "_"); ok && base == "measure" && n != "" && strings.Trim(n, "0123456789") == "" {
		return base
	}
	return step
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
