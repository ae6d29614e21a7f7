package policy

import "time"

// Finding kinds of the reconciliation of accounts against HR's roster (§6.2(1)2(ウ)): the
// GISO and the system managers, with HR, check that no user ID is left that nobody uses.
const (
	// FindingNotEmployed: the holder is in the roster but no longer employed.
	FindingNotEmployed = "not_employed"
	// FindingUnknownHolder: the holder is not in the roster at all.
	FindingUnknownHolder = "unknown_holder"
	// FindingUnused: the account has not been used for longer than the threshold.
	FindingUnused = "unused"
)

// ReconciledAccount is what the reconciliation knows of one active account.
type ReconciledAccount struct {
	Shared bool
	// HolderKnown is false when the holder is not in the roster (or the account names none
	// and is not shared).
	HolderKnown    bool
	HolderEmployed bool
	// LastUsed is zero when the system does not report use.
	LastUsed time.Time
}

// Reconcile returns what is wrong with an active account, or "" when nothing is. A holder
// who is gone comes first; an account whose use is not reported is never "unused".
func Reconcile(a ReconciledAccount, now time.Time, unusedAfter time.Duration) string {
	switch {
	case !a.Shared && !a.HolderKnown:
		return FindingUnknownHolder
	case !a.Shared && !a.HolderEmployed:
		return FindingNotEmployed
	case unusedAfter > 0 && !a.LastUsed.IsZero() && now.Sub(a.LastUsed) > unusedAfter:
		return FindingUnused
	}
	return ""
}
