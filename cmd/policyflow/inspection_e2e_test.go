package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/policyflow/policyflow/internal/testenv"
	"github.com/policyflow/policyflow/policy"
)

// TestInspectionEndToEnd runs the yearly self-inspection (§9.1) on the real services: the GISO's
// office starts it through the API, the managers of two systems and the officers of two
// departments answer the checklist from the links Mailpit received (an item not kept, with
// its improvement measure; an item not applicable), the measure's owner reports it done from
// their link, and every member of the security committee gets the compiled results, then how
// the measures ended (§9.1(2)), then a link to the whole year's report (issue 16). The
// report is opened from that mail in headless Chromium with JavaScript off, its
// self-inspection section read, and the register 自己点検結果 fetched as CSV and read back.
func TestInspectionEndToEnd(t *testing.T) {
	s := startSystem(t)
	directory := s.run("token", "create", "e2e-directory", "directory")
	officer := s.run("token", "create", "e2e-officer", "officer")
	auditor := s.run("token", "create", "e2e-auditor", "auditor")

	s.putPeople(directory, map[string]map[string]any{
		"INS-CISO":  {"name": "副町長 点検", "email": "ins-ciso@town.example", "department": "insp", "roles": []string{"ciso", "committee"}},
		"INS-GISO":  {"name": "GISO Inspect", "email": "ins-giso@town.example", "department": "insp", "roles": []string{"giso", "committee"}, "locale": "en"},
		"INS-DISO":  {"name": "総務課長 点検", "email": "ins-diso@town.example", "department": "insp", "roles": []string{"diso"}},
		"INS-ISM":   {"name": "係長 点検", "email": "ins-ism@town.example", "department": "insp", "roles": []string{"ism"}},
		"INS-OWNER": {"name": "担当 点検", "email": "ins-owner@town.example", "department": "insp", "roles": []string{"staff"}},
		"INS-DISO2": {"name": "税務課長 点検", "email": "ins-diso2@town.example", "department": "insp2", "roles": []string{"diso"}},
		"INS-ISM2":  {"name": "税務係長 点検", "email": "ins-ism2@town.example", "department": "insp2", "roles": []string{"ism"}},
	})
	for id, sys := range map[string]map[string]any{
		"insp-app":  {"name": "文書管理", "department": "insp", "ism": "INS-ISM", "classification": 2},
		"insp-app2": {"name": "税務", "department": "insp2", "ism": "INS-ISM2", "classification": 2},
	} {
		if code := s.call(directory, "PUT", "/api/v1/systems/"+id, sys, nil); code != http.StatusCreated {
			t.Fatalf("PUT system %s: %d", id, code)
		}
	}
	var started struct{ ID string }
	if code := s.call(officer, "POST", "/api/v1/inspections", nil, &started); code != http.StatusCreated {
		t.Fatalf("POST /inspections: %d", code)
	}
	fy := policy.FiscalYear(time.Now().In(tokyo(t)))
	if started.ID != fmt.Sprintf("INS-FY%d", fy) {
		t.Errorf("campaign %q", started.ID)
	}
	if code := s.call(officer, "POST", "/api/v1/inspections", nil, nil); code != http.StatusConflict {
		t.Errorf("a second campaign of the year: %d, want 409", code)
	}

	checklist := policy.DefaultChecklist()
	answers := func(kind string) url.Values {
		v := url.Values{"decision": {"submit"}}
		for _, it := range checklist.For(kind) {
			v.Set("answer:"+it.ID, policy.AnswerCompliant)
		}
		return v
	}
	sysForm := answers(policy.TargetSystem)
	item := checklist.For(policy.TargetSystem)[0].ID
	due := time.Now().In(tokyo(t)).AddDate(0, 1, 0).Format("2006-01-02")
	sysForm.Set("answer:"+item, policy.AnswerNot)
	sysForm.Set("comment:"+item, "分類の表示がない")
	sysForm.Set("measure:"+item, "取扱制限を表示する")
	sysForm.Set("owner:"+item, "INS-OWNER")
	sysForm.Set("due:"+item, due)
	if code, body := postForm(t, linkIn(t, "ins-ism@town.example", started.ID, "自己点検の実施（情報システム insp-app）"), sysForm); code != 200 {
		t.Fatalf("the manager's answers: %d\n%s", code, body)
	}
	if code, body := postForm(t, linkIn(t, "ins-ism2@town.example", started.ID, "自己点検の実施（情報システム insp-app2）"), answers(policy.TargetSystem)); code != 200 {
		t.Fatalf("the second manager's answers: %d\n%s", code, body)
	}
	if code, body := postForm(t, linkIn(t, "ins-diso@town.example", started.ID, "自己点検の実施（部局 insp）"), answers(policy.TargetDepartment)); code != 200 {
		t.Fatalf("the officer's answers: %d\n%s", code, body)
	}
	deptForm := answers(policy.TargetDepartment)
	naItem := checklist.For(policy.TargetDepartment)[0].ID
	deptForm.Set("answer:"+naItem, policy.AnswerNotApplicable)
	deptForm.Set("comment:"+naItem, "該当する業務がない")
	if code, body := postForm(t, linkIn(t, "ins-diso2@town.example", started.ID, "自己点検の実施（部局 insp2）"), deptForm); code != 200 {
		t.Fatalf("the second officer's answers: %d\n%s", code, body)
	}
	// §9.1(2): the results and the measure planned reach every committee member, in their
	// language, once both are inspected.
	mp := testenv.Mailpit(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, m := range []struct{ to, part string }{{"ins-ciso@town.example", "点検結果と改善策"}, {"ins-giso@town.example", "results and improvement measures"}} {
		if _, err := mp.WaitFor(ctx, func(x testenv.Message) bool {
			return x.SentTo(m.to) && strings.Contains(x.Subject, started.ID) && strings.Contains(x.Text, m.part) && strings.Contains(x.Text, "取扱制限を表示する")
		}); err != nil {
			t.Fatalf("the results to %s: %v", m.to, err)
		}
	}
	if code, body := postForm(t, linkIn(t, "ins-owner@town.example", started.ID, "改善策の実施"), url.Values{"decision": {"done"}, "result": {"表示した"}}); code != 200 {
		t.Fatalf("the measure done: %d\n%s", code, body)
	}
	var got struct {
		Status  string
		Targets []struct {
			Kind, Status string
			TargetID     string `json:"target_id"`
			InspectorID  string `json:"inspector_id"`
			Answers      []struct {
				ItemID  string `json:"item_id"`
				Answer  string
				Measure *struct{ Owner, Due, Status, Result string }
			}
		}
	}
	eventually(t, 60*time.Second, "the campaign to complete", func() bool {
		s.call(auditor, "GET", "/api/v1/inspections/"+started.ID, nil, &got)
		return got.Status == "completed"
	})
	measured := 0
	for _, x := range got.Targets {
		if x.Status != "inspected" {
			t.Errorf("target %s/%s: %s", x.Kind, x.TargetID, x.Status)
		}
		for _, a := range x.Answers {
			if a.Measure != nil {
				measured++
				if a.ItemID != item || a.Measure.Owner != "INS-OWNER" || a.Measure.Due != due || a.Measure.Status != "done" || a.Measure.Result != "表示した" {
					t.Errorf("measure %+v", *a.Measure)
				}
			}
		}
	}
	var inspectors []string
	for _, x := range got.Targets {
		inspectors = append(inspectors, x.InspectorID)
	}
	if len(got.Targets) != 4 || measured != 1 || fmt.Sprint(inspectors) != "[INS-ISM INS-ISM2 INS-DISO INS-DISO2]" {
		t.Errorf("targets %+v", got.Targets)
	}
	if _, err := mp.WaitFor(ctx, func(x testenv.Message) bool {
		return x.SentTo("ins-giso@town.example") && strings.Contains(x.Subject, started.ID) && strings.Contains(x.Text, "how the improvement measures ended")
	}); err != nil {
		t.Errorf("the final report: %v", err)
	}
	reportLink := yearReportLink(t, ctx, started.ID, fy)
	readYearReport(t, reportLink, started.ID, fy)
	readInspectionCSV(t, s, auditor, fy, started.ID, item, due, naItem)
	var detail struct{ Timeline []struct{ Note string } }
	s.call(auditor, "GET", "/api/v1/processes/"+started.ID, nil, &detail)
	if !slices.ContainsFunc(detail.Timeline, func(e struct{ Note string }) bool {
		return strings.Contains(e.Note, fmt.Sprintf("report of fiscal year %d was mailed to 2 members", fy))
	}) {
		t.Errorf("the timeline does not say the year's report was mailed: %+v", detail.Timeline)
	}
	// inspection_completed.json was recorded before the change "inspection-year-report" (no
	// link to the year's report at the end) and is kept as that generation.
	recordHistory(t, started.ID, "inspection_year_report.json")
	recordHistory(t, started.ID+"/system/insp-app", "inspection_target_measure_done.json")
}

// yearReportLink waits for the mail that ends the campaign: every member of the committee
// gets a link of their own to the year's report, in their language, saying why (issue 16).
// It returns the Japanese-speaking member's link.
func yearReportLink(t *testing.T, ctx context.Context, campaign string, fy int) string {
	t.Helper()
	mp := testenv.Mailpit(t)
	var link string
	for _, m := range []struct{ to, subject string }{
		{"ins-giso@town.example", fmt.Sprintf("Yearly report, fiscal year %d", fy)},
		{"ins-ciso@town.example", fmt.Sprintf("%d年度 年次報告", fy)},
	} {
		msg, err := mp.WaitFor(ctx, func(x testenv.Message) bool {
			return x.SentTo(m.to) && strings.Contains(x.Subject, m.subject) && strings.Contains(x.Text, "self-inspection "+campaign+" completed")
		})
		if err != nil {
			t.Fatalf("the link to the year's report for %s: %v", m.to, err)
		}
		link = ""
		for _, l := range testenv.Links(msg.Text) {
			if strings.Contains(l, "/reports/") {
				link = l
			}
		}
		if link == "" {
			t.Fatalf("no report link in the mail to %s:\n%s", m.to, msg.Text)
		}
	}
	return link
}

// readYearReport opens the committee's link in headless Chromium with JavaScript off and
// reads the self-inspection's section (§9.1(2)) by CSS selectors: the campaign, a row per
// department, its three charts. The screenshot is kept in $POLICYFLOW_TEST_ARTIFACTS, else
// in the test's temporary directory.
func readYearReport(t *testing.T, link, campaign string, fy int) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1100, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("disable JavaScript: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatalf("open the report link: %v", err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("section#self_inspection h2")))
	if err != nil {
		t.Fatal(err)
	}
	first, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("section#self_inspection dd")))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("section#self_inspection tbody tr")))
	if err != nil {
		t.Fatal(err)
	}
	charts, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("section#self_inspection svg.chart")))
	if err != nil {
		t.Fatal(err)
	}
	table, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("section#self_inspection tbody")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(heading, fmt.Sprintf("%d年度", fy)) || !strings.Contains(title, "自己点検") || first != campaign || len(rows) != 2 || len(charts) != 3 {
		t.Errorf("the report: heading %q, section %q, campaign %q, %d department rows, %d charts", heading, title, first, len(rows), len(charts))
	}
	// Department, targets, late, compliant, partly, not, n/a, measures open, done, overdue:
	// insp has the item not kept and its measure done; insp2 the item not applicable.
	sys, dept := len(policy.DefaultChecklist().For(policy.TargetSystem)), len(policy.DefaultChecklist().For(policy.TargetDepartment))
	for _, w := range []string{fmt.Sprintf("insp\t2\t0\t%d\t0\t1\t0\t0\t1\t0", sys-1+dept), fmt.Sprintf("insp2\t2\t0\t%d\t0\t0\t1\t0\t0\t0", sys+dept-1)} {
		if !strings.Contains(table, w) {
			t.Errorf("the departments' table lacks %q:\n%s", w, table)
		}
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("POLICYFLOW_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("report-inspection-fy%d.png", fy))
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(shot))
}

