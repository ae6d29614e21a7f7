package policy

import (
	_ "embed"
	"errors"
	"fmt"
	"time"
)

// Timings are the town's deadlines and periods for the processes' human steps, in one file:
// how long each step has, the grace once it escalates, when reminders go, how often a step
// is asked again. The policy names none of these numbers; each is a town setting. The default
// is timings.json; a town names its own in POLICYFLOW_TIMINGS. serve, worker and dev check the
// file at start-up and refuse to start on an error that names the field.
//
// Each process copies its part when it starts and keeps it to its end: a changed file applies
// to processes started after the change only. The incident's deadlines are not here: they are
// part of the emergency response plan (IncidentPlan.Deadlines, POLICYFLOW_INCIDENT_PLAN).
type Timings struct {
	// Version names the revision; each process records the version it runs under.
	Version string `json:"version"`
	// Notes say, in the file, how the town revises it.
	Notes          []string              `json:"notes,omitempty"`
	Exception      ExceptionTimings      `json:"exception"`
	Outsourcing    OutsourcingTimings    `json:"outsourcing"`
	Cloud          CloudTimings          `json:"cloud"`
	Offboarding    OffboardingTimings    `json:"offboarding"`
	Reconciliation ReconciliationTimings `json:"reconciliation"`
}

// A Period is a step's deadline as a settings file writes it: either business days in the
// town's calendar, ending at the end of the last one ({"business_days": 5}), or clock time
// from the moment the step opens ({"clock": "2h"}).
type Period struct {
	BusinessDays int      `json:"business_days,omitempty"`
	Clock        Duration `json:"clock,omitempty"`
}

// ExceptionTimings are the exception request's (§7.4): the CISO's review, the requester's
// revision of a returned request, the ratification of an emergency exception, the
// confirmation that compliance is restored, each with its grace once escalated to the GISO;
// the reminders before each deadline, and how long before the end the requester is told that
// the exception ends.
type ExceptionTimings struct {
	Review        Period     `json:"review"`
	ReviewGrace   Period     `json:"review_grace"`
	Revision      Period     `json:"revision"`
	RevisionGrace Period     `json:"revision_grace"`
	Ratify        Period     `json:"ratify"`
	RatifyGrace   Period     `json:"ratify_grace"`
	Restore       Period     `json:"restore"`
	RestoreGrace  Period     `json:"restore_grace"`
	RemindBefore  []Duration `json:"remind_before"`
	RenewalNotice Duration   `json:"renewal_notice"`
	// Unratified is what becomes of an emergency exception that nobody ratified or revoked
	// by the ratification's deadline and grace (the policy does not say, §7.4(2)): "restore"
	// (compliance is restored at once) or "in_effect" (it stays in effect to its end date,
	// recorded as never ratified).
	Unratified string `json:"unratified"`
}

// What becomes of an emergency exception nobody ratified (ExceptionTimings.Unratified).
const (
	UnratifiedRestore  = "restore"
	UnratifiedInEffect = "in_effect"
)

// OutsourcingTimings are the outsourcing contract's (§8.1, §5.1(3), §3(2)9): each step's
// deadline and grace, the reminders, how many rounds of clause review run before the GISO
// decides, how long before the certificate's expiry the renewed one is asked for, and how
// many periodic reports one run handles before it continues as new.
type OutsourcingTimings struct {
	Selection      Period     `json:"selection"`
	SelectionGrace Period     `json:"selection_grace"`
	Review         Period     `json:"review"`
	ReviewGrace    Period     `json:"review_grace"`
	Revision       Period     `json:"revision"`
	RevisionGrace  Period     `json:"revision_grace"`
	GISO           Period     `json:"giso"`
	Approval       Period     `json:"approval"`
	ApprovalGrace  Period     `json:"approval_grace"`
	Briefing       Period     `json:"briefing"`
	BriefingGrace  Period     `json:"briefing_grace"`
	Report         Period     `json:"report"`
	ReportGrace    Period     `json:"report_grace"`
	Renewal        Period     `json:"renewal"`
	RenewalGrace   Period     `json:"renewal_grace"`
	Disposal       Period     `json:"disposal"`
	DisposalGrace  Period     `json:"disposal_grace"`
	RemindBefore   []Duration `json:"remind_before"`
	MaxRounds      int        `json:"max_rounds"`
	CertNotice     Duration   `json:"cert_notice"`
	ReportsPerRun  int        `json:"reports_per_run"`
}

