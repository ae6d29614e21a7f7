package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/policyflow/policyflow/api"
	"github.com/policyflow/policyflow/models"
)

func discovered(ago time.Duration) string { return time.Now().Add(-ago).In(tokyo).Format(time.RFC3339) }

func incidentRequest(reporter string) map[string]any {
	return map[string]any{
		"reporter": reporter, "category": "malware", "classification": 1,
		"description": "窓口端末で不審なポップアップが表示された", "discovered_at": discovered(20 * time.Minute),
	}
}

// Every refused incident report answers API.md's error shape and starts nothing.
func TestStartIncidentRefused(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("officer")
	dept := uid("dept")
	reporter := s.addPerson(t, dept, "staff")
	retired := s.addPerson(t, dept, "staff")
	retired.Status = models.StatusRetired
	if _, err := s.Store.PutPeople(context.Background(), []models.Person{retired}); err != nil {
		t.Fatal(err)
	}
	with := func(kv ...any) map[string]any {
		b := incidentRequest(reporter.EmployeeID)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(b, kv[i].(string))
			} else {
				b[kv[i].(string)] = kv[i+1]
			}
		}
		return b
	}
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"missing reporter", with("reporter", nil), 400, "validation_failed", "reporter"},
		{"reporter not an ID", with("reporter", "a b"), 400, "validation_failed", "reporter"},
		{"unknown category", with("category", "virus"), 400, "validation_failed", "category"},
		{"no category", with("category", nil), 400, "validation_failed", "category"},
		{"no description", with("description", "  "), 400, "validation_failed", "description"},
		{"description too long", with("description", strings.Repeat("d", 4001)), 400, "validation_failed", "description"},
		{"classification 4", with("classification", 4), 400, "validation_failed", "classification"},
		{"no discovery time", with("discovered_at", nil), 400, "validation_failed", "discovered_at"},
		{"discovery without offset", with("discovered_at", "2026-04-27T09:00:00"), 400, "validation_failed", "discovered_at"},
		{"discovery in the future", with("discovered_at", discovered(-time.Hour)), 400, "validation_failed", "discovered_at"},
		{"discovery two years ago", with("discovered_at", discovered(2*365*24*time.Hour)), 400, "validation_failed", "discovered_at"},
		{"system not an ID", with("system", "a/b"), 400, "validation_failed", "system"},
		{"unknown reporter", with("reporter", uid("emp")), 422, "policy_violation", "reporter"},
		{"retired reporter", with("reporter", retired.EmployeeID), 422, "policy_violation", "reporter"},
		{"unknown system", with("system", uid("sys")), 422, "policy_violation", "system"},
		{"unknown field", with("severity", "high"), 400, "bad_request", ""},
		{"wrong type", with("classification", "1"), 400, "bad_request", ""},
		{"malformed", `{"reporter":`, 400, "bad_request", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := call(t, http.MethodPost, "/api/v1/incidents", tok, c.body).wantError(t, c.status, c.code)
			if c.field != "" && e.Fields[c.field] == "" {
				t.Errorf("no message for %s: %+v", c.field, e)
			}
		})
	}
	call(t, http.MethodPost, "/api/v1/incidents", s.token("auditor"), incidentRequest(reporter.EmployeeID)).wantError(t, http.StatusForbidden, "forbidden")
	call(t, http.MethodPost, "/api/v1/incidents", "", incidentRequest(reporter.EmployeeID)).wantError(t, http.StatusUnauthorized, "unauthorized")
	if n := s.countRows(t, &models.Process{}, "department_id = ?", dept); n != 0 {
		t.Errorf("refused reports registered %d processes", n)
	}
}

