// Package policy holds the town's information-security policy as data and
// plain functions: roles (§2), classification levels (§3(1)), the clauses of
// the security standards (情報セキュリティ対策基準) and the business-day
// calendar that deadlines are counted in.
//
// Everything here is pure and deterministic so that Temporal workflow code may
// call it: no clock, no I/O, no goroutines, no package-level mutable state.
// Clause references such as §7.4(1) are those of the security standards.
package policy

import (
	"fmt"
	"time"
	_ "time/tzdata" // the calendar needs Asia/Tokyo on hosts without zoneinfo
)

// DateLayout is the layout of a calendar date, as used by ParseDate and as the
// key of Calendar.Extra.
const DateLayout = "2006-01-02"

// Calendar counts business days of the town offices: the days that are
// neither a Saturday, a Sunday, a Japanese national holiday, a day of the
// year-end closure nor an extra day off. The processes give the deadlines of
// their human steps (the CISO's decision on an exception request, §7.4(1), for
// one) in business days, ending at close of business; the periods themselves
// are configuration, not policy text.
//
// Dates are those of the wall clock in Loc, whatever the location of the
// time.Time values passed in. Create a Calendar with NewCalendar; the zero
// value has no location and its methods panic.
type Calendar struct {
	// Loc is the town's time zone, normally Asia/Tokyo.
	Loc *time.Location

	// YearEndClosure closes the offices from 29 December to 3 January
	// (年末年始の休日), as Japanese municipal holiday ordinances usually do.
	YearEndClosure bool

	// CloseOfBusiness is the wall-clock time, measured from midnight in Loc,
	// at which a deadline given in business days ends. Whole seconds only
	// are meaningful for a deadline, but finer values are kept.
	CloseOfBusiness time.Duration

	// Extra lists further days off, keyed by date in DateLayout, with the
	// name to report. Use it for one-off holidays proclaimed by a special law
	// or for town closures. An extra day is a day off only: it does not give
	// rise to a substitute holiday or a citizens' holiday, so list every day
	// that the law makes a holiday.
	Extra map[string]string
}

// NewCalendar returns the calendar of offices in loc that close for the
// year-end holidays and whose business day ends at 17:15. It panics if loc is
// nil, as time.Date does.
func NewCalendar(loc *time.Location) Calendar {
	if loc == nil {
		panic("policy: NewCalendar with nil location")
	}
	return Calendar{
		Loc:             loc,
		YearEndClosure:  true,
		CloseOfBusiness: 17*time.Hour + 15*time.Minute,
	}
}

// ParseDate parses a date written YYYY-MM-DD and returns its midnight in loc.
// It panics if loc is nil, as time.ParseInLocation does.
func ParseDate(s string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(DateLayout, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse date %q: %w", s, err)
	}
	return t, nil
}

// IsHoliday reports whether the date of d in c.Loc is a Japanese national
// holiday, and its name: a national holiday (国民の祝日), a substitute holiday
// (振替休日), a citizens' holiday (国民の休日) or a day listed in c.Extra.
// The days of the year-end closure that are not national holidays are not
// holidays; see IsYearEndClosure.
//
// The rules are those of the Act on National Holidays (国民の祝日に関する法律)
// as amended up to 2018, with the one-off holidays and the 2020 and 2021 moves
// made by special laws, from 1980 on. The spring and autumn equinox days are
// computed by the usual approximation, valid from 1980 to 2099; outside those
// years they are not reported.
func (c Calendar) IsHoliday(d time.Time) (name string, ok bool) {
	return c.holiday(c.date(d))
}

// IsYearEndClosure reports whether the date of d in c.Loc falls in the
// year-end closure of the offices, 29 December to 3 January, when
// c.YearEndClosure is set.
func (c Calendar) IsYearEndClosure(d time.Time) bool {
	return c.closed(c.date(d))
}

// IsBusinessDay reports whether the offices are open on the date of d in
// c.Loc.
func (c Calendar) IsBusinessDay(d time.Time) bool {
	return c.open(c.date(d))
}

