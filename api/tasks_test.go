package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/policyflow/policyflow/models"
)

// alreadyRecorded is the 410 message of a used link, in English (the CISO's locale).
func alreadyRecorded(choice string) *regexp.Regexp {
	return regexp.MustCompile(`^already recorded: ` + choice + ` by ` + regexp.QuoteMeta(sharedCISOName) + ` at \d{4}-\d\d-\d\d \d\d:\d\d JST$`)
}

// A GET or HEAD on a link renders the task and changes nothing: mail scanners fetch every
// link (TASK-ENGINE.md invariant 1).
func TestTaskLinkGetChangesNothing(t *testing.T) {
	t.Parallel()
	s := sys(t)
	o := s.newOpenTask(t)
	before, history := s.snapshot(t, o.ProcessID), s.historyLength(t, o.ProcessID)

	page := call(t, http.MethodGet, o.Link, "", nil)
	if page.Status != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET link: %s", page)
	}
	for _, want := range []string{`<form method="post">`, `value="approve"`, `value="reject"`, `value="return"`, o.ProcessID} {
		if !strings.Contains(string(page.Body), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for h, want := range map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
		if got := page.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	asJSON := call(t, http.MethodGet, o.Link, "", nil, "Accept", "application/json").object(t)
	if asJSON["task_id"] != o.Task.ID || fmt.Sprint(asJSON["choices"]) != "[approve reject return]" || asJSON["you"] != sharedCISO {
		t.Errorf("GET link as JSON: %v", asJSON)
	}
	if head := call(t, http.MethodHead, o.Link, "", nil); head.Status != http.StatusOK || len(head.Body) != 0 {
		t.Errorf("HEAD link: %s", head)
	}
	// A scanner may fetch a link many times.
	for range 3 {
		call(t, http.MethodGet, o.Link, "", nil)
	}

	if after := s.snapshot(t, o.ProcessID); after != before {
		t.Errorf("GET changed the register:\nbefore %s\nafter %s", before, after)
	}
	if h := s.historyLength(t, o.ProcessID); h != history {
		t.Errorf("GET changed the workflow's history: %d events, then %d", history, h)
	}
	if d := s.process(t, o.ProcessID); d.Tasks[0].Status != models.TaskOpen || len(d.Decisions) != 0 {
		t.Errorf("after GET the task is %s with %d decisions, want open and none", d.Tasks[0].Status, len(d.Decisions))
	}
}

// A POST records the decision once, with who, from where and the comment; every later POST
// is told which decision won.
func TestTaskLinkDecideOnce(t *testing.T) {
	t.Parallel()
	s := sys(t)
	o := s.newOpenTask(t)

	r := post(t, o.Link, decision("approve", "  Approved for one month only.  "), true, "User-Agent", "policyflow-test/1.0")
	if r.Status != http.StatusOK {
		t.Fatalf("POST approve: %s", r)
	}
	if got := r.object(t); len(got) != 2 || got["status"] != "recorded" || got["decision"] != "approve" {
		t.Errorf(`POST approve answered %v, want {"status":"recorded","decision":"approve"}`, got)
	}

	d := s.process(t, o.ProcessID)
	if len(d.Decisions) != 1 {
		t.Fatalf("the process shows %d decisions, want 1: %+v", len(d.Decisions), d.Decisions)
	}
	got := d.Decisions[0]
	if got.TaskID != o.Task.ID || got.Decision != "approve" || got.DeciderID != sharedCISO || got.DeciderName != sharedCISOName ||
		got.Comment != "Approved for one month only." || got.ClientIP != "127.0.0.1" || got.UserAgent != "policyflow-test/1.0" {
		t.Errorf("decision recorded as %+v", got)
	}
	if _, offset := got.DecidedAt.Zone(); time.Since(got.DecidedAt) > time.Minute || offset != 9*3600 {
		t.Errorf("decided_at %v: want now, in +09:00", got.DecidedAt)
	}
	if d.Tasks[0].Status != models.TaskDecided {
		t.Errorf("task status %q, want decided", d.Tasks[0].Status)
	}

	// A second POST, with another choice or the same, is told who won.
	for _, choice := range []string{"reject", "approve"} {
		again := post(t, o.Link, decision(choice, "second thoughts"), true)
		e := again.wantError(t, http.StatusGone, "gone")
		if !alreadyRecorded("approve").MatchString(e.Message) {
			t.Errorf("second POST (%s): message %q, want \"already recorded: approve by %s at <time>\"", choice, e.Message, sharedCISOName)
		}
	}
	// As a page too, and the link's GET says the same.
	page := post(t, o.Link, decision("approve", ""), false)
	if page.Status != http.StatusGone || !strings.Contains(string(page.Body), "already recorded: approve by "+sharedCISOName) {
		t.Errorf("second POST as a page: %s", page)
	}
	if g := call(t, http.MethodGet, o.Link, "", nil, "Accept", "application/json"); g.Status != http.StatusGone {
		t.Errorf("GET after the decision: %s", g)
	}

	s.waitIdle(t, o.ProcessID)
	if n := s.countRows(t, &models.Decision{}, "task_id = ?", o.Task.ID); n != 1 {
		t.Errorf("%d decision rows, want 1", n)
	}
	if accepted, recorded := s.historyCounts(t, o.ProcessID); accepted != 1 || recorded != 1 {
		t.Errorf("history: %d decide updates accepted, %d RecordDecision activities; want 1 and 1", accepted, recorded)
	}
}

// An unknown, altered or malformed token is 404 and changes nothing.
func TestTaskLinkUnknownToken(t *testing.T) {
	t.Parallel()
	s := sys(t)
	o := s.newOpenTask(t)
	before, history := s.snapshot(t, o.ProcessID), s.historyLength(t, o.ProcessID)

	token := o.Link[strings.LastIndex(o.Link, "/")+1:]
	if len(token) < 22 { // 128 bits in base64url
		t.Fatalf("token of %d characters: fewer than 128 bits", len(token))
	}
	swap := func(c byte) byte {
		if c == 'A' {
			return 'B'
		}
		return 'A'
	}
	altered := []byte(token)
	altered[10] = swap(altered[10])
	last := []byte(token)
	last[len(last)-1] = swap(last[len(last)-1])
	cases := map[string]string{
		"altered":      string(altered),
		"last altered": string(last),
		"made up":      "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF",
		"truncated":    token[:len(token)-1],
		"extended":     token + "A",
		"garbage":      "..%2F..%2Fetc%2Fpasswd",
		"wrong case":   swapCase(token),
	}
	for name, tok := range cases {
		link := s.URL + "/tasks/" + tok
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			if r := call(t, method, link, "", nil); r.Status != http.StatusNotFound {
				t.Errorf("%s token: %s %d, want 404", name, method, r.Status)
			}
		}
		post(t, link, decision("approve", "x"), true).wantError(t, http.StatusNotFound, "not_found")
		// The page of an unknown link is in Japanese, the default.
		if p := post(t, link, decision("approve", "x"), false); p.Status != http.StatusNotFound || !strings.Contains(string(p.Body), "リンクが見つかりません") {
			t.Errorf("%s token: POST as a page: %s", name, p)
		}
	}
	if after := s.snapshot(t, o.ProcessID); after != before {
		t.Errorf("a bad token changed the register:\nbefore %s\nafter %s", before, after)
	}
	if h := s.historyLength(t, o.ProcessID); h != history {
		t.Errorf("a bad token changed the workflow's history: %d events, then %d", history, h)
	}
}

