package policy

import "testing"

func TestMayStart(t *testing.T) {
	for _, c := range []struct {
		kind  string
		roles []string
		want  bool
	}{
		{"incident", nil, true}, // §5.3(1): everyone reports
		{"exception", nil, false},
		{"exception", []string{"diso"}, true}, // §7.4(1)
		{"exception", []string{"ism"}, true},  // §7.4(1)
		{"exception", []string{"ciso"}, false},
		{"exception", []string{"diso", "ciso"}, false}, // §7.4(1): the CISO permits it
		// §8.1(1), §8.3: the department security officer reviews both, so files neither;
		// the member of staff in charge files them, whatever their post.
		{"outsourcing_review", nil, true},
		{"outsourcing_review", []string{"staff"}, true},
		{"outsourcing_review", []string{"ism"}, true},
		{"outsourcing_review", []string{"diso"}, false},
		{"outsourcing_review", []string{"ism", "diso"}, false},
		{"cloud_assessment", []string{"staff", "hr"}, true},
		{"cloud_assessment", []string{"ism"}, true},
		{"cloud_assessment", []string{"diso"}, false},
		{"offboarding", []string{"diso", "ism", "ciso"}, false},
		{"reconciliation", []string{"giso"}, false},
	} {
		if got := MayStart(c.kind, c.roles); got != c.want {
			t.Errorf("MayStart(%s, %v) = %v, want %v", c.kind, c.roles, got, c.want)
		}
	}
}

func TestWithdrawable(t *testing.T) {
	for kind, want := range map[string]bool{"exception": true, "outsourcing_review": true, "cloud_assessment": true,
		"incident": false, "offboarding": false, "reconciliation": false} {
		if got := Withdrawable(kind, "pending"); got != want {
			t.Errorf("Withdrawable(%s, pending) = %v, want %v", kind, got, want)
		}
	}
	// A request is the requester's to take back until it is decided.
	for status, want := range map[string]bool{"submitted": true, "pending": true, "escalated": true, "returned": true,
		"approved": false, "in_effect": false, "restoring": false, "exiting": false, "ended": false} {
		if got := Withdrawable("exception", status); got != want {
			t.Errorf("Withdrawable(exception, %s) = %v, want %v", status, got, want)
		}
	}
}