// AddBusinessDays returns the instant n business days after t at the same
// wall-clock time of day in c.Loc. Days are counted from the day after t's
// date, whether or not t's date is itself a business day. A negative n counts
// back. If n is 0, t is returned unchanged.
func (c Calendar) AddBusinessDays(t time.Time, n int) time.Time {
	if n == 0 {
		return t
	}
	local := t.In(c.Loc)
	day := c.step(c.date(local), n)
	hh, mm, ss := local.Clock()
	return time.Date(day.Year(), day.Month(), day.Day(), hh, mm, ss, local.Nanosecond(), c.Loc)
}

// EndOfBusinessDay returns the close of business (c.CloseOfBusiness, in
// c.Loc) on the n-th business day after t's date: the end of a deadline
// given as "within n business days". If n is 0 it is the close of business of
// t's date, or of the next business day when t's date is not one. A negative
// n counts back, which suits reminders before a deadline.
func (c Calendar) EndOfBusinessDay(t time.Time, n int) time.Time {
	day := c.date(t)
	switch {
	case n != 0:
		day = c.step(day, n)
	case !c.open(day):
		day = c.step(day, 1)
	}
	cob := c.CloseOfBusiness
	return time.Date(day.Year(), day.Month(), day.Day(),
		int(cob/time.Hour), int(cob%time.Hour/time.Minute), int(cob%time.Minute/time.Second),
		int(cob%time.Second), c.Loc)
}

// EndOfDay returns the exclusive end of the date of d in c.Loc, that is the
// first instant of the following day. A deadline "by the end of 31 March" is
// met by any instant strictly before EndOfDay of 31 March.
func (c Calendar) EndOfDay(d time.Time) time.Time {
	y, m, n := d.In(c.Loc).Date()
	return time.Date(y, m, n+1, 0, 0, 0, 0, c.Loc)
}

// The unexported methods below work on a day: a date held as midnight UTC.

