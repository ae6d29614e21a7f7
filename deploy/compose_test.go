package deploy_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// composeFile is the stack this package checks, relative to this directory.
const composeFile = "../docker-compose.yml"

// requiredEnv is what a user must set (deploy/.env.example, "required"). The values are
// placeholders, not secrets.
var requiredEnv = map[string]string{
	"MYSQL_ROOT_PASSWORD":    "test-root-pw",
	"POLICYFLOW_DB_PASSWORD": "test-app-pw",
	"TEMPORAL_DB_PASSWORD":   "test-temporal-pw",
	"POLICYFLOW_PUBLIC_URL":  "https://policyflow.example.lg.jp",
	// Not a real key: 32 bytes of "0123456789abcdef" twice.
	"POLICYFLOW_DECISION_KEYS": "test:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	// The town's relay; there is no default (Mailpit delivers nothing).
	"POLICYFLOW_SMTP_URL": "smtp://policyflow:pw@relay.example.lg.jp:587?starttls=required",
}

// loadProject loads docker-compose.yml the way `docker compose` does, through compose-go's own
// loader, which interpolates variables, validates the file against the Compose specification's
// JSON schema and checks its consistency (every depends_on names a service, and so on). Only env
// is visible to it: neither the OS environment nor a .env file, so a developer's own settings
// cannot make the test pass or fail.
// profiles are the profiles to enable, as `docker compose --profile` does.
func loadProject(t *testing.T, env map[string]string, profiles ...string) (*types.Project, error) {
	t.Helper()
	pairs := make([]string, 0, len(env))
	for k, v := range env {
		pairs = append(pairs, k+"="+v)
	}
	options, err := cli.NewProjectOptions(
		[]string{composeFile},
		cli.WithWorkingDirectory(filepath.Dir(composeFile)),
		cli.WithEnv(pairs),
		cli.WithConsistency(true),
		cli.WithProfiles(profiles),
	)
	if err != nil {
		t.Fatalf("compose options: %v", err)
	}
	return options.LoadProject(context.Background())
}

func mustLoad(t *testing.T, env map[string]string, profiles ...string) *types.Project {
	t.Helper()
	project, err := loadProject(t, env, profiles...)
	if err != nil {
		t.Fatalf("loading %s with the required variables set: %v", composeFile, err)
	}
	return project
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("service %q: %v", name, err)
	}
	return s
}

func env(s types.ServiceConfig, key string) string {
	if v, ok := s.Environment[key]; ok && v != nil {
		return *v
	}
	return ""
}

// script is what a one-shot service runs: its entrypoint and command, joined.
func script(s types.ServiceConfig) string {
	return strings.Join(append(slices.Clone([]string(s.Entrypoint)), s.Command...), "\n")
}

func TestComposeFileIsValid(t *testing.T) {
	project := mustLoad(t, requiredEnv)
	if project.Name != "policyflow" {
		t.Errorf("project name = %q, want policyflow", project.Name)
	}

	want := []string{"mysql", "temporal", "temporal-setup", "temporal-ui", "temporal-ui-proxy", "migrate", "api", "worker"}
	for _, name := range want {
		if _, err := project.GetService(name); err != nil {
			t.Errorf("the app needs service %q: %v", name, err)
		}
	}
}

