package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/workflows"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDevDefaults(t *testing.T) {
	c, err := Load(Dev, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{HTTPAddr: "127.0.0.1:8080", PublicURL: "http://127.0.0.1:8080", DatabaseURL: "sqlite://var/policyflow.db",
		DataDir: "./var", TemporalNamespace: "default", MailFrom: "policyflow@localhost", DevToken: "dev-admin-token", TimeZone: "Asia/Tokyo"}
	got := c
	got.Loc, got.Retention = nil, 0
	if got.HTTPAddr != want.HTTPAddr || got.PublicURL != want.PublicURL || got.DatabaseURL != want.DatabaseURL ||
		got.TemporalNamespace != want.TemporalNamespace || got.DevToken != want.DevToken || got.TemporalAddress != "" || got.SMTPURL != "" {
		t.Errorf("dev config = %+v", got)
	}
	if c.Loc.String() != "Asia/Tokyo" || c.Retention != 3650*24*time.Hour {
		t.Errorf("zone %v, retention %v", c.Loc, c.Retention)
	}
}

// The production pieces refuse to start without what they need, and say which setting.
func TestProductionNamesWhatIsMissing(t *testing.T) {
	cases := []struct {
		mode Mode
		env  map[string]string
		want []string
	}{
		{Serve, nil, []string{"POLICYFLOW_DATABASE_URL is required", "TEMPORAL_ADDRESS is required", "POLICYFLOW_DECISION_KEYS is required"}},
		{Migrate, nil, []string{"POLICYFLOW_DATABASE_URL is required"}},
		{Worker, map[string]string{"POLICYFLOW_DATABASE_URL": "mysql://u:p@tcp(db:3306)/pf", "TEMPORAL_ADDRESS": "t:7233"},
			[]string{"POLICYFLOW_PUBLIC_URL is required", "POLICYFLOW_SMTP_URL is required", "POLICYFLOW_DECISION_KEYS is required"}},
		{Serve, map[string]string{"POLICYFLOW_DATABASE_URL": "x", "TEMPORAL_ADDRESS": "nohostport", "POLICYFLOW_HTTP_ADDR": "8080",
			"POLICYFLOW_PUBLIC_URL": "ftp://x", "POLICYFLOW_SMTP_URL": "mail.example", "POLICYFLOW_MAIL_FROM": "nobody",
			"POLICYFLOW_TIMEZONE": "Mars/Olympus", "POLICYFLOW_TEMPORAL_RETENTION": "10 years", "POLICYFLOW_TRUSTED_PROXIES": "10.0.0.1"},
			[]string{"TEMPORAL_ADDRESS must be host:port", "POLICYFLOW_HTTP_ADDR", "POLICYFLOW_PUBLIC_URL must be", "POLICYFLOW_SMTP_URL must",
				"POLICYFLOW_MAIL_FROM", "POLICYFLOW_TIMEZONE", "POLICYFLOW_TEMPORAL_RETENTION", "POLICYFLOW_TRUSTED_PROXIES"}},
	}
	for _, c := range cases {
		_, err := Load(c.mode, env(c.env))
		if err == nil {
			t.Errorf("mode %d with %v: no error", c.mode, c.env)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("mode %d: error %q does not mention %q", c.mode, err, w)
			}
		}
	}
}

