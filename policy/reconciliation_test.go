package policy

import (
	"testing"
	"time"
)

func TestReconcile(t *testing.T) {
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	ninety := 90 * 24 * time.Hour
	cases := []struct {
		name string
		a    ReconciledAccount
		want string
	}{
		{"employed and in use", ReconciledAccount{HolderKnown: true, HolderEmployed: true, LastUsed: now.AddDate(0, 0, -3)}, ""},
		{"use not reported", ReconciledAccount{HolderKnown: true, HolderEmployed: true}, ""},
		{"retired holder", ReconciledAccount{HolderKnown: true, LastUsed: now}, FindingNotEmployed},
		{"holder not in the roster", ReconciledAccount{}, FindingUnknownHolder},
		{"unused for 91 days", ReconciledAccount{HolderKnown: true, HolderEmployed: true, LastUsed: now.AddDate(0, 0, -91)}, FindingUnused},
		{"unused for 89 days", ReconciledAccount{HolderKnown: true, HolderEmployed: true, LastUsed: now.AddDate(0, 0, -89)}, ""},
		{"shared, unused", ReconciledAccount{Shared: true, LastUsed: now.AddDate(-1, 0, 0)}, FindingUnused},
		{"shared, in use", ReconciledAccount{Shared: true, LastUsed: now}, ""},
		// §6.2(1)2(イ), §6.1(1): a transferred person's ID on their former department's system.
		{"transferred out of the system's department", ReconciledAccount{HolderKnown: true, HolderEmployed: true, SystemDepartment: "tax", HolderDepartment: "welfare", HolderLeft: []string{"tax"}}, FindingFormerDepartment},
		{"transferred, but on a common system", ReconciledAccount{HolderKnown: true, HolderEmployed: true, SystemDepartment: "general", HolderDepartment: "welfare", HolderLeft: []string{"tax"}}, ""},
		{"transferred back to the system's department", ReconciledAccount{HolderKnown: true, HolderEmployed: true, SystemDepartment: "tax", HolderDepartment: "tax", HolderLeft: []string{"tax"}}, ""},
		{"transferred and retired: not employed first", ReconciledAccount{HolderKnown: true, SystemDepartment: "tax", HolderDepartment: "welfare", HolderLeft: []string{"tax"}}, FindingNotEmployed},
		// §6.1(1), §6.2(1)2(イ): within one department, an ID left on the former section's system.
		{"transferred out of the system's section", ReconciledAccount{HolderKnown: true, HolderEmployed: true, SystemDepartment: "tax", SystemSection: "assess",
			HolderDepartment: "tax", HolderSection: "collect", HolderLeftSections: []string{"assess"}}, FindingFormerSection},
		{"transferred out of the section, now in none of the department's", ReconciledAccount{HolderKnown: true, HolderEmployed: true, SystemDepartment: "tax", SystemSection: "assess",
			HolderDepartment: "tax", HolderLeftSections: []string{"assess"}}, FindingFormerSection},
		{"transferred back to the system's section", ReconciledAccount{HolderKnown: true, HolderEmployed: true, SystemDepartment: "tax", SystemSection: "assess",
			HolderDepartment: "tax", HolderSection: "assess", HolderLeftSections: []string{"assess"}}, ""},
		{"transferred out of another section than the system's", ReconciledAccount{HolderKnown: true, HolderEmployed: true, SystemDepartment: "tax", SystemSection: "assess",
			HolderDepartment: "tax", HolderSection: "collect", HolderLeftSections: []string{"audit"}}, ""},
		{"in another section, never transferred out of the system's", ReconciledAccount{HolderKnown: true, HolderEmployed: true, SystemDepartment: "tax", SystemSection: "assess",
			HolderDepartment: "tax", HolderSection: "collect"}, ""},
		{"system of the department without a section", ReconciledAccount{HolderKnown: true, HolderEmployed: true, SystemDepartment: "tax",
			HolderDepartment: "tax", HolderSection: "collect", HolderLeftSections: []string{"assess"}}, ""},
		{"left the section and the department: former department first", ReconciledAccount{HolderKnown: true, HolderEmployed: true, SystemDepartment: "tax", SystemSection: "assess",
			HolderDepartment: "welfare", HolderLeft: []string{"tax"}, HolderLeftSections: []string{"assess"}}, FindingFormerDepartment},
		{"shared account of the former section", ReconciledAccount{Shared: true, SystemDepartment: "tax", SystemSection: "assess", LastUsed: now, HolderLeftSections: []string{"assess"}}, ""},
		{"shared account of the former department", ReconciledAccount{Shared: true, SystemDepartment: "tax", LastUsed: now}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Reconcile(c.a, now, ninety); got != c.want {
				t.Errorf("Reconcile = %q, want %q", got, c.want)
			}
		})
	}
}

// §6.2(1)2(ウ): keeping the ID of someone no longer employed (or not in the roster, or moved
// out of the system's department or section) needs a written reason; an unused ID does not.
func TestKeepNeedsReason(t *testing.T) {
	for kind, want := range map[string]bool{
		FindingNotEmployed: true, FindingUnknownHolder: true, FindingFormerDepartment: true, FindingFormerSection: true, FindingUnused: false,
	} {
		if got := KeepNeedsReason(kind); got != want {
			t.Errorf("KeepNeedsReason(%s) = %v, want %v", kind, got, want)
		}
	}
}