// Mailpit delivers nothing and shows every mail, live task links included, on a page without
// a login: it runs only in the dev profile, nothing in production depends on it, and the mail
// relay is a required setting (issue 15).
func TestMailpitOnlyInTheDevProfile(t *testing.T) {
	project := mustLoad(t, requiredEnv)
	if _, err := project.GetService("mailpit"); err == nil {
		t.Errorf("mailpit starts without --profile dev")
	}
	for name, s := range project.Services {
		if _, ok := s.DependsOn["mailpit"]; ok {
			t.Errorf("%s depends on mailpit, which production does not run", name)
		}
		for _, v := range s.Environment {
			if v != nil && strings.Contains(*v, "mailpit") {
				t.Errorf("%s is pointed at mailpit by default: %s", name, *v)
			}
		}
	}
	for _, name := range []string{"api", "worker"} {
		if got := env(service(t, project, name), "POLICYFLOW_SMTP_URL"); got != requiredEnv["POLICYFLOW_SMTP_URL"] {
			t.Errorf("%s: POLICYFLOW_SMTP_URL = %q, want the value given", name, got)
		}
	}

	// With the dev profile and the SMTP URL pointed at it, the stack catches mail in Mailpit.
	dev := mustLoad(t, merged(requiredEnv, map[string]string{"POLICYFLOW_SMTP_URL": "smtp://mailpit:1025"}), "dev")
	mp := service(t, dev, "mailpit")
	if !slices.Equal(mp.Profiles, []string{"dev"}) {
		t.Errorf("mailpit's profiles = %v, want [dev]", mp.Profiles)
	}
	if got := env(service(t, dev, "worker"), "POLICYFLOW_SMTP_URL"); got != "smtp://mailpit:1025" {
		t.Errorf("worker: POLICYFLOW_SMTP_URL = %q in the dev profile", got)
	}
}

func TestUIsBindToLoopbackOnly(t *testing.T) {
	project := mustLoad(t, requiredEnv, "dev") // mailpit runs in the dev profile only
	cases := []struct {
		service string
		target  uint32
	}{
		{"temporal-ui-proxy", 8080}, // host 127.0.0.1:8233, the only way to the Temporal UI
		{"mailpit", 8025},
	}
	for _, c := range cases {
		s := service(t, project, c.service)
		if len(s.Ports) == 0 {
			t.Errorf("%s publishes no port; its UI is expected on 127.0.0.1", c.service)
		}
		found := false
		for _, p := range s.Ports {
			if p.HostIP != "127.0.0.1" {
				t.Errorf("%s publishes container port %d on host IP %q, want 127.0.0.1 only",
					c.service, p.Target, p.HostIP)
			}
			if p.Target == c.target {
				found = true
			}
		}
		if !found {
			t.Errorf("%s does not publish its UI port %d", c.service, c.target)
		}
	}

	if got := service(t, project, "temporal-ui-proxy").Ports[0].Published; got != "8233" {
		t.Errorf("temporal-ui-proxy is published on host port %q, want 8233", got)
	}

	// The API, too, stays on loopback unless the operator says otherwise.
	for _, p := range service(t, project, "api").Ports {
		if p.HostIP != "127.0.0.1" || p.Target != 8080 {
			t.Errorf("api publishes %s:%s->%d by default, want 127.0.0.1:...->8080",
				p.HostIP, p.Published, p.Target)
		}
	}

	// Nothing else is published: not MySQL, not the Temporal frontend, not the UI server
	// (only its read-only proxy).
	for _, name := range []string{"mysql", "temporal", "temporal-schema", "temporal-setup", "temporal-ui", "migrate", "worker"} {
		if ports := service(t, project, name).Ports; len(ports) > 0 {
			t.Errorf("%s publishes %v; it should be reachable inside the compose network only", name, ports)
		}
	}
}

