// Package config loads policyflow's settings from the environment (API.md, Configuration)
// into one struct, once, at start-up.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // deadlines need Asia/Tokyo even on machines without zoneinfo

	"github.com/policyflow/policyflow/codec"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/proof"
)

// Config is every setting policyflow reads.
type Config struct {
	// StaffLinkTTL, StaffIdle and StaffMax are the staff pages' town settings: how long a
	// mailed sign-in link works, and a session's idle and absolute timeouts
	// (POLICYFLOW_STAFF_LINK_MINUTES, POLICYFLOW_STAFF_IDLE_MINUTES,
	// POLICYFLOW_STAFF_SESSION_HOURS); zero means api.DefaultStaffSettings.
	StaffLinkTTL, StaffIdle, StaffMax time.Duration
	HTTPAddr                          string
	PublicURL                         string
	DatabaseURL                       string
	DataDir                           string
	TemporalAddress                   string
	TemporalNamespace                 string
	SMTPURL                           string
	MailFrom                          string
	// DevToken is dev mode's admin API token (POLICYFLOW_DEV_TOKEN), held in memory by the
	// API and never stored.
	DevToken string
	// DevAllowExternal lets dev mode use a database other than SQLite or a Temporal server
	// not on this machine (POLICYFLOW_DEV_ALLOW_EXTERNAL=1): without it, dev mode refuses
	// them, so its worker never polls a production task queue by accident.
	DevAllowExternal bool
	TimeZone         string
	Loc              *time.Location
	// TrustedProxies lists the CIDRs of reverse proxies whose X-Forwarded-For is believed
	// when recording a decider's client address (POLICYFLOW_TRUSTED_PROXIES, comma-separated).
	TrustedProxies []*net.IPNet
	// Retention is how long Temporal keeps closed processes (POLICYFLOW_TEMPORAL_RETENTION,
	// dev mode sets it on the namespace; the register in the database keeps them for good).
	Retention time.Duration
	// CodecKeys turns on encryption of everything sent through Temporal
	// (POLICYFLOW_CODEC_KEYS: comma-separated id:base64 AES-256 keys, newest first).
	CodecKeys *codec.Keyring
	// DecisionKeys sign (API) and verify (worker) the proof that a decision came through the
	// API (POLICYFLOW_DECISION_KEYS: comma-separated id:base64 HMAC keys, newest first).
	// Required by serve and worker, which must share it; dev mode makes one in memory.
	DecisionKeys *proof.Keyring
	// UIOrigins are the Temporal UI origins allowed to call the codec endpoint from a
	// browser (POLICYFLOW_UI_ORIGINS; dev mode: http://127.0.0.1:8233 and http://localhost:8233).
	UIOrigins []string
	// MetricsAddr is where the process serves its Prometheus metrics, on a listener of its
	// own, never the API's public one (POLICYFLOW_METRICS_ADDR; "off" turns it off). The
	// default is loopback: 127.0.0.1:9464 for `worker` and `dev`, 127.0.0.1:9465 for
	// `serve`, so the two can run on one host.
	MetricsAddr string
	// LogFormat is json (serve, worker, migrate) or text (dev) (POLICYFLOW_LOG_FORMAT).
	LogFormat string
	// CloudRulesPath names the town's own cloud rules table (POLICYFLOW_CLOUD_RULES); empty
	// means the embedded default. CloudRules is the table, loaded and checked once.
	CloudRulesPath string
	CloudRules     policy.CloudRules
	// DelegationPath names the town's own delegation rules (代決, POLICYFLOW_DELEGATION_RULES):
	// which deputy may decide which steps in the holder's place, and when. Empty means the
	// embedded default, in which the CISO's decisions have no deputy. Delegation is the rules,
	// loaded and checked once; each process copies its part when it starts.
	DelegationPath string
	Delegation     policy.Delegation
	// IncidentPlanPath names the town's own emergency response plan (§7.3,
	// POLICYFLOW_INCIDENT_PLAN); empty means the embedded default. IncidentPlan is the plan,
	// loaded and checked once; each incident copies it when it starts.
	IncidentPlanPath string
	IncidentPlan     policy.IncidentPlan
	// TimingsPath names the town's own deadlines and periods of the exception, outsourcing,
	// cloud, offboarding and reconciliation processes (POLICYFLOW_TIMINGS); empty means the
	// embedded default. Timings are loaded and checked once; each process copies its part
	// when it starts.
	TimingsPath string
	Timings     policy.Timings
	// ReconciliationCron is when the reconciliation of accounts against HR's roster runs
	// (§6.2(1)2(ウ)), a cron expression in TimeZone (POLICYFLOW_RECONCILIATION_CRON; "off"
	// removes the schedule). Monthly by default: 09:00 on the 1st.
	ReconciliationCron string
	// InspectionStart is the day of the year the self-inspection campaign starts (§9.1
	// 「毎年度」), "MM-DD" at 09:00 in TimeZone (POLICYFLOW_INSPECTION_START; "off" removes the
	// schedule). A town setting: 1 October by default.
	InspectionStart string
	// InspectionChecklistPath names the town's own self-inspection checklist
	// (POLICYFLOW_INSPECTION_CHECKLIST); empty means the embedded default. InspectionChecklist
	// is the checklist, loaded and checked once; each campaign copies it when it starts.
	InspectionChecklistPath string
	InspectionChecklist     policy.Checklist
	// UnusedAfter is how long an account may go unused before the reconciliation reports it
	// (POLICYFLOW_RECONCILIATION_UNUSED_DAYS).
	UnusedAfter time.Duration
	// OffboardingMaxDaysAhead and OffboardingMaxDaysPast bound an offboarding's effective
	// date around today (POLICYFLOW_OFFBOARDING_MAX_DAYS_AHEAD, default 366;
	// POLICYFLOW_OFFBOARDING_MAX_DAYS_PAST, default 90): a typo such as 2062 for 2026 is
	// refused at once instead of holding a process, and its correction, for decades.
	OffboardingMaxDaysAhead int
	OffboardingMaxDaysPast  int
	// StartMaxDaysAhead bounds how far ahead an exception's start_date and an outsourcing
	// contract's contract_start may be (POLICYFLOW_START_MAX_DAYS_AHEAD, default 366).
	StartMaxDaysAhead int
	// EmergencyReportMaxDays is how many days after it was taken an emergency exception may
	// be reported (§7.4(2) 「事後速やかに」 names no number; POLICYFLOW_EMERGENCY_REPORT_MAX_DAYS,
	// default 7); ExceptionMaxDays is the longest an exception may last (the policy sets no
	// maximum; POLICYFLOW_EXCEPTION_MAX_DAYS, default 366). Both are town rules.
	EmergencyReportMaxDays int
	ExceptionMaxDays       int
	// PublicReportsPerMinute is the ceiling of requests the residents' reporting window
	// takes from all addresses together in a minute, counted across every API process
	// sharing the database (POLICYFLOW_PUBLIC_REPORTS_PER_MINUTE, default 60).
	PublicReportsPerMinute int
	// DigestDay is the day of the month (1–28, so that every month has it) on which the
	// CISO and the GISO are mailed the monthly digest at 09:00 in TimeZone
	// (POLICYFLOW_DIGEST_DAY, default 1; "off" removes the schedule, stored as 0). A town
	// setting.
	DigestDay int
	// ReportLinkDays is how many days a mailed link to the security committee's yearly
	// report works (POLICYFLOW_REPORT_LINK_DAYS, default 30). A town setting.
	ReportLinkDays int
}

