// Package offboarding starts account offboardings (§5.1(1)8, §6.2(1)2–3) with the checks
// HR's requests must pass, and works through the items of a bulk batch with those same
// checks. The API (POST /offboardings, and a bulk batch of up to 100 items answered in the
// request) and the batch workflow's activity (a larger batch) both call it, so the rules are
// enforced in one place.
package offboarding

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

// Body is an offboarding as POST /offboardings (and each bulk item) takes it.
type Body struct {
	EmployeeID    string `json:"employee_id"`
	Reason        string `json:"reason"`
	EffectiveDate string `json:"effective_date"`
	NewDepartment string `json:"new_department,omitempty"`
	// NewSection is the section (課室) of NewDepartment the person joins: required for a
	// transfer within one department (between two of its sections), optional otherwise.
	NewSection string `json:"new_section,omitempty"`
	Note       string `json:"note,omitempty"`
}

// Rejection is an offboarding the rules refuse: the API answers it with its status and
// code (API.md, Conventions), a bulk item records it as rejected. Retrying cannot help.
type Rejection struct {
	Status  int
	Code    string
	Message string
	Fields  map[string]string
}

func (r *Rejection) Error() string { return r.Code + ": " + r.Message }

func reject(status int, code, message string, fields map[string]string) *Rejection {
	return &Rejection{Status: status, Code: code, Message: message, Fields: fields}
}

// Started is the process an offboarding started or found.
type Started struct {
	// Created is false when the offboarding repeats one that exists (the same employee and
	// effective date): HR's retry gets the same process.
	Created    bool
	ID         string
	Kind       string
	WorkflowID string
	Status     string
}