func TestAppServicesGetTheirConfiguration(t *testing.T) {
	project := mustLoad(t, requiredEnv)
	wantURL := "mysql://policyflow:test-app-pw@tcp(mysql:3306)/policyflow?parseTime=true"
	for _, name := range []string{"api", "worker", "migrate"} {
		s := service(t, project, name)
		if got := env(s, "POLICYFLOW_DATABASE_URL"); got != wantURL {
			t.Errorf("%s: POLICYFLOW_DATABASE_URL = %q, want %q", name, got, wantURL)
		}
		if got := env(s, "TEMPORAL_ADDRESS"); got != "temporal:7233" {
			t.Errorf("%s: TEMPORAL_ADDRESS = %q, want temporal:7233", name, got)
		}
		for key, want := range map[string]string{
			"TEMPORAL_NAMESPACE":    "default",
			"POLICYFLOW_PUBLIC_URL": "https://policyflow.example.lg.jp",
			"POLICYFLOW_SMTP_URL":   requiredEnv["POLICYFLOW_SMTP_URL"],
			"POLICYFLOW_TIMEZONE":   "Asia/Tokyo",
		} {
			if got := env(s, key); got != want {
				t.Errorf("%s: %s = %q, want %q", name, key, got, want)
			}
		}
		for _, key := range []string{"POLICYFLOW_HTTP_ADDR", "POLICYFLOW_MAIL_FROM"} {
			if env(s, key) == "" {
				t.Errorf("%s: %s is not set", name, key)
			}
		}
		if s.Build == nil || s.Build.Dockerfile != "Dockerfile" {
			t.Errorf("%s is not built from the repository's Dockerfile (build: %+v)", name, s.Build)
		}
	}

	// The decision keys go to the API, which signs, and the worker, which verifies; not to
	// migrate, which needs none.
	for _, name := range []string{"api", "worker"} {
		if got := env(service(t, project, name), "POLICYFLOW_DECISION_KEYS"); got != requiredEnv["POLICYFLOW_DECISION_KEYS"] {
			t.Errorf("%s: POLICYFLOW_DECISION_KEYS = %q, want the value given", name, got)
		}
	}
	if _, ok := service(t, project, "migrate").Environment["POLICYFLOW_DECISION_KEYS"]; ok {
		t.Errorf("migrate is given POLICYFLOW_DECISION_KEYS; it needs none")
	}

	for name, sub := range map[string]string{"api": "serve", "worker": "worker", "migrate": "migrate"} {
		if got := []string(service(t, project, name).Command); !slices.Equal(got, []string{sub}) {
			t.Errorf("%s runs %q, want policyflow %s", name, got, sub)
		}
	}

	// Temporal and the app share the MySQL server, each with its own user and databases.
	temporal := service(t, project, "temporal")
	for key, want := range map[string]string{
		"DB": "mysql8", "MYSQL_SEEDS": "mysql", "MYSQL_USER": "temporal", "MYSQL_PWD": "test-temporal-pw",
		"DBNAME": "temporal", "VISIBILITY_DBNAME": "temporal_visibility",
	} {
		if got := env(temporal, key); got != want {
			t.Errorf("temporal: %s = %q, want %q", key, got, want)
		}
	}
}

func TestTemporalSetupRegistersSearchAttributesAndRetention(t *testing.T) {
	project := mustLoad(t, requiredEnv)
	setup := service(t, project, "temporal-setup")
	cmd := script(setup)

	for _, name := range []string{"PolicyProcess", "PolicyStage", "Department"} {
		re := regexp.MustCompile(`--name\s+` + name + `\s+--type\s+Keyword\b`)
		if !re.MatchString(cmd) {
			t.Errorf("temporal-setup does not register search attribute %s as Keyword; its command:\n%s", name, cmd)
		}
	}
	if !strings.Contains(cmd, "temporal operator search-attribute create") {
		t.Errorf("temporal-setup does not run `temporal operator search-attribute create`")
	}

	for _, want := range []string{
		`temporal operator namespace update --namespace "$NAMESPACE" --retention "$RETENTION"`,
		`temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"`,
	} {
		if !strings.Contains(cmd, want) {
			t.Errorf("temporal-setup's command lacks %q", want)
		}
	}
	if got := env(setup, "RETENTION"); got != "3650d" {
		t.Errorf("default retention = %q, want 3650d", got)
	}
	for _, name := range []string{"api", "worker", "migrate"} {
		// config.Load reads it too, and accepts whole days only ("3650d").
		if got := env(service(t, project, name), "POLICYFLOW_TEMPORAL_RETENTION"); got != env(setup, "RETENTION") {
			t.Errorf("%s: POLICYFLOW_TEMPORAL_RETENTION = %q, temporal-setup uses %q", name, got, env(setup, "RETENTION"))
		}
	}
	if got := env(setup, "NAMESPACE"); got != "default" {
		t.Errorf("temporal-setup namespace = %q, want the app's TEMPORAL_NAMESPACE default", got)
	}

	// The operator's choices reach the setup, and the namespace it prepares is the app's.
	custom := merged(requiredEnv, map[string]string{
		"POLICYFLOW_TEMPORAL_RETENTION": "1825d",
		"TEMPORAL_NAMESPACE":            "policyflow",
	})
	p := mustLoad(t, custom)
	for name, key := range map[string]string{"temporal-setup": "RETENTION", "worker": "POLICYFLOW_TEMPORAL_RETENTION"} {
		if got := env(service(t, p, name), key); got != "1825d" {
			t.Errorf("POLICYFLOW_TEMPORAL_RETENTION=1825d gives %s %s=%q", name, key, got)
		}
	}
	for _, name := range []string{"temporal-setup", "api", "worker"} {
		key := "TEMPORAL_NAMESPACE"
		if name == "temporal-setup" {
			key = "NAMESPACE"
		}
		if got := env(service(t, p, name), key); got != "policyflow" {
			t.Errorf("%s: %s = %q with TEMPORAL_NAMESPACE=policyflow", name, key, got)
		}
	}

	// The retention value must suit both readers: Temporal's CLI (any positive duration; the
	// server has no upper bound) and config.Load (a whole number of days).
	if !regexp.MustCompile(`^[1-9][0-9]*d$`).MatchString(env(setup, "RETENTION")) {
		t.Errorf("retention %q is not a positive number of days", env(setup, "RETENTION"))
	}
}

