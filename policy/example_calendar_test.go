package policy_test

import (
	"fmt"
	"time"

	"github.com/policyflow/policyflow/policy"
)

// A request made on the Tuesday before Golden Week 2026 with a deadline of
// three business days is due at close of business on the Thursday after it.
func ExampleCalendar_EndOfBusinessDay() {
	jst, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	cal := policy.NewCalendar(jst)
	requested := time.Date(2026, time.April, 28, 15, 0, 0, 0, jst)
	due := cal.EndOfBusinessDay(requested, 3)
	remind := cal.EndOfBusinessDay(due, -1)
	fmt.Println("due:   ", due.Format("2006-01-02 15:04 Mon"))
	fmt.Println("remind:", remind.Format("2006-01-02 15:04 Mon"))
	// Output:
	// due:    2026-05-07 17:15 Thu
	// remind: 2026-05-01 17:15 Fri
}

func ExampleCalendar_IsHoliday() {
	jst, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	cal := policy.NewCalendar(jst)
	for d := time.Date(2026, time.September, 19, 0, 0, 0, 0, jst); d.Day() <= 24; d = d.AddDate(0, 0, 1) {
		name, holiday := cal.IsHoliday(d)
		switch {
		case holiday:
			fmt.Println(d.Format("01-02 Mon"), name)
		case cal.IsBusinessDay(d):
			fmt.Println(d.Format("01-02 Mon"), "business day")
		default:
			fmt.Println(d.Format("01-02 Mon"), "weekend")
		}
	}
	// Output:
	// 09-19 Sat weekend
	// 09-20 Sun weekend
	// 09-21 Mon 敬老の日
	// 09-22 Tue 国民の休日
	// 09-23 Wed 秋分の日
	// 09-24 Thu business day
}