// date returns t's date in c.Loc as a day.
func (c Calendar) date(t time.Time) time.Time {
	y, m, d := t.In(c.Loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (c Calendar) holiday(day time.Time) (string, bool) {
	if name, ok := c.Extra[day.Format(DateLayout)]; ok {
		return name, true
	}
	return nationalHoliday(day)
}

func (c Calendar) closed(day time.Time) bool {
	_, m, d := day.Date()
	return c.YearEndClosure && (m == time.December && d >= 29 || m == time.January && d <= 3)
}

func (c Calendar) open(day time.Time) bool {
	switch day.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	if c.closed(day) {
		return false
	}
	_, holiday := c.holiday(day)
	return !holiday
}

// step returns the n-th business day after (n > 0) or before (n < 0) day.
func (c Calendar) step(day time.Time, n int) time.Time {
	dir := 1
	if n < 0 {
		dir, n = -1, -n
	}
	for n > 0 {
		day = day.AddDate(0, 0, dir)
		if c.open(day) {
			n--
		}
	}
	return day
}

// Names of the holidays that the Act on National Holidays derives from the
// others.
const (
	substituteHoliday = "振替休日"
	citizensHoliday   = "国民の休日"
)

// nationalHoliday reports whether day (midnight UTC) is a national holiday,
// a substitute holiday or a citizens' holiday.
func nationalHoliday(day time.Time) (string, bool) {
	if name, ok := statutoryHoliday(day); ok {
		return name, true
	}
	// Art. 3(2), from 12 April 1973: a holiday that falls on a Sunday makes
	// the nearest following day that is not a holiday a holiday. Before 2007
	// it was the Monday only, which gives the same days.
	if !day.Before(time.Date(1973, time.April, 12, 0, 0, 0, 0, time.UTC)) {
		for p := day.AddDate(0, 0, -1); ; p = p.AddDate(0, 0, -1) {
			if _, ok := statutoryHoliday(p); !ok {
				break
			}
			if p.Weekday() == time.Sunday {
				return substituteHoliday, true
			}
		}
	}
	// Art. 3(3), from 1986: a day between two holidays is a holiday. Before
	// 2007 a Sunday was excepted.
	if day.Year() >= 1986 && !(day.Year() < 2007 && day.Weekday() == time.Sunday) {
		_, before := statutoryHoliday(day.AddDate(0, 0, -1))
		_, after := statutoryHoliday(day.AddDate(0, 0, 1))
		if before && after {
			return citizensHoliday, true
		}
	}
	return "", false
}

// statutoryHoliday reports whether day (midnight UTC) is one of the national
// holidays named in Art. 2 of the Act or proclaimed by a special law (国民の
// 祝日), leaving out the substitute and citizens' holidays derived from them.
func statutoryHoliday(day time.Time) (string, bool) {
	y, m, d := day.Date()
	if name, ok := specialHoliday(day.Format(DateLayout)); ok {
		return name, true
	}
	switch m {
	case time.January:
		switch {
		case d == 1:
			return "元日", true
		case y < 2000 && d == 15, y >= 2000 && d == nthMonday(y, m, 2):
			return "成人の日", true
		}
	case time.February:
		switch {
		case y >= 1967 && d == 11:
			return "建国記念の日", true
		case y >= 2020 && d == 23:
			return "天皇誕生日", true
		}
	case time.March:
		if e, ok := equinox(y, 20843100); ok && d == e {
			return "春分の日", true
		}
	case time.April:
		if d == 29 {
			switch {
			case y < 1989:
				return "天皇誕生日", true
			case y < 2007:
				return "みどりの日", true
			default:
				return "昭和の日", true
			}
		}
	case time.May:
		switch {
		case d == 3:
			return "憲法記念日", true
		case y >= 2007 && d == 4:
			return "みどりの日", true
		case d == 5:
			return "こどもの日", true
		}
	case time.July:
		switch {
		case y == 2020 || y == 2021:
			// Moved by the special law for the Tokyo Olympics.
		case y >= 1996 && y < 2003 && d == 20, y >= 2003 && d == nthMonday(y, m, 3):
			return "海の日", true
		}
	case time.August:
		if y >= 2016 && y != 2020 && y != 2021 && d == 11 {
			return "山の日", true
		}
	case time.September:
		switch {
		case y < 2003 && d == 15, y >= 2003 && d == nthMonday(y, m, 3):
			return "敬老の日", true
		}
		if e, ok := equinox(y, 23248800); ok && d == e {
			return "秋分の日", true
		}
	case time.October:
		switch {
		case y < 2000 && d == 10, y >= 2000 && y < 2020 && d == nthMonday(y, m, 2):
			return "体育の日", true
		case y >= 2022 && d == nthMonday(y, m, 2):
			return "スポーツの日", true
		}
	case time.November:
		switch d {
		case 3:
			return "文化の日", true
		case 23:
			return "勤労感謝の日", true
		}
	case time.December:
		if y >= 1989 && y < 2019 && d == 23 {
			return "天皇誕生日", true
		}
	}
	return "", false
}

// specialHoliday reports the national holidays set by special laws for a
// single year since 1980: imperial ceremonies and the Tokyo Olympics moves.
// They are law, not configuration, and take part in the substitute and
// citizens' holiday rules.
func specialHoliday(date string) (string, bool) {
	switch date {
	case "1989-02-24":
		return "昭和天皇の大喪の礼", true
	case "1990-11-12", "2019-10-22":
		return "即位礼正殿の儀", true
	case "1993-06-09":
		return "皇太子徳仁親王の結婚の儀", true
	case "2019-05-01":
		return "天皇の即位の日", true
	case "2020-07-23", "2021-07-22":
		return "海の日", true
	case "2020-07-24", "2021-07-23":
		return "スポーツの日", true
	case "2020-08-10", "2021-08-08":
		return "山の日", true
	}
	return "", false
}

// nthMonday returns the day of the month of the n-th Monday of month m of
// year y, the rule of the "Happy Monday" holidays.
func nthMonday(y int, m time.Month, n int) int {
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Weekday()
	return 1 + (int(time.Monday)-int(first)+7)%7 + 7*(n-1)
}

// equinox returns the day of the month of the spring (base 20843100) or
// autumn (base 23248800) equinox of year y by the approximation
// floor(base/1e6 + 0.242194(y-1980) - floor((y-1980)/4)), valid from 1980 to
// 2099. It is computed in integers, scaled by 1e6, so that the result does not
// depend on the floating-point unit of the machine running the workflow.
func equinox(y, base int) (int, bool) {
	if y < 1980 || y > 2099 {
		return 0, false
	}
	n := y - 1980
	return (base+242194*n)/1000000 - n/4, true
}
