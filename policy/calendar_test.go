package policy

import (
	"testing"
	"time"
)

func tokyo(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at returns the instant given as "YYYY-MM-DD hh:mm" in loc.
func at(t *testing.T, s string, loc *time.Location) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestIsHoliday(t *testing.T) {
	cal := NewCalendar(tokyo(t))
	tests := []struct {
		date string
		want string // "" for no holiday
	}{
		// Golden Week 2026.
		{"2026-04-28", ""},
		{"2026-04-29", "昭和の日"},
		{"2026-04-30", ""},
		{"2026-05-01", ""},
		{"2026-05-03", "憲法記念日"},
		{"2026-05-04", "みどりの日"},
		{"2026-05-05", "こどもの日"},
		{"2026-05-06", "振替休日"},
		{"2026-05-07", ""},
		// Silver Week 2026.
		{"2026-09-21", "敬老の日"},
		{"2026-09-22", "国民の休日"},
		{"2026-09-23", "秋分の日"},
		// New Year 2027: the closure days are not holidays.
		{"2026-12-29", ""},
		{"2027-01-01", "元日"},
		{"2027-01-03", ""},
		{"2027-01-11", "成人の日"},
		// Substitute holidays.
		{"2025-02-23", "天皇誕生日"},
		{"2025-02-24", "振替休日"},
		{"2025-11-24", "振替休日"},
		{"2027-03-22", "振替休日"},
		// Happy Monday and fixed holidays.
		{"2026-01-12", "成人の日"},
		{"2026-02-11", "建国記念の日"},
		{"2026-02-23", "天皇誕生日"},
		{"2026-07-20", "海の日"},
		{"2026-08-11", "山の日"},
		{"2026-10-12", "スポーツの日"},
		{"2026-11-03", "文化の日"},
		{"2026-11-23", "勤労感謝の日"},
		// Equinoxes, as published by the National Astronomical Observatory.
		{"2025-03-20", "春分の日"},
		{"2025-09-23", "秋分の日"},
		{"2026-03-20", "春分の日"},
		{"2027-03-21", "春分の日"},
		{"2027-09-23", "秋分の日"},
		{"2028-03-20", "春分の日"},
		{"2028-09-22", "秋分の日"},
		{"2029-03-20", "春分の日"},
		{"2029-09-23", "秋分の日"},
		{"2030-03-20", "春分の日"},
		{"2030-09-23", "秋分の日"},
		// Past rules and special laws.
		{"2019-04-30", "国民の休日"},
		{"2019-05-01", "天皇の即位の日"},
		{"2019-05-02", "国民の休日"},
		{"2019-05-06", "振替休日"},
		{"2018-12-23", "天皇誕生日"},
		{"2018-12-24", "振替休日"},
		{"2019-12-23", ""},
		{"2020-07-24", "スポーツの日"},
		{"2020-10-12", ""},
		{"2021-08-09", "振替休日"},
		{"2021-08-11", ""},
		{"2006-04-29", "みどりの日"},
		{"2006-05-04", "国民の休日"},
		{"1999-01-15", "成人の日"},
	}
	for _, tt := range tests {
		d, err := ParseDate(tt.date, cal.Loc)
		if err != nil {
			t.Fatal(err)
		}
		name, ok := cal.IsHoliday(d)
		if name != tt.want || ok != (tt.want != "") {
			t.Errorf("IsHoliday(%s) = %q, %v; want %q", tt.date, name, ok, tt.want)
		}
	}
}

func TestIsHolidayExtra(t *testing.T) {
	cal := NewCalendar(tokyo(t))
	cal.Extra = map[string]string{"2026-11-02": "町制施行記念日"}
	d, _ := ParseDate("2026-11-02", cal.Loc)
	if name, ok := cal.IsHoliday(d); !ok || name != "町制施行記念日" {
		t.Errorf("IsHoliday(2026-11-02) = %q, %v; want the extra day", name, ok)
	}
	if cal.IsBusinessDay(d) {
		t.Error("IsBusinessDay(2026-11-02) = true for an extra day off")
	}
}

func TestIsBusinessDay(t *testing.T) {
	jst := tokyo(t)
	cal := NewCalendar(jst)
	open := NewCalendar(jst)
	open.YearEndClosure = false
	tests := []struct {
		cal  Calendar
		at   time.Time
		want bool
	}{
		{cal, at(t, "2026-04-28 09:00", jst), true},
		{cal, at(t, "2026-04-29 09:00", jst), false}, // 昭和の日
		{cal, at(t, "2026-05-02 09:00", jst), false}, // Saturday
		{cal, at(t, "2026-05-03 09:00", jst), false}, // Sunday
		{cal, at(t, "2026-05-06 23:59", jst), false}, // 振替休日
		{cal, at(t, "2026-05-06 16:00", time.UTC), true},
		{cal, at(t, "2026-05-06 14:59", time.UTC), false},
		{cal, at(t, "2026-09-22 09:00", jst), false}, // 国民の休日
		{cal, at(t, "2026-12-28 09:00", jst), true},
		{cal, at(t, "2026-12-29 09:00", jst), false},
		{cal, at(t, "2026-12-30 09:00", jst), false},
		{cal, at(t, "2027-01-01 09:00", jst), false},
		{cal, at(t, "2027-01-04 09:00", jst), true},
		{open, at(t, "2026-12-29 09:00", jst), true},
		{open, at(t, "2027-01-01 09:00", jst), false},
	}
	for _, tt := range tests {
		if got := tt.cal.IsBusinessDay(tt.at); got != tt.want {
			t.Errorf("IsBusinessDay(%v) with YearEndClosure=%v = %v; want %v",
				tt.at, tt.cal.YearEndClosure, got, tt.want)
		}
	}
}

func TestAddBusinessDays(t *testing.T) {
	jst := tokyo(t)
	cal := NewCalendar(jst)
	open := NewCalendar(jst)
	open.YearEndClosure = false
	tests := []struct {
		name string
		cal  Calendar
		from time.Time
		n    int
		want time.Time
	}{
		{"zero", cal, at(t, "2026-05-03 10:00", jst), 0, at(t, "2026-05-03 10:00", jst)},
		{"next day", cal, at(t, "2026-04-27 10:00", jst), 1, at(t, "2026-04-28 10:00", jst)},
		{"over 昭和の日", cal, at(t, "2026-04-28 10:00", jst), 1, at(t, "2026-04-30 10:00", jst)},
		{"over Golden Week", cal, at(t, "2026-04-30 10:00", jst), 2, at(t, "2026-05-07 10:00", jst)},
		{"from a holiday", cal, at(t, "2026-05-04 08:30", jst), 1, at(t, "2026-05-07 08:30", jst)},
		{"over Silver Week", cal, at(t, "2026-09-18 17:00", jst), 1, at(t, "2026-09-24 17:00", jst)},
		{"over New Year", cal, at(t, "2026-12-28 09:30", jst), 1, at(t, "2027-01-04 09:30", jst)},
		{"over New Year, 5 days", cal, at(t, "2026-12-25 09:30", jst), 5, at(t, "2027-01-07 09:30", jst)},
		{"New Year without closure", open, at(t, "2026-12-28 09:30", jst), 1, at(t, "2026-12-29 09:30", jst)},
		{"date taken in Loc", cal, at(t, "2026-04-27 16:00", time.UTC), 1, at(t, "2026-04-30 01:00", jst)},
		{"back over Golden Week", cal, at(t, "2026-05-07 10:00", jst), -2, at(t, "2026-04-30 10:00", jst)},
		{"back over New Year", cal, at(t, "2027-01-04 10:00", jst), -1, at(t, "2026-12-28 10:00", jst)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cal.AddBusinessDays(tt.from, tt.n)
			if !got.Equal(tt.want) {
				t.Errorf("AddBusinessDays(%v, %d) = %v; want %v", tt.from, tt.n, got, tt.want)
			}
			if got.Location() != tt.cal.Loc && tt.n != 0 {
				t.Errorf("AddBusinessDays(%v, %d) in %v; want %v", tt.from, tt.n, got.Location(), tt.cal.Loc)
			}
		})
	}
}

