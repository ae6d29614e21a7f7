package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/api"
	"github.com/policyflow/policyflow/internal/testenv"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/proof"
	"github.com/policyflow/policyflow/worker"
	"github.com/policyflow/policyflow/workflows"
)

// The directory the benchmark runs on: one person per role, one department, one system.
const (
	cisoID     = "B0001-ciso"
	gisoID     = "B0002-giso"
	disoID     = "B0003-diso"
	ismID      = "B0004-ism"
	staffID    = "B0005-staff"
	reviewerID = "B0006-reviewer"
	deptID     = "bench-dept"
	officeID   = "bench-general"
	systemID   = "bench-sys"
	townZone   = "Asia/Tokyo"
	// baselineQueue is the task queue of the baseline workflows (a trivial Update target, a
	// minimal workflow with n activities), polled by a worker with policyflow's options.
	baselineQueue = "bench-baseline"
)

var tokyo = func() *time.Location {
	loc, err := time.LoadLocation(townZone)
	if err != nil {
		panic(err)
	}
	return loc
}()

// system is policyflow in-process: the register, a Temporal client, the API behind an
// httptest server and the worker, as api/fixture_test.go builds it, plus a worker for the
// baseline workflows.
type system struct {
	store         *models.Store
	dbURL         string // what models.Open took
	dbDescription string
	tc            client.Client
	temporalAddr  string
	namespace     string
	api           *api.Server
	http          *httptest.Server
	url           string
	acts          *activities.Activities
	tokens        map[string]string
	dir           string

	mu       sync.Mutex
	worker   sdkworker.Worker
	baseline sdkworker.Worker

	pids servicePIDs
}

var quiet = slog.New(slog.DiscardHandler)

// decisionKeys sign the API's decisions and the worker verifies them, as in production.
var decisionKeys = func() *proof.Keyring {
	r, err := proof.Generate("bench")
	if err != nil {
		panic(err)
	}
	return r
}()

func build(b *testing.B) *system {
	ctx := context.Background()
	s := &system{tokens: map[string]string{}}
	var err error
	if s.dir, err = os.MkdirTemp("", "policyflow-bench-"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = os.RemoveAll(s.dir) })
	s.temporalAddr, s.namespace = testenv.TemporalAddress(b), testenv.TemporalNamespace(b)
	if settings().DB == "sqlite" {
		s.dbURL = "sqlite://" + filepath.Join(s.dir, "policyflow.db")
	} else {
		s.dbURL = "mysql://" + testenv.MariaDB(b)
	}
	if s.store, err = models.Open(s.dbURL); err != nil {
		b.Fatalf("open the register: %v", err)
	}
	b.Cleanup(func() { _ = s.store.Close() })
	if err := s.store.Migrate(ctx); err != nil {
		b.Fatalf("migrate: %v", err)
	}
	s.dbDescription = s.describeDB()
	if s.tc, err = client.Dial(client.Options{HostPort: s.temporalAddr, Namespace: s.namespace, Logger: tlog.NewStructuredLogger(quiet)}); err != nil {
		b.Fatalf("dial Temporal: %v", err)
	}
	b.Cleanup(s.tc.Close)

	s.http = httptest.NewUnstartedServer(nil)
	s.url = "http://" + s.http.Listener.Addr().String()
	s.api = s.newAPI(s.store)
	s.http.Config.Handler = s.api.Handler()
	s.http.Start()
	b.Cleanup(s.http.Close)
	s.acts = &activities.Activities{Store: s.store, Mailer: activities.Outbox{Store: s.store},
		PublicURL: s.url, From: "policyflow@bench.example", Loc: tokyo, Log: quiet}

	if err := s.seed(ctx); err != nil {
		b.Fatalf("seed the directory: %v", err)
	}
	if err := s.startWorkers(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.stopWorkers)
	s.pids = findServicePIDs(s.temporalAddr, s.dbURL)
	return s
}

func (s *system) newAPI(store *models.Store) *api.Server {
	return &api.Server{Store: store, Temporal: s.tc, Loc: tokyo, TimeZone: townZone, Log: quiet, UpdateTimeout: 10 * time.Second,
		DecisionKeys: decisionKeys}
}