func TestStartupOrder(t *testing.T) {
	project := mustLoad(t, requiredEnv)
	type dep struct{ service, on, condition string }
	for _, d := range []dep{
		{"api", "migrate", types.ServiceConditionCompletedSuccessfully},
		{"worker", "migrate", types.ServiceConditionCompletedSuccessfully},
		{"api", "temporal-setup", types.ServiceConditionCompletedSuccessfully},
		{"worker", "temporal-setup", types.ServiceConditionCompletedSuccessfully},
		{"migrate", "mysql", types.ServiceConditionHealthy},
		{"temporal", "mysql", types.ServiceConditionHealthy},
		{"temporal", "temporal-schema", types.ServiceConditionCompletedSuccessfully},
		{"temporal-setup", "temporal", types.ServiceConditionHealthy},
		{"temporal-ui", "temporal", types.ServiceConditionHealthy},
		{"temporal-ui-proxy", "temporal-ui", types.ServiceConditionStarted},
	} {
		s := service(t, project, d.service)
		got, ok := s.DependsOn[d.on]
		if !ok {
			t.Errorf("%s does not depend on %s", d.service, d.on)
			continue
		}
		if got.Condition != d.condition {
			t.Errorf("%s depends on %s with condition %q, want %q", d.service, d.on, got.Condition, d.condition)
		}
	}

	for _, name := range []string{"mysql", "temporal", "api"} {
		if hc := service(t, project, name).HealthCheck; hc == nil || len(hc.Test) == 0 || hc.Disable {
			t.Errorf("%s has no health check, yet others wait for it", name)
		}
	}
	if hc := service(t, project, "api").HealthCheck; hc != nil &&
		!strings.Contains(strings.Join(hc.Test, " "), "/healthz") {
		t.Errorf("api health check %q does not call /healthz", hc.Test)
	}

	for _, name := range []string{"mysql", "temporal", "temporal-ui", "temporal-ui-proxy", "api", "worker"} {
		if r := service(t, project, name).Restart; r != "unless-stopped" && r != "always" {
			t.Errorf("%s: restart %q; a long-running service should come back after a crash or reboot", name, r)
		}
	}
	for _, name := range []string{"migrate", "temporal-schema", "temporal-setup"} {
		if r := service(t, project, name).Restart; r != "" && r != "no" {
			t.Errorf("%s is a one-shot but restarts (%q)", name, r)
		}
	}
}

