package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/policyflow/policyflow/models"
)

// putSection registers a section (課室) of dept through the API.
func (s *system) putSection(t testing.TB, dept string) string {
	t.Helper()
	id := uid("sec")
	if r := call(t, http.MethodPut, "/api/v1/sections/"+id, s.token("directory"), map[string]any{"department": dept, "name_ja": "課 " + id}); r.Status != http.StatusCreated {
		t.Fatalf("put section: %s", r)
	}
	return id
}

// The directory's two levels (§2): sections (課室) are registered under a department (部局)
// and never move; a person and a system name a section of their own department, or none.
// A section the directory does not know, or another department's, is a 400 that names the
// field, and nothing changes.
func TestSectionsThroughTheAPI(t *testing.T) {
	t.Parallel()
	s := sys(t)
	dir := s.token("directory")
	dept, other := uid("dept"), uid("dept")
	sec := uid("sec")
	r := call(t, http.MethodPut, "/api/v1/sections/"+sec, dir, map[string]any{"department": dept, "name_ja": "課税課", "name_en": "Assessment"})
	if r.Status != http.StatusCreated {
		t.Fatalf("put section: %s", r)
	}
	if r = call(t, http.MethodPut, "/api/v1/sections/"+sec, dir, map[string]any{"department": dept, "name_ja": "税務課課税係"}); r.Status != http.StatusOK {
		t.Fatalf("rename section: %s", r)
	}
	e := call(t, http.MethodPut, "/api/v1/sections/"+sec, dir, map[string]any{"department": other, "name_ja": "x"}).wantError(t, http.StatusConflict, "conflict")
	if e.Fields["department"] == "" {
		t.Errorf("moving a section: %+v", e)
	}
	e = call(t, http.MethodPut, "/api/v1/sections/"+uid("sec"), dir, map[string]any{"department": "a b"}).wantError(t, http.StatusBadRequest, "validation_failed")
	if e.Fields["department"] == "" || e.Fields["name_ja"] == "" {
		t.Errorf("a bad section: %+v", e)
	}
	otherSec := s.putSection(t, other)
	r = call(t, http.MethodGet, "/api/v1/sections", s.token("auditor"), nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"section_id":"`+sec+`","department":"`+dept+`","name_ja":"税務課課税係"`) {
		t.Errorf("GET /sections does not list %s under %s: %s", sec, dept, r)
	}

	// People: a section of their department, or none (as before sections).
	emp := uid("emp")
	body := func(section string) map[string]any {
		b := map[string]any{"name": "Abe", "email": "abe@town.example", "department": dept, "roles": []string{"staff"}}
		if section != "" {
			b["section"] = section
		}
		return b
	}
	for name, c := range map[string]struct{ section, field string }{
		"unknown section":              {uid("nosec"), "section"},
		"another department's section": {otherSec, "section"},
		"not an ID":                    {"a b", "section"},
	} {
		e := call(t, http.MethodPut, "/api/v1/people/"+emp, dir, body(c.section)).wantError(t, http.StatusBadRequest, "validation_failed")
		if e.Fields[c.field] == "" {
			t.Errorf("%s: %+v", name, e)
		}
	}
	if got := s.personRow(t, emp); got != "<none>" {
		t.Errorf("a refused person was stored: %s", got)
	}
	if r = call(t, http.MethodPut, "/api/v1/people/"+emp, dir, body("")); r.Status != http.StatusCreated {
		t.Fatalf("a person without a section: %s", r)
	}
	if r = call(t, http.MethodPut, "/api/v1/people/"+emp, dir, body(sec)); r.Status != http.StatusOK || r.object(t)["section"] != sec {
		t.Fatalf("a person in a section: %s", r)
	}
	if r = call(t, http.MethodGet, "/api/v1/people/"+emp, dir, nil); r.object(t)["section"] != sec {
		t.Errorf("GET person: %s", r)
	}

	// Systems: likewise.
	ism := s.addPerson(t, dept, "ism")
	sysBody := func(section string) map[string]any {
		return map[string]any{"name": "tax", "department": dept, "section": section, "ism": ism.EmployeeID, "classification": 2}
	}
	sysID := uid("sys")
	e = call(t, http.MethodPut, "/api/v1/systems/"+sysID, dir, sysBody(otherSec)).wantError(t, http.StatusBadRequest, "validation_failed")
	if e.Fields["section"] == "" {
		t.Errorf("a system in another department's section: %+v", e)
	}
	if r = call(t, http.MethodPut, "/api/v1/systems/"+sysID, dir, sysBody(sec)); r.Status != http.StatusCreated {
		t.Fatalf("a system in a section: %s", r)
	}
	if got, err := s.Store.System(context.Background(), sysID); err != nil || got.SectionID != sec {
		t.Errorf("system %+v %v", got, err)
	}

	// The roster import: a Japanese header 課室; a row with an unknown or another
	// department's section refuses the file; a roster without the column keeps sections.
	a, b := uid("emp"), uid("emp")
	csv := func(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n" }
	header := "職員番号,氏名,メールアドレス,所属,課室,役割"
	bad := csv(header, a+",安部,abe@town.example,"+dept+","+sec+",staff", b+",馬場,baba@town.example,"+dept+","+otherSec+",staff", emp+",Abe,abe@town.example,"+dept+",nosuch,staff")
	e = call(t, http.MethodPost, "/api/v1/people/import", dir, bad, "Content-Type", "text/csv").wantError(t, http.StatusBadRequest, "validation_failed")
	if len(e.Rows) != 2 || e.Rows[0].Row != 3 || e.Rows[0].Fields["section"] == "" || e.Rows[1].Row != 4 || e.Rows[1].Fields["section"] == "" {
		t.Errorf("rows with bad sections: %+v", e.Rows)
	}
	if s.personRow(t, a) != "<none>" {
		t.Errorf("a refused roster imported %s", a)
	}
	good := csv(header, a+",安部,abe@town.example,"+dept+","+sec+",staff", b+",馬場,baba@town.example,"+dept+",,staff")
	if r = call(t, http.MethodPost, "/api/v1/people/import", dir, good, "Content-Type", "text/csv"); r.Status != http.StatusOK {
		t.Fatalf("import: %s", r)
	}
	if p, _ := s.Store.Person(context.Background(), a); p.SectionID != sec {
		t.Errorf("imported %s in section %q", a, p.SectionID)
	}
	old := csv("職員番号,氏名,メールアドレス,所属,役割", a+",安部,abe@town.example,"+dept+",staff")
	if r = call(t, http.MethodPost, "/api/v1/people/import", dir, old, "Content-Type", "text/csv"); r.Status != http.StatusOK {
		t.Fatalf("import without sections: %s", r)
	}
	if p, _ := s.Store.Person(context.Background(), a); p.SectionID != sec {
		t.Errorf("a roster without sections changed %s's section to %q", a, p.SectionID)
	}
}

// A transfer within the department is between two of its sections (§2, §6.1(1)): a new
// section the directory does not know, or of another department, is a 400; staying in the
// department without naming another section of it is a 422, as is an employee the directory
// has in no section. Nothing is registered.
func TestStartSectionTransferRefused(t *testing.T) {
	t.Parallel()
	s := sys(t)
	p, dept := s.leaver(t)
	nosec, _ := s.leaver(t)
	secA, secB, otherSec := s.putSection(t, dept), s.putSection(t, dept), s.putSection(t, uid("dept"))
	p.SectionID = secA
	if _, err := s.Store.PutPeople(context.Background(), []models.Person{p}); err != nil {
		t.Fatal(err)
	}
	nosecDept := nosec.DepartmentID
	nosecSec := s.putSection(t, nosecDept)
	transfer := func(emp, newDept, newSec string) map[string]any {
		b := map[string]any{"employee_id": emp, "reason": "transfer", "effective_date": date(30), "new_department": newDept}
		if newSec != "" {
			b["new_section"] = newSec
		}
		return b
	}
	retire := map[string]any{"employee_id": p.EmployeeID, "reason": "retirement", "effective_date": date(30), "new_section": secB}
	for _, c := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"new section on a retirement", retire, 400, "validation_failed"},
		{"unknown new section", transfer(p.EmployeeID, dept, uid("nosec")), 400, "validation_failed"},
		{"another department's section", transfer(p.EmployeeID, dept, otherSec), 400, "validation_failed"},
		{"same department, no section", transfer(p.EmployeeID, dept, ""), 422, "policy_violation"},
		{"same section", transfer(p.EmployeeID, dept, secA), 422, "policy_violation"},
		{"employee in no section", transfer(nosec.EmployeeID, nosecDept, nosecSec), 422, "policy_violation"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := call(t, http.MethodPost, "/api/v1/offboardings", s.token("hr"), c.body).wantError(t, c.status, c.code)
			if e.Fields["new_section"] == "" && e.Fields["new_department"] == "" {
				t.Errorf("the error names no field: %+v", e)
			}
		})
	}
	if n := s.countRows(t, &models.Offboarding{}, "employee_id IN ?", []string{p.EmployeeID, nosec.EmployeeID}); n != 0 {
		t.Errorf("refused requests registered %d offboardings", n)
	}
}

// A transfer between two sections of one department, through the API on real Temporal: the
// manager of the former section's system reviews the person's ID there (here: disables it);
// the other section's system and other departments' systems are not touched; the directory
// then has the person in the new section of the same department.
func TestSectionTransferThroughTheLinks(t *testing.T) {
	t.Parallel()
	s := sys(t)
	ctx := context.Background()
	dir := s.token("directory")
	leaver, dept := s.leaver(t)
	secA, secB := s.putSection(t, dept), s.putSection(t, dept)
	leaver.SectionID = secA
	if _, err := s.Store.PutPeople(ctx, []models.Person{leaver}); err != nil {
		t.Fatal(err)
	}
	ismA, ismB := s.addPerson(t, dept, "ism"), s.addPerson(t, dept, "ism")
	otherISM := s.addPerson(t, uid("dept"), "ism")
	sysA, sysB, common := uid("tax"), uid("collect"), uid("mail")
	for id, owner := range map[string]struct {
		ism     models.Person
		section string
	}{sysA: {ismA, secA}, sysB: {ismB, secB}, common: {otherISM, ""}} {
		if r := call(t, "PUT", "/api/v1/systems/"+id, dir, map[string]any{"name": id, "department": owner.ism.DepartmentID, "section": owner.section, "ism": owner.ism.EmployeeID, "classification": 2}); r.Status != 201 {
			t.Fatalf("put system: %s", r)
		}
		if r := call(t, "PUT", "/api/v1/systems/"+id+"/accounts/"+leaver.EmployeeID, dir, map[string]any{"holder": leaver.EmployeeID}); r.Status != 201 {
			t.Fatalf("put account: %s", r)
		}
	}
	body := map[string]any{"employee_id": leaver.EmployeeID, "reason": "transfer", "effective_date": date(-3), "new_department": dept, "new_section": secB}
	id := startedID(t, call(t, "POST", "/api/v1/offboardings", s.token("hr"), body), 201)
	tasks := s.openTasks(t, id, 2)
	for _, task := range tasks {
		var form = decision("done", "")
		switch task.Step {
		case "review_transfer_access":
			if task.AssigneeID != ismA.EmployeeID || !strings.Contains(task.TitleEn, "("+sysA+")") {
				t.Fatalf("review task %+v, want one for %s on %s", task, ismA.EmployeeID, sysA)
			}
			form.Set("account:"+leaver.EmployeeID, "disabled")
			// The manager's page says where the person moves.
			html, _, _ := taskViews(t, s.linkOf(t, task))
			has(t, "the review page", html, "New section", secB)
		case "secrecy_acknowledgement":
			form = decision("acknowledge", "")
		default:
			t.Fatalf("unexpected task %s %s", task.Step, task.TitleEn)
		}
		if r := post(t, s.linkOf(t, task), form, true); r.Status != 200 {
			t.Fatalf("decide %s: %s", task.Step, r)
		}
	}
	eventually(t, "the offboarding to close", func() (bool, string) {
		p := s.process(t, id).Process
		return p.Status == "completed", p.Status
	})
	for sysID, want := range map[string]string{sysA: "disabled", sysB: "active", common: "active"} {
		if acc, err := s.Store.Account(ctx, sysID, leaver.EmployeeID); err != nil || acc.Status != want {
			t.Errorf("account on %s: %+v %v, want %s", sysID, acc, err, want)
		}
	}
	var tasksOf []models.Task
	s.Store.DB.Where("process_id = ?", id).Find(&tasksOf)
	if len(tasksOf) != 2 {
		t.Errorf("%d tasks, want the review and the acknowledgement only", len(tasksOf))
	}
	p, err := s.Store.Person(ctx, leaver.EmployeeID)
	if err != nil || p.DepartmentID != dept || p.SectionID != secB || p.Status != models.StatusEmployed {
		t.Errorf("the directory after the transfer: %+v %v", p, err)
	}
	o, _ := s.Store.OffboardingOf(ctx, id)
	if o.FormerSection != secA || o.NewSection != secB {
		t.Errorf("register: sections %q → %q", o.FormerSection, o.NewSection)
	}
}