// A choice the step does not offer is refused with 400 and nothing is recorded.
func TestTaskLinkChoiceNotOffered(t *testing.T) {
	t.Parallel()
	s := sys(t)
	o := s.newOpenTask(t)
	before, history := s.snapshot(t, o.ProcessID), s.historyLength(t, o.ProcessID)

	for _, choice := range []string{"ratify", "done", "", "APPROVE", "approve,reject"} {
		e := post(t, o.Link, decision(choice, "x"), true).wantError(t, http.StatusBadRequest, "validation_failed")
		if e.Fields["decision"] == "" {
			t.Errorf("choice %q: no message on the decision field: %+v", choice, e)
		}
	}
	long := post(t, o.Link, decision("approve", strings.Repeat("長", 4001)), true).wantError(t, http.StatusBadRequest, "validation_failed")
	if long.Fields["comment"] == "" {
		t.Errorf("a comment of 4001 characters: %+v", long)
	}
	page := post(t, o.Link, decision("ratify", ""), false)
	if page.Status != http.StatusBadRequest || !strings.Contains(string(page.Body), `value="approve"`) {
		t.Errorf("a choice not offered, as a page: want 400 with the form again: %s", page)
	}

	if after := s.snapshot(t, o.ProcessID); after != before {
		t.Errorf("a refused choice changed the register:\nbefore %s\nafter %s", before, after)
	}
	if h := s.historyLength(t, o.ProcessID); h != history {
		t.Errorf("a refused choice changed the workflow's history: %d events, then %d", history, h)
	}
	// The link still works.
	if r := post(t, o.Link, decision("return", "please add the systems"), true); r.Status != http.StatusOK {
		t.Errorf("POST return after refused choices: %s", r)
	}
}