// Starter starts offboardings: it reads and writes the register and starts the process's
// workflow.
type Starter struct {
	Store    *models.Store
	Temporal client.Client
	// TimeZone is the town's IANA time zone, which the workflows compute days in.
	TimeZone string
	Log      *slog.Logger
	// DaysAhead and DaysPast bound an effective date around today in TimeZone, the town's
	// settings POLICYFLOW_OFFBOARDING_MAX_DAYS_AHEAD and _PAST; both zero means
	// DefaultDaysAhead and DefaultDaysPast.
	DaysAhead, DaysPast int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// The bounds on an effective date when the town sets none: a year and a day ahead (an April
// 1 reshuffle is announced months before), 90 days back (HR reports a leaver late).
const (
	DefaultDaysAhead = 366
	DefaultDaysPast  = 90
)

// CheckEffectiveDate refuses (422) a well-formed effective date outside the town's bounds,
// naming the field and the first or last date allowed. It catches the typo that would hold
// a process, and block its correction with a 409, for decades: 2062 typed for 2026.
func (s *Starter) CheckEffectiveDate(date string) *Rejection {
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	d, err := time.ParseInLocation(policy.DateLayout, date, loc)
	if err != nil {
		return nil // the field checks say so
	}
	ahead, past := s.DaysAhead, s.DaysPast
	if ahead == 0 && past == 0 {
		ahead, past = DefaultDaysAhead, DefaultDaysPast
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	today := now().In(loc)
	day := d.Format(policy.DateLayout)
	if latest := today.AddDate(0, 0, ahead).Format(policy.DateLayout); day > latest {
		return reject(422, "policy_violation",
			fmt.Sprintf("effective_date %s is more than %d days ahead (the town's bound, POLICYFLOW_OFFBOARDING_MAX_DAYS_AHEAD); is the year right?", date, ahead),
			map[string]string{"effective_date": fmt.Sprintf("must be on or before %s (%d days from today)", latest, ahead)})
	}
	if earliest := today.AddDate(0, 0, -past).Format(policy.DateLayout); day < earliest {
		return reject(422, "policy_violation",
			fmt.Sprintf("effective_date %s is more than %d days in the past (the town's bound, POLICYFLOW_OFFBOARDING_MAX_DAYS_PAST); is the year right?", date, past),
			map[string]string{"effective_date": fmt.Sprintf("must be on or after %s (%d days before today)", earliest, past)})
	}
	return nil
}

// NewID returns a new process (and workflow) ID, e.g. OFB-20270401-K3M9Q2XA: the day it was
// filed in the town's zone and 40 random bits. It carries nothing of the employee nor of the
// effective date, so it cannot be reversed to "who leaves when" (issue 15); a retry is the same
// process because the register finds it by (employee_id, effective_date) and keeps one open
// offboarding per employee, not because the ID repeats.
func NewID(now time.Time, tz string) string {
	if loc, err := time.LoadLocation(tz); err == nil {
		now = now.In(loc)
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return "OFB-" + now.Format("20060102") + "-" + base32.StdEncoding.EncodeToString(b)
}

// Validate checks the fields of one offboarding; the map names each bad field.
func (b Body) Validate() map[string]string {
	f := map[string]string{}
	check := func(ok bool, field, msg string) {
		if _, seen := f[field]; !ok && !seen {
			f[field] = msg
		}
	}
	check(validID(b.EmployeeID), "employee_id", "must be 1-64 letters, digits, '-', '_' or '.'")
	_, err := policy.ParseLeaveReason(b.Reason)
	check(err == nil, "reason", "must be retirement, transfer or secondment")
	_, err = time.Parse(policy.DateLayout, b.EffectiveDate)
	check(err == nil, "effective_date", "must be a date YYYY-MM-DD")
	if b.Reason == string(policy.Transfer) {
		check(b.NewDepartment != "", "new_department", "is required for a transfer")
	} else {
		check(b.NewDepartment == "", "new_department", "is only for a transfer")
	}
	if b.NewDepartment != "" {
		check(validID(b.NewDepartment), "new_department", "must be 1-64 letters, digits, '-', '_' or '.'")
	}
	if b.NewSection != "" {
		check(b.Reason == string(policy.Transfer), "new_section", "is only for a transfer")
		check(validID(b.NewSection), "new_section", "must be 1-64 letters, digits, '-', '_' or '.'")
	}
	check(utf8.RuneCountInString(b.Note) <= 1000, "note", "must be at most 1000 characters")
	check(!strings.ContainsRune(b.Note, 0), "note", "must not contain NUL")
	return f
}

// validID is the API's identifier rule: 1–64 letters, digits, '-', '_' and '.'.
func validID(v string) bool { return models.ValidID(v) }

// Start validates one offboarding and starts it, or finds the one it repeats. Checked in
// order: fields (400); an offboarding of this employee with this effective date exists (the
// same process, Created false); the effective date is outside the town's bounds (422,
// CheckEffectiveDate); the employee is unknown or no longer employed (422); the new
// section is unknown or of another department (400); the new department is the current one
// and no other section of it is named (422: a transfer within a department is between two of
// its sections, §2, §6.1(1)); another offboarding of the employee is open (409).
// A refusal is a *Rejection; any other error is an outage (the register or Temporal), after
// which nothing was started and a retry is safe.
func (s *Starter) Start(ctx context.Context, b Body) (Started, error) {
	if f := b.Validate(); len(f) > 0 {
		return Started{}, reject(http.StatusBadRequest, "validation_failed", "the request has invalid fields", f)
	}
	if r, ok, err := s.existing(ctx, b); ok || err != nil {
		return r, err
	}
	// After the repeat: a retry still finds its process once the bound has moved past it.
	if r := s.CheckEffectiveDate(b.EffectiveDate); r != nil {
		return Started{}, r
	}
	person, err := s.Store.Person(ctx, b.EmployeeID)
	if errors.Is(err, models.ErrNotFound) {
		return Started{}, reject(422, "policy_violation", "the employee is not in the directory", map[string]string{"employee_id": "unknown employee"})
	} else if err != nil {
		return Started{}, err
	}
	if person.Status != models.StatusEmployed {
		return Started{}, reject(422, "policy_violation", "the employee has already left ("+person.Status+")",
			map[string]string{"employee_id": "already " + person.Status})
	}
	if r, err := s.checkSections(ctx, b, person); r != nil || err != nil {
		if r != nil {
			return Started{}, r
		}
		return Started{}, err
	}
	if r, open, err := s.open(ctx, b); open || err != nil {
		return r, err
	}

	id := NewID(time.Now(), s.TimeZone)
	input, _ := json.Marshal(b)
	emp := b.EmployeeID
	summary := fmt.Sprintf("Offboarding of %s (%s), effective %s", b.EmployeeID, b.Reason, b.EffectiveDate)
	p := models.Process{ID: id, Kind: models.KindOffboarding, Status: "starting", Stage: "submitted", WorkflowID: id,
		DepartmentID: person.DepartmentID, EmployeeID: b.EmployeeID, Summary: summary, Input: string(input)}
	o := models.Offboarding{ProcessID: id, EmployeeID: b.EmployeeID, EffectiveDate: b.EffectiveDate, OriginalDate: b.EffectiveDate,
		Reason: b.Reason, FormerDepartment: person.DepartmentID, NewDepartment: b.NewDepartment,
		FormerSection: person.SectionID, NewSection: b.NewSection, OpenEmployeeID: &emp}
	switch err := s.Store.CreateOffboarding(ctx, &p, &o); {
	case errors.Is(err, models.ErrDuplicate):
		if r, ok, err := s.existing(ctx, b); ok || err != nil {
			return r, err
		}
		return Started{}, reject(409, "conflict", "the offboarding is being started by another request; try again", nil)
	case errors.Is(err, models.ErrOpenOffboarding):
		if r, open, err := s.open(ctx, b); open || err != nil {
			return r, err
		}
		return Started{}, reject(409, "conflict", "another offboarding of this employee is open", nil)
	case err != nil:
		return Started{}, err
	}
	details := fmt.Sprintf("**Account offboarding** (§5.1(1)8, §6.2(1)2–3)\n\n- employee: `%s`\n- reason: %s\n- effective date: %s (access ends at the end of the day, Asia/Tokyo)\n- former department: `%s` (section `%s`)\n- new department: `%s` (section `%s`)\n\nThe accounts, assets and HR's note are in the register (GET /api/v1/processes/{id}).",
		b.EmployeeID, b.Reason, b.EffectiveDate, person.DepartmentID, orDash(person.SectionID), orDash(b.NewDepartment), orDash(b.NewSection))
	_, err = s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueue, StaticSummary: summary, StaticDetails: details,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.ProcessKind.ValueSet(models.KindOffboarding), workflows.ProcessStage.ValueSet("submitted"),
			workflows.Department.ValueSet(person.DepartmentID)),
	}, workflows.OffboardingWorkflow, workflows.OffboardingInput{
		Header:     workflows.Header{ProcessID: id, Kind: models.KindOffboarding, Department: person.DepartmentID, TimeZone: s.TimeZone},
		EmployeeID: b.EmployeeID, Reason: policy.LeaveReason(b.Reason), EffectiveDate: b.EffectiveDate,
		FormerDepartment: person.DepartmentID, NewDepartment: b.NewDepartment,
		FormerSection: person.SectionID, NewSection: b.NewSection,
	})
	if err != nil {
		s.Log.Warn("start workflow failed", "process", id, "err", err)
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if derr := s.Store.DeleteUnstartedOffboarding(cleanup, id); derr != nil {
			s.Log.Error("remove unstarted offboarding", "process", id, "err", derr)
		}
		return Started{}, fmt.Errorf("start offboarding %s: %w", id, err)
	}
	return Started{Created: true, ID: id, Kind: models.KindOffboarding, WorkflowID: id, Status: "started"}, nil
}

