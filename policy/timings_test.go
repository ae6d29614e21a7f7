package policy

import (
	"strings"
	"testing"
)

// A town's timings file with a mistake is refused with an error naming the field.
func TestParseTimingsRefuses(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"no version", `"version": "default-2026-12"`, `"version": ""`, "version is required"},
		{"unknown unratified rule", `"unratified": "restore"`, `"unratified": "ignore"`, `exception.unratified: "ignore": want "restore" or "in_effect"`},
		{"no unratified rule", `,
    "unratified": "restore"`, ``, `exception.unratified: "": want`},
		{"missing deadline", `"review": {"business_days": 5}, "review_grace": {"business_days": 3},
    "revision": {"business_days": 10}, "revision_grace": {"business_days": 5},
    "ratify"`, `"review_grace": {"business_days": 3},
    "revision": {"business_days": 10}, "revision_grace": {"business_days": 5},
    "ratify"`, "exception.review: is required"},
		{"zero business days", `"disable": {"business_days": 3}`, `"disable": {"business_days": 0}`, "offboarding.disable: is required"},
		{"negative business days", `"assess": {"business_days": 10}`, `"assess": {"business_days": -1}`, "cloud.assess: business_days must be from 1"},
		{"both units", `"giso": {"business_days": 5}`, `"giso": {"business_days": 5, "clock": "2h"}`, "outsourcing.giso: give business_days or clock, not both"},
		{"clock too short", `"review": {"business_days": 10}`, `"review": {"clock": "1s"}`, "reconciliation.review: clock must be from 1m"},
		{"grace missing", `"restore_grace": {"business_days": 5}`, `"restore_grace": {}`, "exception.restore_grace: is required"},
		{"reminder after the step opens", `"secrecy": {"business_days": 10},
    "remind_before": ["24h", "4h"]`, `"secrecy": {"business_days": 10},
    "remind_before": ["96h", "4h"]`, "offboarding.remind_before: the reminder 96h0m0s before the deadline comes before offboarding.disable opens (3 business days)"},
		{"reminder at a clock deadline", `"review": {"business_days": 10}, "review_grace": {"business_days": 5},
    "remind_before": ["48h", "4h"]`, `"review": {"clock": "48h"}, "review_grace": {"business_days": 5},
    "remind_before": ["48h", "4h"]`, "reconciliation.remind_before: the reminder 48h0m0s before the deadline comes before reconciliation.review opens (48h0m0s)"},
		{"reminders out of order", `"remind_before": ["24h", "4h"]`, `"remind_before": ["4h", "24h"]`, "offboarding.remind_before: give the reminders longest first"},
		{"no rounds", `"rounds": 3`, `"rounds": 0`, "offboarding.rounds: must be from 1 to 100"},
		{"no reports per run", `"reports_per_run": 4`, `"reports_per_run": 0`, "outsourcing.reports_per_run: must be from 1"},
		{"no renewal notice", `"renewal_notice": "720h"`, `"renewal_notice": "0s"`, "cloud.renewal_notice: must be more than 0"},
		{"bad duration", `"cert_notice": "1440h"`, `"cert_notice": "60 days"`, "time: unknown unit"},
		{"unknown field", `"rounds": 3`, `"rounds": 3, "round": 4`, "unknown field \"round\""},
		{"missing process", `"reconciliation": {`, `"reconciliaton": {`, "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := string(defaultTimings)
			if !strings.Contains(src, tc.from) {
				t.Fatalf("the default file lacks %s", tc.from)
			}
			_, err := ParseTimings([]byte(strings.Replace(src, tc.from, tc.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

// A process copies its own part only, with the version.
func TestTimingsForKind(t *testing.T) {
	d := DefaultTimings()
	got := d.ForKind("cloud_assessment")
	if got.Version != d.Version || got.Cloud.Assess != d.Cloud.Assess || got.Exception.Review != (Period{}) || got.Offboarding.Rounds != 0 {
		t.Errorf("ForKind(cloud_assessment) = %+v", got)
	}
	for _, kind := range []string{"exception", "outsourcing_review", "offboarding", "reconciliation"} {
		if got := d.ForKind(kind); got.Version != d.Version || got.Cloud.Assess != (Period{}) {
			t.Errorf("ForKind(%s) = %+v", kind, got)
		}
	}
}
