package api

import (
	"testing"
	"time"
)

// The town's own bounds are the ones applied, counted from today in the town's zone.
func TestDateWithinTownBounds(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	// 23:30 UTC on March 31 is already April 1 in Tokyo.
	s := &Server{Loc: tokyo, TimeZone: "Asia/Tokyo", Now: func() time.Time { return time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC) },
		Dates: DateBounds{OffboardingDaysAhead: 10, OffboardingDaysPast: 0, StartDaysAhead: 30}}
	cases := []struct {
		date string
		ok   bool
	}{
		{"2026-04-01", true}, {"2026-04-11", true}, {"2026-04-12", false}, {"2026-03-31", false}, {"2062-04-01", false},
	}
	for _, c := range cases {
		if err := s.offboardingDateWithin(c.date); (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.date, err, c.ok)
		} else if err != nil && (err.Status != 422 || err.Fields["effective_date"] == "") {
			t.Errorf("%s: %+v", c.date, err)
		}
	}
	if s.dateBounds() != s.Dates {
		t.Errorf("the town's bounds were not used: %+v", s.dateBounds())
	}
	if (&Server{}).dateBounds() != DefaultDateBounds {
		t.Errorf("no bounds set must mean the defaults")
	}
}
