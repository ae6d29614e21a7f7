package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/policyflow/policyflow/models"
)

// badJSON are bodies every JSON route refuses with 400 bad_request before looking at them.
var badJSON = []struct {
	name    string
	body    any
	headers []string
}{
	{"malformed JSON", `{"name": "A",`, nil},
	{"not an object", `["a"]`, nil},
	{"two values", `{} {}`, nil},
	{"empty body", ``, nil},
	{"unknown field", `{"name": "A", "nickname": "B"}`, nil},
	{"wrong type", `{"name": 42}`, nil},
	{"invalid UTF-8", "{\"name\": \"\xff\xfe\"}", nil},
	{"not JSON content type", `{}`, []string{"Content-Type", "text/plain"}},
}

func (s *system) personRow(t testing.TB, id string) string {
	t.Helper()
	p, err := s.Store.Person(context.Background(), id)
	if errors.Is(err, models.ErrNotFound) {
		return "<none>"
	} else if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p)
	return string(b)
}

func TestPutPerson(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("directory")
	dept := uid("dept")
	id := uid("emp")
	valid := func() map[string]any {
		return map[string]any{"name": "Kato Yumi", "email": "kato@town.example", "department": dept, "roles": []string{"staff", "diso", "staff"}}
	}

	r := call(t, http.MethodPut, "/api/v1/people/"+id, tok, valid())
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %s", r)
	}
	got := r.object(t)
	if got["employee_id"] != id || got["locale"] != "ja" || got["employment_status"] != "employed" || fmt.Sprint(got["roles"]) != "[staff diso]" {
		t.Errorf("create answered %v; want defaults ja, employed and roles without repeats", got)
	}
	replace := valid()
	replace["name"], replace["locale"], replace["roles"] = "Kato Yumi (renamed)", "en", []string{"ism"}
	if r := call(t, http.MethodPut, "/api/v1/people/"+id, tok, replace); r.Status != http.StatusOK {
		t.Fatalf("replace: %s", r)
	}
	p, err := s.Store.Person(context.Background(), id)
	if err != nil || p.Name != "Kato Yumi (renamed)" || p.Locale != "en" || fmt.Sprint(p.RoleNames()) != "[ism]" {
		t.Fatalf("after replace: %+v, %v", p, err)
	}

	with := func(k string, v any) map[string]any {
		b := valid()
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	invalid := []struct {
		name  string
		id    string
		body  map[string]any
		field string
	}{
		{"employee_id too long", strings.Repeat("x", 65), valid(), "employee_id"},
		{"employee_id with a space", "bad%20id", valid(), "employee_id"},
		{"employee_id not the URL's", id, with("employee_id", "someone-else"), "employee_id"},
		{"no name", id, with("name", nil), "name"},
		{"blank name", id, with("name", "   "), "name"},
		{"name too long", id, with("name", strings.Repeat("名", 201)), "name"},
		{"name with NUL", id, with("name", "a\x00b"), "name"},
		{"no email", id, with("email", nil), "email"},
		{"email not an address", id, with("email", "kato-at-town"), "email"},
		{"email with a display name", id, with("email", "Kato <kato@town.example>"), "email"},
		{"no department", id, with("department", nil), "department"},
		{"department not an ID", id, with("department", "総務 課"), "department"},
		{"unknown role", id, with("roles", []string{"staff", "mayor"}), "roles"},
		{"unknown locale", id, with("locale", "fr"), "locale"},
		{"unknown employment status", id, with("employment_status", "fired"), "employment_status"},
	}
	before := s.personRow(t, id)
	for _, c := range invalid {
		t.Run(c.name, func(t *testing.T) {
			e := call(t, http.MethodPut, "/api/v1/people/"+c.id, tok, c.body).wantError(t, http.StatusBadRequest, "validation_failed")
			if e.Fields[c.field] == "" {
				t.Errorf("no message for %s: %+v", c.field, e)
			}
		})
	}
	for _, c := range badJSON {
		t.Run(c.name, func(t *testing.T) {
			call(t, http.MethodPut, "/api/v1/people/"+id, tok, c.body, c.headers...).wantError(t, http.StatusBadRequest, "bad_request")
		})
	}
	if after := s.personRow(t, id); after != before {
		t.Errorf("refused requests changed the person:\nbefore %s\nafter  %s", before, after)
	}
	if n := s.countRows(t, &models.Person{}, "employee_id IN ?", []string{strings.Repeat("x", 65), "someone-else"}); n != 0 {
		t.Errorf("refused requests created %d people", n)
	}
}

