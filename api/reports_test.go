package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/api"
	"github.com/policyflow/policyflow/models"
)

// lockedBuffer is a log sink tests can read while the server writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// reportServer is an API on a register of its own (no Temporal: the report routes need
// none), with a clock and a log the test reads.
type reportServer struct {
	store  *models.Store
	url    string
	logs   *lockedBuffer
	now    time.Time
	tokens map[string]string
}

func newReportServer(t *testing.T) *reportServer {
	t.Helper()
	store, err := models.Open("sqlite://" + filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	r := &reportServer{store: store, logs: &lockedBuffer{}, now: time.Date(2027, 4, 20, 1, 0, 0, 0, time.UTC), tokens: map[string]string{}}
	for _, scope := range []string{"auditor", "officer", "admin"} {
		tok, hash, _ := activities.NewToken()
		if err := store.PutToken(ctx, models.APIToken{Name: scope, Hash: hash, Scopes: scope}); err != nil {
			t.Fatal(err)
		}
		r.tokens[scope] = tok
	}
	srv := &api.Server{Store: store, Loc: tokyo, TimeZone: "Asia/Tokyo", Now: func() time.Time { return r.now },
		Log: slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	r.url = hs.URL
	return r
}

// The report page is server-rendered HTML under the task pages' strict headers: no script
// may run (the CSP allows none, and the page has none), no Referer leaves it.
func TestFiscalYearReportPage(t *testing.T) {
	r := newReportServer(t)
	res := call(t, "GET", r.url+"/api/v1/reports/fiscal-year/2026", r.tokens["auditor"], nil)
	if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("report: %s", res)
	}
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") || res.Header.Get("Referrer-Policy") != "no-referrer" ||
		res.Header.Get("X-Frame-Options") != "DENY" || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: %v", res.Header)
	}
	body := strings.ToLower(string(res.Body))
	for _, banned := range []string{"<script", "javascript:", " onload=", " onclick=", "<img", "<link", "src="} {
		if strings.Contains(body, banned) {
			t.Errorf("the page contains %q", banned)
		}
	}
	if !strings.Contains(body, "<svg") || !strings.Contains(string(res.Body), "年次報告（2026年度）") {
		t.Errorf("no chart, or not the Japanese report: %s", res)
	}
	if en := call(t, "GET", r.url+"/api/v1/reports/fiscal-year/2026?lang=en", r.tokens["admin"], nil); !strings.Contains(string(en.Body), "fiscal year 2026") {
		t.Errorf("English report: %s", en)
	}
	call(t, "GET", r.url+"/api/v1/reports/fiscal-year/2026", r.tokens["officer"], nil).wantError(t, 403, "forbidden")
	call(t, "GET", r.url+"/api/v1/reports/fiscal-year/2026", "", nil).wantError(t, 401, "unauthorized")
	call(t, "GET", r.url+"/api/v1/reports/fiscal-year/26", r.tokens["auditor"], nil).wantError(t, 400, "validation_failed")
	call(t, "GET", r.url+"/api/v1/reports/fiscal-year/2026?lang=fr", r.tokens["auditor"], nil).wantError(t, 400, "validation_failed")
}

