package api

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// personBody is a person as PUT /people/{employee_id} takes and answers it.
type personBody struct {
	EmployeeID       string   `json:"employee_id,omitempty"`
	Name             string   `json:"name"`
	Email            string   `json:"email"`
	Department       string   `json:"department"`
	Section          string   `json:"section,omitempty"`
	Roles            []string `json:"roles"`
	Locale           string   `json:"locale,omitempty"`
	EmploymentStatus string   `json:"employment_status,omitempty"`
}

var employmentStatuses = []string{models.StatusEmployed, models.StatusRetired, models.StatusTransferred, models.StatusSeconded}

// validate checks a person and turns it into the model; sections are the directory's
// sections (課室) by ID, which a given section must be one of, in the person's department.
func (b personBody) validate(id string, sections map[string]models.Section) (models.Person, fieldErrors) {
	f := fieldErrors{}
	f.id("employee_id", id)
	f.text("name", b.Name, true, 200)
	f.email("email", b.Email)
	f.id("department", b.Department)
	f.section("section", b.Section, b.Department, sections)
	if b.Locale == "" {
		b.Locale = "ja"
	}
	f.check(b.Locale == "ja" || b.Locale == "en", "locale", "must be ja or en")
	if b.EmploymentStatus == "" {
		b.EmploymentStatus = models.StatusEmployed
	}
	f.check(slices.Contains(employmentStatuses, b.EmploymentStatus), "employment_status", "must be one of "+strings.Join(employmentStatuses, ", "))
	p := models.Person{EmployeeID: id, Name: strings.TrimSpace(b.Name), Email: b.Email, DepartmentID: b.Department, SectionID: b.Section, Locale: b.Locale, Status: b.EmploymentStatus}
	seen := map[string]bool{}
	for _, r := range b.Roles {
		role, err := policy.ParseRole(r)
		if err != nil {
			f.check(false, "roles", fmt.Sprintf("%q is not a role (ciso, giso, diso, ism, staff, hr, vendor)", r))
			continue
		}
		if !seen[string(role)] {
			seen[string(role)] = true
			p.Roles = append(p.Roles, models.PersonRole{EmployeeID: id, Role: string(role)})
		}
	}
	return p, f
}

func personJSON(p models.Person) personBody {
	return personBody{EmployeeID: p.EmployeeID, Name: p.Name, Email: p.Email, Department: p.DepartmentID, Section: p.SectionID,
		Roles: p.RoleNames(), Locale: p.Locale, EmploymentStatus: p.Status}
}

// putPerson creates or replaces a person (201 created, 200 replaced). When their roles,
// department or employment status changed, the processes with an open task of theirs are
// told (reassess), so the task follows the post.
func (s *Server) putPerson(c echo.Context) error {
	var b personBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	id := c.Param("employee_id")
	sections, err := s.sections(c, b.Section != "")
	if err != nil {
		return err
	}
	p, f := b.validate(id, sections)
	if b.EmployeeID != "" && b.EmployeeID != id {
		f.check(false, "employee_id", "must match the URL")
	}
	if err := f.err(); err != nil {
		return err
	}
	created, changed, err := s.Store.PutPeopleChanges(c.Request().Context(), []models.Person{p})
	if err != nil {
		return s.storeErr(err)
	}
	s.reassess(c.Request().Context(), changed)
	status := http.StatusOK
	if created == 1 {
		status = http.StatusCreated
	}
	return c.JSON(status, personJSON(p))
}

// importColumns are the columns of HR's roster export, in any order; roles are separated by
// spaces or semicolons.
var importColumns = []string{"employee_id", "name", "email", "department", "section", "roles", "locale", "employment_status"}

// rowError is one CSV row's problems.
type rowError struct {
	Row    int               `json:"row"`
	Fields map[string]string `json:"fields"`
}