// A report from inside starts the incident: the officer's triage task opens at once with
// its form, the GISO and the system's manager are told, and the hops are recorded.
func TestStartIncidentOpensTriage(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dept := uid("dept")
	diso := s.addPerson(t, dept, "diso")
	reporter := s.addPerson(t, dept, "staff")
	ism := s.addPerson(t, dept, "ism")
	system := uid("sys")
	if code := call(t, http.MethodPut, "/api/v1/systems/"+system, s.token("directory"),
		map[string]any{"name": "窓口端末", "department": dept, "ism": ism.EmployeeID, "classification": 1}).Status; code != http.StatusCreated {
		t.Fatalf("put system: %d", code)
	}
	body := incidentRequest(reporter.EmployeeID)
	body["system"] = system
	r := call(t, http.MethodPost, "/api/v1/incidents", s.token("officer"), body)
	if r.Status != http.StatusCreated {
		t.Fatalf("start incident: %s", r)
	}
	var started startedBody
	r.decode(t, &started)
	if started.Kind != "incident" || !strings.HasPrefix(started.ID, "INC-") {
		t.Errorf("answer %+v", started)
	}
	// §6.4(3)7 「即時」: the reporter's disconnection task opens at the report, beside the
	// triage, and is confirmed on the real services before anyone has triaged.
	dc := s.waitForStep(t, started.ID, "disconnection")
	if dc.Task.AssigneeID != reporter.EmployeeID {
		t.Errorf("disconnection for %s, want the reporter %s", dc.Task.AssigneeID, reporter.EmployeeID)
	}
	if due := dc.Task.DueAt.Sub(dc.Task.CreatedAt); due < 14*time.Minute || due > 16*time.Minute {
		t.Errorf("disconnection due %s after it opened, want 15 min", due)
	}
	if r := post(t, dc.Link, url.Values{"decision": {"done"}, "disconnect_lan_cable": {"done"}, "disconnect_wireless": {"not_applicable"},
		"disconnect_power": {"not_applicable"}, "disconnect_mobile": {"not_applicable"}}, true); r.Status != http.StatusOK {
		t.Errorf("confirm the disconnection: %s", r)
	}
	s.waitIdle(t, started.ID)
	o := s.waitForStep(t, started.ID, "triage")
	if o.Task.Step != "triage" || o.Task.AssigneeID != diso.EmployeeID {
		t.Errorf("first task %s for %s, want triage for the officer %s", o.Task.Step, o.Task.AssigneeID, diso.EmployeeID)
	}
	if due := o.Task.DueAt.Sub(o.Task.CreatedAt); due < 59*time.Minute || due > 61*time.Minute {
		t.Errorf("triage due %s after it opened, want an hour", due)
	}
	page := call(t, http.MethodGet, o.Link, "", nil, "Accept", "application/json").object(t)
	form := fmt.Sprint(page["form"])
	for _, f := range []string{"severity", "plan", "ciso", "handler_contact", "handler_recovery"} {
		if !strings.Contains(form, f) {
			t.Errorf("the triage form lacks %s: %s", f, form)
		}
	}
	html := call(t, http.MethodGet, o.Link, "", nil)
	if !strings.Contains(string(html.Body), "窓口端末で不審なポップアップが表示された") {
		t.Error("the triage page does not show the description")
	}
	for _, to := range []string{sharedGISO, ism.EmployeeID} {
		if n := s.countRows(t, &models.Notification{}, "process_id = ? AND kind = ? AND recipient_id = ?", started.ID, "incident_reported", to); n != 1 {
			t.Errorf("%d report notices to %s, want 1", n, to)
		}
	}
	var rec struct {
		Description string
		Hops        []struct {
			Hop   string
			Since float64 `json:"minutes_since_discovery"`
		}
	}
	call(t, http.MethodGet, "/api/v1/incidents/"+started.ID, s.token("auditor"), nil).decode(t, &rec)
	var hops []string
	for _, h := range rec.Hops {
		hops = append(hops, h.Hop)
	}
	if strings.Join(hops, ",") != "discovered,received,disconnection_requested,giso_notified,ism_notified,triage_requested,disconnection_confirmed" {
		t.Errorf("hops = %v", hops)
	}
	if len(rec.Hops) > 1 && (rec.Hops[1].Since < 19 || rec.Hops[1].Since > 22) {
		t.Errorf("received %.1f minutes after discovery, want about 20", rec.Hops[1].Since)
	}
	if rec.Description == "" {
		t.Error("the incident record has no description")
	}
	call(t, http.MethodGet, "/api/v1/incidents/"+uid("INC"), s.token("auditor"), nil).wantError(t, http.StatusNotFound, "not_found")
}