// A committee member's mailed link opens the report in their language until it expires or
// is revoked (410); an unknown token is 404; the token never reaches the log.
func TestReportLinkExpiresAndIsRevoked(t *testing.T) {
	r := newReportServer(t)
	ctx := context.Background()
	if _, err := r.store.PutPeople(ctx, []models.Person{{EmployeeID: "M1", Name: "Member One", Email: "m1@town.example", Locale: "en",
		Status: models.StatusEmployed, Roles: []models.PersonRole{{EmployeeID: "M1", Role: "committee"}}}}); err != nil {
		t.Fatal(err)
	}
	link := func(expires time.Time) string {
		tok, hash, _ := activities.NewToken()
		if err := r.store.DB.Create(&models.ReportLink{TokenHash: hash, FiscalYear: 2026, PersonID: "M1", NotificationKey: "k/" + hash[:8], ExpiresAt: expires}).Error; err != nil {
			t.Fatal(err)
		}
		return tok
	}
	live, old := link(r.now.Add(time.Hour)), link(r.now.Add(-time.Second))
	res := call(t, "GET", r.url+"/reports/"+live, "", nil)
	if res.Status != 200 || !strings.Contains(string(res.Body), `<html lang="en">`) || !strings.Contains(string(res.Body), "fiscal year 2026") {
		t.Fatalf("live link: %s", res)
	}
	if res.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("headers: %v", res.Header)
	}
	if res := call(t, "HEAD", r.url+"/reports/"+live, "", nil); res.Status != 200 {
		t.Errorf("HEAD: %d", res.Status)
	}
	if res := call(t, "GET", r.url+"/reports/"+old, "", nil); res.Status != http.StatusGone || !strings.Contains(string(res.Body), "expired") {
		t.Errorf("expired link: %s", res)
	}
	if res := call(t, "GET", r.url+"/reports/"+strings.Repeat("A", 43), "", nil); res.Status != http.StatusNotFound {
		t.Errorf("unknown token: %d", res.Status)
	}
	altered := live[:42] + map[bool]string{true: "B", false: "A"}[live[42] == 'A']
	if res := call(t, "GET", r.url+"/reports/"+altered, "", nil); res.Status != http.StatusNotFound {
		t.Errorf("altered token: %d", res.Status)
	}

	call(t, "POST", r.url+"/api/v1/reports/fiscal-year/2026/revoke-links", r.tokens["auditor"], nil).wantError(t, 403, "forbidden")
	res = call(t, "POST", r.url+"/api/v1/reports/fiscal-year/2026/revoke-links", r.tokens["admin"], nil)
	var out map[string]int
	if res.Status != 200 || json.Unmarshal(res.Body, &out) != nil || out["revoked"] != 2 {
		t.Fatalf("revoke: %s", res)
	}
	if res := call(t, "GET", r.url+"/reports/"+live, "", nil); res.Status != http.StatusGone || !strings.Contains(string(res.Body), "revoked") {
		t.Errorf("revoked link: %s", res)
	}
	logs := r.logs.String()
	if !strings.Contains(logs, "/reports/:token") {
		t.Errorf("the requests were not logged by route: %s", logs)
	}
	for _, tok := range []string{live, old, altered} {
		if strings.Contains(logs, tok) {
			t.Fatalf("a report token reached the log")
		}
	}
}

// A register downloads as CSV for Excel, to the auditor only.
func TestRegisterExport(t *testing.T) {
	r := newReportServer(t)
	res := call(t, "GET", r.url+"/api/v1/registers/exceptions.csv", r.tokens["auditor"], nil)
	if res.Status != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), `attachment; filename="exceptions-20270420.csv"`) {
		t.Fatalf("export: %s %v", res, res.Header)
	}
	if !bytes.HasPrefix(res.Body, []byte("\ufeff申請番号 (id),")) || !bytes.HasSuffix(res.Body, []byte("\r\n")) {
		t.Errorf("body: %q", res.Body)
	}
	for _, name := range []string{"incidents", "vendors", "cloud-services", "accounts"} {
		if res := call(t, "GET", r.url+"/api/v1/registers/"+name+".csv", r.tokens["auditor"], nil); res.Status != 200 {
			t.Errorf("%s: %s", name, res)
		}
	}
	if res := call(t, "GET", r.url+"/api/v1/registers/exceptions.csv?fiscal_year=2026", r.tokens["auditor"], nil); res.Status != 200 {
		t.Errorf("with a fiscal year: %s", res)
	}
	call(t, "GET", r.url+"/api/v1/registers/exceptions.csv?fiscal_year=26", r.tokens["auditor"], nil).wantError(t, 400, "validation_failed")
	call(t, "GET", r.url+"/api/v1/registers/people.csv", r.tokens["auditor"], nil).wantError(t, 404, "not_found")
	call(t, "GET", r.url+"/api/v1/registers/exceptions", r.tokens["auditor"], nil).wantError(t, 404, "not_found")
	call(t, "GET", r.url+"/api/v1/registers/exceptions.csv", r.tokens["officer"], nil).wantError(t, 403, "forbidden")
}