func TestStorageAndImages(t *testing.T) {
	project := mustLoad(t, requiredEnv)
	mysql := service(t, project, "mysql")
	if !strings.HasPrefix(mysql.Image, "mysql:8.") {
		t.Errorf("mysql image %q: Temporal's visibility schema needs MySQL 8 (not MariaDB)", mysql.Image)
	}
	var dataVolume, initScripts bool
	for _, v := range mysql.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Target == "/var/lib/mysql" {
			if _, ok := project.Volumes[v.Source]; ok {
				dataVolume = true
			}
		}
		if v.Type == types.VolumeTypeBind && v.Target == "/docker-entrypoint-initdb.d" {
			initScripts = true
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("mysql init scripts: %v", err)
			}
		}
	}
	if !dataVolume {
		t.Errorf("mysql keeps /var/lib/mysql in no named volume")
	}
	if !initScripts {
		t.Errorf("mysql mounts no init script into /docker-entrypoint-initdb.d")
	}

	// Every file the stack bind-mounts exists in the repository.
	for _, s := range project.Services {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s mounts %s: %v", s.Name, v.Source, err)
			}
		}
	}

	if img := service(t, project, "temporal").Image; !strings.HasPrefix(img, "temporalio/server:1.29.") {
		t.Errorf("temporal image %q, want temporalio/server:1.29.x", img)
	}
	if img := service(t, project, "temporal-ui").Image; !strings.HasPrefix(img, "temporalio/ui:2.") {
		t.Errorf("temporal-ui image %q, want temporalio/ui:2.x", img)
	}
	for _, s := range project.Services {
		if s.Build == nil && (strings.HasSuffix(s.Image, ":latest") || !strings.Contains(s.Image, ":")) {
			t.Errorf("%s uses an unpinned image %q", s.Name, s.Image)
		}
	}
}

func TestMissingSecretsStopTheStack(t *testing.T) {
	for missing := range requiredEnv {
		t.Run(missing, func(t *testing.T) {
			env := merged(requiredEnv, nil)
			delete(env, missing)
			_, err := loadProject(t, env)
			if err == nil {
				t.Fatalf("loading succeeded without %s", missing)
			}
			if !strings.Contains(err.Error(), missing) {
				t.Errorf("the error does not name %s: %v", missing, err)
			}
			if !strings.Contains(err.Error(), "deploy/.env.example") {
				t.Errorf("the error does not point to deploy/.env.example: %v", err)
			}

			// An empty value is as good as none.
			env[missing] = ""
			if _, err := loadProject(t, env); err == nil || !strings.Contains(err.Error(), missing) {
				t.Errorf("an empty %s is accepted (err = %v)", missing, err)
			}
		})
	}
}

// TestEnvExampleDocumentsEveryVariable keeps deploy/.env.example in step with the compose file:
// each variable the compose file reads is listed there, and each required one is empty there.
func TestEnvExampleDocumentsEveryVariable(t *testing.T) {
	compose, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?:^|[^$])\$\{([A-Z0-9_]+)`).FindAllStringSubmatch(string(compose), -1) {
		used[m[1]] = true
	}
	if len(used) < len(requiredEnv) {
		t.Fatalf("found only %d variables in %s", len(used), composeFile)
	}
	for name := range used {
		if !regexp.MustCompile(`(?m)^#?` + name + `=`).Match(example) {
			t.Errorf("%s is read by %s but not documented in deploy/.env.example", name, composeFile)
		}
	}
	for name := range requiredEnv {
		if !regexp.MustCompile(`(?m)^` + name + `=$`).Match(example) {
			t.Errorf("deploy/.env.example should list required %s, empty, uncommented", name)
		}
	}
}

// Every setting serve and worker read reaches them in production: each POLICYFLOW_ variable
// config.Load reads is passed by the compose file (dev mode's own are the exceptions).
func TestComposePassesEverySetting(t *testing.T) {
	src, err := os.ReadFile("../config/config.go")
	if err != nil {
		t.Fatal(err)
	}
	compose, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	devOnly := map[string]bool{"POLICYFLOW_DATA_DIR": true, "POLICYFLOW_DEV_ALLOW_EXTERNAL": true, "POLICYFLOW_DEV_TOKEN": true}
	seen := map[string]bool{}
	for _, name := range regexp.MustCompile(`POLICYFLOW_[A-Z0-9_]+`).FindAllString(string(src), -1) {
		if devOnly[name] || seen[name] {
			continue
		}
		seen[name] = true
		if !regexp.MustCompile(`(?m)^\s+` + name + `:`).Match(compose) {
			t.Errorf("config reads %s but %s does not pass it to the app services", name, composeFile)
		}
	}
	if len(seen) < 20 {
		t.Fatalf("found only %d settings in config/config.go", len(seen))
	}
}

