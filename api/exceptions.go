package api

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

// exceptionBody is an exception request (例外措置, §7.4) as POST /exceptions takes it.
type exceptionBody struct {
	Requester      string   `json:"requester"`
	Department     string   `json:"department,omitempty"`
	Clauses        []string `json:"clauses"`
	Alternative    string   `json:"alternative"`
	Reason         string   `json:"reason"`
	Systems        []string `json:"systems"`
	Classification int      `json:"classification"`
	StartDate      string   `json:"start_date"`
	EndDate        string   `json:"end_date"`
	Emergency      bool     `json:"emergency"`
	// Renews names the exception this request renews: a renewal is a new request, linked.
	Renews string `json:"renews,omitempty"`
}

// startException validates an exception request and starts its process.
func (s *Server) startException(c echo.Context) error {
	var b exceptionBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	st, err := s.checkException(c.Request().Context(), b)
	if err != nil {
		return err
	}
	return s.startProcess(c, st)
}

// checkException validates an exception request, for the API and the staff pages alike,
// and says how to start its process. Malformed fields are 400; a requester who is not a
// department security officer or system manager, or an exception longer than the town
// allows, breaks the policy (422). Every error names its fields.
func (s *Server) checkException(ctx context.Context, b exceptionBody) (startSpec, error) {
	f := fieldErrors{}
	f.id("requester", b.Requester)
	f.check(b.Department == "" || validID(b.Department), "department", "is not a department ID")
	f.check(len(b.Clauses) > 0 && len(b.Clauses) <= 20, "clauses", "name 1-20 clauses of the security standards, e.g. 6.2(1)")
	for _, id := range b.Clauses {
		_, ok := policy.LookupClause(id)
		f.check(ok, "clauses", fmt.Sprintf("%q is not a clause of the security standards", id))
	}
	checkExceptionAsk(f, b.Alternative, b.Reason)
	f.check(len(b.Systems) <= 50, "systems", "at most 50 systems")
	for _, id := range b.Systems {
		f.check(validID(id), "systems", fmt.Sprintf("%q is not a system ID", id))
	}
	_, err := policy.ParseLevel(b.Classification)
	f.check(err == nil, "classification", "must be 1, 2 or 3 (§3(1))")
	if b.Emergency && b.StartDate == "" {
		b.StartDate = s.now().In(s.Loc).Format(policy.DateLayout)
	}
	start, end := s.checkExceptionPeriod(f, b.StartDate, b.EndDate, b.Emergency)
	f.check(b.Renews == "" || validID(b.Renews), "renews", "is not a process ID")
	if err := f.err(); err != nil {
		return startSpec{}, err
	}
	reportedLate, err := s.checkExceptionBounds(b.StartDate, start, end, b.Emergency)
	if err != nil {
		return startSpec{}, err
	}
	requester, err := s.Store.Person(ctx, b.Requester)
	if err != nil {
		if err == models.ErrNotFound {
			return startSpec{}, &Error{Status: 422, Code: "policy_violation", Message: "the requester is not in the directory", Fields: map[string]string{"requester": "unknown employee_id"}}
		}
		return startSpec{}, s.storeErr(err)
	}
	if requester.HasRole(string(policy.RoleCISO)) {
		// Nobody decides their own case, and the CISO's permission has no deputy by default.
		return startSpec{}, &Error{Status: 422, Code: "policy_violation", Message: "the requester holds the CISO's post, whose permission the exception needs (§7.4(1)); nobody may permit their own request",
			Fields: map[string]string{"requester": "holds ciso"}}
	}
	role := policy.RoleISM
	if requester.HasRole(string(policy.RoleDISO)) {
		role = policy.RoleDISO
	} else if !requester.HasRole(string(policy.RoleISM)) {
		return startSpec{}, &Error{Status: 422, Code: "policy_violation", Message: "only a department security officer (diso) or a system manager (ism) may request an exception (§7.4(1))",
			Fields: map[string]string{"requester": "holds neither diso nor ism"}}
	}
	if requester.Status != models.StatusEmployed {
		return startSpec{}, &Error{Status: 422, Code: "policy_violation", Message: "the requester is no longer employed", Fields: map[string]string{"requester": "not employed"}}
	}
	for _, id := range b.Systems {
		if _, err := s.Store.System(ctx, id); err == models.ErrNotFound {
			return startSpec{}, &Error{Status: 422, Code: "policy_violation", Message: "a system in scope is not registered", Fields: map[string]string{"systems": "unknown system " + id}}
		} else if err != nil {
			return startSpec{}, s.storeErr(err)
		}
	}
	if b.Renews != "" {
		if old, err := s.Store.Process(ctx, b.Renews); err == models.ErrNotFound || (err == nil && old.Kind != models.KindException) {
			return startSpec{}, &Error{Status: 422, Code: "policy_violation", Message: "a renewal must name an earlier exception request", Fields: map[string]string{"renews": "no exception " + b.Renews}}
		} else if err != nil {
			return startSpec{}, s.storeErr(err)
		}
	}
	if b.Department == "" {
		b.Department = requester.DepartmentID
	}
	sort.Strings(b.Clauses)
	summary := fmt.Sprintf("Exception to §%s for %s, %s to %s", strings.Join(b.Clauses, ", §"), orNone(b.Systems), b.StartDate, b.EndDate)
	if b.Emergency {
		summary = "Emergency " + strings.ToLower(summary[:1]) + summary[1:]
		if reportedLate > 0 {
			// How late the report came is on the record (§7.4(2) 「事後速やかに」).
			summary += fmt.Sprintf(", reported %d days after it was taken", reportedLate)
		}
	}
	details := fmt.Sprintf("**Exception request** (例外措置, §7.4)\n\n- department: `%s`\n- requester: `%s` (%s)\n- clauses: §%s\n- systems: %s\n- classification: level %d\n- from %s to the end of %s\n- emergency (§7.4(2)): %t\n- renews: %s\n\nThe reason and the alternative measure are in the register (GET /api/v1/processes/{id}).",
		b.Department, b.Requester, role, strings.Join(b.Clauses, ", §"), orNone(b.Systems), b.Classification, b.StartDate, b.EndDate, b.Emergency, orDash(b.Renews))
	return startSpec{
		Kind: models.KindException, Department: b.Department, RequesterID: b.Requester,
		Summary: summary, Details: details, Input: b, Workflow: workflows.ExceptionWorkflow,
		Args: func(h workflows.Header) any {
			return workflows.ExceptionInput{Header: h, RequesterID: b.Requester, RequesterRole: role, Emergency: b.Emergency,
				StartDate: b.StartDate, EndDate: b.EndDate, SystemIDs: b.Systems}
		},
	}, nil
}

