package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/policyflow/policyflow/internal/testenv"
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.NeedTemporal, testenv.NeedMariaDB, testenv.NeedMailpit))
}

// system is policyflow as production runs it: the built binary's serve and worker on
// MariaDB, a Temporal server and an SMTP server (Mailpit).
type system struct {
	t       *testing.T
	bin     string
	env     []string
	baseURL string
	// metricsURL is serve's metrics listener (POLICYFLOW_METRICS_ADDR), off the public one.
	metricsURL string
	serve      *exec.Cmd
	worker     *exec.Cmd
	logs       string
}

// testDecisionKeys is the POLICYFLOW_DECISION_KEYS that serve and worker share in these
// tests: a placeholder, not a secret.
const testDecisionKeys = "e2e:ZTJlLWRlY2lzaW9uLWtleS0wMTIzNDU2Nzg5YWJjZGVm"

// startSystem starts the system on the package's Temporal dev server.
func startSystem(t *testing.T) *system {
	return startSystemOn(t, testenv.TemporalAddress(t), testenv.TemporalNamespace(t))
}

// startSystemOn starts the system on the Temporal frontend at temporalAddr: migrate against
// a fresh MariaDB database, then serve and worker as separate processes.
func startSystemOn(t *testing.T, temporalAddr, namespace string) *system {
	dir := t.TempDir()
	bin := filepath.Join(dir, "policyflow")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build policyflow: %v\n%s", err, out)
	}
	freeAddr := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	addr, metricsAddr := freeAddr(), freeAddr()
	smtpHost, smtpPort := testenv.SMTPAddr(t)
	s := &system{t: t, bin: bin, baseURL: "http://" + addr, metricsURL: "http://" + metricsAddr + "/", logs: dir}
	s.env = append(os.Environ(),
		"POLICYFLOW_DATABASE_URL=mysql://"+testenv.MariaDB(t),
		"TEMPORAL_ADDRESS="+temporalAddr,
		"TEMPORAL_NAMESPACE="+namespace,
		"POLICYFLOW_HTTP_ADDR="+addr,
		"POLICYFLOW_PUBLIC_URL="+s.baseURL,
		fmt.Sprintf("POLICYFLOW_SMTP_URL=smtp://%s:%d", smtpHost, smtpPort),
		"POLICYFLOW_MAIL_FROM=policyflow@town.example",
		"POLICYFLOW_DECISION_KEYS="+testDecisionKeys,
		"POLICYFLOW_METRICS_ADDR=127.0.0.1:0",
	)
	s.run("migrate")
	s.serve = s.start("serve", "POLICYFLOW_METRICS_ADDR="+metricsAddr)
	s.worker = s.start("worker")
	t.Cleanup(func() {
		for _, c := range []*exec.Cmd{s.serve, s.worker} {
			s.stop(c)
		}
		if t.Failed() {
			for _, name := range []string{"serve", "worker"} {
				b, _ := os.ReadFile(filepath.Join(dir, name+".log"))
				t.Logf("--- %s log ---\n%s", name, b)
			}
		}
	})
	s.waitReady()
	return s
}