func TestImportPeople(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("directory")
	dept := uid("dept")
	a, b, c := uid("emp"), uid("emp"), uid("emp")
	imported := func() int64 {
		return s.countRows(t, &models.Person{}, "employee_id IN ?", []string{a, b, c})
	}
	csv := func(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n" }
	header := "employee_id,name,email,department,roles,locale,employment_status"

	refused := []struct {
		name   string
		body   string
		code   string
		rows   map[int]string // row -> a field with an error
		status int
	}{
		{"one bad row", csv(header,
			a+",Abe,abe@town.example,"+dept+",staff,,",
			b+",Baba,not-an-address,"+dept+",staff,,",
			c+",Chiba,chiba@town.example,"+dept+",diso;staff,en,"),
			"validation_failed", map[int]string{3: "email"}, http.StatusBadRequest},
		{"several bad rows", csv(header,
			a+",,abe@town.example,"+dept+",staff,,",
			b+",Baba,baba@town.example,"+dept+",mayor,,",
			c+",Chiba,chiba@town.example,"+dept+",staff,fr,gone"),
			"validation_failed", map[int]string{2: "name", 3: "roles", 4: "locale"}, http.StatusBadRequest},
		{"repeated employee", csv(header,
			a+",Abe,abe@town.example,"+dept+",staff,,",
			a+",Abe again,abe2@town.example,"+dept+",staff,,"),
			"validation_failed", map[int]string{3: "employee_id"}, http.StatusBadRequest},
		{"malformed row", csv(header,
			a+",Abe,abe@town.example,"+dept+",staff,,",
			b+`,"Baba,baba@town.example,`+dept+",staff,,"),
			"validation_failed", nil, http.StatusBadRequest},
		{"missing columns", csv("employee_id,name", a+",Abe"), "bad_request", nil, http.StatusBadRequest},
		{"header only", csv(header), "bad_request", nil, http.StatusBadRequest},
		{"empty body", "", "bad_request", nil, http.StatusBadRequest},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			e := call(t, http.MethodPost, "/api/v1/people/import", tok, tc.body, "Content-Type", "text/csv").wantError(t, tc.status, tc.code)
			for row, field := range tc.rows {
				found := false
				for _, r := range e.Rows {
					found = found || r.Row == row && r.Fields[field] != ""
				}
				if !found {
					t.Errorf("no error on row %d, field %s: %+v", row, field, e.Rows)
				}
			}
			if tc.rows != nil && len(e.Rows) != len(tc.rows) {
				t.Errorf("%d rows reported, want %d: %+v", len(e.Rows), len(tc.rows), e.Rows)
			}
			if n := imported(); n != 0 {
				t.Errorf("a refused file imported %d people", n)
			}
		})
	}

	// A good file, from Excel (BOM, CRLF, columns in another order), is imported whole.
	good := "\ufeff" + csv("name,employee_id,email,department,roles,locale",
		"Abe,"+a+",abe@town.example,"+dept+",staff,",
		"Baba,"+b+",baba@town.example,"+dept+",diso;staff,en",
		"Chiba,"+c+",chiba@town.example,"+dept+",ism staff,ja")
	r := call(t, http.MethodPost, "/api/v1/people/import", tok, good, "Content-Type", "text/csv")
	if r.Status != http.StatusOK {
		t.Fatalf("import: %s", r)
	}
	if got := r.object(t); fmt.Sprint(got) != "map[created:3 imported:3 updated:0]" {
		t.Errorf("import answered %v", got)
	}
	p, err := s.Store.Person(context.Background(), b)
	if err != nil || p.Name != "Baba" || p.Locale != "en" || !p.HasRole("diso") || !p.HasRole("staff") {
		t.Errorf("imported %+v, %v", p, err)
	}
	// Importing it again updates.
	r = call(t, http.MethodPost, "/api/v1/people/import", tok, good, "Content-Type", "text/csv")
	if got := r.object(t); r.Status != http.StatusOK || fmt.Sprint(got) != "map[created:0 imported:3 updated:3]" {
		t.Errorf("import again: %s", r)
	}
	// A bad row now changes none of the existing people.
	before := s.personRow(t, a)
	bad := csv(header, a+",Abe Renamed,abe@town.example,"+dept+",staff,,", b+",Baba,baba@,"+dept+",staff,,")
	call(t, http.MethodPost, "/api/v1/people/import", tok, bad, "Content-Type", "text/csv").wantError(t, http.StatusBadRequest, "validation_failed")
	if after := s.personRow(t, a); after != before {
		t.Errorf("a refused file changed %s:\nbefore %s\nafter  %s", a, before, after)
	}
}

