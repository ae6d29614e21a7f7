package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/policyflow/policyflow/models"
)

// Each fuzz target checks the same property on one decoder: any input gets an answer
// below 500, a refusal changes nothing, and the answer never carries an internal error
// text. `go test` runs the seed corpus (CI); `go test -fuzz FuzzX ./api/` explores.

var hostile = []string{
	"", "{", "[]", "null", `{"a":1}`, "\xff\xfe", strings.Repeat("{", 10000), `{"requester": 1}`,
	`{"requester":"' OR 1=1; --","clauses":["6.2(1)"],"alternative":"x","reason":"x","classification":1,"start_date":"2099-01-01","end_date":"2099-02-01"}`,
	`{"requester":"x","clauses":["6.2(1)'); DROP TABLE processes; --"]}`,
	`{"name":"Robert'); DROP TABLE people;--","email":"a@b.example","department":"d"}`,
	`{"requester":"E1","clauses":["6.2(1)"],"alternative":"\u0000","reason":"r","classification":2,"start_date":"2099-01-01","end_date":"2099-02-01"}`,
}

func checkAnswer(t *testing.T, r reply) {
	t.Helper()
	if r.Status >= 500 {
		t.Fatalf("answered %d: %s", r.Status, r.Body)
	}
	body := string(r.Body)
	for _, leak := range []string{"sql", "gorm", "panic", "runtime error", "goroutine"} {
		if r.Status >= 400 && strings.Contains(strings.ToLower(body), leak) {
			t.Fatalf("answer leaks %q: %s", leak, body)
		}
	}
}

func FuzzStartException(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		s := sys(t)
		before := s.countRows(t, &models.Process{}, "1 = 1")
		r := call(t, "POST", "/api/v1/exceptions", s.token("officer"), body)
		checkAnswer(t, r)
		if r.Status >= 400 && s.countRows(t, &models.Process{}, "1 = 1") != before {
			t.Fatalf("a refused request (%d) registered a process", r.Status)
		}
	})
}

func FuzzPutPerson(f *testing.F) {
	for _, s := range hostile {
		f.Add("fz-person", s)
	}
	f.Add("../../etc", `{"name":"n","email":"e@x.example","department":"d"}`)
	f.Fuzz(func(t *testing.T, id, body string) {
		s := sys(t)
		before := s.countRows(t, &models.Person{}, "1 = 1")
		r := call(t, "PUT", "/api/v1/people/"+url.PathEscape(id), s.token("directory"), body)
		checkAnswer(t, r)
		if r.Status >= 400 && s.countRows(t, &models.Person{}, "1 = 1") != before {
			t.Fatalf("a refused request (%d) changed the directory", r.Status)
		}
	})
}

func FuzzImportPeople(f *testing.F) {
	f.Add("employee_id,name,email,department\nfz1,n,n@x.example,d\n")
	f.Add("employee_id,name,email,department\nfz2,\"unterminated,x@x.example,d\n")
	f.Add("\ufeffEMPLOYEE_ID,NAME,EMAIL,DEPARTMENT,ROLES\r\nfz3,n,bad-email,d,ciso;giso\r\n")
	f.Add("employee_id,name,email,department\n" + strings.Repeat("a,", 5000) + "\n")
	f.Add("\x00\xff")
	f.Fuzz(func(t *testing.T, csv string) {
		s := sys(t)
		before := s.countRows(t, &models.Person{}, "1 = 1")
		r := call(t, "POST", "/api/v1/people/import", s.token("directory"), csv, "Content-Type", "text/csv")
		checkAnswer(t, r)
		if r.Status >= 400 && s.countRows(t, &models.Person{}, "1 = 1") != before {
			t.Fatalf("a refused import (%d) changed the directory", r.Status)
		}
	})
}

// Any token that was not issued is a 404, never a 5xx, whether it is well formed or not.
func FuzzTaskToken(f *testing.F) {
	for _, s := range []string{"", "x", strings.Repeat("A", 43), strings.Repeat("a", 44), "%00", "..%2f..", "AAAA-_-_" + strings.Repeat("9", 35), strings.ToUpper(strings.Repeat("ab", 21)) + "c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		s := sys(t)
		link := s.URL + "/tasks/" + url.PathEscape(token)
		get := send(t, mustRequest(t, "GET", link))
		checkAnswer(t, get)
		r := post(t, link, decision("approve", ""), true)
		checkAnswer(t, r)
		if token != "" && (get.Status != http.StatusNotFound || r.Status != http.StatusNotFound) {
			t.Fatalf("made-up token answered %d / %d", get.Status, r.Status)
		}
	})
}

func mustRequest(t *testing.T, method, link string) *http.Request {
	req, err := http.NewRequest(method, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
