package api

import (
	"fmt"

	"github.com/policyflow/policyflow/internal/offboarding"
	"github.com/policyflow/policyflow/policy"
)

// DateBounds are the town's bounds on the dates a request names, in days from today in the
// town's zone. They catch the typo that would otherwise hold a process for decades: an
// offboarding effective 2062 instead of 2026 is accepted, waits, and blocks the correction
// with a 409. A date outside its bounds is refused with 422 and changes nothing.
type DateBounds struct {
	// OffboardingDaysAhead and OffboardingDaysPast bound an offboarding's effective date,
	// at its start (also each bulk item) and when it is moved
	// (POLICYFLOW_OFFBOARDING_MAX_DAYS_AHEAD, POLICYFLOW_OFFBOARDING_MAX_DAYS_PAST); the
	// check is internal/offboarding.Starter.CheckEffectiveDate, shared with the batch worker.
	OffboardingDaysAhead int
	OffboardingDaysPast  int
	// StartDaysAhead bounds how far ahead an exception's start_date and an outsourcing
	// contract's contract_start may be (POLICYFLOW_START_MAX_DAYS_AHEAD).
	StartDaysAhead int
	// EmergencyDaysPast is how long before its report an emergency exception may have been
	// taken (§7.4(2) 「事後速やかに」 sets no number: POLICYFLOW_EMERGENCY_REPORT_MAX_DAYS, a town
	// rule). ExceptionMaxDays is the longest an exception may last (the policy sets no
	// maximum: POLICYFLOW_EXCEPTION_MAX_DAYS, a town rule).
	EmergencyDaysPast int
	ExceptionMaxDays  int
}

// DefaultDateBounds are the bounds when the town sets none: a year and a day ahead (an
// April 1 reshuffle is announced months before), 90 days back (HR reports a leaver late).
var DefaultDateBounds = DateBounds{OffboardingDaysAhead: offboarding.DefaultDaysAhead, OffboardingDaysPast: offboarding.DefaultDaysPast,
	StartDaysAhead: 366, EmergencyDaysPast: 7, ExceptionMaxDays: 366}

// dateBounds are the server's bounds, the defaults when none are set.
func (s *Server) dateBounds() DateBounds {
	if s.Dates == (DateBounds{}) {
		return DefaultDateBounds
	}
	return s.Dates
}

// dateWithin refuses (422) a well-formed date more than past days before today or more than
// ahead days after it; a negative past sets no lower bound. setting names the town setting
// the bound comes from, so the caller knows it is the town's choice and not the policy's.
func (s *Server) dateWithin(field, date string, past, ahead int, setting string) *Error {
	d, err := policy.ParseDate(date, s.Loc)
	if err != nil {
		return nil // the field checks have said so already
	}
	today := s.now().In(s.Loc)
	latest := today.AddDate(0, 0, ahead).Format(policy.DateLayout)
	if d.Format(policy.DateLayout) > latest {
		return &Error{Status: 422, Code: "policy_violation",
			Message: fmt.Sprintf("%s %s is more than %d days ahead (the town's bound, %s); is the year right?", field, date, ahead, setting),
			Fields:  map[string]string{field: fmt.Sprintf("must be on or before %s (%d days from today)", latest, ahead)}}
	}
	if past < 0 {
		return nil
	}
	earliest := today.AddDate(0, 0, -past).Format(policy.DateLayout)
	if d.Format(policy.DateLayout) < earliest {
		return &Error{Status: 422, Code: "policy_violation",
			Message: fmt.Sprintf("%s %s is more than %d days in the past (the town's bound, %s); is the year right?", field, date, past, setting),
			Fields:  map[string]string{field: fmt.Sprintf("must be on or after %s (%d days before today)", earliest, past)}}
	}
	return nil
}
