package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// chromium finds Debian's Chromium (`make tools` installs it).
func chromium(t *testing.T) string {
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

// TestTaskPageInABrowser opens the emailed link in headless Chromium with JavaScript
// turned off (the page must work without it), reads the request in Japanese, clicks
// 承認 (approve) and sees the decision recorded.
func TestTaskPageInABrowser(t *testing.T) {
	s := startSystem(t)
	directory := s.run("token", "create", "browser-directory", "directory")
	officer := s.run("token", "create", "browser-officer", "officer")
	s.putPeople(directory, map[string]map[string]any{
		"BR-CISO": {"name": "副町長 ブラウザ", "email": "br-ciso@town.example", "department": "mayor", "roles": []string{"ciso"}},
		"BR-GISO": {"name": "総務部長 ブラウザ", "email": "br-giso@town.example", "department": "general", "roles": []string{"giso"}},
		"BR-ISM":  {"name": "係長 ブラウザ", "email": "br-ism@town.example", "department": "general", "roles": []string{"ism"}},
	})
	var started struct{ ID string }
	today := time.Now().In(tokyo(t))
	if code := s.call(officer, "POST", "/api/v1/exceptions", map[string]any{
		"requester": "BR-ISM", "clauses": []string{"6.1(1)"}, "alternative": "入退室記録を紙で残す",
		"reason": "入退室管理装置の故障のため", "classification": 2,
		"start_date": today.Format("2006-01-02"), "end_date": today.AddDate(0, 1, 0).Format("2006-01-02"),
	}, &started); code != http.StatusCreated {
		t.Fatalf("POST /exceptions: %d", code)
	}
	link := linkIn(t, "br-ciso@town.example", started.ID, "例外措置申請の審査")

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	// The page must work without JavaScript: turn it off before loading.
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("disable JavaScript: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatalf("open the link: %v", err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text("h1"))
	if err != nil {
		t.Fatal(err)
	}
	page, err := chromedp.Run(ctx, chromedp.Text("body"))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`button[value="approve"]`), chromedp.WaitVisible(`p[role="status"]`)); err != nil {
		t.Fatalf("click approve: %v", err)
	}
	result, err := chromedp.Run(ctx, chromedp.Text(`p[role="status"]`))
	if err != nil {
		t.Fatal(err)
	}
	if heading != "例外措置申請の審査" || !strings.Contains(page, "入退室管理装置の故障のため") || !strings.Contains(page, "承認") {
		t.Errorf("page: heading %q\n%s", heading, page)
	}
	if !strings.Contains(result, "記録しました") || !strings.Contains(result, "承認") {
		t.Errorf("result: %q", result)
	}
}