// Mode says which piece is starting, and so which settings it needs.
type Mode int

// The pieces of policyflow.
const (
	Dev Mode = iota
	Serve
	Worker
	Migrate
)

// DefaultRetention keeps closed processes in Temporal for ten years: the town keeps its
// security records (§6.1(5)) for years, and the CISO reads them in the Temporal UI.
const DefaultRetention = 10 * 365 * 24 * time.Hour

// Load reads the settings for mode from getenv (os.Getenv in main). Dev mode fills in the
// embedded defaults; the production pieces refuse to start with a setting missing or
// malformed, and the error names it.
func Load(mode Mode, getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		HTTPAddr:           get("POLICYFLOW_HTTP_ADDR", "127.0.0.1:8080"),
		DataDir:            get("POLICYFLOW_DATA_DIR", "./var"),
		TemporalAddress:    get("TEMPORAL_ADDRESS", ""),
		TemporalNamespace:  get("TEMPORAL_NAMESPACE", "default"),
		SMTPURL:            get("POLICYFLOW_SMTP_URL", ""),
		MailFrom:           get("POLICYFLOW_MAIL_FROM", "policyflow@localhost"),
		TimeZone:           get("POLICYFLOW_TIMEZONE", "Asia/Tokyo"),
		Retention:          DefaultRetention,
		MetricsAddr:        get("POLICYFLOW_METRICS_ADDR", map[bool]string{true: "127.0.0.1:9465", false: "127.0.0.1:9464"}[mode == Serve]),
		LogFormat:          get("POLICYFLOW_LOG_FORMAT", map[bool]string{true: "text", false: "json"}[mode == Dev]),
		ReconciliationCron: get("POLICYFLOW_RECONCILIATION_CRON", "0 9 1 * *"),
		InspectionStart:    get("POLICYFLOW_INSPECTION_START", "10-01"),
		UnusedAfter:        90 * 24 * time.Hour,

		OffboardingMaxDaysAhead: 366,
		OffboardingMaxDaysPast:  90,
		StartMaxDaysAhead:       366,
		EmergencyReportMaxDays:  7,
		ExceptionMaxDays:        366,
		PublicReportsPerMinute:  60,
		DigestDay:               1,
		ReportLinkDays:          30,
	}
	c.PublicURL = strings.TrimRight(get("POLICYFLOW_PUBLIC_URL", ""), "/")
	c.DatabaseURL = get("POLICYFLOW_DATABASE_URL", "")
	var errs []error
	if mode == Dev {
		if c.PublicURL == "" {
			c.PublicURL = "http://" + c.HTTPAddr
		}
		if c.DatabaseURL == "" {
			c.DatabaseURL = "sqlite://" + filepath.Join(c.DataDir, "policyflow.db")
		}
		c.DevToken = get("POLICYFLOW_DEV_TOKEN", "dev-admin-token")
		switch v := get("POLICYFLOW_DEV_ALLOW_EXTERNAL", ""); v {
		case "", "0", "false":
		case "1", "true":
			c.DevAllowExternal = true
		default:
			errs = append(errs, errors.New("POLICYFLOW_DEV_ALLOW_EXTERNAL must be 1 or unset"))
		}
		if !c.DevAllowExternal {
			if !isSQLite(c.DatabaseURL) {
				errs = append(errs, errors.New("POLICYFLOW_DATABASE_URL: dev mode keeps its register in SQLite and refuses another database, which may be production's; set POLICYFLOW_DEV_ALLOW_EXTERNAL=1 if this is intended"))
			}
			if c.TemporalAddress != "" && !isLoopback(c.TemporalAddress) {
				errs = append(errs, fmt.Errorf("TEMPORAL_ADDRESS: dev mode refuses a Temporal server not on this machine (%s): its worker would poll that server's task queue, which may be production's; set POLICYFLOW_DEV_ALLOW_EXTERNAL=1 if this is intended", c.TemporalAddress))
			}
		}
	} else {
		if c.DatabaseURL == "" {
			errs = append(errs, errors.New("POLICYFLOW_DATABASE_URL is required"))
		}
		if mode != Migrate && c.TemporalAddress == "" {
			errs = append(errs, errors.New("TEMPORAL_ADDRESS is required"))
		}
		if mode == Worker && c.PublicURL == "" {
			errs = append(errs, errors.New("POLICYFLOW_PUBLIC_URL is required: mails carry links to it"))
		}
		if mode == Worker && c.SMTPURL == "" {
			errs = append(errs, errors.New("POLICYFLOW_SMTP_URL is required: the outbox is for dev mode only"))
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, errors.New("POLICYFLOW_PUBLIC_URL must be an http(s) URL such as https://policyflow.example.lg.jp"))
		}
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, errors.New("POLICYFLOW_LOG_FORMAT must be json or text"))
	}
	if c.MetricsAddr == "off" {
		c.MetricsAddr = ""
	} else if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
		errs = append(errs, errors.New("POLICYFLOW_METRICS_ADDR must be host:port or off"))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, errors.New("POLICYFLOW_HTTP_ADDR must be host:port"))
	}
	if c.TemporalAddress != "" {
		if _, _, err := net.SplitHostPort(c.TemporalAddress); err != nil {
			errs = append(errs, errors.New("TEMPORAL_ADDRESS must be host:port"))
		}
	}
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			errs = append(errs, errors.New("POLICYFLOW_SMTP_URL must look like smtp://user:pass@host:587"))
		}
	}
	if !strings.Contains(c.MailFrom, "@") {
		errs = append(errs, errors.New("POLICYFLOW_MAIL_FROM must be a mail address"))
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		errs = append(errs, fmt.Errorf("POLICYFLOW_TIMEZONE %q is not a known time zone", c.TimeZone))
	}
	c.Loc = loc
	if v := get("POLICYFLOW_TEMPORAL_RETENTION", ""); v != "" {
		d, err := parseDays(v)
		if err != nil {
			errs = append(errs, errors.New("POLICYFLOW_TEMPORAL_RETENTION must be a number of days like 3650d"))
		}
		c.Retention = d
	}
	if v := get("POLICYFLOW_CODEC_KEYS", ""); v != "" {
		ring, err := codec.ParseKeys(v)
		if err != nil {
			errs = append(errs, err)
		}
		c.CodecKeys = ring
	}
	switch v := get("POLICYFLOW_DECISION_KEYS", ""); {
	case v != "":
		ring, err := proof.ParseKeys(v)
		if err != nil {
			errs = append(errs, err)
		}
		c.DecisionKeys = ring
	case mode == Dev:
		// The API and the worker run in this one process: a key in memory is shared.
		ring, err := proof.Generate("dev")
		if err != nil {
			errs = append(errs, err)
		}
		c.DecisionKeys = ring
	case mode == Serve || mode == Worker:
		errs = append(errs, errors.New("POLICYFLOW_DECISION_KEYS is required: the API signs each decision with it and the worker checks it (id:base64, openssl rand -base64 32; the same value for serve and worker)"))
	}
	def := ""
	if mode == Dev {
		def = "http://127.0.0.1:8233,http://localhost:8233"
	}
	for _, o := range strings.Split(get("POLICYFLOW_UI_ORIGINS", def), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.UIOrigins = append(c.UIOrigins, o)
		}
	}
	if v := get("POLICYFLOW_RECONCILIATION_UNUSED_DAYS", ""); v != "" {
		var n int
		if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 1 || fmt.Sprint(n) != v {
			errs = append(errs, errors.New("POLICYFLOW_RECONCILIATION_UNUSED_DAYS must be a number of days such as 90"))
		}
		c.UnusedAfter = time.Duration(n) * 24 * time.Hour
	}
	for _, d := range []struct {
		name string
		min  int
		v    *int
	}{
		{"POLICYFLOW_OFFBOARDING_MAX_DAYS_AHEAD", 1, &c.OffboardingMaxDaysAhead},
		{"POLICYFLOW_OFFBOARDING_MAX_DAYS_PAST", 0, &c.OffboardingMaxDaysPast},
		{"POLICYFLOW_START_MAX_DAYS_AHEAD", 1, &c.StartMaxDaysAhead},
		{"POLICYFLOW_EMERGENCY_REPORT_MAX_DAYS", 0, &c.EmergencyReportMaxDays},
		{"POLICYFLOW_EXCEPTION_MAX_DAYS", 1, &c.ExceptionMaxDays},
	} {
		if v := get(d.name, ""); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < d.min || n > 3660 || strconv.Itoa(n) != v {
				errs = append(errs, fmt.Errorf("%s must be a number of days from %d to 3660, such as %d", d.name, d.min, *d.v))
				continue
			}
			*d.v = n
		}
	}
	for _, d := range []struct {
		name      string
		unit      time.Duration
		min, max  int
		v         *time.Duration
		unitName  string
		exampleIs int
	}{
		{"POLICYFLOW_STAFF_LINK_MINUTES", time.Minute, 1, 60, &c.StaffLinkTTL, "minutes", 15},
		{"POLICYFLOW_STAFF_IDLE_MINUTES", time.Minute, 1, 480, &c.StaffIdle, "minutes", 30},
		{"POLICYFLOW_STAFF_SESSION_HOURS", time.Hour, 1, 24, &c.StaffMax, "hours", 8},
	} {
		if v := get(d.name, ""); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < d.min || n > d.max || strconv.Itoa(n) != v {
				errs = append(errs, fmt.Errorf("%s must be a number of %s from %d to %d, such as %d", d.name, d.unitName, d.min, d.max, d.exampleIs))
				continue
			}
			*d.v = time.Duration(n) * d.unit
		}
	}
	if v := get("POLICYFLOW_PUBLIC_REPORTS_PER_MINUTE", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || strconv.Itoa(n) != v {
			errs = append(errs, errors.New("POLICYFLOW_PUBLIC_REPORTS_PER_MINUTE must be a number of requests such as 60"))
		} else {
			c.PublicReportsPerMinute = n
		}
	}
	if v := get("POLICYFLOW_DIGEST_DAY", ""); v == "off" {
		c.DigestDay = 0
	} else if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 28 || strconv.Itoa(n) != v {
			errs = append(errs, errors.New("POLICYFLOW_DIGEST_DAY must be a day of the month from 1 to 28 (every month has it), or off"))
		} else {
			c.DigestDay = n
		}
	}
	if v := get("POLICYFLOW_REPORT_LINK_DAYS", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 366 || strconv.Itoa(n) != v {
			errs = append(errs, errors.New("POLICYFLOW_REPORT_LINK_DAYS must be a number of days from 1 to 366, such as 30"))
		} else {
			c.ReportLinkDays = n
		}
	}
	if c.ReconciliationCron != "off" && len(strings.Fields(c.ReconciliationCron)) != 5 {
		errs = append(errs, errors.New(`POLICYFLOW_RECONCILIATION_CRON must be a cron expression such as "0 9 1 * *", or off`))
	}
	if v := get("POLICYFLOW_TRUSTED_PROXIES", ""); v != "" {
		for _, s := range strings.Split(v, ",") {
			_, n, err := net.ParseCIDR(strings.TrimSpace(s))
			if err != nil {
				errs = append(errs, fmt.Errorf("POLICYFLOW_TRUSTED_PROXIES: %q is not a CIDR", s))
				continue
			}
			c.TrustedProxies = append(c.TrustedProxies, n)
		}
	}
	c.CloudRulesPath = get("POLICYFLOW_CLOUD_RULES", "")
	if rules, err := policy.LoadCloudRules(c.CloudRulesPath); err != nil {
		errs = append(errs, fmt.Errorf("POLICYFLOW_CLOUD_RULES: %w", err))
	} else {
		c.CloudRules = rules
	}
	c.DelegationPath = get("POLICYFLOW_DELEGATION_RULES", "")
	if d, err := policy.LoadDelegation(c.DelegationPath); err != nil {
		errs = append(errs, fmt.Errorf("POLICYFLOW_DELEGATION_RULES: %w", err))
	} else {
		c.Delegation = d
	}
	if c.InspectionStart != "off" {
		if _, _, err := policy.ParseMonthDay(c.InspectionStart); err != nil {
			errs = append(errs, fmt.Errorf("POLICYFLOW_INSPECTION_START: %w, or off", err))
		}
	}
	c.InspectionChecklistPath = get("POLICYFLOW_INSPECTION_CHECKLIST", "")
	if cl, err := policy.LoadChecklist(c.InspectionChecklistPath); err != nil {
		errs = append(errs, fmt.Errorf("POLICYFLOW_INSPECTION_CHECKLIST: %w", err))
	} else {
		c.InspectionChecklist = cl
	}
	c.IncidentPlanPath = get("POLICYFLOW_INCIDENT_PLAN", "")
	if p, err := policy.LoadIncidentPlan(c.IncidentPlanPath); err != nil {
		errs = append(errs, fmt.Errorf("POLICYFLOW_INCIDENT_PLAN: %w", err))
	} else {
		c.IncidentPlan = p
	}
	c.TimingsPath = get("POLICYFLOW_TIMINGS", "")
	if t, err := policy.LoadTimings(c.TimingsPath); err != nil {
		errs = append(errs, fmt.Errorf("POLICYFLOW_TIMINGS: %w", err))
	} else {
		c.Timings = t
	}
	return c, errors.Join(errs...)
}

// isSQLite reports whether a database URL names SQLite: sqlite://path, or a bare path
// (models.Open reads both so).
func isSQLite(databaseURL string) bool {
	return strings.HasPrefix(databaseURL, "sqlite://") || !strings.Contains(databaseURL, "://")
}

// isLoopback reports whether host:port names this machine (a loopback IP or localhost).
func isLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func parseDays(s string) (time.Duration, error) {
	var n int
	if _, err := fmt.Sscanf(s, "%dd", &n); err != nil || n < 1 || fmt.Sprintf("%dd", n) != s {
		return 0, errors.New("bad days")
	}
	return time.Duration(n) * 24 * time.Hour, nil
}