// checkSections refuses a new section the directory does not know or that belongs to
// another department (400), and a transfer that stays in the department unless it moves
// the person from one of its sections to another (422). A move between two sections of one
// department is a transfer (§2: 課室 under a 部局; §6.1(1): no use of another 課室's files).
func (s *Starter) checkSections(ctx context.Context, b Body, person models.Person) (*Rejection, error) {
	if b.NewSection != "" {
		sec, err := s.Store.Section(ctx, b.NewSection)
		if errors.Is(err, models.ErrNotFound) {
			return reject(http.StatusBadRequest, "validation_failed", "the request has invalid fields",
				map[string]string{"new_section": "unknown section " + b.NewSection + ": register it first (PUT /api/v1/sections/" + b.NewSection + ")"}), nil
		} else if err != nil {
			return nil, err
		}
		if sec.DepartmentID != b.NewDepartment {
			return reject(http.StatusBadRequest, "validation_failed", "the request has invalid fields",
				map[string]string{"new_section": "section " + b.NewSection + " belongs to department " + sec.DepartmentID + ", not " + b.NewDepartment}), nil
		}
	}
	if b.NewDepartment != person.DepartmentID {
		return nil, nil
	}
	switch {
	case b.NewSection == "":
		return reject(422, "policy_violation", "a transfer must be to another department, or to another section (new_section) of this one",
			map[string]string{"new_department": "is the employee's current department, and no new_section is given"}), nil
	case person.SectionID == "":
		return reject(422, "policy_violation", "the directory has the employee in no section of "+person.DepartmentID+": a transfer within a department is between two of its sections; set their section first (PUT /api/v1/people/"+person.EmployeeID+")",
			map[string]string{"new_section": "the employee's current section is not known"}), nil
	case b.NewSection == person.SectionID:
		return reject(422, "policy_violation", "a transfer must be to another department or section",
			map[string]string{"new_section": "is the employee's current section"}), nil
	}
	return nil, nil
}