// importPeople loads a CSV roster: every row valid, or nothing changes. As with putPerson,
// the processes with an open task of someone whose post changed are told. The file may be
// UTF-8 or Shift_JIS (CP932), with English or Japanese headers (roster.go).
func (s *Server) importPeople(c echo.Context) error {
	body, err := io.ReadAll(c.Request().Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return apiError("too_large", "the CSV is too large")
	} else if err != nil {
		return apiError("bad_request", "could not read the request body")
	}
	text, cp932, err := decodeRoster(body, c.Request().Header.Get(echo.HeaderContentType))
	if err != nil {
		return err
	}
	unreadable := func(v string) bool { return cp932 && strings.ContainsRune(v, utf8.RuneError) }
	const notText = "contains bytes that are neither UTF-8 nor Shift_JIS (CP932)"
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return apiError("bad_request", "the body must be a CSV file with a header row ("+strings.Join(importColumns, ",")+")")
	}
	col := map[string]int{}
	for i, h := range header {
		if unreadable(h) {
			return apiError("bad_request", fmt.Sprintf("row 1 (the header), column %d %s", i+1, notText))
		}
		name := rosterColumn(h)
		if name == "" {
			continue
		}
		if j, dup := col[name]; dup {
			return apiError("bad_request", fmt.Sprintf("row 1 (the header): columns %d and %d both name %s", j+1, i+1, name))
		}
		col[name] = i
	}
	var missing []string
	for _, name := range []string{"employee_id", "name", "email", "department"} {
		if _, ok := col[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return apiError("bad_request", "the CSV header lacks "+strings.Join(missing, ", "))
	}
	_, withSections := col["section"]
	sections, err := s.sections(c, withSections)
	if err != nil {
		return err
	}
	var people []models.Person
	var rows []rowError
	seen := map[string]int{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if errors.As(err, &tooBig) {
			return apiError("too_large", "the CSV is too large")
		}
		if err != nil {
			msg := "malformed CSV row"
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				msg = "malformed CSV row: " + pe.Err.Error()
			}
			rows = append(rows, rowError{Row: line, Fields: map[string]string{"_row": msg}})
			continue
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		bad := fieldErrors{}
		for _, name := range importColumns {
			bad.check(!unreadable(get(name)), name, notText)
		}
		if len(bad) > 0 {
			rows = append(rows, rowError{Row: line, Fields: bad})
			continue
		}
		// Codes are normalised (full-width ＩＤ１２３ is ID123); the name is kept as written.
		b := personBody{Name: strings.TrimSpace(get("name")), Email: rosterCode(get("email")), Department: rosterCode(get("department")), Section: rosterCode(get("section")),
			Roles:  strings.FieldsFunc(rosterCode(get("roles")), func(r rune) bool { return r == ';' || r == ' ' || r == '|' || r == '、' }),
			Locale: rosterLocale(get("locale")), EmploymentStatus: rosterStatus(get("employment_status"))}
		p, f := b.validate(rosterCode(get("employee_id")), sections)
		if first, dup := seen[p.EmployeeID]; dup && p.EmployeeID != "" {
			f.check(false, "employee_id", fmt.Sprintf("repeats row %d", first))
		}
		seen[p.EmployeeID] = line
		if len(f) > 0 {
			rows = append(rows, rowError{Row: line, Fields: f})
			continue
		}
		people = append(people, p)
	}
	if len(rows) > 0 {
		return c.JSON(http.StatusBadRequest, map[string]any{"error": map[string]any{
			"code": "validation_failed", "message": fmt.Sprintf("%d rows are invalid; nothing was imported", len(rows)), "rows": rows}})
	}
	if len(people) == 0 {
		return apiError("bad_request", "the CSV has no rows")
	}
	created, changed, err := s.Store.PutRosterChanges(c.Request().Context(), people, withSections)
	if err != nil {
		return s.storeErr(err)
	}
	s.reassess(c.Request().Context(), changed)
	return c.JSON(http.StatusOK, map[string]int{"imported": len(people), "created": created, "updated": len(people) - created})
}

// systemBody is an information system as PUT /systems/{system_id} takes it.
type systemBody struct {
	SystemID       string `json:"system_id,omitempty"`
	Name           string `json:"name"`
	Department     string `json:"department"`
	Section        string `json:"section,omitempty"`
	ISM            string `json:"ism"`
	Classification int    `json:"classification"`
}