func TestPutEmergencyContact(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("directory")
	id := uid("contact")
	body := map[string]any{"name": "県警 サイバー犯罪対策課", "phone": "0742-00-0000", "categories": []string{"unauthorized_access"}, "priority": 5}
	if r := call(t, http.MethodPut, "/api/v1/emergency-contacts/"+id, tok, body); r.Status != http.StatusCreated {
		t.Fatalf("create: %s", r)
	}
	body["email"] = "cyber@police.example"
	if r := call(t, http.MethodPut, "/api/v1/emergency-contacts/"+id, tok, body); r.Status != http.StatusOK {
		t.Fatalf("replace: %s", r)
	}
	list, err := s.Store.EmergencyContacts(context.Background(), "unauthorized_access")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range list {
		found = found || (c.ID == id && c.Email == "cyber@police.example")
	}
	if !found {
		t.Errorf("contact %s not listed for unauthorized_access: %+v", id, list)
	}
	if other, _ := s.Store.EmergencyContacts(context.Background(), "leak"); len(other) > 0 {
		for _, c := range other {
			if c.ID == id {
				t.Error("a contact limited to unauthorized_access is listed for a leak")
			}
		}
	}
	for name, b := range map[string]map[string]any{
		"no name":          {"phone": "0742-00-0000"},
		"no way to reach":  {"name": "x"},
		"bad phone":        {"name": "x", "phone": "call me"},
		"bad email":        {"name": "x", "email": "not-an-address"},
		"unknown category": {"name": "x", "phone": "0742-00-0000", "categories": []string{"virus"}},
	} {
		t.Run(name, func(t *testing.T) {
			call(t, http.MethodPut, "/api/v1/emergency-contacts/"+uid("contact"), tok, b).wantError(t, http.StatusBadRequest, "validation_failed")
		})
	}
	call(t, http.MethodPut, "/api/v1/emergency-contacts/"+uid("contact"), s.token("officer"), body).wantError(t, http.StatusForbidden, "forbidden")
}

// publicWindow is a second API server on the shared system that believes X-Forwarded-For
// from loopback, so a test can speak from many client addresses.
func publicWindow(t *testing.T) string {
	t.Helper()
	s := sys(t)
	_, loop, _ := net.ParseCIDR("127.0.0.0/8")
	// The ceiling of all addresses is counted in the shared database: tests running side by
	// side must not reach it (ratelimit_test.go tests it on a database of its own).
	srv := &api.Server{Store: s.Store, Temporal: s.Temporal, Loc: tokyo, TimeZone: "Asia/Tokyo",
		Log: slog.New(slog.DiscardHandler), TrustedProxies: []*net.IPNet{loop}, DecisionKeys: s.Keys,
		PublicReportCeiling: 1 << 20}
	h := httptest.NewServer(srv.Handler())
	t.Cleanup(h.Close)
	return h.URL + "/public/incident-reports"
}

var addresses atomic.Int32

// address returns a client address no other test uses.
func address() string {
	n := addresses.Add(1)
	return fmt.Sprintf("203.0.%d.%d", n/250, n%250+1)
}

func residentReport() map[string]any {
	return map[string]any{"name": "斑鳩 花子", "email": "hanako@example.jp", "category": "leak",
		"description": "町のホームページに個人名が載った名簿が掲載されています"}
}

