package api_test

// The fixture: one whole policyflow system per test binary, in-process. A SQLite register
// in a temporary directory, a client of the Temporal dev server that internal/testenv
// starts, the worker (on the constant task queue workflows.TaskQueue, so there is one per
// binary) and the API under test behind an httptest server, whose URL is the PublicURL of
// the links that the activities mail (to the outbox table).
//
// Tests share the store and the worker and isolate themselves by what they create: each
// makes its own department, people and processes with IDs from uid. Everyone's tasks go to
// the one CISO of the directory (sharedCISO), so no test may create another ciso or giso.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/api"
	"github.com/policyflow/policyflow/internal/offboarding"
	"github.com/policyflow/policyflow/internal/testenv"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/proof"
	"github.com/policyflow/policyflow/worker"
	"github.com/policyflow/policyflow/workflows"
)

func TestMain(m *testing.M) {
	code := testenv.Main(m, testenv.NeedTemporal)
	shutdown()
	os.Exit(code)
}

var tokyo = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return loc
}()

// The directory's CISO and GISO, shared by every test. RoleHolder picks the lowest employee
// ID, and these sort before every ID that uid makes.
const (
	sharedCISO     = "00000-ciso"
	sharedCISOName = "Test CISO Aoki"
	sharedGISO     = "00000-giso"
)

// Token scopes, plus "none": a valid token without any scope.
var scopes = []string{"hr", "officer", "directory", "auditor", "admin", "none"}

// system is the whole policyflow under test.
type system struct {
	Store    *models.Store
	Temporal client.Client
	API      *api.Server
	Acts     *activities.Activities
	HTTP     *httptest.Server
	URL      string
	// Keys are the decision keys the API signs with and the worker verifies; PreviousKeys
	// is the ring before the last rotation, whose key Keys still holds.
	Keys, PreviousKeys *proof.Keyring

	dir    string
	tokens map[string]string // scope -> bearer token

	workerMu sync.Mutex
	worker   sdkworker.Worker
}

var (
	sharedOnce sync.Once
	shared     *system
	sharedErr  error
	ids        atomic.Int64
)

// sys returns the shared system, building it on first use.
func sys(t testing.TB) *system {
	t.Helper()
	addr, ns := testenv.TemporalAddress(t), testenv.TemporalNamespace(t)
	sharedOnce.Do(func() { shared, sharedErr = build(addr, ns) })
	if sharedErr != nil {
		t.Fatalf("building the system under test: %v", sharedErr)
	}
	return shared
}