func (s *Server) putSystem(c echo.Context) error {
	var b systemBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	id := c.Param("system_id")
	f := fieldErrors{}
	f.id("system_id", id)
	f.check(b.SystemID == "" || b.SystemID == id, "system_id", "must match the URL")
	f.text("name", b.Name, true, 200)
	f.id("department", b.Department)
	f.id("ism", b.ISM)
	_, err := policy.ParseLevel(b.Classification)
	f.check(err == nil, "classification", "must be 1, 2 or 3 (§3(1))")
	sections, err := s.sections(c, b.Section != "")
	if err != nil {
		return err
	}
	f.section("section", b.Section, b.Department, sections)
	if err := f.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	ism, err := s.Store.Person(ctx, b.ISM)
	if errors.Is(err, models.ErrNotFound) {
		return &Error{Status: 422, Code: "policy_violation", Message: "the system manager is not in the directory", Fields: map[string]string{"ism": "unknown employee_id"}}
	} else if err != nil {
		return s.storeErr(err)
	}
	if !ism.HasRole(string(policy.RoleISM)) {
		return &Error{Status: 422, Code: "policy_violation", Message: "a system's manager must hold the ism role (§2(4))", Fields: map[string]string{"ism": "does not hold the ism role"}}
	}
	sys := models.System{ID: id, Name: strings.TrimSpace(b.Name), DepartmentID: b.Department, SectionID: b.Section, ISMEmployeeID: b.ISM, Classification: b.Classification}
	created, err := s.Store.PutSystem(ctx, sys)
	if err != nil {
		return s.storeErr(err)
	}
	b.SystemID = id
	return c.JSON(map[bool]int{true: http.StatusCreated, false: http.StatusOK}[created], b)
}

// accountBody is an account as PUT /systems/{system_id}/accounts/{account_id} takes it.
type accountBody struct {
	SystemID   string  `json:"system_id,omitempty"`
	AccountID  string  `json:"account_id,omitempty"`
	Holder     *string `json:"holder"`
	Shared     bool    `json:"shared"`
	Privileged bool    `json:"privileged"`
	Status     string  `json:"status,omitempty"`
}

var accountStatuses = []string{"active", "disabled", "deleted"}

func (s *Server) putAccount(c echo.Context) error {
	var b accountBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	sysID, accID := c.Param("system_id"), c.Param("account_id")
	f := fieldErrors{}
	f.id("account_id", accID)
	if b.Status == "" {
		b.Status = "active"
	}
	f.check(slices.Contains(accountStatuses, b.Status), "status", "must be active, disabled or deleted")
	f.check(b.Shared != (b.Holder != nil), "holder", "give a holder employee_id, or shared: true without a holder")
	if b.Holder != nil {
		f.id("holder", *b.Holder)
	}
	if err := f.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := s.Store.System(ctx, sysID); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return apiError("not_found", "no system "+sysID)
		}
		return s.storeErr(err)
	}
	if b.Holder != nil {
		if _, err := s.Store.Person(ctx, *b.Holder); errors.Is(err, models.ErrNotFound) {
			return &Error{Status: 422, Code: "policy_violation", Message: "the holder is not in the directory", Fields: map[string]string{"holder": "unknown employee_id"}}
		} else if err != nil {
			return s.storeErr(err)
		}
	}
	acc := models.Account{SystemID: sysID, AccountID: accID, HolderEmployeeID: b.Holder, Shared: b.Shared, Privileged: b.Privileged, Status: b.Status}
	created, err := s.Store.PutAccount(ctx, acc)
	if err != nil {
		return s.storeErr(err)
	}
	b.SystemID, b.AccountID = sysID, accID
	return c.JSON(map[bool]int{true: http.StatusCreated, false: http.StatusOK}[created], b)
}

// personRecord is a person as the directory's readers see them: the person, and whether mail
// to them is refused for good (issue 15), for HR and IT to fix the address.
type personRecord struct {
	personBody
	UndeliverableAt  *time.Time `json:"undeliverable_at,omitempty"`
	UndeliverableWhy string     `json:"undeliverable_why,omitempty"`
}

func recordJSON(p models.Person, loc *time.Location) personRecord {
	r := personRecord{personBody: personJSON(p), UndeliverableWhy: p.UndeliverableWhy}
	if p.UndeliverableAt != nil {
		at := p.UndeliverableAt.In(loc)
		r.UndeliverableAt = &at
	}
	return r
}

// getPerson answers one person, with the flag of an address the mail server refused.
func (s *Server) getPerson(c echo.Context) error {
	id := c.Param("employee_id")
	if !validID(id) {
		return invalid(fieldErrors{"employee_id": "must be an ID"})
	}
	p, err := s.Store.Person(c.Request().Context(), id)
	if err != nil {
		return s.storeErr(err)
	}
	return c.JSON(http.StatusOK, recordJSON(p, s.Loc))
}