// CloudTimings are the cloud service's (§8.3, §4.1(5), §9.1): the officer's assessment, the
// CISO's approval, the renewed certification, the exit, each with its grace; the reminders,
// and how long before a certification lapses the renewed one is asked for.
type CloudTimings struct {
	Assess        Period     `json:"assess"`
	AssessGrace   Period     `json:"assess_grace"`
	Approve       Period     `json:"approve"`
	ApproveGrace  Period     `json:"approve_grace"`
	Renew         Period     `json:"renew"`
	RenewGrace    Period     `json:"renew_grace"`
	Exit          Period     `json:"exit"`
	ExitGrace     Period     `json:"exit_grace"`
	RemindBefore  []Duration `json:"remind_before"`
	RenewalNotice Duration   `json:"renewal_notice"`
}

// OffboardingTimings are the offboarding's (§6.2(1)2–3, §5.1(1)8): disabling the accounts,
// changing the shared passwords, confirming the lent assets, each with its grace; the
// leaver's acknowledgement of the duty of secrecy; the reminders, and how many rounds a step
// nobody decided is asked again before the process closes as incomplete.
type OffboardingTimings struct {
	Disable      Period     `json:"disable"`
	DisableGrace Period     `json:"disable_grace"`
	Rotate       Period     `json:"rotate"`
	RotateGrace  Period     `json:"rotate_grace"`
	Assets       Period     `json:"assets"`
	AssetsGrace  Period     `json:"assets_grace"`
	Secrecy      Period     `json:"secrecy"`
	RemindBefore []Duration `json:"remind_before"`
	Rounds       int        `json:"rounds"`
}

// ReconciliationTimings are the reconciliation's (§6.2(1)2(ウ)): each system manager's review
// of the findings, the GISO's grace once escalated, and the reminders.
type ReconciliationTimings struct {
	Review       Period     `json:"review"`
	ReviewGrace  Period     `json:"review_grace"`
	RemindBefore []Duration `json:"remind_before"`
}

//go:embed timings.json
var defaultTimings []byte

// DefaultTimings returns the embedded timings.
func DefaultTimings() Timings {
	t, err := ParseTimings(defaultTimings)
	if err != nil {
		panic("embedded timings: " + err.Error())
	}
	return t
}

// LoadTimings reads the town's timings from path (POLICYFLOW_TIMINGS); an empty path gives
// the default.
func LoadTimings(path string) (Timings, error) {
	return loadSetting("timings", path, ParseTimings, DefaultTimings)
}

// Bounds of the timings file: a step has at least an hour or a business day and at most a
// business year, a notice or reminder at most a year, a count of rounds or reports 1 to 100.
const (
	maxBusinessDays = 250
	maxClock        = 366 * 24 * time.Hour
	maxCount        = 100
)

// ParseTimings decodes and checks timings: a version, and for every process every field, each
// in its bounds, with reminders shorter than the deadlines they remind of. Each error names
// the field as the file writes it (exception.review_grace).
func ParseTimings(b []byte) (Timings, error) {
	var t Timings
	if err := decodeStrict(b, &t); err != nil {
		return Timings{}, err
	}
	c := &timingsCheck{}
	if t.Version == "" {
		c.errs = append(c.errs, errors.New("version is required"))
	}
	e := t.Exception
	c.steps("exception", e.RemindBefore, map[string]Period{"review": e.Review, "revision": e.Revision, "ratify": e.Ratify, "restore": e.Restore})
	c.periods("exception", map[string]Period{"review_grace": e.ReviewGrace, "revision_grace": e.RevisionGrace, "ratify_grace": e.RatifyGrace, "restore_grace": e.RestoreGrace})
	c.duration("exception.renewal_notice", e.RenewalNotice)
	if e.Unratified != UnratifiedRestore && e.Unratified != UnratifiedInEffect {
		c.errs = append(c.errs, fmt.Errorf("exception.unratified: %q: want %q or %q", e.Unratified, UnratifiedRestore, UnratifiedInEffect))
	}
	o := t.Outsourcing
	c.steps("outsourcing", o.RemindBefore, map[string]Period{"selection": o.Selection, "review": o.Review, "revision": o.Revision, "giso": o.GISO,
		"approval": o.Approval, "briefing": o.Briefing, "report": o.Report, "renewal": o.Renewal, "disposal": o.Disposal})
	c.periods("outsourcing", map[string]Period{"selection_grace": o.SelectionGrace, "review_grace": o.ReviewGrace, "revision_grace": o.RevisionGrace,
		"approval_grace": o.ApprovalGrace, "briefing_grace": o.BriefingGrace, "report_grace": o.ReportGrace, "renewal_grace": o.RenewalGrace, "disposal_grace": o.DisposalGrace})
	c.count("outsourcing.max_rounds", o.MaxRounds)
	c.duration("outsourcing.cert_notice", o.CertNotice)
	c.count("outsourcing.reports_per_run", o.ReportsPerRun)
	cl := t.Cloud
	c.steps("cloud", cl.RemindBefore, map[string]Period{"assess": cl.Assess, "approve": cl.Approve, "renew": cl.Renew, "exit": cl.Exit})
	c.periods("cloud", map[string]Period{"assess_grace": cl.AssessGrace, "approve_grace": cl.ApproveGrace, "renew_grace": cl.RenewGrace, "exit_grace": cl.ExitGrace})
	c.duration("cloud.renewal_notice", cl.RenewalNotice)
	f := t.Offboarding
	c.steps("offboarding", f.RemindBefore, map[string]Period{"disable": f.Disable, "rotate": f.Rotate, "assets": f.Assets, "secrecy": f.Secrecy})
	c.periods("offboarding", map[string]Period{"disable_grace": f.DisableGrace, "rotate_grace": f.RotateGrace, "assets_grace": f.AssetsGrace})
	c.count("offboarding.rounds", f.Rounds)
	r := t.Reconciliation
	c.steps("reconciliation", r.RemindBefore, map[string]Period{"review": r.Review})
	c.periods("reconciliation", map[string]Period{"review_grace": r.ReviewGrace})
	return t, errors.Join(c.errs...)
}