func TestProductionComplete(t *testing.T) {
	c, err := Load(Worker, env(map[string]string{
		"POLICYFLOW_DATABASE_URL": "mysql://pf:secret@tcp(db:3306)/policyflow?parseTime=true", "TEMPORAL_ADDRESS": "temporal:7233",
		"POLICYFLOW_PUBLIC_URL": "https://policyflow.town.example/", "POLICYFLOW_SMTP_URL": "smtp://u:p@relay:587?starttls=required",
		"POLICYFLOW_TEMPORAL_RETENTION": "1825d", "POLICYFLOW_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1/32",
		"POLICYFLOW_DECISION_KEYS": decisionKey,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL != "https://policyflow.town.example" || c.Retention != 1825*24*time.Hour || len(c.TrustedProxies) != 2 || c.DevToken != "" {
		t.Errorf("config = %+v", c)
	}
}

func TestCloudRulesSetting(t *testing.T) {
	rules := func(path string) func(string) string { return env(map[string]string{"POLICYFLOW_CLOUD_RULES": path}) }
	c, err := Load(Dev, rules(""))
	if err != nil || c.CloudRules.Version == "" {
		t.Fatalf("default cloud rules: %v %+v", err, c.CloudRules.Version)
	}
	bad := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(bad, []byte(`{"version": "x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{bad, filepath.Join(t.TempDir(), "missing.json")} {
		if _, err := Load(Dev, rules(path)); err == nil || !strings.Contains(err.Error(), "POLICYFLOW_CLOUD_RULES") {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// The town's emergency response plan (§7.3) is checked at start-up: a plan with a mistake,
// or a file that is not there, stops the start and names the setting and the mistake.
func TestIncidentPlanSetting(t *testing.T) {
	plan := func(path string) func(string) string { return env(map[string]string{"POLICYFLOW_INCIDENT_PLAN": path}) }
	c, err := Load(Dev, plan(""))
	if err != nil || c.IncidentPlan.Version == "" {
		t.Fatalf("default plan: %v %+v", err, c.IncidentPlan.Version)
	}
	bad := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(bad, []byte(`{"version": "x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{bad, filepath.Join(t.TempDir(), "missing.json")} {
		if _, err := Load(Dev, plan(path)); err == nil || !strings.Contains(err.Error(), "POLICYFLOW_INCIDENT_PLAN") {
			t.Errorf("%s: %v", path, err)
		}
	}
	if _, err := Load(Dev, plan(bad)); err == nil || !strings.Contains(err.Error(), "malware has no route") || !strings.Contains(err.Error(), "deadlines.triage: is required") {
		t.Errorf("the error does not name the mistake: %v", err)
	}
}

// The self-inspection's town settings (§9.1): the day it starts each year and the checklist,
// each refused with its name when malformed.
func TestInspectionSettings(t *testing.T) {
	c, err := Load(Dev, env(nil))
	if err != nil || c.InspectionStart != "10-01" || c.InspectionChecklist.Version == "" {
		t.Fatalf("defaults: %v %q %q", err, c.InspectionStart, c.InspectionChecklist.Version)
	}
	if c, err := Load(Dev, env(map[string]string{"POLICYFLOW_INSPECTION_START": "off"})); err != nil || c.InspectionStart != "off" {
		t.Errorf("off: %v", err)
	}
	for _, v := range []string{"10/01", "02-29", "13-01", "yearly"} {
		if _, err := Load(Dev, env(map[string]string{"POLICYFLOW_INSPECTION_START": v})); err == nil || !strings.Contains(err.Error(), "POLICYFLOW_INSPECTION_START") {
			t.Errorf("%q: %v", v, err)
		}
	}
	bad := filepath.Join(t.TempDir(), "checklist.json")
	if err := os.WriteFile(bad, []byte(`{"version": "x", "items": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(Dev, env(map[string]string{"POLICYFLOW_INSPECTION_CHECKLIST": bad}))
	if err == nil || !strings.Contains(err.Error(), "POLICYFLOW_INSPECTION_CHECKLIST") || !strings.Contains(err.Error(), "no item applies to a system") {
		t.Errorf("bad checklist: %v", err)
	}
}

// decisionKey is a placeholder POLICYFLOW_DECISION_KEYS value, not a secret.
const decisionKey = "2026a:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// The decision keys: required by serve and worker (named, never shown), made in memory by
// dev, not needed by migrate.
func TestDecisionKeys(t *testing.T) {
	prod := map[string]string{"POLICYFLOW_DATABASE_URL": "mysql://u:p@tcp(db:3306)/pf", "TEMPORAL_ADDRESS": "t:7233",
		"POLICYFLOW_PUBLIC_URL": "https://pf.example", "POLICYFLOW_SMTP_URL": "smtp://relay:25"}
	with := func(k string) map[string]string {
		m := map[string]string{"POLICYFLOW_DECISION_KEYS": k}
		for n, v := range prod {
			m[n] = v
		}
		return m
	}
	for _, mode := range []Mode{Serve, Worker} {
		if _, err := Load(mode, env(prod)); err == nil || !strings.Contains(err.Error(), "POLICYFLOW_DECISION_KEYS is required") {
			t.Errorf("mode %d without keys: %v", mode, err)
		}
		c, err := Load(mode, env(with(decisionKey+",2025b:"+strings.Repeat("QUJD", 11))))
		if err != nil || c.DecisionKeys == nil {
			t.Fatalf("mode %d with keys: %v", mode, err)
		}
		if s := fmt.Sprintf("%v %+v", c, c); strings.Contains(s, "MDEyMzQ1") || strings.Contains(s, "48 49 50") {
			t.Errorf("printing the config shows key material: %s", s)
		}
		secret := "c2VjcmV0LWJ1dC1zaG9ydA=="
		_, err = Load(mode, env(with("k1:"+secret)))
		if err == nil || !strings.Contains(err.Error(), "POLICYFLOW_DECISION_KEYS") || strings.Contains(err.Error(), secret) {
			t.Errorf("mode %d with a short key: %v", mode, err)
		}
	}
	if c, err := Load(Migrate, env(prod)); err != nil || c.DecisionKeys != nil {
		t.Errorf("migrate without keys: %v (keys %v)", err, c.DecisionKeys)
	}
	a, err := Load(Dev, env(nil))
	if err != nil || a.DecisionKeys == nil {
		t.Fatalf("dev: %v, keys %v", err, a.DecisionKeys)
	}
	b, _ := Load(Dev, env(nil))
	if b.DecisionKeys == a.DecisionKeys || b.DecisionKeys.Sign(workflows.DecideRequest{TaskID: "x"}) == a.DecisionKeys.Sign(workflows.DecideRequest{TaskID: "x"}) {
		t.Error("dev mode does not make a fresh key each time")
	}
}

// The bounds on dates are town settings with defaults; a malformed one is named.
func TestDateBounds(t *testing.T) {
	c, err := Load(Dev, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.OffboardingMaxDaysAhead != 366 || c.OffboardingMaxDaysPast != 90 || c.StartMaxDaysAhead != 366 {
		t.Errorf("defaults: %d ahead, %d past, start %d ahead", c.OffboardingMaxDaysAhead, c.OffboardingMaxDaysPast, c.StartMaxDaysAhead)
	}
	c, err = Load(Dev, env(map[string]string{"POLICYFLOW_OFFBOARDING_MAX_DAYS_AHEAD": "200",
		"POLICYFLOW_OFFBOARDING_MAX_DAYS_PAST": "0", "POLICYFLOW_START_MAX_DAYS_AHEAD": "730"}))
	if err != nil || c.OffboardingMaxDaysAhead != 200 || c.OffboardingMaxDaysPast != 0 || c.StartMaxDaysAhead != 730 {
		t.Errorf("set: %d, %d, %d, %v", c.OffboardingMaxDaysAhead, c.OffboardingMaxDaysPast, c.StartMaxDaysAhead, err)
	}
	for _, bad := range []map[string]string{
		{"POLICYFLOW_OFFBOARDING_MAX_DAYS_AHEAD": "0"},
		{"POLICYFLOW_OFFBOARDING_MAX_DAYS_AHEAD": "1y"},
		{"POLICYFLOW_OFFBOARDING_MAX_DAYS_PAST": "-1"},
		{"POLICYFLOW_START_MAX_DAYS_AHEAD": "99999"},
	} {
		for name := range bad {
			if _, err := Load(Dev, env(bad)); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%v: error %v does not name %s", bad, err, name)
			}
		}
	}
}

func TestPublicReportsPerMinute(t *testing.T) {
	if c, err := Load(Dev, env(nil)); err != nil || c.PublicReportsPerMinute != 60 {
		t.Errorf("default %d, %v", c.PublicReportsPerMinute, err)
	}
	if c, err := Load(Dev, env(map[string]string{"POLICYFLOW_PUBLIC_REPORTS_PER_MINUTE": "20"})); err != nil || c.PublicReportsPerMinute != 20 {
		t.Errorf("set: %d, %v", c.PublicReportsPerMinute, err)
	}
	for _, v := range []string{"0", "-5", "lots"} {
		if _, err := Load(Dev, env(map[string]string{"POLICYFLOW_PUBLIC_REPORTS_PER_MINUTE": v})); err == nil || !strings.Contains(err.Error(), "POLICYFLOW_PUBLIC_REPORTS_PER_MINUTE") {
			t.Errorf("%q: %v", v, err)
		}
	}
}

// The staff pages' town settings: unset is zero (the API's defaults), a number sets it, and
// anything else, or out of range, is refused by name.
func TestStaffSettings(t *testing.T) {
	c, err := Load(Dev, env(nil))
	if err != nil || c.StaffLinkTTL != 0 || c.StaffIdle != 0 || c.StaffMax != 0 {
		t.Errorf("unset: %v %v %v, %v", c.StaffLinkTTL, c.StaffIdle, c.StaffMax, err)
	}
	c, err = Load(Dev, env(map[string]string{"POLICYFLOW_STAFF_LINK_MINUTES": "10", "POLICYFLOW_STAFF_IDLE_MINUTES": "20", "POLICYFLOW_STAFF_SESSION_HOURS": "4"}))
	if err != nil || c.StaffLinkTTL != 10*time.Minute || c.StaffIdle != 20*time.Minute || c.StaffMax != 4*time.Hour {
		t.Errorf("set: %v %v %v, %v", c.StaffLinkTTL, c.StaffIdle, c.StaffMax, err)
	}
	for name, v := range map[string]string{"POLICYFLOW_STAFF_LINK_MINUTES": "61", "POLICYFLOW_STAFF_IDLE_MINUTES": "0", "POLICYFLOW_STAFF_SESSION_HOURS": "8h"} {
		if _, err := Load(Dev, env(map[string]string{name: v})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: %v", name, v, err)
		}
	}
}

// Dev mode uses its own SQLite and its own Temporal: another database or a Temporal server
// elsewhere is refused, naming the setting and the way to say it is intended (issue 15), so
// the dev worker never polls a production task queue by accident.
func TestDevRefusesExternalServices(t *testing.T) {
	const allow = "POLICYFLOW_DEV_ALLOW_EXTERNAL=1"
	for _, c := range []struct {
		env  map[string]string
		want string // "" = accepted
	}{
		{map[string]string{"POLICYFLOW_DATABASE_URL": "sqlite://./var/other.db"}, ""},
		{map[string]string{"POLICYFLOW_DATABASE_URL": "./var/bare-path.db"}, ""},
		{map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:7233"}, ""},
		{map[string]string{"TEMPORAL_ADDRESS": "localhost:7233"}, ""},
		{map[string]string{"TEMPORAL_ADDRESS": "[::1]:7233"}, ""},
		{map[string]string{"POLICYFLOW_DATABASE_URL": "mysql://pf:pw@tcp(db.town.example:3306)/policyflow?parseTime=true"}, "POLICYFLOW_DATABASE_URL"},
		{map[string]string{"POLICYFLOW_DATABASE_URL": "mysql://pf:pw@tcp(127.0.0.1:3306)/policyflow"}, "POLICYFLOW_DATABASE_URL"},
		{map[string]string{"TEMPORAL_ADDRESS": "temporal.town.example:7233"}, "TEMPORAL_ADDRESS"},
		{map[string]string{"TEMPORAL_ADDRESS": "10.0.0.5:7233"}, "TEMPORAL_ADDRESS"},
		{map[string]string{"TEMPORAL_ADDRESS": "temporal:7233", "POLICYFLOW_DEV_ALLOW_EXTERNAL": "1"}, ""},
		{map[string]string{"POLICYFLOW_DATABASE_URL": "mysql://pf:pw@tcp(db:3306)/pf", "POLICYFLOW_DEV_ALLOW_EXTERNAL": "true"}, ""},
		{map[string]string{"TEMPORAL_ADDRESS": "temporal:7233", "POLICYFLOW_DEV_ALLOW_EXTERNAL": "yes please"}, "POLICYFLOW_DEV_ALLOW_EXTERNAL"},
	} {
		c1, err := Load(Dev, env(c.env))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v: refused: %v", c.env, err)
		case c.want != "" && err == nil:
			t.Errorf("%v: accepted", c.env)
		case c.want != "" && (!strings.Contains(err.Error(), c.want) || (c.want != "POLICYFLOW_DEV_ALLOW_EXTERNAL" && !strings.Contains(err.Error(), allow))):
			t.Errorf("%v: error %q names neither %s nor %s", c.env, err, c.want, allow)
		case c.want == "" && c.env["POLICYFLOW_DEV_ALLOW_EXTERNAL"] != "" && !c1.DevAllowExternal:
			t.Errorf("%v: DevAllowExternal not set", c.env)
		}
	}
	// The production pieces are not dev mode: they take what they are given.
	if _, err := Load(Migrate, env(map[string]string{"POLICYFLOW_DATABASE_URL": "mysql://pf:pw@tcp(db:3306)/pf"})); err != nil {
		t.Errorf("migrate: %v", err)
	}
}

// Metrics have a listener of their own on loopback by default, one port for serve and another
// for worker and dev, so serve and worker can share a host; "off" turns them off (issue 15).
func TestMetricsListener(t *testing.T) {
	prod := map[string]string{"POLICYFLOW_DATABASE_URL": "mysql://pf:pw@tcp(db:3306)/pf", "TEMPORAL_ADDRESS": "temporal:7233",
		"POLICYFLOW_PUBLIC_URL": "https://pf.town.example", "POLICYFLOW_SMTP_URL": "smtp://relay:587", "POLICYFLOW_DECISION_KEYS": decisionKey}
	for mode, want := range map[Mode]string{Serve: "127.0.0.1:9465", Worker: "127.0.0.1:9464", Dev: "127.0.0.1:9464"} {
		e := prod
		if mode == Dev {
			e = nil
		}
		c, err := Load(mode, env(e))
		if err != nil || c.MetricsAddr != want {
			t.Errorf("mode %d: metrics on %q (%v), want %s", mode, c.MetricsAddr, err, want)
		}
	}
	with := func(v string) map[string]string {
		m := map[string]string{"POLICYFLOW_METRICS_ADDR": v}
		for k, x := range prod {
			m[k] = x
		}
		return m
	}
	if c, err := Load(Serve, env(with("off"))); err != nil || c.MetricsAddr != "" {
		t.Errorf("off: %q %v", c.MetricsAddr, err)
	}
	if _, err := Load(Serve, env(with("9464"))); err == nil || !strings.Contains(err.Error(), "POLICYFLOW_METRICS_ADDR") {
		t.Errorf("a malformed address: %v", err)
	}
}

// The README shows the token command that works beside `make dev` (it names the dev
// database, which dev mode's own default is) and has a production checklist naming each
// setting that makes a deployment safe (issue 15).
func TestReadmeForOperators(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	m := regexp.MustCompile(`(?m)^POLICYFLOW_DATABASE_URL=(\S+) go run \./cmd/policyflow token create `).FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("README shows no `POLICYFLOW_DATABASE_URL=... go run ./cmd/policyflow token create` for dev mode")
	}
	dev, err := Load(Dev, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	path := func(u string) string { return filepath.Clean(strings.TrimPrefix(u, "sqlite://")) }
	if !strings.HasPrefix(m[1], "sqlite://") || path(m[1]) != path(dev.DatabaseURL) {
		t.Errorf("README's token command uses %s; dev mode's database is %s", m[1], dev.DatabaseURL)
	}
	_, checklist, ok := strings.Cut(readme, "\n## Production checklist\n")
	if !ok {
		t.Fatal("README has no \"Production checklist\" section")
	}
	checklist, _, _ = strings.Cut(checklist, "\n## ")
	for _, want := range []string{"POLICYFLOW_DECISION_KEYS", "POLICYFLOW_CODEC_KEYS", "POLICYFLOW_SMTP_URL",
		"POLICYFLOW_TRUSTED_PROXIES", "--expires", "token revoke", "POLICYFLOW_METRICS_ADDR", "temporal-ui-proxy"} {
		if !strings.Contains(checklist, want) {
			t.Errorf("the production checklist does not mention %s", want)
		}
	}
}

// The town's deadlines and periods: the embedded default, or the town's file, checked at
// start-up; serve, worker and dev refuse a bad one with an error naming the field.
func TestTimingsSetting(t *testing.T) {
	timings := func(path string) func(string) string { return env(map[string]string{"POLICYFLOW_TIMINGS": path}) }
	c, err := Load(Dev, timings(""))
	if err != nil || c.Timings.Version == "" || c.Timings.Exception.Review.BusinessDays != 5 {
		t.Fatalf("default timings: %v %+v", err, c.Timings)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "timings.json")
	src, err := os.ReadFile("../policy/timings.json")
	if err != nil {
		t.Fatal(err)
	}
	town := strings.Replace(strings.Replace(string(src), `"version": "default-2026-12"`, `"version": "town-2027"`, 1),
		`"review": {"business_days": 5}, "review_grace"`, `"review": {"business_days": 7}, "review_grace"`, 1)
	if err := os.WriteFile(good, []byte(town), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(Dev, timings(good)); err != nil || c.Timings.Version != "town-2027" || c.Timings.Exception.Review.BusinessDays != 7 {
		t.Errorf("town timings: %v %+v", err, c.Timings.Exception.Review)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(strings.Replace(town, `"rounds": 3`, `"rounds": 0`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []Mode{Dev, Serve, Worker} {
		_, err := Load(mode, timings(bad))
		if err == nil || !strings.Contains(err.Error(), "POLICYFLOW_TIMINGS: timings "+bad+": offboarding.rounds: must be from 1 to 100") {
			t.Errorf("mode %d: %v", mode, err)
		}
	}
	if _, err := Load(Dev, timings(filepath.Join(dir, "missing.json"))); err == nil || !strings.Contains(err.Error(), "POLICYFLOW_TIMINGS") {
		t.Errorf("missing file: %v", err)
	}
}

// The digest's day and the report links' lifetime are town settings, with defaults, checked.
func TestDigestDayAndReportLinkDays(t *testing.T) {
	c, err := Load(Dev, env(nil))
	if err != nil || c.DigestDay != 1 || c.ReportLinkDays != 30 {
		t.Errorf("defaults: day %d, link days %d, %v", c.DigestDay, c.ReportLinkDays, err)
	}
	if c, err := Load(Dev, env(map[string]string{"POLICYFLOW_DIGEST_DAY": "15", "POLICYFLOW_REPORT_LINK_DAYS": "7"})); err != nil || c.DigestDay != 15 || c.ReportLinkDays != 7 {
		t.Errorf("set: %d, %d, %v", c.DigestDay, c.ReportLinkDays, err)
	}
	if c, err := Load(Dev, env(map[string]string{"POLICYFLOW_DIGEST_DAY": "off"})); err != nil || c.DigestDay != 0 {
		t.Errorf("off: %d, %v", c.DigestDay, err)
	}
	for name, values := range map[string][]string{
		"POLICYFLOW_DIGEST_DAY":       {"0", "29", "31", "01", "first"},
		"POLICYFLOW_REPORT_LINK_DAYS": {"0", "400", "-1", "a week"},
	} {
		for _, v := range values {
			if _, err := Load(Dev, env(map[string]string{name: v})); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%q: %v", name, v, err)
			}
		}
	}
}
