package policy

import (
	"slices"
	"testing"
)

func TestPostsAfterLeaving(t *testing.T) {
	for _, c := range []struct {
		reason LeaveReason
		status string
		ended  []Role
		all    bool
	}{
		{Retirement, "retired", nil, true},
		{Secondment, "seconded", nil, true},
		{Transfer, "employed", []Role{RoleCISO, RoleGISO, RoleDISO, RoleISM}, false},
	} {
		status, ended, all := PostsAfterLeaving(c.reason)
		if status != c.status || !slices.Equal(ended, c.ended) || all != c.all {
			t.Errorf("%s: got %q %v %v, want %q %v %v", c.reason, status, ended, all, c.status, c.ended, c.all)
		}
	}
	// A transfer keeps the roles that do not go with the department or section.
	_, ended, _ := PostsAfterLeaving(Transfer)
	for _, keep := range []Role{RoleStaff, RoleHR} {
		if slices.Contains(ended, keep) {
			t.Errorf("a transfer ends %s", keep)
		}
	}
}