// readInspectionCSV fetches the register 自己点検結果 through the API as an auditor and reads
// it back as Excel would: a byte order mark, CRLF, Japanese headers, a row per target and
// checklist item, the measure done.
func readInspectionCSV(t *testing.T, s *system, token string, fy int, campaign, measured, due, na string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/registers/inspections.csv?fiscal_year=%d", s.baseURL, fy), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("GET inspections.csv: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	body, ok := bytes.CutPrefix(b, []byte("\ufeff"))
	if !ok {
		t.Fatalf("no byte order mark: %q", b[:min(len(b), 16)])
	}
	if lf, crlf := bytes.Count(body, []byte("\n")), bytes.Count(body, []byte("\r\n")); lf != crlf || lf == 0 {
		t.Errorf("%d line ends, %d of them CRLF", lf, crlf)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if h := strings.Join(rows[0], ","); !strings.HasPrefix(h, "点検番号 (campaign),年度 (fiscal_year),対象の種別 (target_kind),点検対象 (target),所属 (department),点検項目 (item)") ||
		!strings.Contains(h, "回答 (answer)") || !strings.Contains(h, "改善策の状況 (measure_status)") {
		t.Errorf("header %s", h)
	}
	checklist := policy.DefaultChecklist()
	want := 2*len(checklist.For(policy.TargetSystem)) + 2*len(checklist.For(policy.TargetDepartment))
	var lines []string
	for _, r := range rows[1:] {
		lines = append(lines, strings.Join(r, "|"))
	}
	all := strings.Join(lines, "\n")
	for _, w := range []string{
		fmt.Sprintf("%s|%d|system|insp-app|insp|%s|", campaign, fy, measured),
		"|not|分類の表示がない|取扱制限を表示する|INS-OWNER|" + due + "|done",
		fmt.Sprintf("%s|%d|department|insp2|insp2|%s|", campaign, fy, na),
		"|not_applicable|該当する業務がない|",
	} {
		if !strings.Contains(all, w) {
			t.Errorf("the register lacks %q:\n%s", w, all)
		}
	}
	if len(rows)-1 != want {
		t.Errorf("%d rows, want %d (a row per target and item)", len(rows)-1, want)
	}
}