func (s *system) seed(ctx context.Context) error {
	person := func(id, dept, locale string, roles ...string) models.Person {
		p := models.Person{EmployeeID: id, Name: "Bench " + id, Email: strings.ToLower(id) + "@bench.example",
			DepartmentID: dept, Locale: locale, Status: models.StatusEmployed}
		for _, r := range roles {
			p.Roles = append(p.Roles, models.PersonRole{EmployeeID: id, Role: r})
		}
		return p
	}
	if _, err := s.store.PutPeople(ctx, []models.Person{
		person(cisoID, "bench-mayor", "ja", "ciso"),
		person(gisoID, officeID, "ja", "giso"),
		person(disoID, deptID, "ja", "diso"),
		person(ismID, deptID, "ja", "ism"),
		person(staffID, deptID, "en", "staff"),
		person(reviewerID, officeID, "ja", "staff"),
	}); err != nil {
		return err
	}
	if _, err := s.store.PutSystem(ctx, models.System{ID: systemID, Name: "Bench system", DepartmentID: deptID, ISMEmployeeID: ismID, Classification: 1}); err != nil {
		return err
	}
	for _, scope := range []string{"hr", "officer", "directory", "auditor", "admin"} {
		raw := make([]byte, 24)
		_, _ = rand.Read(raw)
		tok := "pf-bench-" + scope + "-" + base64.RawURLEncoding.EncodeToString(raw)
		if err := s.store.PutToken(ctx, models.APIToken{Name: "bench-" + scope, Hash: activities.HashToken(tok), Scopes: scope}); err != nil {
			return err
		}
		s.tokens[scope] = tok
	}
	return nil
}

// startWorkers starts policyflow's worker (worker.New, the production options) and the
// baseline worker (the same options, on its own task queue).
func (s *system) startWorkers() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	workflows.UseDecisionVerifier(decisionKeys)
	w := worker.New(s.tc, s.acts)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start the worker: %w", err)
	}
	s.worker = w
	bw := sdkworker.New(s.tc, baselineQueue, worker.Options())
	bw.RegisterWorkflowWithOptions(TrivialUpdateWorkflow, workflow.RegisterOptions{Name: "BenchTrivialUpdate"})
	bw.RegisterWorkflowWithOptions(MinimalWorkflow, workflow.RegisterOptions{Name: "BenchMinimal"})
	bw.RegisterActivityWithOptions(Noop, activityOptions("BenchNoop"))
	if err := bw.Start(); err != nil {
		return fmt.Errorf("start the baseline worker: %w", err)
	}
	s.baseline = bw
	return nil
}

func (s *system) stopWorkers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.worker != nil {
		s.worker.Stop()
		s.worker = nil
	}
	if s.baseline != nil {
		s.baseline.Stop()
		s.baseline = nil
	}
}

// ---- HTTP ----

var httpClient = &http.Client{
	Timeout: time.Minute,
	Transport: &http.Transport{
		MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r reply) String() string {
	b := string(r.Body)
	if len(b) > 400 {
		b = b[:400] + "…"
	}
	return fmt.Sprintf("%d %s", r.Status, b)
}

func (r reply) decode(v any) error { return json.Unmarshal(r.Body, v) }

// call sends a JSON request to the API with a bearer token of the given scope.
func (s *system) call(ctx context.Context, method, path, scope string, body any) (reply, error) {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(j)
	}
	if !strings.HasPrefix(path, "http") {
		path = s.url + path
	}
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return reply{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if scope != "" {
		req.Header.Set("Authorization", "Bearer "+s.tokens[scope])
	}
	return do(req)
}

func do(req *http.Request) (reply, error) {
	res, err := httpClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return reply{Status: res.StatusCode, Header: res.Header, Body: b}, err
}

// postDecision posts a task page's form as a person's browser does (an HTML answer).
func postDecision(ctx context.Context, link string, form url.Values) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, link, strings.NewReader(form.Encode()))
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "policyflow-bench")
	return do(req)
}

// ---- processes ----

func date(days int) string { return time.Now().In(tokyo).AddDate(0, 0, days).Format("2006-01-02") }

// exceptionRequest is a valid exception request by the department's security officer.
func exceptionRequest() map[string]any {
	return map[string]any{
		"requester":      disoID,
		"clauses":        []string{"6.1(5)"},
		"alternative":    "The logs are copied by hand every Friday.",
		"reason":         "The log server is being replaced.",
		"systems":        []string{systemID},
		"classification": 2,
		"start_date":     date(1),
		"end_date":       date(30),
	}
}

type startedBody struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	WorkflowID string `json:"workflow_id"`
}

// start posts a start request and returns the process ID.
func (s *system) start(ctx context.Context, path string, body any) (string, error) {
	r, err := s.call(ctx, http.MethodPost, path, "officer", body)
	if err != nil {
		return "", err
	}
	if r.Status != http.StatusCreated {
		return "", fmt.Errorf("POST %s: %s", path, r)
	}
	var sb startedBody
	if err := r.decode(&sb); err != nil || sb.ID == "" {
		return "", fmt.Errorf("POST %s: unexpected answer %s", path, r)
	}
	return sb.ID, nil
}

