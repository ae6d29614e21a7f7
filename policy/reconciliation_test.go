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
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Reconcile(c.a, now, ninety); got != c.want {
				t.Errorf("Reconcile = %q, want %q", got, c.want)
			}
		})
	}
}