func build(temporalAddr, namespace string) (_ *system, err error) {
	ctx := context.Background()
	s := &system{tokens: map[string]string{}}
	if s.dir, err = os.MkdirTemp("", "policyflow-api-test-"); err != nil {
		return nil, err
	}
	if s.Store, err = models.Open("sqlite://" + filepath.Join(s.dir, "policyflow.db")); err != nil {
		return nil, err
	}
	if err := s.Store.Migrate(ctx); err != nil {
		return nil, err
	}
	quiet := slog.New(slog.DiscardHandler)
	if s.Temporal, err = client.Dial(client.Options{HostPort: temporalAddr, Namespace: namespace,
		Logger: tlog.NewStructuredLogger(quiet)}); err != nil {
		return nil, fmt.Errorf("dial Temporal at %s: %w", temporalAddr, err)
	}
	log := quiet
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}

	// The listener exists before the server starts, so its URL can go into the activities.
	s.HTTP = httptest.NewUnstartedServer(nil)
	s.URL = "http://" + s.HTTP.Listener.Addr().String()
	// The API signs decisions and the worker verifies them, as in production, after a
	// rotation: the API signs with "current", the worker still accepts "previous".
	keyB64 := func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	previous := "previous:" + keyB64()
	if s.Keys, err = proof.ParseKeys("current:" + keyB64() + "," + previous); err != nil {
		return nil, err
	}
	if s.PreviousKeys, err = proof.ParseKeys(previous); err != nil {
		return nil, err
	}
	workflows.UseDecisionVerifier(s.Keys)
	s.API = &api.Server{Store: s.Store, Temporal: s.Temporal, Loc: tokyo, TimeZone: "Asia/Tokyo",
		Log: log, UpdateTimeout: 5 * time.Second, DecisionKeys: s.Keys,
		Mailer: activities.Outbox{Store: s.Store}, PublicURL: s.URL, SignInPerMinute: 10000}
	s.HTTP.Config.Handler = s.API.Handler()
	s.HTTP.Start()
	s.Acts = &activities.Activities{Store: s.Store, Mailer: activities.Outbox{Store: s.Store},
		PublicURL: s.URL, From: "policyflow@test.example", Loc: tokyo, Log: log,
		Batches: &offboarding.Starter{Store: s.Store, Temporal: s.Temporal, TimeZone: "Asia/Tokyo", Log: log}}

	if _, err := s.Store.PutPeople(ctx, []models.Person{
		person(sharedCISO, "town-office", "ciso"),
		person(sharedGISO, "town-office", "giso"),
	}); err != nil {
		return nil, err
	}
	for _, scope := range scopes {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		tok := "pf-test-" + scope + "-" + base64.RawURLEncoding.EncodeToString(b)
		stored := scope
		if scope == "none" {
			stored = ""
		}
		if err := s.Store.PutToken(ctx, models.APIToken{Name: "test-" + scope, Hash: activities.HashToken(tok), Scopes: stored}); err != nil {
			return nil, err
		}
		s.tokens[scope] = tok
	}
	if err := s.startWorker(); err != nil {
		return nil, err
	}
	return s, nil
}

// shutdown runs after the tests and after testenv has stopped Temporal: it closes the API
// and removes the database. The worker and client die with the binary.
func shutdown() {
	if shared == nil {
		return
	}
	shared.HTTP.Close()
	_ = shared.Store.Close()
	_ = os.RemoveAll(shared.dir)
}

// startWorker starts a new worker on the task queue.
func (s *system) startWorker() error {
	s.workerMu.Lock()
	defer s.workerMu.Unlock()
	if s.worker != nil {
		return fmt.Errorf("a worker is already running")
	}
	w := worker.New(s.Temporal, s.Acts)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	s.worker = w
	return nil
}

// stopWorker stops the running worker. Only a test that does not run in parallel may
// call it, and it must start a worker again before it ends.
func (s *system) stopWorker() {
	s.workerMu.Lock()
	defer s.workerMu.Unlock()
	if s.worker != nil {
		s.worker.Stop()
		s.worker = nil
	}
}

func (s *system) token(scope string) string { return s.tokens[scope] }

// uid returns an ID no other test uses, e.g. "dept-12".
func uid(prefix string) string { return fmt.Sprintf("%s-%d", prefix, ids.Add(1)) }

func person(id, dept string, roles ...string) models.Person {
	p := models.Person{EmployeeID: id, Name: "Name of " + id, Email: strings.ToLower(id) + "@town.example",
		DepartmentID: dept, Locale: "en", Status: models.StatusEmployed}
	if id == sharedCISO {
		p.Name = sharedCISOName
	}
	for _, r := range roles {
		if (r == "ciso" || r == "giso") && !strings.HasPrefix(id, "00000-") {
			panic("tests share the directory's one CISO and GISO: do not create another")
		}
		p.Roles = append(p.Roles, models.PersonRole{EmployeeID: id, Role: r})
	}
	return p
}

// addPerson puts a new person with the given roles into dept.
func (s *system) addPerson(t testing.TB, dept string, roles ...string) models.Person {
	t.Helper()
	p := person(uid("emp"), dept, roles...)
	if _, err := s.Store.PutPeople(context.Background(), []models.Person{p}); err != nil {
		t.Fatalf("put person: %v", err)
	}
	return p
}

// ---- HTTP ----