// The link of an expired task answers 410 and records nothing.
func TestTaskLinkExpired(t *testing.T) {
	t.Parallel()
	s := sys(t)
	o := s.newOpenTask(t)
	if err := s.Store.DB.Model(&models.Task{}).Where("id = ?", o.Task.ID).
		Update("expires_at", time.Now().Add(-time.Minute).UTC()).Error; err != nil {
		t.Fatal(err)
	}
	before, history := s.snapshot(t, o.ProcessID), s.historyLength(t, o.ProcessID)

	e := call(t, http.MethodGet, o.Link, "", nil, "Accept", "application/json").wantError(t, http.StatusGone, "gone")
	if !strings.Contains(e.Message, "expired") {
		t.Errorf("GET an expired link: %q, want it to say the link expired", e.Message)
	}
	e = post(t, o.Link, decision("approve", "late"), true).wantError(t, http.StatusGone, "gone")
	if !strings.Contains(e.Message, "expired") {
		t.Errorf("POST an expired link: %q, want it to say the link expired", e.Message)
	}
	if page := post(t, o.Link, decision("approve", "late"), false); page.Status != http.StatusGone {
		t.Errorf("POST an expired link as a page: %s", page)
	}

	if after := s.snapshot(t, o.ProcessID); after != before {
		t.Errorf("an expired link changed the register:\nbefore %s\nafter %s", before, after)
	}
	if h := s.historyLength(t, o.ProcessID); h != history {
		t.Errorf("an expired link changed the workflow's history: %d events, then %d", history, h)
	}
}