// A resident's report answers a receipt number and nothing internal, and starts an
// incident that the GISO's office triages.
func TestPublicIncidentReport(t *testing.T) {
	t.Parallel()
	s := sys(t)
	// At least one department has a security officer (the shared database may hold more
	// than the 200 a form lists, so this one is not looked for by name).
	s.addPerson(t, uid("dept"), "diso")
	url := publicWindow(t)
	r := call(t, http.MethodPost, url, "", residentReport(), "X-Forwarded-For", address())
	if r.Status != http.StatusAccepted {
		t.Fatalf("report: %s", r)
	}
	m := r.object(t)
	if len(m) != 3 || !strings.HasPrefix(fmt.Sprint(m["receipt_number"]), "R-") || m["received_at"] == nil {
		t.Errorf("answer = %v, want receipt_number, received_at and message only", m)
	}
	if strings.Contains(string(r.Body), "INC-") || r.Header.Get("Location") != "" {
		t.Errorf("the answer reveals the process: %s %v", r, r.Header)
	}
	var in models.Incident
	eventually(t, "the incident's record", func() (bool, string) {
		err := s.Store.DB.Where("receipt_number = ?", m["receipt_number"]).First(&in).Error
		return err == nil, fmt.Sprint(err)
	})
	if in.Source != "resident" || in.ReporterEmail != "hanako@example.jp" || in.DepartmentID != "town-office" {
		t.Errorf("record = %+v", in)
	}
	o := s.waitForOpenTask(t, in.ProcessID)
	if o.Task.Step != "triage" || o.Task.AssigneeID != sharedGISO {
		t.Errorf("first task %s for %s, want triage by the GISO", o.Task.Step, o.Task.AssigneeID)
	}
	// §5.3(2)1–2: the GISO's office names the department concerned, from those with a
	// security officer.
	page := call(t, http.MethodGet, o.Link, "", nil, "Accept", "application/json").object(t)
	if form := fmt.Sprint(page["form"]); !strings.Contains(form, "Name:department") || !strings.Contains(form, "Value:unknown") {
		t.Errorf("the triage of a resident's report does not ask for the department concerned: %s", form)
	}
}

func TestPublicIncidentReportRefused(t *testing.T) {
	t.Parallel()
	url := publicWindow(t)
	with := func(kv ...any) map[string]any {
		b := residentReport()
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(b, kv[i].(string))
			} else {
				b[kv[i].(string)] = kv[i+1]
			}
		}
		return b
	}
	cases := []struct {
		name  string
		body  any
		code  string
		field string
	}{
		{"no description", with("description", nil), "validation_failed", "description"},
		{"long description", with("description", strings.Repeat("あ", 4001)), "validation_failed", "description"},
		{"unknown category", with("category", "spam"), "validation_failed", "category"},
		{"bad email", with("email", "hanako at example"), "validation_failed", "email"},
		{"bad phone", with("phone", "<script>"), "validation_failed", "phone"},
		{"long name", with("name", strings.Repeat("n", 101)), "validation_failed", "name"},
		{"future discovery", with("discovered_at", discovered(-2*time.Hour)), "validation_failed", "discovered_at"},
		{"internal field", with("department", "general"), "bad_request", ""},
		{"malformed", `{"category": "leak",`, "bad_request", ""},
		{"not UTF-8", "{\"category\": \"leak\", \"description\": \"\xc3\x28\"}", "bad_request", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := call(t, http.MethodPost, url, "", c.body, "X-Forwarded-For", address()).wantError(t, http.StatusBadRequest, c.code)
			if c.field != "" && e.Fields[c.field] == "" {
				t.Errorf("no message for %s: %+v", c.field, e)
			}
		})
	}
	t.Run("form instead of JSON", func(t *testing.T) {
		call(t, http.MethodPost, url, "", "category=leak", "Content-Type", "application/x-www-form-urlencoded", "X-Forwarded-For", address()).
			wantError(t, http.StatusBadRequest, "bad_request")
	})
}

// More than 16 KiB is refused before it is read, whether or not the length is announced.
func TestPublicIncidentReportSizeLimit(t *testing.T) {
	t.Parallel()
	url := publicWindow(t)
	big := residentReport()
	big["description"] = strings.Repeat("x", 17<<10)
	call(t, http.MethodPost, url, "", big, "X-Forwarded-For", address()).wantError(t, http.StatusRequestEntityTooLarge, "too_large")

	body := `{"category":"leak","description":"` + strings.Repeat("x", 17<<10) + `"}`
	req, err := http.NewRequest(http.MethodPost, url, struct{ *strings.Reader }{strings.NewReader(body)}) // no length: chunked
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", address())
	send(t, req).wantError(t, http.StatusRequestEntityTooLarge, "too_large")
}