var httpClient = &http.Client{
	Timeout:   time.Minute,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64},
	// A test sees redirects as they are.
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// reply is an HTTP answer, read whole.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r reply) String() string {
	b := string(r.Body)
	if len(b) > 600 {
		b = b[:600] + "…"
	}
	return fmt.Sprintf("%d %s", r.Status, b)
}

// decode reads a JSON answer into v.
func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("answer is %q, not JSON: %s", ct, r)
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode answer: %v: %s", err, r)
	}
}

// object decodes a JSON object.
func (r reply) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

// apiError is API.md's error body; Rows is the CSV import's per-row report.
type apiError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields"`
	Rows    []struct {
		Row    int               `json:"row"`
		Fields map[string]string `json:"fields"`
	} `json:"rows"`
}

// wantError checks that r is an error of API.md's shape with this status and code, and
// returns it.
func (r reply) wantError(t testing.TB, status int, code string) apiError {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r)
	}
	var top map[string]json.RawMessage
	r.decode(t, &top)
	if len(top) != 1 || top["error"] == nil {
		t.Fatalf(`body is not {"error": {...}}: %s`, r)
	}
	var e apiError
	if err := json.Unmarshal(top["error"], &e); err != nil {
		t.Fatalf("error body: %v: %s", err, r)
	}
	if e.Code != code || e.Message == "" {
		t.Fatalf("error code %q (message %q), want code %q with a message: %s", e.Code, e.Message, code, r)
	}
	for _, leak := range []string{"runtime.", "goroutine", ".go:", "sql", "gorm", "rpc error"} {
		if strings.Contains(strings.ToLower(e.Message), leak) {
			t.Errorf("error message leaks an internal detail (%q): %s", leak, e.Message)
		}
	}
	return e
}

// call sends a request to the API. path is relative to the server or a whole URL; body is
// nil, a string or []byte (sent as is) or a value sent as JSON; headers are key, value
// pairs (Content-Type defaults to application/json when there is a body).
func call(t testing.TB, method, path, token string, body any, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	if !strings.HasPrefix(path, "http") {
		path = shared.URL + path
	}
	req, err := http.NewRequest(method, path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return send(t, req)
}

func send(t testing.TB, req *http.Request) reply {
	t.Helper()
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, redactLink(req.URL.Path), err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, redactLink(req.URL.Path), err)
	}
	return reply{Status: res.StatusCode, Header: res.Header, Body: b}
}