// TestAddBusinessDaysDST checks that the wall-clock time is kept across a
// daylight-saving change, which Asia/Tokyo does not have.
func TestAddBusinessDaysDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cal := NewCalendar(ny)
	from := at(t, "2026-03-06 10:00", ny) // Friday; clocks go forward on Sunday 8 March
	got := cal.AddBusinessDays(from, 1)
	if want := at(t, "2026-03-09 10:00", ny); !got.Equal(want) {
		t.Errorf("AddBusinessDays(%v, 1) = %v; want %v", from, got, want)
	}
	if d := got.Sub(from); d != 71*time.Hour {
		t.Errorf("AddBusinessDays over the DST change moved %v; want 71h", d)
	}
}

func TestEndOfBusinessDay(t *testing.T) {
	jst := tokyo(t)
	cal := NewCalendar(jst)
	late := NewCalendar(jst)
	late.CloseOfBusiness = 18*time.Hour + 30*time.Minute + 15*time.Second
	tests := []struct {
		name string
		cal  Calendar
		from time.Time
		n    int
		want time.Time
	}{
		{"today", cal, at(t, "2026-04-28 09:00", jst), 0, at(t, "2026-04-28 17:15", jst)},
		{"today, after hours", cal, at(t, "2026-04-28 20:00", jst), 0, at(t, "2026-04-28 17:15", jst)},
		{"today is a holiday", cal, at(t, "2026-05-02 09:00", jst), 0, at(t, "2026-05-07 17:15", jst)},
		{"3 days over Golden Week", cal, at(t, "2026-04-28 15:00", jst), 3, at(t, "2026-05-07 17:15", jst)},
		{"over New Year", cal, at(t, "2026-12-28 16:00", jst), 1, at(t, "2027-01-04 17:15", jst)},
		{"before a deadline", cal, at(t, "2026-05-07 17:15", jst), -1, at(t, "2026-05-01 17:15", jst)},
		{"other closing time", late, at(t, "2026-04-27 09:00", jst), 1,
			time.Date(2026, time.April, 28, 18, 30, 15, 0, jst)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cal.EndOfBusinessDay(tt.from, tt.n); !got.Equal(tt.want) {
				t.Errorf("EndOfBusinessDay(%v, %d) = %v; want %v", tt.from, tt.n, got, tt.want)
			}
		})
	}
}