// ForKind returns the version and the part of t that a process of kind runs under (the
// others left empty): what the process copies when it starts.
func (t Timings) ForKind(kind string) Timings {
	out := Timings{Version: t.Version}
	switch kind {
	case "exception":
		out.Exception = t.Exception
	case "outsourcing_review":
		out.Outsourcing = t.Outsourcing
	case "cloud_assessment":
		out.Cloud = t.Cloud
	case "offboarding":
		out.Offboarding = t.Offboarding
	case "reconciliation":
		out.Reconciliation = t.Reconciliation
	}
	return out
}

// timingsCheck gathers the errors of ParseTimings, each naming its field.
type timingsCheck struct{ errs []error }

func (c *timingsCheck) fail(field, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
}

// period checks one deadline: business days or clock time, one of the two, within bounds.
func (c *timingsCheck) period(field string, p Period) {
	switch {
	case p.BusinessDays == 0 && p.Clock == 0:
		c.fail(field, `is required: {"business_days": 5} or {"clock": "2h"}`)
	case p.BusinessDays != 0 && p.Clock != 0:
		c.fail(field, "give business_days or clock, not both")
	case p.BusinessDays < 0 || p.BusinessDays > maxBusinessDays:
		c.fail(field, "business_days must be from 1 to %d", maxBusinessDays)
	case p.BusinessDays == 0 && (time.Duration(p.Clock) < time.Minute || time.Duration(p.Clock) > maxClock):
		c.fail(field, "clock must be from 1m to 8784h (366 days)")
	}
}

// periods checks deadlines that have no reminders of their own (the graces).
func (c *timingsCheck) periods(section string, ps map[string]Period) {
	for _, name := range sortedKeys(ps) {
		c.period(section+"."+name, ps[name])
	}
}

// steps checks the deadlines of steps that are reminded, and the reminders: each later than
// the step opens (shorter than its deadline; a business day counts as a day at least) and
// given longest first.
func (c *timingsCheck) steps(section string, remind []Duration, ps map[string]Period) {
	c.reminded(section, section+".remind_before", remind, ps)
}

// reminded is steps with the reminders in their own field (deadlines.triage_remind).
func (c *timingsCheck) reminded(section, field string, remind []Duration, ps map[string]Period) {
	c.periods(section, ps)
	for i, d := range remind {
		if d <= 0 || time.Duration(d) > maxClock {
			c.fail(field, "a reminder must be more than 0 and at most 8784h (366 days) before the deadline")
		}
		if i > 0 && d >= remind[i-1] {
			c.fail(field, "give the reminders longest first, each once (%s after %s)", time.Duration(d), time.Duration(remind[i-1]))
		}
		for _, name := range sortedKeys(ps) {
			p := ps[name]
			span := time.Duration(p.Clock)
			if p.BusinessDays > 0 {
				span = time.Duration(p.BusinessDays) * 24 * time.Hour
			}
			if span > 0 && (time.Duration(d) > span || (p.BusinessDays == 0 && time.Duration(d) == span)) {
				c.fail(field, "the reminder %s before the deadline comes before %s.%s opens (%s)", time.Duration(d), section, name, describePeriod(p))
			}
		}
	}
}

func (c *timingsCheck) duration(field string, d Duration) {
	if d <= 0 || time.Duration(d) > maxClock {
		c.fail(field, "must be more than 0 and at most 8784h (366 days), such as \"720h\" for 30 days")
	}
}

func (c *timingsCheck) count(field string, n int) {
	if n < 1 || n > maxCount {
		c.fail(field, "must be from 1 to %d", maxCount)
	}
}

func describePeriod(p Period) string {
	if p.BusinessDays > 0 {
		return fmt.Sprintf("%d business days", p.BusinessDays)
	}
	return time.Duration(p.Clock).String()
}
