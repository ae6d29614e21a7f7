package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
)

// seedReportYear puts a small fiscal year 2026 into the register, enough for every chart.
func seedReportYear(t *testing.T, s *models.Store) {
	t.Helper()
	ctx := context.Background()
	at := func(day, hour int) time.Time {
		return time.Date(2026, 4, 1, hour, 0, 0, 0, time.UTC).AddDate(0, 0, day)
	}
	create := func(v any) {
		if err := s.DB.Create(v).Error; err != nil {
			t.Fatal(err)
		}
	}
	statuses := []string{"in_effect", "in_effect", "completed", "completed", "completed", "rejected", "revoked", "pending"}
	for i, st := range statuses {
		in, _ := json.Marshal(map[string]any{"clauses": []string{"6.2(1)"}, "start_date": at(i*20, 0).Format("2006-01-02"),
			"end_date": at(i*20+60, 0).Format("2006-01-02"), "emergency": i%3 == 0})
		id := fmt.Sprintf("EXC-%d", i)
		create(&models.Process{ID: id, Kind: models.KindException, Status: st, Stage: st, WorkflowID: id, Input: string(in), CreatedAt: at(i*20+i%3, 1)})
	}
	cats := []string{"malware", "malware", "misdelivered_mail", "misdelivered_mail", "misdelivered_mail", "loss_theft", "unauthorized_access"}
	for i, c := range cats {
		id := fmt.Sprintf("INC-%d", i)
		found := at(i*30, 0)
		create(&models.Process{ID: id, Kind: models.KindIncident, Status: "closed", Stage: "closed", WorkflowID: id, CreatedAt: found})
		create(&models.Incident{ProcessID: id, Source: "staff", Category: c, DiscoveredAt: found, ReceivedAt: found.Add(10 * time.Minute)})
		sev := []string{"low", "medium", "high"}[i%3]
		for j, h := range []string{"received", "giso_notified", "triage_requested", "triaged", "root_cause_reported", "root_cause_accepted", "closed"} {
			note := ""
			if h == "triaged" {
				note = "severity " + sev + ", plan true, CISO asked true"
			}
			if err := s.RecordIncidentHop(ctx, models.IncidentHop{Key: id + h, ProcessID: id, Hop: h, Note: note, At: found.Add(time.Duration((j+1)*(j+1)*(i+3)) * 7 * time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 12 {
		id := fmt.Sprintf("OFB-%d", i)
		eff := at(i*25, 0)
		create(&models.Process{ID: id, Kind: models.KindOffboarding, Status: "completed", Stage: "done", WorkflowID: id, CreatedAt: eff.AddDate(0, 0, -3)})
		create(&models.Offboarding{ProcessID: id, EmployeeID: "E" + id, EffectiveDate: eff.Format("2006-01-02"), OriginalDate: eff.Format("2006-01-02"),
			Reason: []string{"retirement", "transfer", "transfer"}[i%3], Late: i%5 == 0})
		done := eff.Add(time.Duration(i%6*30) * time.Hour)
		create(&models.OffboardingItem{ProcessID: id, Key: "a", Kind: models.ItemAccount, Action: "disable", Outcome: "disabled", At: &done})
	}
	create(&models.Process{ID: "REC-1", Kind: models.KindReconciliation, Status: "completed", Stage: "done", WorkflowID: "REC-1", CreatedAt: at(200, 0)})
	if err := s.SaveFindings(ctx, []models.ReconciliationFinding{{ProcessID: "REC-1", SystemID: "juki", AccountID: "u1", Kind: "not_employed", Decision: "disable"},
		{ProcessID: "REC-1", SystemID: "juki", AccountID: "u2", Kind: "unused", Decision: "keep"}, {ProcessID: "REC-1", SystemID: "zaimu", AccountID: "u3", Kind: "unused"}}); err != nil {
		t.Fatal(err)
	}
	create(&models.OutsourcingReview{ProcessID: "OUT-1", DepartmentID: "soumu", RequesterID: "D1", VendorName: "Midori Systems KK", ContactID: "ext:1",
		ContractStart: "2026-04-01", ContractEnd: "2027-03-31", CertExpiry: "2027-05-20", AuditStatus: "none", ReportIntervalMonths: 3, Classification: 2})
	create(&models.CloudService{ProcessID: "CLD-1", Service: "Midori Cloud Mail", Provider: "Example KK", Classification: 2, Status: models.CloudApproved, NextReassessment: "2027-04-01"})
}

// chromiumPath finds Debian's Chromium (`make tools` installs it).
func chromiumPath(t *testing.T) string {
	for _, name := range []string{os.Getenv("POLICYFLOW_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium not found: run `make tools` (apt-get install -y chromium) or set POLICYFLOW_CHROMIUM")
	return ""
}

// TestReportPageInABrowser opens a committee member's mailed link in headless Chromium with
// JavaScript off, under the server's Content-Security-Policy, and finds the report with its
// charts drawn. The screenshot is kept as an artifact: in $POLICYFLOW_TEST_ARTIFACTS if set
// (the README's picture is made so), else in the test's temporary directory.
func TestReportPageInABrowser(t *testing.T) {
	r := newReportServer(t)
	seedReportYear(t, r.store)
	if _, err := r.store.PutPeople(context.Background(), []models.Person{{EmployeeID: "M1", Name: "委員 一郎", Email: "m1@town.example", Locale: "ja",
		Status: models.StatusEmployed, Roles: []models.PersonRole{{EmployeeID: "M1", Role: "committee"}}}}); err != nil {
		t.Fatal(err)
	}
	tok, hash, _ := activities.NewToken()
	if err := r.store.DB.Create(&models.ReportLink{TokenHash: hash, FiscalYear: 2026, PersonID: "M1", NotificationKey: "k", ExpiresAt: r.now.Add(time.Hour)}).Error; err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1100, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("disable JavaScript: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(r.url+"/reports/"+tok)); err != nil {
		t.Fatalf("open the link: %v", err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text("h1"))
	if err != nil {
		t.Fatal(err)
	}
	charts, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("svg.chart rect")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(heading, "年次報告（2026年度）") || len(charts) < 10 {
		t.Errorf("heading %q, %d bars drawn", heading, len(charts))
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("POLICYFLOW_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "report-fy2026.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(shot))
}