func TestEndOfDay(t *testing.T) {
	jst := tokyo(t)
	cal := NewCalendar(jst)
	tests := []struct {
		d    time.Time
		want time.Time
	}{
		{at(t, "2026-03-31 00:00", jst), at(t, "2026-04-01 00:00", jst)},
		{at(t, "2026-03-31 23:59", jst), at(t, "2026-04-01 00:00", jst)},
		{at(t, "2026-12-31 12:00", jst), at(t, "2027-01-01 00:00", jst)},
		{at(t, "2026-03-31 15:00", time.UTC), at(t, "2026-04-02 00:00", jst)},
	}
	for _, tt := range tests {
		if got := cal.EndOfDay(tt.d); !got.Equal(tt.want) {
			t.Errorf("EndOfDay(%v) = %v; want %v", tt.d, got, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	jst := tokyo(t)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "2026-04-01", want: time.Date(2026, time.April, 1, 0, 0, 0, 0, jst)},
		{in: "2028-02-29", want: time.Date(2028, time.February, 29, 0, 0, 0, 0, jst)},
		{in: "2026-02-29", wantErr: true},
		{in: "2026-4-1", wantErr: true},
		{in: "2026/04/01", wantErr: true},
		{in: "2026-04-01T00:00:00Z", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in, jst)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseDate(%q) error = %v; want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && (!got.Equal(tt.want) || got.Location() != jst) {
			t.Errorf("ParseDate(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

// TestYearRange walks every day from 1980 to 2099 and checks what holds
// whatever the year: 12 to 22 holidays a year, both equinox days where the
// equinox can fall, and no substitute holiday on a weekend.
func TestYearRange(t *testing.T) {
	cal := NewCalendar(tokyo(t))
	for y := 1980; y <= 2099; y++ {
		count, equinoxes := 0, 0
		for d := time.Date(y, 1, 1, 12, 0, 0, 0, cal.Loc); d.Year() == y; d = d.AddDate(0, 0, 1) {
			name, ok := cal.IsHoliday(d)
			if !ok {
				continue
			}
			count++
			switch name {
			case "春分の日":
				if d.Month() != time.March || d.Day() < 19 || d.Day() > 21 {
					t.Errorf("%s: spring equinox out of range", d.Format(DateLayout))
				}
				equinoxes++
			case "秋分の日":
				if d.Month() != time.September || d.Day() < 22 || d.Day() > 24 {
					t.Errorf("%s: autumn equinox out of range", d.Format(DateLayout))
				}
				equinoxes++
			case "振替休日":
				if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
					t.Errorf("%s: substitute holiday on a %v", d.Format(DateLayout), d.Weekday())
				}
			}
		}
		if count < 12 || count > 22 {
			t.Errorf("%d: %d holidays; want 12 to 22", y, count)
		}
		if equinoxes != 2 {
			t.Errorf("%d: %d equinox days; want 2", y, equinoxes)
		}
	}
}