// listPeople answers the people whose address the mail server refused for good
// (?undeliverable=true), the only list the directory offers: the one HR and IT act on.
func (s *Server) listPeople(c echo.Context) error {
	q := c.QueryParams()
	for k := range q {
		if k != "undeliverable" {
			return invalid(fieldErrors{k: "unknown parameter; the list takes undeliverable=true"})
		}
	}
	if q.Get("undeliverable") != "true" {
		return invalid(fieldErrors{"undeliverable": "must be true: the directory lists only people whose mail is refused"})
	}
	people, err := s.Store.UndeliverablePeople(c.Request().Context())
	if err != nil {
		return s.storeErr(err)
	}
	out := make([]personRecord, 0, len(people))
	for _, p := range people {
		out = append(out, recordJSON(p, s.Loc))
	}
	return c.JSON(http.StatusOK, map[string]any{"people": out})
}

// sections reads the directory's sections by ID when needed (a request names one).
func (s *Server) sections(c echo.Context, needed bool) (map[string]models.Section, error) {
	if !needed {
		return nil, nil
	}
	list, err := s.Store.Sections(c.Request().Context())
	if err != nil {
		return nil, s.storeErr(err)
	}
	out := make(map[string]models.Section, len(list))
	for _, sec := range list {
		out[sec.ID] = sec
	}
	return out, nil
}

// section checks a section field: empty (none), or a section the directory knows
// (PUT /sections/{section_id}) of the department given (§2: a 課室 is part of one 部局).
func (f fieldErrors) section(field, id, department string, sections map[string]models.Section) {
	if id == "" {
		return
	}
	f.id(field, id)
	sec, ok := sections[id]
	switch {
	case !ok:
		f.check(false, field, "unknown section "+id+": register it first (PUT /api/v1/sections/"+id+")")
	case sec.DepartmentID != department:
		f.check(false, field, "section "+id+" belongs to department "+sec.DepartmentID+", not "+department)
	}
}

// sectionBody is a section (課室) as PUT /sections/{section_id} takes and answers it.
type sectionBody struct {
	SectionID  string `json:"section_id,omitempty"`
	Department string `json:"department"`
	NameJa     string `json:"name_ja"`
	NameEn     string `json:"name_en,omitempty"`
}

// putSection registers a section (課室) of a department, or renames it (201 created, 200
// replaced). A section never moves to another department (409): its people and systems
// are that department's.
func (s *Server) putSection(c echo.Context) error {
	var b sectionBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	id := c.Param("section_id")
	f := fieldErrors{}
	f.id("section_id", id)
	f.check(b.SectionID == "" || b.SectionID == id, "section_id", "must match the URL")
	f.id("department", b.Department)
	f.text("name_ja", b.NameJa, true, 200)
	f.text("name_en", b.NameEn, false, 200)
	if err := f.err(); err != nil {
		return err
	}
	sec := models.Section{ID: id, DepartmentID: b.Department, NameJa: strings.TrimSpace(b.NameJa), NameEn: strings.TrimSpace(b.NameEn)}
	created, err := s.Store.PutSection(c.Request().Context(), sec)
	if errors.Is(err, models.ErrSectionMoved) {
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: "a section does not move to another department; register a new section",
			Fields: map[string]string{"department": "differs from the section's department"}}
	} else if err != nil {
		return s.storeErr(err)
	}
	return c.JSON(map[bool]int{true: http.StatusCreated, false: http.StatusOK}[created],
		sectionBody{SectionID: id, Department: sec.DepartmentID, NameJa: sec.NameJa, NameEn: sec.NameEn})
}

// listSections answers the directory's two levels: each department (部局) with its sections
// (課室), by ID.
func (s *Server) listSections(c echo.Context) error {
	for k := range c.QueryParams() {
		return invalid(fieldErrors{k: "unknown parameter; the list takes none"})
	}
	list, err := s.Store.Sections(c.Request().Context())
	if err != nil {
		return s.storeErr(err)
	}
	out := make([]sectionBody, 0, len(list))
	for _, sec := range list {
		out = append(out, sectionBody{SectionID: sec.ID, Department: sec.DepartmentID, NameJa: sec.NameJa, NameEn: sec.NameEn})
	}
	return c.JSON(http.StatusOK, map[string]any{"sections": out})
}