// One address is limited to a burst of reports, then answered 429 with Retry-After;
// another address is not affected.
func TestPublicIncidentReportRateLimit(t *testing.T) {
	t.Parallel()
	url := publicWindow(t)
	flood := address()
	invalid := map[string]any{"category": "leak"} // refused, but counted: a flood is a flood
	for i := 0; i < api.PublicReportBurst; i++ {
		call(t, http.MethodPost, url, "", invalid, "X-Forwarded-For", flood).wantError(t, http.StatusBadRequest, "validation_failed")
	}
	r := call(t, http.MethodPost, url, "", residentReport(), "X-Forwarded-For", flood)
	r.wantError(t, http.StatusTooManyRequests, "rate_limited")
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > int(api.PublicReportEvery.Seconds()) {
		t.Errorf("Retry-After %q, want 1-%d seconds", r.Header.Get("Retry-After"), int(api.PublicReportEvery.Seconds()))
	}
	// Another address, and many more, are still heard.
	for i := 0; i < 3; i++ {
		call(t, http.MethodPost, url, "", invalid, "X-Forwarded-For", address()).wantError(t, http.StatusBadRequest, "validation_failed")
	}
	call(t, http.MethodPost, url, "", invalid, "X-Forwarded-For", flood).wantError(t, http.StatusTooManyRequests, "rate_limited")
}

// §7.2(2): a policy violation is triaged by the GISO on the real services, and the
// department's officer is told of it.
func TestStartPolicyViolationTriagedByGISO(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dept := uid("dept")
	diso := s.addPerson(t, dept, "diso")
	reporter := s.addPerson(t, dept, "staff")
	body := incidentRequest(reporter.EmployeeID)
	body["category"] = "policy_violation"
	r := call(t, http.MethodPost, "/api/v1/incidents", s.token("officer"), body)
	if r.Status != http.StatusCreated {
		t.Fatalf("start incident: %s", r)
	}
	var started startedBody
	r.decode(t, &started)
	o := s.waitForStep(t, started.ID, "triage")
	if o.Task.AssigneeID != sharedGISO {
		t.Errorf("triage for %s, want the GISO %s (§7.2(2)2)", o.Task.AssigneeID, sharedGISO)
	}
	if n := s.countRows(t, &models.Notification{}, "process_id = ? AND kind = ? AND recipient_id = ?", started.ID, "incident_reported", diso.EmployeeID); n != 1 {
		t.Errorf("%d report notices to the department's officer, want 1 (§7.2(2)1)", n)
	}
	if n := s.countRows(t, &models.Task{}, "process_id = ? AND step = ?", started.ID, "disconnection"); n != 0 {
		t.Errorf("a policy violation opened %d disconnection tasks", n)
	}
}

// A repeated incident report with the same Idempotency-Key and body (a client's retry a
// moment later) answers the process already started, as other starts do, though it is
// received at another time; another body under the same key is a conflict (API.md).
func TestStartIncidentIdempotent(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dept := uid("dept")
	s.addPerson(t, dept, "diso")
	reporter := s.addPerson(t, dept, "staff")
	body := incidentRequest(reporter.EmployeeID)
	key := uid("key")
	first := call(t, http.MethodPost, "/api/v1/incidents", s.token("officer"), body, "Idempotency-Key", key)
	if first.Status != http.StatusCreated {
		t.Fatalf("start incident: %s", first)
	}
	var a startedBody
	first.decode(t, &a)
	defer s.cancel(t, a.ID)
	again := call(t, http.MethodPost, "/api/v1/incidents", s.token("officer"), body, "Idempotency-Key", key)
	var b startedBody
	if again.Status != http.StatusOK {
		t.Fatalf("the same report again: %s, want 200 with %s", again, a.ID)
	}
	if again.decode(t, &b); b.ID != a.ID {
		t.Errorf("the same report again answered %s, want %s", b.ID, a.ID)
	}
	other := incidentRequest(reporter.EmployeeID)
	other["description"] = "別の端末でも同じ表示が出た"
	call(t, http.MethodPost, "/api/v1/incidents", s.token("officer"), other, "Idempotency-Key", key).wantError(t, http.StatusConflict, "conflict")
	if n := s.countRows(t, &models.Process{}, "requester_id = ?", reporter.EmployeeID); n != 1 {
		t.Errorf("%d processes for one report, want 1", n)
	}
}