func (s *system) systemRow(t testing.TB, id string) string {
	t.Helper()
	sys, err := s.Store.System(context.Background(), id)
	if errors.Is(err, models.ErrNotFound) {
		return "<none>"
	} else if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(sys)
	return string(b)
}

func TestPutSystem(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("directory")
	dept := uid("dept")
	ism := s.addPerson(t, dept, "ism")
	staff := s.addPerson(t, dept, "staff")
	id, fresh := uid("sys"), uid("sys")
	valid := func() map[string]any {
		return map[string]any{"name": "Tax system", "department": dept, "ism": ism.EmployeeID, "classification": 2}
	}
	if r := call(t, http.MethodPut, "/api/v1/systems/"+id, tok, valid()); r.Status != http.StatusCreated {
		t.Fatalf("create: %s", r)
	}
	if r := call(t, http.MethodPut, "/api/v1/systems/"+id, tok, valid()); r.Status != http.StatusOK {
		t.Fatalf("replace: %s", r)
	}
	with := func(k string, v any) map[string]any {
		b := valid()
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	cases := []struct {
		name   string
		id     string
		body   map[string]any
		status int
		code   string
		field  string
	}{
		{"system_id too long", strings.Repeat("s", 65), valid(), 400, "validation_failed", "system_id"},
		{"system_id not the URL's", id, with("system_id", "other"), 400, "validation_failed", "system_id"},
		{"no name", id, with("name", nil), 400, "validation_failed", "name"},
		{"no department", id, with("department", nil), 400, "validation_failed", "department"},
		{"no ism", id, with("ism", nil), 400, "validation_failed", "ism"},
		{"ism not an ID", id, with("ism", "a b"), 400, "validation_failed", "ism"},
		{"classification 0", id, with("classification", 0), 400, "validation_failed", "classification"},
		{"classification 4", id, with("classification", 4), 400, "validation_failed", "classification"},
		{"classification as text", id, with("classification", "2"), 400, "bad_request", ""},
		{"unknown field", id, with("owner", "x"), 400, "bad_request", ""},
		{"ism not in the directory", id, with("ism", uid("emp")), 422, "policy_violation", "ism"},
		{"ism without the ism role", id, with("ism", staff.EmployeeID), 422, "policy_violation", "ism"},
		{"new system, ism without the role", fresh, with("ism", staff.EmployeeID), 422, "policy_violation", "ism"},
	}
	before := s.systemRow(t, id)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := call(t, http.MethodPut, "/api/v1/systems/"+c.id, tok, c.body).wantError(t, c.status, c.code)
			if c.field != "" && e.Fields[c.field] == "" {
				t.Errorf("no message for %s: %+v", c.field, e)
			}
		})
	}
	for _, c := range badJSON {
		t.Run(c.name, func(t *testing.T) {
			call(t, http.MethodPut, "/api/v1/systems/"+id, tok, c.body, c.headers...).wantError(t, http.StatusBadRequest, "bad_request")
		})
	}
	if after := s.systemRow(t, id); after != before {
		t.Errorf("refused requests changed the system:\nbefore %s\nafter  %s", before, after)
	}
	if got := s.systemRow(t, fresh); got != "<none>" {
		t.Errorf("a refused request created a system: %s", got)
	}
}