// existing finds the offboarding of this employee and date (current or as first given).
func (s *Starter) existing(ctx context.Context, b Body) (Started, bool, error) {
	o, err := s.Store.OffboardingByDate(ctx, b.EmployeeID, b.EffectiveDate)
	if errors.Is(err, models.ErrNotFound) {
		return Started{}, false, nil
	} else if err != nil {
		return Started{}, false, err
	}
	p, err := s.Store.Process(ctx, o.ProcessID)
	if err != nil {
		return Started{}, false, err
	}
	return Started{ID: p.ID, Kind: p.Kind, WorkflowID: p.WorkflowID, Status: p.Status}, true, nil
}

// open answers for an employee with an open offboarding: the same process when it has this
// date (a concurrent retry got there first), a 409 that names it otherwise.
func (s *Starter) open(ctx context.Context, b Body) (Started, bool, error) {
	open, err := s.Store.OpenOffboarding(ctx, b.EmployeeID)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return Started{}, false, nil
	case err != nil:
		return Started{}, false, err
	case open.EffectiveDate == b.EffectiveDate || open.OriginalDate == b.EffectiveDate:
		return s.existing(ctx, b)
	}
	return Started{}, true, OpenConflict(open)
}

// OpenConflict is the 409 for an employee whose offboarding with another date is open: it
// names that one and says how to change it.
func OpenConflict(open models.Offboarding) *Rejection {
	return reject(409, "conflict",
		fmt.Sprintf("an offboarding of this employee effective %s is open (%s): move its date (POST /api/v1/offboardings/%s/move-date) or cancel it", open.EffectiveDate, open.ProcessID, open.ProcessID),
		map[string]string{"effective_date": "differs from the open offboarding " + open.ProcessID + " (" + open.EffectiveDate + ")"})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// DescribeJSONError says in a few words why a JSON value could not be decoded.
func DescribeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be %s", typ.Field, typ.Type.String())
	case errors.Is(err, io.EOF):
		return "empty body"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "cannot decode"
}
