package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/policyflow/policyflow/internal/testenv"
)

// TestStaffPagesInABrowser runs the staff pages (issue 17) in headless Chromium with
// JavaScript turned off, on the real services: a member of staff asks for a sign-in link,
// reads it in Mailpit, reports a lost tablet and sees the report in "My requests"; then a
// department security officer signs in (from the English sign-in page; the pages then speak
// the officer's Japanese), files an exception request with its end date before its start,
// corrects it and confirms; the CISO approves it through the mailed link, and the officer's
// "My requests" shows the new stage and the CISO's decision. A screenshot of each page goes
// to POLICYFLOW_SCREENSHOT_DIR, or to a directory under the system's temporary directory
// (docs/staff-pages-*.png are two of them).
func TestStaffPagesInABrowser(t *testing.T) {
	s := startSystem(t)
	directory := s.run("token", "create", "staff-browser-directory", "directory")
	s.putPeople(directory, map[string]map[string]any{
		"SP-CISO":  {"name": "副町長 職員頁", "email": "sp-ciso@town.example", "department": "mayor", "roles": []string{"ciso"}},
		"SP-GISO":  {"name": "総務部長 職員頁", "email": "sp-giso@town.example", "department": "general", "roles": []string{"giso"}},
		"SP-DISO":  {"name": "福祉課長 職員頁", "email": "sp-diso@town.example", "department": "welfare", "roles": []string{"diso"}},
		"SP-ISM":   {"name": "係長 職員頁", "email": "sp-ism@town.example", "department": "welfare", "roles": []string{"ism"}},
		"SP-STAFF": {"name": "主事 職員頁", "email": "sp-staff@town.example", "department": "welfare"},
	})
	if code := s.call(directory, "PUT", "/api/v1/systems/sp-tablets", map[string]any{
		"name": "福祉課タブレット", "department": "welfare", "ism": "SP-ISM", "classification": 2}, nil); code != http.StatusCreated {
		t.Fatalf("PUT system: %d", code)
	}

	shots := os.Getenv("POLICYFLOW_SCREENSHOT_DIR")
	if shots == "" {
		shots = filepath.Join(s.logs, "screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("disable JavaScript: %v", err)
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		defer scancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			body, _ := chromedp.Run(ctx, chromedp.OuterHTML("html"))
			t.Fatalf("%s: %v\nat %s:\n%s", what, err, loc, body)
		}
	}
	// follow clicks a button whose form answers with a redirect (303) and waits to arrive at
	// path. (Every selector is CSS: chromedp's plain-string search also matches the text of
	// the pages' style sheets, which is never visible.)
	follow := func(what, sel, path string) {
		t.Helper()
		do(what, chromedp.Click(chromedp.CSS(sel)))
		var loc string
		eventually(t, 30*time.Second, what+": arrive at "+path, func() bool {
			loc, _ = chromedp.Run(ctx, chromedp.Location())
			return loc == s.baseURL+path || (strings.HasSuffix(path, "=") && strings.HasPrefix(loc, s.baseURL+path))
		})
		do(what+": arrived at "+loc, chromedp.WaitVisible(chromedp.CSS("h1")))
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return v
	}
	shot := func(name string) {
		t.Helper()
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	signIn := func(step, who, address, lang, sent string) {
		t.Helper()
		do("open the sign-in page", chromedp.Navigate(s.baseURL+"/staff/sign-in?lang="+lang), chromedp.WaitVisible(chromedp.CSS("#who")))
		shot(step + "a-sign-in")
		do("ask for a link", chromedp.SetValue(chromedp.CSS("#who"), who), chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
		if got := text(`p[role="status"]`); !strings.Contains(got, sent) {
			t.Errorf("the sign-in page's answer: %q", got)
		}
		shot(step + "b-link-sent")
		mctx, mcancel := context.WithTimeout(ctx, 60*time.Second)
		defer mcancel()
		m, err := testenv.Mailpit(t).WaitFor(mctx, func(m testenv.Message) bool {
			return m.SentTo(address) && strings.Contains(m.Text, "/staff/sign-in/")
		})
		if err != nil {
			t.Fatalf("the sign-in mail to %s: %v", address, err)
		}
		var link string
		for _, l := range testenv.Links(m.Text) {
			if strings.Contains(l, "/staff/sign-in/") {
				link = l
			}
		}
		if link == "" {
			t.Fatalf("no sign-in link in %q", m.Text)
		}
		do("open the mailed link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`button[type="submit"]`)))
		shot(step + "c-signin-link")
		follow("sign in", `button[type="submit"]`, "/staff")
	}

	// A member of staff reports a lost tablet.
	signIn("00", "SP-STAFF", "sp-staff@town.example", "ja", "リンクを送りました")
	shot("01-staff-home")
	do("open the incident form", chromedp.Navigate(s.baseURL+"/staff/new/incident"), chromedp.WaitVisible(chromedp.CSS(`#f-category`)))
	do("fill the report",
		chromedp.SetValue(chromedp.CSS(`#f-category`), "loss_theft"), chromedp.SetValue(chromedp.CSS(`#f-system`), "sp-tablets"),
		chromedp.SetValue(chromedp.CSS(`#f-classification`), "2"), chromedp.SetValue(chromedp.CSS(`#f-description`), "訪問先からの帰りの電車にタブレットを置き忘れた。"))
	shot("02-incident-form")
	do("go to the confirmation", chromedp.Click(chromedp.CSS(`button[value="check"]`)), chromedp.WaitVisible(chromedp.CSS(`button[value="confirm"]`)))
	if page := text("body"); !strings.Contains(page, "紛失") && !strings.Contains(page, "盗難") {
		t.Errorf("the confirmation page does not show the category's label:\n%s", page)
	}
	shot("03-incident-confirm")
	follow("file the report", `button[value="confirm"]`, "/staff?filed=")
	notice := text(`p[role="status"]`)
	id := strings.TrimSpace(notice[strings.LastIndex(notice, " ")+1:])
	if !strings.HasPrefix(id, "INC-") {
		t.Fatalf("no process ID in the notice %q", notice)
	}
	if page := text("body"); !strings.Contains(page, id) {
		t.Errorf("My requests does not list %s:\n%s", id, page)
	}
	shot("04-staff-my-requests")
	do("open the report", chromedp.Navigate(s.baseURL+"/staff/requests/"+id), chromedp.WaitVisible(chromedp.CSS(`dl`)))
	if page := text("body"); !strings.Contains(page, id) || !strings.Contains(page, "sp-tablets") || !strings.Contains(page, "待っている判断") {
		t.Errorf("the report's page:\n%s", page)
	}
	shot("04b-staff-report")
	do("sign out", chromedp.Click(chromedp.CSS(`nav button`)), chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))

	// A department security officer files an exception request, wrong first.
	signIn("04z", "sp-diso@town.example", "sp-diso@town.example", "en", "a sign-in link was mailed")
	do("open the exception form", chromedp.Navigate(s.baseURL+"/staff/new/exception"), chromedp.WaitVisible(chromedp.CSS(`#f-clauses`)))
	today := time.Now().In(tokyo(t))
	do("fill the request",
		chromedp.Click(chromedp.CSS(`input[name="clauses"][value="6.1(5)"]`)),
		chromedp.SetValue(chromedp.CSS(`#f-alternative`), "ログを毎週金曜日に手作業で外部媒体へ複写する。"),
		chromedp.SetValue(chromedp.CSS(`#f-reason`), "ログサーバの更新作業のため。"),
		chromedp.Click(chromedp.CSS(`input[name="systems"][value="sp-tablets"]`)),
		chromedp.SetValue(chromedp.CSS(`#f-classification`), "2"),
		chromedp.SetValue(chromedp.CSS(`#f-start_date`), today.AddDate(0, 0, 2).Format("2006-01-02")),
		chromedp.SetValue(chromedp.CSS(`#f-end_date`), today.AddDate(0, 0, 1).Format("2006-01-02")))
	do("check it", chromedp.Click(chromedp.CSS(`button[value="check"]`)), chromedp.WaitVisible(chromedp.CSS(`#e-end_date`)))
	if got := text(`#e-end_date`); !strings.Contains(got, "開始日より後の日にしてください") {
		t.Errorf("the end date's error: %q", got)
	}
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#f-reason`))); err != nil || v != "ログサーバの更新作業のため。" {
		t.Errorf("the reason entered was not kept: %q %v", v, err)
	}
	shot("05-exception-field-error")
	do("correct the end date", chromedp.SetValue(chromedp.CSS(`#f-end_date`), today.AddDate(0, 0, 30).Format("2006-01-02")),
		chromedp.Click(chromedp.CSS(`button[value="check"]`)), chromedp.WaitVisible(chromedp.CSS(`button[value="confirm"]`)))
	shot("06-exception-confirm")
	follow("file the request", `button[value="confirm"]`, "/staff?filed=")
	notice = text(`p[role="status"]`)
	excID := strings.TrimSpace(notice[strings.LastIndex(notice, " ")+1:])
	if !strings.HasPrefix(excID, "EXC-") {
		t.Fatalf("the exception request was not filed: %q", notice)
	}
	// My requests names the stage in the officer's language, not the workflow's identifier.
	eventually(t, 60*time.Second, "My requests to show the exception at the CISO's review", func() bool {
		do("reload My requests", chromedp.Navigate(s.baseURL+"/staff"), chromedp.WaitVisible(chromedp.CSS("h1")))
		return strings.Contains(text("body"), "CISOの審査")
	})
	if page := text("body"); strings.Contains(page, "ciso_review") || strings.Contains(page, "submitted") {
		t.Errorf("My requests shows a workflow's identifier:\n%s", page)
	}
	shot("07-diso-my-requests")

	// The CISO decides through the link mailed for the review (§7.4(1)).
	link := linkIn(t, "sp-ciso@town.example", excID, "例外措置申請の審査")
	do("open the CISO's mailed link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`button[value="approve"]`)))
	shot("08-ciso-task")
	do("approve", chromedp.Click(chromedp.CSS(`button[value="approve"]`)), chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
	if got := text(`p[role="status"]`); !strings.Contains(got, "承認") {
		t.Errorf("the CISO's decision was not recorded: %q", got)
	}
	shot("09-ciso-decided")

	// The officer, still signed in, sees the decision in My requests: the request waits for
	// its start date, approved by the CISO.
	eventually(t, 60*time.Second, "the officer's My requests to show the approval", func() bool {
		do("reload My requests", chromedp.Navigate(s.baseURL+"/staff"), chromedp.WaitVisible(chromedp.CSS("h1")))
		return strings.Contains(text("body"), "開始日待ち")
	})
	shot("10-diso-my-requests-decided")
	do("open the request", chromedp.Navigate(s.baseURL+"/staff/requests/"+excID), chromedp.WaitVisible(chromedp.CSS(`dl`)))
	decided := text("body")
	for _, want := range []string{"これまでの判断", "例外措置申請の審査", "承認", "副町長 職員頁", "開始日待ち", "ログサーバの更新作業のため。"} {
		if !strings.Contains(decided, want) {
			t.Errorf("the request's page lacks %q:\n%s", want, decided)
		}
	}
	shot("11-diso-request-decided")
}