func TestPutAccount(t *testing.T) {
	t.Parallel()
	s := sys(t)
	tok := s.token("directory")
	dept := uid("dept")
	ism := s.addPerson(t, dept, "ism")
	holder := s.addPerson(t, dept, "staff")
	sysID := uid("sys")
	if _, err := s.Store.PutSystem(context.Background(), models.System{ID: sysID, Name: "Groupware", DepartmentID: dept, ISMEmployeeID: ism.EmployeeID, Classification: 2}); err != nil {
		t.Fatal(err)
	}
	accounts := func() int64 { return s.countRows(t, &models.Account{}, "system_id = ?", sysID) }

	path := func(sys, acc string) string { return "/api/v1/systems/" + sys + "/accounts/" + acc }
	r := call(t, http.MethodPut, path(sysID, "kato.y"), tok, map[string]any{"holder": holder.EmployeeID, "privileged": true})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %s", r)
	}
	if got := r.object(t); got["status"] != "active" || got["holder"] != holder.EmployeeID || got["privileged"] != true {
		t.Errorf("create answered %v", got)
	}
	if r := call(t, http.MethodPut, path(sysID, "admin"), tok, map[string]any{"shared": true}); r.Status != http.StatusCreated {
		t.Fatalf("create shared: %s", r)
	}
	if r := call(t, http.MethodPut, path(sysID, "kato.y"), tok, map[string]any{"holder": holder.EmployeeID, "status": "disabled"}); r.Status != http.StatusOK {
		t.Fatalf("replace: %s", r)
	}

	cases := []struct {
		name   string
		sys    string
		acc    string
		body   any
		status int
		code   string
		field  string
	}{
		{"account_id too long", sysID, strings.Repeat("a", 65), map[string]any{"shared": true}, 400, "validation_failed", "account_id"},
		{"unknown status", sysID, "new.1", map[string]any{"shared": true, "status": "locked"}, 400, "validation_failed", "status"},
		{"neither holder nor shared", sysID, "new.2", map[string]any{}, 400, "validation_failed", "holder"},
		{"holder and shared", sysID, "new.3", map[string]any{"holder": holder.EmployeeID, "shared": true}, 400, "validation_failed", "holder"},
		{"holder not an ID", sysID, "new.4", map[string]any{"holder": "a b"}, 400, "validation_failed", "holder"},
		{"holder as a number", sysID, "new.5", `{"holder": 7}`, 400, "bad_request", ""},
		{"unknown system", uid("sys"), "new.6", map[string]any{"shared": true}, 404, "not_found", ""},
		{"holder not in the directory", sysID, "new.7", map[string]any{"holder": uid("emp")}, 422, "policy_violation", "holder"},
	}
	before := accounts()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := call(t, http.MethodPut, path(c.sys, c.acc), tok, c.body).wantError(t, c.status, c.code)
			if c.field != "" && e.Fields[c.field] == "" {
				t.Errorf("no message for %s: %+v", c.field, e)
			}
		})
	}
	for _, c := range badJSON {
		t.Run(c.name, func(t *testing.T) {
			call(t, http.MethodPut, path(sysID, "new.8"), tok, c.body, c.headers...).wantError(t, http.StatusBadRequest, "bad_request")
		})
	}
	if after := accounts(); after != before {
		t.Errorf("refused requests changed the accounts: %d, then %d", before, after)
	}
	var acc models.Account
	if err := s.Store.DB.First(&acc, "system_id = ? AND account_id = ?", sysID, "kato.y").Error; err != nil || acc.Status != "disabled" || acc.Privileged {
		t.Errorf("account after replace: %+v, %v", acc, err)
	}
}