// checkExceptionAsk checks what an exception asks for: the alternative measure and the
// reason, both required (§7.4(1)). A filing and a revision after a return (差戻し) are
// checked alike.
func checkExceptionAsk(f fieldErrors, alternative, reason string) {
	f.text("alternative", alternative, true, 4000)
	f.text("reason", reason, true, 4000)
}

// checkExceptionPeriod checks an exception's period, for a filing and a revision alike: both
// dates, the end after the start, a normal exception starting today or later and an
// emergency one (§7.4(2)) already taken. It returns the parsed dates (zero when malformed).
func (s *Server) checkExceptionPeriod(f fieldErrors, startDate, endDate string, emergency bool) (start, end time.Time) {
	today := s.now().In(s.Loc).Format(policy.DateLayout)
	start, err1 := policy.ParseDate(startDate, s.Loc)
	end, err2 := policy.ParseDate(endDate, s.Loc)
	f.check(err1 == nil, "start_date", "must be a date YYYY-MM-DD")
	f.check(err2 == nil, "end_date", "is required: an exception must end (YYYY-MM-DD)")
	if err1 == nil && err2 == nil {
		f.check(end.After(start), "end_date", "must be after start_date")
		f.check(emergency || startDate >= today, "start_date", "must not be in the past")
		// §7.4(2) 「事後速やかに」: an emergency exception is taken first and reported after, so
		// it started today or on a recent day (how recent is a town rule, checked below).
		f.check(!emergency || startDate <= today, "start_date", "an emergency exception is taken already: today or a recent past day")
	}
	return start, end
}

// checkExceptionBounds applies the town's rules on a well-formed period (422): how far
// ahead it may start, how late an emergency may be reported, how long it may last. It
// returns how many days late an emergency was reported.
func (s *Server) checkExceptionBounds(startDate string, start, end time.Time, emergency bool) (int, error) {
	bounds := s.dateBounds()
	if err := s.dateWithin("start_date", startDate, -1, bounds.StartDaysAhead, "POLICYFLOW_START_MAX_DAYS_AHEAD"); err != nil {
		return 0, err
	}
	reportedLate := 0
	if emergency {
		if err := s.dateWithin("start_date", startDate, bounds.EmergencyDaysPast, 0, "POLICYFLOW_EMERGENCY_REPORT_MAX_DAYS"); err != nil {
			return 0, err
		}
		reportedLate = int(s.now().In(s.Loc).Sub(start).Hours() / 24)
	}
	if days := int(end.Sub(start).Hours() / 24); days > bounds.ExceptionMaxDays {
		// The policy sets no maximum: this is the town's rule.
		return 0, &Error{Status: 422, Code: "policy_violation",
			Message: fmt.Sprintf("an exception may last at most %d days under the town's rule (POLICYFLOW_EXCEPTION_MAX_DAYS); ask again to renew it", bounds.ExceptionMaxDays),
			Fields:  map[string]string{"end_date": fmt.Sprintf("more than %d days after start_date", bounds.ExceptionMaxDays)}}
	}
	return reportedLate, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orNone(ids []string) string {
	if len(ids) == 0 {
		return "no named system"
	}
	return strings.Join(ids, ", ")
}
