package policy

import (
	"slices"
	"time"
)

// Finding kinds of the reconciliation of accounts against HR's roster (§6.2(1)2(ウ)): the
// GISO and the system managers, with HR, check that no user ID is left that nobody uses.
const (
	// FindingNotEmployed: the holder is in the roster but no longer employed.
	FindingNotEmployed = "not_employed"
	// FindingUnknownHolder: the holder is not in the roster at all.
	FindingUnknownHolder = "unknown_holder"
	// FindingUnused: the account has not been used for longer than the threshold.
	FindingUnused = "unused"
	// FindingFormerDepartment: the holder was transferred out of the department that owns
	// the system, and still has an active ID on it: access the transfer should have ended
	// (§6.2(1)2(イ) 「業務上必要がなくなった場合」, §6.1(1)).
	FindingFormerDepartment = "former_department"
	// FindingFormerSection: the holder was transferred out of the section (課室) that owns
	// the system, to another section of the same department, and still has an active ID on
	// it: staff do not use another section's files (§6.1(1)), and access the work no longer
	// needs ends (§6.2(1)2(イ)).
	FindingFormerSection = "former_section"
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
	// SystemDepartment owns the system; HolderDepartment is the holder's department now, and
	// HolderLeft lists the departments the holder was transferred out of (transfers whose
	// effective date has passed and that were not cancelled).
	SystemDepartment string
	HolderDepartment string
	HolderLeft       []string
	// SystemSection is the section of SystemDepartment that owns the system, or "";
	// HolderSection is the holder's section now, or ""; HolderLeftSections lists the
	// sections the holder was transferred out of (the offboardings' former sections).
	SystemSection      string
	HolderSection      string
	HolderLeftSections []string
}

// Reconcile returns what is wrong with an active account, or "" when nothing is. A holder
// who is gone comes first, then a transferred holder's ID on their former department's
// system (unless they have since returned to it), then, within the department they are in,
// their ID on the system of a section they were transferred out of (unless they have since
// returned to that section); an account whose use is not reported is never "unused".
func Reconcile(a ReconciledAccount, now time.Time, unusedAfter time.Duration) string {
	switch {
	case !a.Shared && !a.HolderKnown:
		return FindingUnknownHolder
	case !a.Shared && !a.HolderEmployed:
		return FindingNotEmployed
	case !a.Shared && a.SystemDepartment != "" && a.HolderDepartment != a.SystemDepartment && slices.Contains(a.HolderLeft, a.SystemDepartment):
		return FindingFormerDepartment
	case !a.Shared && a.SystemSection != "" && a.HolderDepartment == a.SystemDepartment && a.HolderSection != a.SystemSection &&
		slices.Contains(a.HolderLeftSections, a.SystemSection):
		return FindingFormerSection
	case unusedAfter > 0 && !a.LastUsed.IsZero() && now.Sub(a.LastUsed) > unusedAfter:
		return FindingUnused
	}
	return ""
}

// KeepNeedsReason reports whether keeping the account of a finding needs a written reason
// from the system's manager: the account of someone no longer employed, not in the roster,
// or transferred out of the system's department or section is kept only for a stated reason
// (§6.2(1)2(ウ): no ID is left that nobody uses; (イ) access ends when the work no longer
// needs it). An unused account of a current employee may be kept without one.
func KeepNeedsReason(kind string) bool {
	return kind == FindingNotEmployed || kind == FindingUnknownHolder || kind == FindingFormerDepartment || kind == FindingFormerSection
}
