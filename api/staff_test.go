package api_test

// The staff pages (issue 17): sign-in by a mailed one-time link, sessions, CSRF, "my open
// tasks" and "my requests".

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/api"
	"github.com/policyflow/policyflow/models"
)

// staffBrowser is a person at the staff pages: their session cookie and CSRF token.
type staffBrowser struct {
	Person models.Person
	Cookie *http.Cookie
	CSRF   string
}

func staffGet(t testing.TB, path string, ck *http.Cookie, headers ...string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, shared.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ck != nil {
		req.AddCookie(ck)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return send(t, req)
}

func staffPost(t testing.TB, path string, ck *http.Cookie, form url.Values, headers ...string) reply {
	t.Helper()
	if !strings.HasPrefix(path, "http") {
		path = shared.URL + path
	}
	req, err := http.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if ck != nil {
		req.AddCookie(ck)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return send(t, req)
}

var signInLinkPattern = regexp.MustCompile(`https?://[^\s<>"]+/staff/sign-in/[A-Za-z0-9_-]{43}`)

// askLink asks for a sign-in link for who and returns the one mailed to person.
func (s *system) askLink(t testing.TB, who string, person models.Person) string {
	t.Helper()
	before := s.countRows(t, &models.OutboxMessage{}, "`key` LIKE ?", "sign-in/"+person.EmployeeID+"/%")
	r := staffPost(t, "/staff/sign-in", nil, url.Values{"who": {who}})
	if r.Status != http.StatusOK {
		t.Fatalf("ask for a link: %s", r)
	}
	s.API.BackgroundDone()
	var msgs []models.OutboxMessage
	if err := s.Store.DB.Where("`key` LIKE ?", "sign-in/"+person.EmployeeID+"/%").Order("id").Find(&msgs).Error; err != nil {
		t.Fatal(err)
	}
	if int64(len(msgs)) != before+1 {
		t.Fatalf("%d sign-in mails to %s, want %d", len(msgs), person.EmployeeID, before+1)
	}
	m := msgs[len(msgs)-1]
	if m.To != person.Email {
		t.Errorf("the link went to %q, want the registered address %q", m.To, person.Email)
	}
	link := signInLinkPattern.FindString(m.Text)
	if !strings.HasPrefix(link, s.URL+"/staff/sign-in/") {
		t.Fatalf("no sign-in link in the mail: %q", m.Text)
	}
	return link
}

// signIn signs person in through a mailed link and returns their browser.
func (s *system) signIn(t testing.TB, person models.Person) staffBrowser {
	t.Helper()
	link := s.askLink(t, person.EmployeeID, person)
	r := staffPost(t, link, nil, nil)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/staff" {
		t.Fatalf("sign in: %s", r)
	}
	b := staffBrowser{Person: person, Cookie: sessionCookie(t, r)}
	home := staffGet(t, "/staff", b.Cookie)
	if home.Status != http.StatusOK {
		t.Fatalf("home after sign-in: %s", home)
	}
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`).FindSubmatch(home.Body)
	if m == nil {
		t.Fatalf("no CSRF token on the home page: %s", home)
	}
	b.CSRF = string(m[1])
	return b
}

func sessionCookie(t testing.TB, r reply) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "pf_staff" && c.Value != "" {
			return c
		}
	}
	t.Fatalf("no session cookie in %v", r.Header.Values("Set-Cookie"))
	return nil
}

func (b staffBrowser) form(kv ...string) url.Values {
	v := url.Values{"csrf": {b.CSRF}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// The sign-in page answers the same body with the same status whatever was entered: a
// known employee ID, a known address, an unknown ID, a former employee, something that is
// neither. Only the known and employed are mailed.
func TestStaffSignInAnswersAlike(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dept := uid("dept")
	known := s.addPerson(t, dept)
	gone := person(uid("emp"), dept)
	gone.Status = "retired"
	if _, err := s.Store.PutPeople(context.Background(), []models.Person{gone}); err != nil {
		t.Fatal(err)
	}
	var first reply
	for i, who := range []string{known.EmployeeID, strings.ToUpper(known.Email), uid("nobody"), gone.EmployeeID, "x' OR 1=1 --", "nobody@nowhere.example"} {
		r := staffPost(t, "/staff/sign-in", nil, url.Values{"who": {who}})
		if i == 0 {
			first = r
			if r.Status != http.StatusOK {
				t.Fatalf("first answer: %s", r)
			}
			continue
		}
		if r.Status != first.Status || string(r.Body) != string(first.Body) {
			t.Errorf("the answer for entry %d differs from a known ID's:\n%s\nvs\n%s", i, r, first)
		}
	}
	s.API.BackgroundDone()
	if n := s.countRows(t, &models.OutboxMessage{}, "`key` LIKE ?", "sign-in/"+known.EmployeeID+"/%"); n != 2 {
		t.Errorf("%d mails to the known person (by ID and by address), want 2", n)
	}
	if n := s.countRows(t, &models.OutboxMessage{}, "`key` LIKE ?", "sign-in/"+gone.EmployeeID+"/%"); n != 0 {
		t.Errorf("a former employee was mailed %d links", n)
	}
	if n := s.countRows(t, &models.SignInLink{}, "employee_id = ?", gone.EmployeeID); n != 0 {
		t.Errorf("a former employee got %d links", n)
	}
}

// One person is mailed at most LinksPerHour links, however often someone asks.
func TestStaffSignInLinksPerPersonBounded(t *testing.T) {
	t.Parallel()
	s := sys(t)
	p := s.addPerson(t, uid("dept"))
	for range api.DefaultStaffSettings.LinksPerHour + 3 {
		if r := staffPost(t, "/staff/sign-in", nil, url.Values{"who": {p.EmployeeID}}); r.Status != http.StatusOK {
			t.Fatal(r)
		}
	}
	s.API.BackgroundDone()
	if n := s.countRows(t, &models.SignInLink{}, "employee_id = ?", p.EmployeeID); n != int64(api.DefaultStaffSettings.LinksPerHour) {
		t.Errorf("%d links made for one person in an hour, want %d", n, api.DefaultStaffSettings.LinksPerHour)
	}
}

// The sign-in page is rate-limited per address prefix like the public window (429 with
// Retry-After), and nothing is mailed past the limit.
func TestStaffSignInRateLimited(t *testing.T) {
	t.Parallel()
	s := sys(t)
	p := s.addPerson(t, uid("dept"))
	srv := &api.Server{Store: s.Store, Temporal: s.Temporal, Loc: tokyo, TimeZone: "Asia/Tokyo", Log: slog.New(slog.DiscardHandler),
		DecisionKeys: s.Keys, Mailer: activities.Outbox{Store: s.Store}, PublicURL: s.URL, SignInPerMinute: 2}
	h := httptest.NewServer(srv.Handler())
	defer h.Close()
	var last reply
	for range 4 {
		last = staffPost(t, h.URL+"/staff/sign-in", nil, url.Values{"who": {p.EmployeeID}})
	}
	srv.BackgroundDone()
	if last.Status != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("past the limit: %s, want 429 with Retry-After", last)
	}
	if n := s.countRows(t, &models.SignInLink{}, "employee_id = ?", p.EmployeeID); n > 3 {
		t.Errorf("%d links made past the limit", n)
	}
}

// A sign-in link works once; opening its page changes nothing (mail scanners open links);
// an expired link does not work.
func TestStaffSignInLinkOnceAndExpiring(t *testing.T) {
	t.Parallel()
	s := sys(t)
	p := s.addPerson(t, uid("dept"))
	link := s.askLink(t, p.Email, p)
	for range 2 {
		if r := staffGet(t, strings.TrimPrefix(link, s.URL), nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "<form method=\"post\">") {
			t.Fatalf("the link's page: %s", r)
		}
	}
	if r := staffPost(t, link, nil, nil, "Sec-Fetch-Site", "cross-site"); r.Status != http.StatusForbidden || r.Header.Get("Set-Cookie") != "" {
		t.Errorf("another site's form signs in: %s, want 403", r)
	}
	if r := staffPost(t, link, nil, nil, "Sec-Fetch-Site", "same-origin"); r.Status != http.StatusSeeOther {
		t.Fatalf("first use: %s", r)
	}
	if r := staffPost(t, link, nil, nil); r.Status != http.StatusGone || r.Header.Get("Set-Cookie") != "" {
		t.Errorf("second use: %s, want 410 without a session", r)
	}
	if r := staffGet(t, strings.TrimPrefix(link, s.URL), nil); r.Status != http.StatusGone {
		t.Errorf("the used link's page: %s, want 410", r)
	}

	late := s.askLink(t, p.EmployeeID, p)
	hash := activities.HashToken(late[strings.LastIndex(late, "/")+1:])
	if err := s.Store.DB.Model(&models.SignInLink{}).Where("hash = ?", hash).Update("expires_at", time.Now().Add(-time.Second)).Error; err != nil {
		t.Fatal(err)
	}
	if r := staffPost(t, late, nil, nil); r.Status != http.StatusGone || r.Header.Get("Set-Cookie") != "" {
		t.Errorf("expired link: %s, want 410 without a session", r)
	}
	if r := staffPost(t, "/staff/sign-in/"+strings.Repeat("A", 43), nil, nil); r.Status != http.StatusGone {
		t.Errorf("unknown link: %s, want 410", r)
	}
}

// The session cookie cannot be read by scripts, is sent only to the staff pages and only
// from them (SameSite=Strict), and only over HTTPS when the pages are served so. The
// session is stored as a hash.
func TestStaffSessionCookie(t *testing.T) {
	t.Parallel()
	s := sys(t)
	p := s.addPerson(t, uid("dept"))
	r := staffPost(t, s.askLink(t, p.EmployeeID, p), nil, nil)
	ck := sessionCookie(t, r)
	raw := r.Header.Get("Set-Cookie")
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/staff" || ck.Secure {
		t.Errorf("cookie over http: %q, want HttpOnly, SameSite=Strict, Path=/staff, not Secure", raw)
	}
	if n := s.countRows(t, &models.StaffSession{}, "hash = ?", ck.Value); n != 0 {
		t.Error("the session token is stored as it is")
	}
	if n := s.countRows(t, &models.StaffSession{}, "hash = ? AND employee_id = ?", activities.HashToken(ck.Value), p.EmployeeID); n != 1 {
		t.Error("the session is not stored by its hash")
	}
	r = staffPost(t, s.askLink(t, p.EmployeeID, p), nil, nil, "X-Forwarded-Proto", "https")
	if ck := sessionCookie(t, r); !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie behind an HTTPS proxy: %q, want Secure too", r.Header.Get("Set-Cookie"))
	}
}

// A session ends after the idle timeout, after the absolute timeout however busy, and on
// sign-out; a request without a live session is sent to the sign-in page.
func TestStaffSessionTimeouts(t *testing.T) {
	t.Parallel()
	s := sys(t)
	p := s.addPerson(t, uid("dept"))
	d := api.DefaultStaffSettings
	set := func(b staffBrowser, col string, at time.Time) {
		if err := s.Store.DB.Model(&models.StaffSession{}).Where("hash = ?", activities.HashToken(b.Cookie.Value)).Update(col, at).Error; err != nil {
			t.Fatal(err)
		}
	}
	ended := func(what string, b staffBrowser) {
		t.Helper()
		r := staffGet(t, "/staff", b.Cookie)
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/staff/sign-in") {
			t.Errorf("%s: %s, want a redirect to the sign-in page", what, r)
		}
	}

	idle := s.signIn(t, p)
	set(idle, "last_seen_at", time.Now().Add(-d.Idle+time.Minute))
	if r := staffGet(t, "/staff", idle.Cookie); r.Status != http.StatusOK {
		t.Fatalf("within the idle timeout: %s", r)
	}
	set(idle, "last_seen_at", time.Now().Add(-d.Idle-time.Minute))
	ended("past the idle timeout", idle)
	set(idle, "last_seen_at", time.Now()) // an ended session stays ended
	ended("an ended session", idle)

	busy := s.signIn(t, p)
	set(busy, "created_at", time.Now().Add(-d.Max-time.Minute))
	ended("past the absolute timeout", busy)

	out := s.signIn(t, p)
	if r := staffPost(t, "/staff/sign-out", out.Cookie, out.form()); r.Status != http.StatusOK {
		t.Fatalf("sign out: %s", r)
	}
	ended("after signing out", out)
	ended("without a cookie", staffBrowser{Cookie: &http.Cookie{Name: "pf_staff", Value: strings.Repeat("x", 43)}})
}

// A POST without the session's CSRF token is refused (403) and changes nothing.
func TestStaffCSRF(t *testing.T) {
	t.Parallel()
	s := sys(t)
	o := s.newOpenTask(t)
	b := s.signIn(t, o.Requester)
	other := s.signIn(t, s.addPerson(t, uid("dept")))
	for name, form := range map[string]url.Values{
		"none":            {"reason": {"changed my mind"}},
		"another session": {"reason": {"changed my mind"}, "csrf": {other.CSRF}},
		"garbage":         {"reason": {"changed my mind"}, "csrf": {"x"}},
	} {
		r := staffPost(t, "/staff/requests/"+o.ProcessID+"/withdraw", b.Cookie, form)
		if r.Status != http.StatusForbidden {
			t.Errorf("withdraw with CSRF token %s: %s, want 403", name, r)
		}
		if r := staffPost(t, "/staff/sign-out", b.Cookie, url.Values{"csrf": form["csrf"]}); r.Status != http.StatusForbidden {
			t.Errorf("sign out with CSRF token %s: %s, want 403", name, r)
		}
	}
	if p := s.process(t, o.ProcessID); p.Process.Status == "cancelled" || p.Process.ClosedAt != nil {
		t.Errorf("a refused withdrawal changed the process: %+v", p.Process)
	}
	if r := staffGet(t, "/staff", b.Cookie); r.Status != http.StatusOK {
		t.Errorf("a refused sign-out ended the session: %s", r)
	}
}

// "My open tasks" lists the tasks a person holds a link to and opens them on the task
// page their mailed link opens; "My requests" shows a request's stage, whom it waits for
// and until when; the requester withdraws it through the API's cancellation; nobody else
// sees it.
func TestStaffTasksAndRequests(t *testing.T) {
	s := sys(t)
	o := s.newOpenTask(t)
	requester := s.signIn(t, o.Requester)
	home := staffGet(t, "/staff", requester.Cookie)
	if !strings.Contains(string(home.Body), "/staff/requests/"+o.ProcessID) {
		t.Fatalf("the requester's home does not list their request: %s", home)
	}
	// The stage by its name in the person's language (en here), not the workflow's.
	if b := string(home.Body); !strings.Contains(b, html.EscapeString("The CISO's review")) || strings.Contains(b, "ciso_review") {
		t.Errorf("the requester's home does not name the stage: %s", home)
	}
	page := staffGet(t, "/staff/requests/"+o.ProcessID, requester.Cookie)
	body := string(page.Body)
	for _, want := range []string{sharedCISOName, "Withdraw this request", "The log server is being replaced."} {
		if page.Status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("the request's page lacks %q: %s", want, page)
		}
	}

	stranger := s.signIn(t, s.addPerson(t, uid("dept")))
	if r := staffGet(t, "/staff/requests/"+o.ProcessID, stranger.Cookie); r.Status != http.StatusNotFound || strings.Contains(string(r.Body), "log server") {
		t.Errorf("a stranger sees the request: %s", r)
	}
	if r := staffPost(t, "/staff/tasks/open", stranger.Cookie, stranger.form("task", o.Task.ID)); r.Status != http.StatusNotFound {
		t.Errorf("a stranger opens the CISO's task: %s", r)
	}

	ciso, err := s.Store.Person(context.Background(), sharedCISO)
	if err != nil {
		t.Fatal(err)
	}
	decider := s.signIn(t, ciso)
	home = staffGet(t, "/staff", decider.Cookie)
	if !strings.Contains(string(home.Body), `name="task" value="`+html.EscapeString(o.Task.ID)+`"`) {
		t.Fatalf("the CISO's home does not list their open task: %s", home)
	}
	r := staffPost(t, "/staff/tasks/open", decider.Cookie, decider.form("task", o.Task.ID))
	loc := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/tasks/") {
		t.Fatalf("open the task: %s", r)
	}
	if r := staffGet(t, loc, nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `name="decision"`) {
		t.Errorf("the task page the staff pages open: %s", r)
	}
	// Deciding there is deciding: the requester sees the decision and that it is their turn.
	if r := post(t, s.URL+loc, decision("return", "Name the systems, please."), false); r.Status != http.StatusOK {
		t.Fatalf("decide on the opened task page: %s", r)
	}
	eventually(t, "the requester's page to show the decision and their revision", func() (bool, string) {
		body := string(staffGet(t, "/staff/requests/"+o.ProcessID, requester.Cookie).Body)
		return strings.Contains(body, "Return for changes") && strings.Contains(body, "<td>"+o.Requester.Name+"</td>") &&
			strings.Contains(body, html.EscapeString("The requester's revision")), body
	})

	if r := staffPost(t, "/staff/requests/"+o.ProcessID+"/withdraw", stranger.Cookie, stranger.form("reason", "not mine")); r.Status != http.StatusConflict {
		t.Errorf("a stranger withdraws the request: %s", r)
	}
	if r := staffPost(t, "/staff/requests/"+o.ProcessID+"/withdraw", requester.Cookie, requester.form("reason", " ")); r.Status != http.StatusBadRequest {
		t.Errorf("withdraw without a reason: %s", r)
	}
	r = staffPost(t, "/staff/requests/"+o.ProcessID+"/withdraw", requester.Cookie, requester.form("reason", "The old log server stays after all."))
	if r.Status != http.StatusSeeOther {
		t.Fatalf("withdraw: %s", r)
	}
	eventually(t, "the withdrawn process to close", func() (bool, string) {
		p := s.process(t, o.ProcessID)
		return p.Process.ClosedAt != nil, fmt.Sprint(p.Process.Status)
	})
	p, err := s.Store.Process(context.Background(), o.ProcessID)
	if err != nil || p.CancelReason != "The old log server stays after all." || p.CancelledBy != o.Requester.EmployeeID {
		t.Errorf("the withdrawal's record: %q by %q (%v)", p.CancelReason, p.CancelledBy, err)
	}
	if r := staffGet(t, "/staff/requests/"+o.ProcessID, requester.Cookie); strings.Contains(string(r.Body), "Withdraw this request") {
		t.Errorf("a closed request offers to be withdrawn")
	}
}

// A form is shown, and taken, only from those the policy lets file the request: an incident
// report from anyone, an exception request from a department security officer or a system
// manager (§7.4(1)).
func TestStaffFormsByRole(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dept := uid("dept")
	staff := s.signIn(t, s.addPerson(t, dept))
	diso := s.signIn(t, s.addPerson(t, dept, "diso"))
	for _, c := range []struct {
		b        staffBrowser
		kind     string
		want     int
		inHome   bool
		homeText string
	}{
		{staff, "incident", http.StatusOK, true, ""},
		{staff, "exception", http.StatusForbidden, false, ""},
		{diso, "incident", http.StatusOK, true, ""},
		{diso, "exception", http.StatusOK, true, ""},
		{diso, "offboarding", http.StatusNotFound, false, ""},
	} {
		home := staffGet(t, "/staff", c.b.Cookie)
		if got := strings.Contains(string(home.Body), `href="/staff/new/`+c.kind+`"`); got != c.inHome {
			t.Errorf("%v's home offers %s: %v, want %v", c.b.Person.RoleNames(), c.kind, got, c.inHome)
		}
		if r := staffGet(t, "/staff/new/"+c.kind, c.b.Cookie); r.Status != c.want {
			t.Errorf("%v GET form %s: %d, want %d", c.b.Person.RoleNames(), c.kind, r.Status, c.want)
		}
		if c.want != http.StatusOK {
			form := c.b.form("step", "confirm", "key", strings.Repeat("a", 32))
			for k, v := range exceptionForm() {
				form[k] = v
			}
			if r := staffPost(t, "/staff/new/"+c.kind, c.b.Cookie, form); r.Status != c.want {
				t.Errorf("%v POST form %s: %d, want %d", c.b.Person.RoleNames(), c.kind, r.Status, c.want)
			}
			if n := s.countRows(t, &models.Process{}, "requester_id = ?", c.b.Person.EmployeeID); n != 0 {
				t.Errorf("a refused form filed %d requests", n)
			}
		}
	}
	// The exception form offers the catalogue's clauses with their text.
	r := staffGet(t, "/staff/new/exception", diso.Cookie)
	if !strings.Contains(string(r.Body), `value="6.1(5)"`) || !strings.Contains(string(r.Body), "§6.1(5) ") {
		t.Errorf("the exception form does not offer §6.1(5) with its text")
	}
}

func exceptionForm() url.Values {
	return url.Values{
		"clauses":        {"6.1(5)"},
		"alternative":    {"The logs are copied to a USB disk by hand every Friday."},
		"reason":         {"The log server is being replaced."},
		"classification": {"2"},
		"start_date":     {date(1)},
		"end_date":       {date(30)},
	}
}

// An incident report goes through the confirmation page; sending the confirmation twice
// (a double click, a reload) files one report, which "My requests" then lists.
func TestStaffIncidentFiledOnce(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dept := uid("dept")
	sysID := uid("sys")
	if _, err := s.Store.PutSystem(context.Background(), models.System{ID: sysID, Name: "Counter PCs", DepartmentID: dept}); err != nil {
		t.Fatal(err)
	}
	b := s.signIn(t, s.addPerson(t, dept))
	form := staffGet(t, "/staff/new/incident", b.Cookie)
	key := regexp.MustCompile(`name="key" value="([0-9a-f]{32})"`).FindSubmatch(form.Body)
	if form.Status != http.StatusOK || key == nil || !strings.Contains(string(form.Body), "Counter PCs") {
		t.Fatalf("the incident form (with the department's systems and a key): %s", form)
	}
	values := b.form("key", string(key[1]), "category", "loss_theft", "system", sysID, "classification", "2",
		"discovered_at", time.Now().In(tokyo).Add(-time.Hour).Format("2006-01-02T15:04"), "description", "A tablet was left on the train.", "step", "check")
	confirm := staffPost(t, "/staff/new/incident", b.Cookie, values)
	if confirm.Status != http.StatusOK || !strings.Contains(string(confirm.Body), `value="confirm"`) || !strings.Contains(string(confirm.Body), "A tablet was left on the train.") {
		t.Fatalf("the confirmation page: %s", confirm)
	}
	if n := s.countRows(t, &models.Process{}, "requester_id = ?", b.Person.EmployeeID); n != 0 {
		t.Fatalf("the confirmation page filed %d requests", n)
	}
	values.Set("step", "confirm")
	first := staffPost(t, "/staff/new/incident", b.Cookie, values)
	second := staffPost(t, "/staff/new/incident", b.Cookie, values)
	if first.Status != http.StatusSeeOther || second.Status != http.StatusSeeOther || first.Header.Get("Location") != second.Header.Get("Location") {
		t.Fatalf("double submit: %s / %s", first, second)
	}
	if n := s.countRows(t, &models.Process{}, "requester_id = ? AND kind = ?", b.Person.EmployeeID, "incident"); n != 1 {
		t.Errorf("a double submit filed %d incident reports, want 1", n)
	}
	id := strings.TrimPrefix(first.Header.Get("Location"), "/staff?filed=")
	home := staffGet(t, first.Header.Get("Location"), b.Cookie)
	if !strings.Contains(string(home.Body), "/staff/requests/"+id) {
		t.Errorf("My requests does not list the report %s: %s", id, home)
	}
	in := s.process(t, id)
	if in.Process.Kind != "incident" || in.Process.Department != dept {
		t.Errorf("the filed report: %+v", in.Process)
	}
}

// A form with a wrong field comes back with the error next to that field and everything
// entered kept, in the person's language; nothing is filed. The page refuses what the API
// refuses, a rule of the town's included (the exception's longest duration).
func TestStaffFormErrorsKept(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dept := uid("dept")
	p := person(uid("emp"), dept, "diso")
	p.Locale = "ja"
	if _, err := s.Store.PutPeople(context.Background(), []models.Person{p}); err != nil {
		t.Fatal(err)
	}
	b := s.signIn(t, p)
	for name, c := range map[string]struct {
		field, value, wantField string
	}{
		"end before start":   {"end_date", date(0), "end_date"},
		"too long":           {"end_date", date(800), "end_date"},
		"no clause":          {"clauses", "", "clauses"},
		"unknown clause":     {"clauses", "99.9(9)", "clauses"},
		"bad classification": {"classification", "7", "classification"},
	} {
		form := b.form("key", strings.Repeat("b", 32), "step", "check")
		for k, v := range exceptionForm() {
			form[k] = v
		}
		if c.value == "" {
			form.Del(c.field)
		} else {
			form.Set(c.field, c.value)
		}
		r := staffPost(t, "/staff/new/exception", b.Cookie, form)
		body := string(r.Body)
		if r.Status != http.StatusBadRequest || !strings.Contains(body, `id="e-`+c.wantField+`"`) {
			t.Errorf("%s: %d, want 400 with an error beside %s: %s", name, r.Status, c.wantField, r)
			continue
		}
		if !strings.Contains(body, "入力内容を確認してください") {
			t.Errorf("%s: the error is not in Japanese", name)
		}
		for _, kept := range []string{"The logs are copied to a USB disk by hand every Friday.", "The log server is being replaced.", `value="` + date(1) + `"`} {
			if !strings.Contains(body, kept) {
				t.Errorf("%s: what was entered is lost: %q", name, kept)
			}
		}
	}
	if n := s.countRows(t, &models.Process{}, "requester_id = ?", p.EmployeeID); n != 0 {
		t.Errorf("forms with errors filed %d requests", n)
	}
}

// A system manager files a cloud service assessment (§8.3): countries offered by name, a
// missing one refused beside its field with the rest kept, then filed once; someone
// without the post is not offered the form.
func TestStaffCloudForm(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dept := uid("dept")
	// §8.3: the department security officer assesses the service, so has no form for it.
	officer := s.signIn(t, s.addPerson(t, dept, "diso"))
	ism := s.signIn(t, s.addPerson(t, dept, "ism"))
	if r := staffGet(t, "/staff/new/cloud_assessment", officer.Cookie); r.Status != http.StatusForbidden {
		t.Errorf("the department security officer: %d, want 403", r.Status)
	}
	if home := staffGet(t, "/staff", officer.Cookie); strings.Contains(string(home.Body), `href="/staff/new/cloud_assessment"`) {
		t.Errorf("the officer's home offers the cloud form")
	}
	form := staffGet(t, "/staff/new/cloud_assessment", ism.Cookie)
	if form.Status != http.StatusOK || !strings.Contains(string(form.Body), "Japan (JP)") {
		t.Fatalf("the cloud form with countries by name: %s", form)
	}
	values := ism.form("key", strings.Repeat("c", 32), "step", "check", "service", "Town chat", "provider", "Chat KK",
		"purpose", "Messages between departments.", "classification", "2", "processing_regions", "JP",
		"governing_law", "JP", "jurisdiction", "JP", "cert_kind", "ismap", "cert_issued_on", date(-30),
		"exit_plan", "Export all messages as CSV.", "security_design_ref", "DOC-42")
	r := staffPost(t, "/staff/new/cloud_assessment", ism.Cookie, values)
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `id="e-storage_regions"`) || !strings.Contains(string(r.Body), "Export all messages as CSV.") {
		t.Fatalf("no storage country: %s", r)
	}
	values.Set("cert_issued_on", date(5))
	values.Add("storage_regions", "JP")
	if r := staffPost(t, "/staff/new/cloud_assessment", ism.Cookie, values); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `id="e-cert_issued_on"`) {
		t.Fatalf("a certification issued in the future: %s", r)
	}
	values.Set("cert_issued_on", date(-30))
	if r := staffPost(t, "/staff/new/cloud_assessment", ism.Cookie, values); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `value="confirm"`) {
		t.Fatalf("the confirmation page: %s", r)
	}
	values.Set("step", "confirm")
	for range 2 {
		if r := staffPost(t, "/staff/new/cloud_assessment", ism.Cookie, values); r.Status != http.StatusSeeOther {
			t.Fatalf("file: %s", r)
		}
	}
	if n := s.countRows(t, &models.Process{}, "requester_id = ? AND kind = ?", ism.Person.EmployeeID, "cloud_assessment"); n != 1 {
		t.Errorf("%d cloud assessments filed, want 1", n)
	}
}

// The member of staff in charge of a contract files an outsourcing review (§8.1): a wrong
// corporate number and an incomplete second asset come back beside their fields with the
// rest kept; corrected, it is filed once.
func TestStaffOutsourcingForm(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dept := uid("dept")
	// §8.1(1): the department security officer reviews the selection, so has no form for
	// it; the member of staff in charge of the contract files it.
	officer := s.signIn(t, s.addPerson(t, dept, "diso"))
	if r := staffGet(t, "/staff/new/outsourcing_review", officer.Cookie); r.Status != http.StatusForbidden {
		t.Errorf("the department security officer: %d, want 403", r.Status)
	}
	clerk := s.signIn(t, s.addPerson(t, dept))
	values := clerk.form("key", strings.Repeat("d", 32), "step", "check", "vendor_name", "Sample Systems K.K.",
		"corporate_number", "7000012050003", "contact_email", "sales@sample.example", "contact_locale", "ja",
		"work", "Runs the payroll batch.", "asset1_name", "Payroll data", "asset1_class", "electronic", "asset1_classification", "2",
		"asset2_name", "Printed slips", "asset2_classification", "2",
		"classification", "2", "contract_start", date(10), "contract_end", date(375), "audit_status", "passed", "report_interval_months", "3")
	r := staffPost(t, "/staff/new/outsourcing_review", clerk.Cookie, values)
	body := string(r.Body)
	if r.Status != http.StatusBadRequest || !strings.Contains(body, `id="e-corporate_number"`) || !strings.Contains(body, `id="e-asset2_class"`) ||
		!strings.Contains(body, "Runs the payroll batch.") || !strings.Contains(body, `value="Printed slips"`) {
		t.Fatalf("wrong corporate number and an asset without its form: %s", r)
	}
	values.Set("corporate_number", "7000012050002")
	values.Set("asset2_class", "paper")
	if r := staffPost(t, "/staff/new/outsourcing_review", clerk.Cookie, values); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `value="confirm"`) {
		t.Fatalf("the confirmation page: %s", r)
	}
	values.Set("step", "confirm")
	for range 2 {
		if r := staffPost(t, "/staff/new/outsourcing_review", clerk.Cookie, values); r.Status != http.StatusSeeOther {
			t.Fatalf("file: %s", r)
		}
	}
	if n := s.countRows(t, &models.Process{}, "requester_id = ? AND kind = ?", clerk.Person.EmployeeID, "outsourcing_review"); n != 1 {
		t.Errorf("%d outsourcing reviews filed, want 1", n)
	}
}

// A request is the requester's to withdraw until it is decided: once the CISO has approved an
// exception, the requester's page offers no withdrawal and a posted one changes nothing.
func TestStaffWithdrawOnlyUntilDecided(t *testing.T) {
	s := sys(t)
	o := s.newOpenTask(t)
	requester := s.signIn(t, o.Requester)
	ciso, err := s.Store.Person(context.Background(), sharedCISO)
	if err != nil {
		t.Fatal(err)
	}
	decider := s.signIn(t, ciso)
	r := staffPost(t, "/staff/tasks/open", decider.Cookie, decider.form("task", o.Task.ID))
	loc := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/tasks/") {
		t.Fatalf("open the task: %s", r)
	}
	if r := post(t, s.URL+loc, decision("approve", "Approved."), false); r.Status != http.StatusOK {
		t.Fatalf("approve: %s", r)
	}
	eventually(t, "the request to be approved", func() (bool, string) {
		p := s.process(t, o.ProcessID)
		return p.Process.Status == "approved" || p.Process.Status == "in_effect", p.Process.Status
	})
	if body := string(staffGet(t, "/staff/requests/"+o.ProcessID, requester.Cookie).Body); strings.Contains(body, "Withdraw this request") {
		t.Errorf("an approved request offers to be withdrawn")
	}
	if r := staffPost(t, "/staff/requests/"+o.ProcessID+"/withdraw", requester.Cookie, requester.form("reason", "Changed my mind.")); r.Status != http.StatusConflict {
		t.Errorf("withdraw an approved request: %s, want 409", r)
	}
	if p, err := s.Store.Process(context.Background(), o.ProcessID); err != nil || p.CancelReason != "" || p.ClosedAt != nil {
		t.Errorf("a refused withdrawal changed the process: %+v %v", p, err)
	}
}