// Fifty POSTs at once on one link (a double click, two devices, retries) record exactly one
// decision; the 49 others are told which one won (TASK-ENGINE.md invariant 3).
func TestTaskLinkConcurrentPosts(t *testing.T) {
	t.Parallel()
	s := sys(t)
	o := s.newOpenTask(t)

	const n = 50
	replies := make([]reply, n)
	choices := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		choices[i] = []string{"approve", "reject"}[i%2]
		wg.Go(func() {
			<-start
			replies[i] = post(t, o.Link, decision(choices[i], fmt.Sprintf("comment %d", i)), true)
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, r := range replies {
		if r.Status == http.StatusOK {
			if winner >= 0 {
				t.Errorf("POSTs %d and %d both recorded", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("no POST recorded a decision: first answer %s", replies[0])
	}
	won := choices[winner]
	wantMsg := alreadyRecorded(won)
	for i, r := range replies {
		if i == winner {
			continue
		}
		e := r.wantError(t, http.StatusGone, "gone")
		if !wantMsg.MatchString(e.Message) {
			t.Errorf("POST %d: %q, want \"already recorded: %s by %s at <time>\"", i, e.Message, won, sharedCISOName)
		}
	}

	s.waitIdle(t, o.ProcessID)
	var ds []models.Decision
	if err := s.Store.DB.Where("task_id = ?", o.Task.ID).Find(&ds).Error; err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Choice != won || ds[0].Comment != fmt.Sprintf("comment %d", winner) {
		t.Errorf("decision rows %+v, want one: %s with comment %d", ds, won, winner)
	}
	if accepted, recorded := s.historyCounts(t, o.ProcessID); accepted != 1 || recorded != 1 {
		t.Errorf("history: %d decide updates accepted, %d RecordDecision activities; want 1 and 1", accepted, recorded)
	}
}

// While the worker is down a POST answers 503 "try again", records nothing, and the link
// keeps working: once a worker runs again, posting the same decision again succeeds and
// exactly one decision is recorded (TASK-ENGINE.md invariant 7). Not parallel: it stops
// the shared worker.
func TestTaskLinkWorkerDown(t *testing.T) {
	s := sys(t)
	o := s.newOpenTask(t)

	s.stopWorker()
	restarted := false
	defer func() {
		if !restarted {
			if err := s.startWorker(); err != nil {
				t.Errorf("restart the worker: %v", err)
			}
		}
	}()

	comments := []string{"while the worker is down", "while the worker is down, as a page", "after the restart"}
	e := post(t, o.Link, decision("approve", comments[0]), true).wantError(t, http.StatusServiceUnavailable, "unavailable")
	if !strings.Contains(e.Message, "try again") {
		t.Errorf("503 message %q does not say to try again", e.Message)
	}
	page := post(t, o.Link, decision("approve", comments[1]), false)
	if page.Status != http.StatusServiceUnavailable || page.Header.Get("Retry-After") == "" || !strings.Contains(string(page.Body), "try again") {
		t.Errorf("POST as a page while the worker is down: want 503 with Retry-After, saying try again: %s", page)
	}
	if n := s.countRows(t, &models.Decision{}, "task_id = ?", o.Task.ID); n != 0 {
		t.Errorf("%d decisions recorded while the worker was down", n)
	}
	if d := s.process(t, o.ProcessID); d.Tasks[0].Status != models.TaskOpen {
		t.Errorf("task %s while the worker is down, want open", d.Tasks[0].Status)
	}
	if g := call(t, http.MethodGet, o.Link, "", nil); g.Status != http.StatusOK {
		t.Errorf("GET the link while the worker is down: %s", g)
	}

	if err := s.startWorker(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	var last reply
	eventually(t, "the link to record the decision once the worker is back", func() (bool, string) {
		last = post(t, o.Link, decision("approve", comments[2]), true)
		return last.Status != http.StatusServiceUnavailable, last.String()
	})
	if got := last.object(t); last.Status != http.StatusOK || got["status"] != "recorded" || got["decision"] != "approve" {
		t.Fatalf("POST after the restart: %s", last)
	}
	s.waitIdle(t, o.ProcessID)
	d := s.process(t, o.ProcessID)
	if len(d.Decisions) != 1 || d.Decisions[0].Decision != "approve" || !slices.Contains(comments, d.Decisions[0].Comment) {
		t.Fatalf("decisions %+v, want one approval with the comment of one of the POSTs", d.Decisions)
	}
	t.Logf("recorded with the comment %q", d.Decisions[0].Comment)
	if accepted, recorded := s.historyCounts(t, o.ProcessID); accepted != 1 || recorded != 1 {
		t.Errorf("history: %d decide updates accepted, %d RecordDecision activities; want 1 and 1", accepted, recorded)
	}
	if e := post(t, o.Link, decision("approve", "once more"), true).wantError(t, http.StatusGone, "gone"); !alreadyRecorded("approve").MatchString(e.Message) {
		t.Errorf("POST after the decision: %q", e.Message)
	}
}

// swapCase flips the case of every letter: base64url is case-sensitive, so the token is
// another (unknown) one.
func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return r
	}, s)
}

// The decision form holds decision, comment and the task's own fields: any other field is a
// 400 naming it, and nothing is recorded (openapi.yaml, decideTask; issue 15).
func TestTaskLinkUnknownFieldRefused(t *testing.T) {
	t.Parallel()
	s := sys(t)
	o := s.newOpenTask(t)
	before, history := s.snapshot(t, o.ProcessID), s.historyLength(t, o.ProcessID)

	form := decision("approve", "fine")
	form.Set("bogus_field", "1")
	e := post(t, o.Link, form, true).wantError(t, http.StatusBadRequest, "validation_failed")
	if e.Fields["bogus_field"] == "" || len(e.Fields) != 1 {
		t.Errorf("an unknown field: want a 400 naming bogus_field alone: %+v", e)
	}
	page := post(t, o.Link, form, false)
	if page.Status != http.StatusBadRequest || !strings.Contains(string(page.Body), "bogus_field") {
		t.Errorf("an unknown field, as a page: want 400 naming it: %s", page)
	}
	if after := s.snapshot(t, o.ProcessID); after != before {
		t.Errorf("a refused form changed the register:\nbefore %s\nafter %s", before, after)
	}
	if h := s.historyLength(t, o.ProcessID); h != history {
		t.Errorf("a refused form changed the workflow's history: %d events, then %d", history, h)
	}
	if r := post(t, o.Link, decision("approve", "fine"), true); r.Status != http.StatusOK {
		t.Errorf("POST approve after the refused form: %s", r)
	}
}

// A decision never rides in a URL: the query string is not read, so a decision given only
// there is refused (400 on decision) and nothing is recorded; the contract says so.
func TestTaskLinkDecisionNotFromQuery(t *testing.T) {
	t.Parallel()
	s := sys(t)
	o := s.newOpenTask(t)
	before := s.snapshot(t, o.ProcessID)
	e := post(t, o.Link+"?decision=approve", url.Values{"comment": {"in the URL"}}, true).wantError(t, http.StatusBadRequest, "validation_failed")
	if e.Fields["decision"] == "" {
		t.Errorf("a decision in the query string: %+v", e)
	}
	if after := s.snapshot(t, o.ProcessID); after != before {
		t.Errorf("a decision in the query string changed the register:\nbefore %s\nafter %s", before, after)
	}

	var doc struct {
		Paths map[string]struct {
			Post struct {
				Description string `yaml:"description"`
			} `yaml:"post"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(call(t, http.MethodGet, "/api/openapi.yaml", "", nil).Body, &doc); err != nil {
		t.Fatal(err)
	}
	desc := doc.Paths["/tasks/{token}"].Post.Description
	if strings.Contains(desc, "may also be given in the query string") || !strings.Contains(desc, "query string is never read") {
		t.Errorf("the contract for POST /tasks/{token} does not say the query string is never read:\n%s", desc)
	}
}