// startDirect registers a process and starts its workflow with an input the API would not
// take (a custom timing, dates already past), with the options startProcess uses.
func (s *system) startDirect(ctx context.Context, id, kind, wfName string, input any) error {
	p := models.Process{ID: id, Kind: kind, Status: "starting", Stage: "submitted", WorkflowID: id,
		DepartmentID: deptID, RequesterID: disoID, Summary: "Benchmark " + kind, Input: "{}", RequestHash: "bench"}
	if err := s.store.CreateProcess(ctx, &p); err != nil {
		return err
	}
	_, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueue, StaticSummary: p.Summary,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.ProcessKind.ValueSet(kind), workflows.ProcessStage.ValueSet("submitted"),
			workflows.Department.ValueSet(deptID)),
	}, wfName, input)
	return err
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+/tasks/[A-Za-z0-9_-]{43}`)

// linkOf returns the link of the mail that opened the task (from the outbox).
func (s *system) linkOf(ctx context.Context, t models.Task) (string, error) {
	var msg models.OutboxMessage
	err := s.store.DB.WithContext(ctx).Where("`key` LIKE ?", t.ID+"/assigned/%").Order("id").First(&msg).Error
	if err != nil {
		return "", err
	}
	link := linkPattern.FindString(msg.Text)
	if link == "" {
		return "", fmt.Errorf("no link in the mail of task %s", t.ID)
	}
	return link, nil
}

// openTasks waits until each process has an open task whose mail is in the outbox and
// returns the link of each (in the order of ids).
func (s *system) openLinks(ctx context.Context, ids []string, what string) ([]string, error) {
	links := make([]string, len(ids))
	index := map[string]int{}
	for i, id := range ids {
		index[id] = i
	}
	missing := len(ids)
	deadline := time.Now().Add(10 * time.Minute)
	lastReport := time.Now()
	for missing > 0 {
		var pending []string
		for _, id := range ids {
			if links[index[id]] == "" {
				pending = append(pending, id)
			}
		}
		for chunk := range chunks(pending, 500) {
			var tasks []models.Task
			if err := s.store.DB.WithContext(ctx).Where("process_id IN ? AND status = ?", chunk, models.TaskOpen).Find(&tasks).Error; err != nil {
				return nil, err
			}
			keys := make([]string, 0, len(tasks))
			byKey := map[string]models.Task{}
			for _, t := range tasks {
				k := t.ID + "/assigned/" + t.AssigneeID
				keys = append(keys, k)
				byKey[k] = t
			}
			var msgs []models.OutboxMessage
			if len(keys) > 0 {
				if err := s.store.DB.WithContext(ctx).Where("`key` IN ?", keys).Find(&msgs).Error; err != nil {
					return nil, err
				}
			}
			for _, m := range msgs {
				t := byKey[m.Key]
				if l := linkPattern.FindString(m.Text); l != "" && links[index[t.ProcessID]] == "" {
					links[index[t.ProcessID]] = l
					missing--
				}
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: %d of %d processes have no open task with a mailed link after 10 minutes", what, missing, len(ids))
		}
		if time.Since(lastReport) > 10*time.Second {
			progress("  %s: %d/%d tasks open and mailed", what, len(ids)-missing, len(ids))
			lastReport = time.Now()
		}
		time.Sleep(200 * time.Millisecond)
	}
	return links, nil
}

// waitIdle waits until the workflow has no workflow task or activity pending and every
// mail of the process is sent.
func (s *system) waitIdle(ctx context.Context, id string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		d, err := s.tc.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			return err
		}
		var unsent int64
		if err := s.store.DB.WithContext(ctx).Model(&models.Notification{}).Where("process_id = ? AND status <> ?", id, models.NotificationSent).Count(&unsent).Error; err != nil {
			return err
		}
		if d.PendingWorkflowTask == nil && len(d.PendingActivities) == 0 && unsent == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("workflow %s not idle after 2 minutes (pending workflow task %v, %d activities, %d unsent mails)",
				id, d.PendingWorkflowTask != nil, len(d.PendingActivities), unsent)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func chunks[T any](xs []T, n int) func(func([]T) bool) {
	return func(yield func([]T) bool) {
		for i := 0; i < len(xs); i += n {
			if !yield(xs[i:min(i+n, len(xs))]) {
				return
			}
		}
	}
}

// parallel runs f(i) for i in [0, n) on workers goroutines and returns the first error.
func parallel(n, workers int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}