// merged returns a copy of base with extra laid over it.
func merged(base, extra map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(extra))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// TestTemporalIsReadOnlyForPeople: people reach Temporal only through the UI, and the UI
// cannot change anything (issue 12, item 7): the frontend is published nowhere, write
// actions are off whatever the operator sets, and the UI is reached only through a proxy
// that passes GET and HEAD alone.
func TestTemporalIsReadOnlyForPeople(t *testing.T) {
	// An operator's attempt to turn write actions back on changes nothing.
	project := mustLoad(t, merged(requiredEnv, map[string]string{"TEMPORAL_UI_DISABLE_WRITE_ACTIONS": "false"}))
	for _, name := range []string{"temporal", "temporal-ui"} {
		s := service(t, project, name)
		if len(s.Ports) > 0 || len(s.Expose) > 0 {
			t.Errorf("%s publishes or exposes %v %v; people must reach Temporal through the read-only proxy only", name, s.Ports, s.Expose)
		}
	}
	ui := service(t, project, "temporal-ui")
	if got := env(ui, "TEMPORAL_DISABLE_WRITE_ACTIONS"); got != "true" {
		t.Errorf("temporal-ui: TEMPORAL_DISABLE_WRITE_ACTIONS = %q, want true always", got)
	}
	if got := env(ui, "TEMPORAL_ADDRESS"); got != "temporal:7233" {
		t.Errorf("temporal-ui: TEMPORAL_ADDRESS = %q", got)
	}

	proxy := service(t, project, "temporal-ui-proxy")
	for _, p := range proxy.Ports {
		if p.HostIP != "127.0.0.1" || p.Target != 8080 {
			t.Errorf("temporal-ui-proxy publishes %s:%s->%d, want 127.0.0.1:...->8080", p.HostIP, p.Published, p.Target)
		}
	}
	if !proxy.ReadOnly || !slices.Contains(proxy.CapDrop, "ALL") {
		t.Errorf("temporal-ui-proxy: read_only %v, cap_drop %v; want a read-only root and no capabilities", proxy.ReadOnly, proxy.CapDrop)
	}
	conf := ""
	for _, v := range proxy.Volumes {
		if v.Type == types.VolumeTypeBind && v.Target == "/etc/nginx/conf.d/default.conf" {
			if !v.ReadOnly {
				t.Errorf("temporal-ui-proxy mounts its configuration writable")
			}
			b, err := os.ReadFile(v.Source)
			if err != nil {
				t.Fatalf("temporal-ui-proxy's configuration: %v", err)
			}
			conf = string(b)
		}
	}
	if conf == "" {
		t.Fatalf("temporal-ui-proxy does not mount its configuration as /etc/nginx/conf.d/default.conf")
	}
	// Comments aside, every location passes GET (and HEAD) only, to the UI server.
	var lines []string
	for _, l := range strings.Split(conf, "\n") {
		if l, _, _ = strings.Cut(l, "#"); strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	code := strings.Join(lines, "\n")
	locations := regexp.MustCompile(`(?m)^location\s`).FindAllStringIndex(code, -1)
	guarded := regexp.MustCompile(`(?m)^location\s[^{]*\{\nlimit_except GET \{\ndeny all;\n\}`).FindAllStringIndex(code, -1)
	if len(locations) == 0 || len(guarded) != len(locations) {
		t.Errorf("not every location of the proxy starts with `limit_except GET { deny all; }`:\n%s", code)
	}
	if strings.Count(code, "proxy_pass ") != 1 || !strings.Contains(code, "proxy_pass http://temporal-ui:8080;") {
		t.Errorf("the proxy should pass to the UI server only (proxy_pass http://temporal-ui:8080):\n%s", code)
	}
	if !strings.Contains(code, `proxy_set_header X-HTTP-Method-Override "";`) {
		t.Errorf("the proxy passes X-HTTP-Method-Override, which grpc-gateway may honour")
	}
	if strings.Contains(code, "listen 0") || !strings.Contains(code, "listen 8080;") {
		t.Errorf("the proxy should listen on 8080 in its container")
	}
}