// run runs a one-shot subcommand and returns its standard output.
func (s *system) run(args ...string) string {
	cmd := exec.Command(s.bin, args...)
	cmd.Env = s.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("policyflow %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// start starts a long-running piece; env, if any, is laid over the system's environment.
func (s *system) start(sub string, env ...string) *exec.Cmd {
	f, err := os.OpenFile(filepath.Join(s.logs, sub+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(s.bin, sub)
	cmd.Env, cmd.Stdout, cmd.Stderr = append(slices.Clone(s.env), env...), f, f
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	return cmd
}

// stop ends a piece gracefully, as an orchestrator would (SIGTERM).
func (s *system) stop(cmd *exec.Cmd) {
	if cmd == nil || cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			s.t.Errorf("%s did not stop cleanly: %v", cmd.Args[1], err)
		}
	case <-time.After(45 * time.Second):
		_ = cmd.Process.Kill()
		s.t.Errorf("%s did not stop within 45 s of SIGTERM", cmd.Args[1])
	}
}

func (s *system) waitReady() {
	eventually(s.t, 60*time.Second, "the API to be ready", func() bool {
		resp, err := http.Get(s.baseURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func eventually(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %s", what, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// call sends a JSON request with a bearer token and decodes the answer into out.
func (s *system) call(token, method, path string, body any, out any) int {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.baseURL+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode
}

// decide posts a decision on an emailed link as a browser's form would.
func decide(t *testing.T, link, choice, comment string) (int, string) {
	t.Helper()
	return postForm(t, link, url.Values{"decision": {choice}, "comment": {comment}})
}

// postForm posts a form to an emailed link and returns the status and the page.
func postForm(t *testing.T, link string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(link, form)
	if err != nil {
		t.Fatalf("POST link: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// getPage opens an emailed link as a browser would (or, given an Accept header, a program)
// and returns the status and the page.
func getPage(t *testing.T, link string, accept ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, link, nil)
	if len(accept) > 0 {
		req.Header.Set("Accept", accept[0])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET link: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// putPeople fills the directory through the API, each person new.
func (s *system) putPeople(token string, people map[string]map[string]any) {
	s.t.Helper()
	for id, p := range people {
		if code := s.call(token, "PUT", "/api/v1/people/"+id, p, nil); code != http.StatusCreated {
			s.t.Fatalf("PUT person %s: %d", id, code)
		}
	}
}

// mailIn waits for the mail to a person about a process whose subject contains
// subjectPart to arrive in Mailpit, and returns it. A mail whose text contains one of seen
// (an earlier link) does not count.
func mailIn(t *testing.T, to, processID, subjectPart string, seen ...string) testenv.Message {
	t.Helper()
	mp := testenv.Mailpit(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m, err := mp.WaitFor(ctx, func(m testenv.Message) bool {
		for _, old := range seen {
			if strings.Contains(m.Text, old) {
				return false
			}
		}
		return m.SentTo(to) && strings.Contains(m.Subject, processID) && strings.Contains(m.Subject, subjectPart)
	})
	if err != nil {
		t.Fatalf("mail to %s about %s (%s): %v", to, processID, subjectPart, err)
	}
	return m
}

// linkIn waits for the mail about a process's step to arrive in Mailpit and returns the
// task link it carries.
func linkIn(t *testing.T, to, processID, subjectPart string, seen ...string) string {
	t.Helper()
	m := mailIn(t, to, processID, subjectPart, seen...)
	if !strings.Contains(m.HTML, "/tasks/") {
		t.Errorf("the mail has no HTML part with the link")
	}
	for _, l := range testenv.Links(m.Text) {
		if strings.Contains(l, "/tasks/") {
			return l
		}
	}
	t.Fatalf("no task link in the mail %q:\n%s", m.Subject, m.Text)
	return ""
}

// TestExceptionEndToEnd runs an exception request on the real services: the directory is
// filled through the API, the CISO returns the request, the requester resubmits it (first
// while the worker is down: 503, the link keeps working), and the CISO approves it, each
// through the link in the mail Mailpit received. The process is then approved in the API
// and found in Temporal by its search attributes.
func TestExceptionEndToEnd(t *testing.T) {
	s := startSystem(t)
	admin := s.run("token", "create", "e2e-admin", "admin")
	directory := s.run("token", "create", "e2e-directory", "directory")
	officer := s.run("token", "create", "e2e-officer", "officer")
	auditor := s.run("token", "create", "e2e-auditor", "auditor")

	people := map[string]map[string]any{
		"E2E-CISO": {"name": "副町長 テスト", "email": "ciso@town.example", "department": "mayor", "roles": []string{"ciso"}},
		"E2E-GISO": {"name": "総務部長 テスト", "email": "giso@town.example", "department": "general", "roles": []string{"giso", "diso"}},
		"E2E-DISO": {"name": "住民課長 テスト", "email": "diso@town.example", "department": "residents", "roles": []string{"diso"}},
		"E2E-ISM":  {"name": "Tanaka Test", "email": "ism@town.example", "department": "residents", "roles": []string{"ism"}, "locale": "en"},
	}
	s.putPeople(directory, people)
	if code := s.call(directory, "PUT", "/api/v1/systems/registry", map[string]any{"name": "住民基本台帳", "department": "residents", "ism": "E2E-ISM", "classification": 1}, nil); code != http.StatusCreated {
		t.Fatalf("PUT system: %d", code)
	}

	today := time.Now().In(tokyo(t)).Format("2006-01-02")
	end := time.Now().In(tokyo(t)).AddDate(0, 3, 0).Format("2006-01-02")
	var started struct{ ID, Kind, Status, WorkflowID string }
	code := s.call(officer, "POST", "/api/v1/exceptions", map[string]any{
		"requester": "E2E-ISM", "clauses": []string{"6.2(1)"}, "alternative": "操作ログを毎日確認する",
		"reason": "保守業者の作業のため", "systems": []string{"registry"}, "classification": 1,
		"start_date": today, "end_date": end,
	}, &started)
	if code != http.StatusCreated || started.ID == "" {
		t.Fatalf("POST /exceptions: %d %+v", code, started)
	}

	// The CISO's mail, in Japanese; the page shows the request and changes nothing.
	review := linkIn(t, "ciso@town.example", started.ID, "例外措置申請の審査")
	resp, err := http.Get(review)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "保守業者の作業のため") || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("task page: %d, referrer policy %q", resp.StatusCode, resp.Header.Get("Referrer-Policy"))
	}
	if code, body := decide(t, review, "return", "対象範囲を明確にしてください"); code != 200 || !strings.Contains(body, "記録しました") {
		t.Fatalf("return: %d\n%s", code, body)
	}
	if code, body := decide(t, review, "approve", ""); code != http.StatusGone || !strings.Contains(body, "既に記録済み") {
		t.Fatalf("second POST on a used link: %d\n%s", code, body)
	}

	// The requester (English locale) is asked to revise and resubmit, or withdraw: the mail
	// says who returned it and why (issue 14), the page holds the request's values.
	revMail := mailIn(t, "ism@town.example", started.ID, "Revise and resubmit")
	for _, want := range []string{"Returned by: 副町長 テスト", "対象範囲を明確にしてください"} {
		if !strings.Contains(revMail.Text, want) {
			t.Errorf("the revision's mail lacks %q:\n%s", want, revMail.Text)
		}
	}
	revision := linkIn(t, "ism@town.example", started.ID, "Revise and resubmit")
	if code, body := getPage(t, revision); code != 200 || !strings.Contains(body, "対象範囲を明確にしてください") || !strings.Contains(body, "操作ログを毎日確認する") {
		t.Fatalf("revision page: %d\n%s", code, body)
	}
	// A revision the filing would refuse is answered 400 on the page, the field named.
	if code, body := postForm(t, revision, url.Values{"decision": {"resubmit"}, "start_date": {end}, "end_date": {today}}); code != http.StatusBadRequest || !strings.Contains(body, "must be after start_date") {
		t.Fatalf("a revision ending before it starts: %d\n%s", code, body)
	}
	// With the worker down the decision cannot reach the workflow: 503, and the link still
	// works after.
	revised := url.Values{"decision": {"resubmit"}, "comment": {"scope narrowed to one terminal"}, "alternative": {"操作ログを毎日、課長が確認し記録する"}}
	s.stop(s.worker)
	if code, body := postForm(t, revision, revised); code != http.StatusServiceUnavailable || !strings.Contains(body, "try again") {
		t.Fatalf("POST with the worker stopped: %d\n%s", code, body)
	}
	s.worker = s.start("worker")
	if code, body := postForm(t, revision, revised); code != 200 {
		t.Fatalf("POST after the worker returned: %d\n%s", code, body)
	}

	// Round two: the CISO approves.
	review2 := linkIn(t, "ciso@town.example", started.ID, "例外措置申請の審査", review)
	if code, body := getPage(t, review2); code != 200 || !strings.Contains(body, "操作ログを毎日、課長が確認し記録する") || !strings.Contains(body, "第2版") {
		t.Errorf("the second review does not show the revised request: %d\n%s", code, body)
	}
	if code, body := decide(t, review2, "approve", "承認します"); code != 200 {
		t.Fatalf("approve: %d\n%s", code, body)
	}

	var got struct {
		Process   struct{ Status, Stage string }
		Decisions []struct {
			DeciderID string `json:"decider_id"`
			Choice    string `json:"decision"`
			ClientIP  string `json:"client_ip"`
			Comment   string
		}
		Tasks    []struct{ Status string }
		Versions []struct {
			Version int
			Changes []struct{ Field string }
		}
	}
	eventually(t, 30*time.Second, "the process to be in effect", func() bool {
		s.call(auditor, "GET", "/api/v1/processes/"+started.ID, nil, &got)
		return got.Process.Status == "in_effect"
	})
	if len(got.Decisions) != 3 || got.Decisions[2].Choice != "approve" || got.Decisions[2].DeciderID != "E2E-CISO" ||
		got.Decisions[2].ClientIP != "127.0.0.1" || got.Decisions[1].Comment != "scope narrowed to one terminal" {
		t.Errorf("decisions = %+v", got.Decisions)
	}
	if len(got.Versions) != 2 || len(got.Versions[1].Changes) != 1 || got.Versions[1].Changes[0].Field != "alternative" {
		t.Errorf("versions = %+v, want the filed request and the revision of its alternative measure", got.Versions)
	}

	// The CISO finds it in Temporal by the process search attribute.
	tc := testenv.TemporalClient(t)
	eventually(t, 30*time.Second, "the workflow to be visible by PolicyProcess", func() bool {
		resp, err := tc.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf(`PolicyProcess = "exception" AND PolicyStage = "in_effect" AND WorkflowId = %q`, started.ID),
		})
		return err == nil && len(resp.Executions) == 1
	})

	// The API counts its requests by route pattern, never by URL (tokens are secrets), and
	// serves the counts on its metrics listener, not on the public one.
	resp, err = http.Get(s.baseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the public listener: %d, want 404", resp.StatusCode)
	}
	resp, err = http.Get(s.metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), `policyflow_http_requests_total{method="POST",route="/tasks/:token",status="200"}`) ||
		strings.Contains(string(m), strings.TrimPrefix(review, s.baseURL)) {
		t.Errorf("metrics do not count the decisions by route:\n%.2000s", m)
	}

	// An admin cancels it; the register says so.
	var cancelled struct{ Status string }
	if code := s.call(admin, "POST", "/api/v1/processes/"+started.ID+"/cancel", map[string]string{"reason": "e2e cleanup"}, &cancelled); code != 200 || cancelled.Status != "cancelled" {
		t.Errorf("cancel: %d %+v", code, cancelled)
	}
	waitClosed(t, s, auditor, started.ID, "cancelled")
	recordHistory(t, started.ID, "exception_resubmitted_approved_cancelled.json")

	// A request the CISO rejects.
	start := func(emergency bool) string {
		t.Helper()
		var p struct{ ID string }
		if code := s.call(officer, "POST", "/api/v1/exceptions", map[string]any{
			"requester": "E2E-ISM", "clauses": []string{"6.2(1)"}, "alternative": "操作ログを毎日確認する",
			"reason": "障害対応のため", "systems": []string{"registry"}, "classification": 1,
			"start_date": today, "end_date": end, "emergency": emergency,
		}, &p); code != http.StatusCreated {
			t.Fatalf("POST /exceptions (emergency %t): %d", emergency, code)
		}
		return p.ID
	}
	rejected := start(false)
	if code, body := decide(t, linkIn(t, "ciso@town.example", rejected, "例外措置申請の審査"), "reject", "代替措置が不十分"); code != 200 {
		t.Fatalf("reject: %d\n%s", code, body)
	}
	waitClosed(t, s, auditor, rejected, "rejected")
	recordHistory(t, rejected, "exception_rejected.json")

	// An emergency exception (§7.4(2)) is in effect at once; the CISO revokes it, and the
	// requester and the system's manager (here the same person) confirm compliance is restored.
	urgent := start(true)
	if code, body := decide(t, linkIn(t, "ciso@town.example", urgent, "緊急の例外措置の事後承認"), "revoke", ""); code != 200 {
		t.Fatalf("revoke: %d\n%s", code, body)
	}
	if code, body := decide(t, linkIn(t, "ism@town.example", urgent, "Confirm that compliance is restored"), "done", ""); code != 200 {
		t.Fatalf("restore: %d\n%s", code, body)
	}
	waitClosed(t, s, auditor, urgent, "revoked")
	recordHistory(t, urgent, "exception_emergency_revoked_restored.json")
}

// waitClosed waits until the register shows the process closed with status.
func waitClosed(t *testing.T, s *system, token, id, status string) {
	t.Helper()
	var got struct {
		Process struct {
			Status   string
			ClosedAt *time.Time `json:"closed_at"`
		}
	}
	eventually(t, 30*time.Second, id+" to close as "+status, func() bool {
		s.call(token, "GET", "/api/v1/processes/"+id, nil, &got)
		return got.Process.Status == status && got.Process.ClosedAt != nil
	})
}

func tokyo(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// recordHistory writes a workflow's history as JSON into $POLICYFLOW_RECORD_HISTORY/file,
// when that is set: how testdata/histories is recorded for the replay test.
func recordHistory(t *testing.T, workflowID, file string) {
	t.Helper()
	dir := os.Getenv("POLICYFLOW_RECORD_HISTORY")
	if dir == "" {
		return
	}
	it := testenv.TemporalClient(t).GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", workflowID, err)
		}
		h.Events = append(h.Events, e)
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