// post sends a form to a task link, as the page's buttons do; asJSON asks for JSON.
func post(t testing.TB, link string, form url.Values, asJSON bool, headers ...string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, link, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if asJSON {
		req.Header.Set("Accept", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return send(t, req)
}

func decision(choice, comment string) url.Values {
	return url.Values{"decision": {choice}, "comment": {comment}}
}

func redactLink(p string) string {
	if strings.HasPrefix(p, "/tasks/") {
		return "/tasks/<token>"
	}
	return p
}

// ---- waiting ----

// eventually polls cond until it holds, failing the test after a deadline. state describes
// what was last seen, for the failure message.
func eventually(t testing.TB, what string, cond func() (ok bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (last seen: %s)", what, state)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// ---- processes ----

func date(days int) string { return time.Now().In(tokyo).AddDate(0, 0, days).Format("2006-01-02") }

// exceptionRequest is a valid exception request by requester, from tomorrow for 30 days.
func exceptionRequest(requester string) map[string]any {
	return map[string]any{
		"requester":      requester,
		"clauses":        []string{"6.1(5)"},
		"alternative":    "The logs are copied to a USB disk by hand every Friday.",
		"reason":         "The log server is being replaced.",
		"systems":        []string{},
		"classification": 2,
		"start_date":     date(1),
		"end_date":       date(30),
	}
}

type startedBody struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	WorkflowID string `json:"workflow_id"`
	Status     string `json:"status"`
}

// startException starts an exception request and returns the process ID.
func (s *system) startException(t testing.TB, body map[string]any) string {
	t.Helper()
	r := call(t, http.MethodPost, "/api/v1/exceptions", s.token("officer"), body)
	if r.Status != http.StatusCreated {
		t.Fatalf("start exception: %s", r)
	}
	var b startedBody
	r.decode(t, &b)
	if b.ID == "" || b.Kind != "exception" || b.WorkflowID == "" {
		t.Fatalf("start exception: unexpected answer %s", r)
	}
	if loc := r.Header.Get("Location"); loc != "/api/v1/processes/"+b.ID {
		t.Errorf("Location %q, want /api/v1/processes/%s", loc, b.ID)
	}
	return b.ID
}

// openTask is a process waiting for a person's decision, with the link mailed to them.
type openTask struct {
	ProcessID string
	Requester models.Person
	Task      models.Task
	Link      string
}

// newOpenTask starts an exception request by a new department's security officer and
// waits until the CISO's review task is open, its link mailed and the workflow idle.
func (s *system) newOpenTask(t testing.TB) openTask {
	t.Helper()
	requester := s.addPerson(t, uid("dept"), "diso")
	id := s.startException(t, exceptionRequest(requester.EmployeeID))
	o := s.waitForOpenTask(t, id)
	o.Requester = requester
	return o
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+/tasks/[A-Za-z0-9_-]+`)

// waitForOpenTask waits for the process's first open task and the mail with its link, then
// for the workflow to be idle (no workflow task or activity pending).
func (s *system) waitForOpenTask(t testing.TB, processID string) openTask {
	t.Helper()
	db := s.Store.DB
	var task models.Task
	eventually(t, "the first task of "+processID, func() (bool, string) {
		err := db.Where("process_id = ? AND status = ?", processID, models.TaskOpen).Order("created_at").First(&task).Error
		return err == nil, fmt.Sprint(err)
	})
	key := task.ID + "/assigned/" + task.AssigneeID
	var msg models.OutboxMessage
	eventually(t, "the mail of task "+task.ID, func() (bool, string) {
		err := db.Where("`key` = ?", key).First(&msg).Error
		return err == nil, fmt.Sprint(err)
	})
	link := linkPattern.FindString(msg.Text)
	if !strings.HasPrefix(link, s.URL+"/tasks/") {
		t.Fatalf("the mail's link %q does not point to the server under test %s", link, s.URL)
	}
	s.waitIdle(t, processID)
	return openTask{ProcessID: processID, Task: task, Link: link}
}

// waitIdle waits until the workflow has nothing pending but timers and every mail
// prepared for the process is recorded as sent.
func (s *system) waitIdle(t testing.TB, workflowID string) {
	t.Helper()
	eventually(t, "workflow "+workflowID+" to be idle", func() (bool, string) {
		d, err := s.Temporal.DescribeWorkflowExecution(context.Background(), workflowID, "")
		if err != nil {
			return false, err.Error()
		}
		var pending int64
		if err := s.Store.DB.Model(&models.Notification{}).Where("process_id = ? AND status <> ?", workflowID, models.NotificationSent).Count(&pending).Error; err != nil {
			return false, err.Error()
		}
		state := fmt.Sprintf("pending workflow task %v, %d pending activities, %d unsent mails",
			d.PendingWorkflowTask != nil, len(d.PendingActivities), pending)
		return d.PendingWorkflowTask == nil && len(d.PendingActivities) == 0 && pending == 0, state
	})
}

// historyLength is the number of events in the workflow's history.
func (s *system) historyLength(t testing.TB, workflowID string) int64 {
	t.Helper()
	d, err := s.Temporal.DescribeWorkflowExecution(context.Background(), workflowID, "")
	if err != nil {
		t.Fatalf("describe %s: %v", workflowID, err)
	}
	return d.WorkflowExecutionInfo.HistoryLength
}

// historyCounts counts the decide Updates the workflow accepted and the RecordDecision
// activities it scheduled.
func (s *system) historyCounts(t testing.TB, workflowID string) (accepted, recorded int) {
	t.Helper()
	it := s.Temporal.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", workflowID, err)
		}
		switch e.EventType {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			if e.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput().GetName() == workflows.UpdateDecide {
				accepted++
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: // processes started before "local-register"
			if e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == "RecordDecision" {
				recorded++
			}
		case enumspb.EVENT_TYPE_MARKER_RECORDED: // a local activity's record
			if testenv.LocalActivityType(e) == "RecordDecision" {
				recorded++
			}
		}
	}
	return accepted, recorded
}

// snapshot is everything the register holds on a process, as JSON, to compare before and
// after a request that must change nothing.
func (s *system) snapshot(t testing.TB, processID string) string {
	t.Helper()
	var d struct {
		Process       models.Process
		Events        []models.ProcessEvent
		Tasks         []models.Task
		Links         []models.TaskLink
		Requests      []models.DecisionRequest
		Decisions     []models.Decision
		Notifications []models.Notification
		Outbox        []models.OutboxMessage
	}
	db := s.Store.DB
	check := func(err error) {
		if err != nil {
			t.Fatalf("snapshot of %s: %v", processID, err)
		}
	}
	check(db.First(&d.Process, "id = ?", processID).Error)
	check(db.Where("process_id = ?", processID).Order("id").Find(&d.Events).Error)
	check(db.Where("process_id = ?", processID).Order("id").Find(&d.Tasks).Error)
	taskIDs := make([]string, 0, len(d.Tasks))
	for _, x := range d.Tasks {
		taskIDs = append(taskIDs, x.ID)
	}
	check(db.Where("task_id IN ?", append(taskIDs, "")).Order("token_hash").Find(&d.Links).Error)
	check(db.Where("task_id IN ?", append(taskIDs, "")).Order("request_id").Find(&d.Requests).Error)
	check(db.Where("process_id = ?", processID).Order("id").Find(&d.Decisions).Error)
	check(db.Where("process_id = ?", processID).Order("id").Find(&d.Notifications).Error)
	check(db.Where("`key` LIKE ?", processID+"/%").Order("id").Find(&d.Outbox).Error)
	b, err := json.MarshalIndent(d, "", " ")
	check(err)
	return string(b)
}

// processDetail is GET /api/v1/processes/{id}.
type processDetail struct {
	Process struct {
		ID         string     `json:"id"`
		Kind       string     `json:"kind"`
		Status     string     `json:"status"`
		Stage      string     `json:"stage"`
		WorkflowID string     `json:"workflow_id"`
		Department string     `json:"department"`
		ClosedAt   *time.Time `json:"closed_at"`
	} `json:"process"`
	Tasks []struct {
		ID       string   `json:"id"`
		Step     string   `json:"step"`
		Assignee string   `json:"assignee_id"`
		Status   string   `json:"status"`
		Choices  []string `json:"choices"`
	} `json:"tasks"`
	Decisions []struct {
		TaskID      string    `json:"task_id"`
		Decision    string    `json:"decision"`
		DeciderID   string    `json:"decider_id"`
		DeciderName string    `json:"decider_name"`
		Comment     string    `json:"comment"`
		ClientIP    string    `json:"client_ip"`
		UserAgent   string    `json:"user_agent"`
		DecidedAt   time.Time `json:"decided_at"`
	} `json:"decisions"`
	Cancellation map[string]string `json:"cancellation"`
}

func (s *system) process(t testing.TB, id string) processDetail {
	t.Helper()
	r := call(t, http.MethodGet, "/api/v1/processes/"+url.PathEscape(id), s.token("auditor"), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET process %s: %s", id, r)
	}
	var d processDetail
	r.decode(t, &d)
	return d
}

// countRows counts rows of model matching a condition.
func (s *system) countRows(t testing.TB, model any, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.Store.DB.Model(model).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
