package policy

import (
	"fmt"
	"slices"
	"strings"
)

// RoleVendor marks a person of an outsourced contractor (外部委託事業者) in the directory.
// Vendors are briefed on the policy (§5.1(3)) but never change privileged IDs or their
// passwords (§6.2(1)3(エ)).
const RoleVendor Role = "vendor"

// A LeaveReason is why HR offboards someone (§5.1(1)8, §6.2(1)2).
type LeaveReason string

// The reasons HR gives when it starts an offboarding.
const (
	// Retirement (退職): every user ID of the leaver goes.
	Retirement LeaveReason = "retirement"
	// Transfer (異動): only the former department's access goes (§6.1(1)); accounts on
	// systems of other departments (common systems) stay.
	Transfer LeaveReason = "transfer"
	// Secondment (出向): the person leaves the town's organisation for a time; every
	// user ID of theirs goes, as on retirement.
	Secondment LeaveReason = "secondment"
)

// LeaveReasons lists the reasons in the API's order.
var LeaveReasons = []LeaveReason{Retirement, Transfer, Secondment}

// ParseLeaveReason returns the reason named s.
func ParseLeaveReason(s string) (LeaveReason, error) {
	r := LeaveReason(s)
	if !slices.Contains(LeaveReasons, r) {
		return "", fmt.Errorf("parse leave reason %q: want retirement, transfer or secondment", s)
	}
	return r, nil
}

// AccountFacts is what the offboarding needs to know of one account on one system: IDs and
// flags only.
type AccountFacts struct {
	SystemID  string
	AccountID string
	// SystemDepartment is the department that owns the system.
	SystemDepartment string
	// SystemSection is the section (課室) of SystemDepartment that owns the system, or "".
	SystemSection string
	// Held is true when the account is the leaver's own user ID.
	Held bool
	// Known is true when the leaver knew the account's password (a shared or privileged
	// account recorded as known to them).
	Known      bool
	Shared     bool
	Privileged bool
	// Active is false for an account already disabled or deleted.
	Active bool
}

// Account actions of an offboarding.
const (
	// ActionDisable: the system's manager disables or deletes the user ID (§6.2(1)2).
	ActionDisable = "disable"
	// ActionRotate: the password of a shared or privileged ID the leaver knew is changed
	// (§6.2(1)3, §5.4(2)9).
	ActionRotate = "rotate"
	// ActionReview: on a transfer, the manager of a system another department owns decides
	// whether the leaver still needs their ID there (§6.1(1), §6.2(1)2(イ)): keep it, with a
	// reason on the record, or disable it.
	ActionReview = "review"
)

// AccountAction is one account to deal with, and how.
type AccountAction struct {
	AccountFacts
	Action string
}

// InScope reports whether a leaver's access to a system owned by systemDept goes. On a
// transfer only the former department's systems are in scope (§6.1(1)): the person keeps
// the common systems other departments run for everyone. Retirement and secondment remove
// everything (§6.2(1)2).
func InScope(reason LeaveReason, formerDept, systemDept string) bool {
	if reason == Transfer {
		return systemDept == formerDept
	}
	return true
}

// OffboardingActions decides, from the facts of the leaver's accounts, what is done to each
// (§6.2(1)2–3): the leaver's own active IDs are disabled; shared and privileged IDs of
// others whose password the leaver knew get a new password. Accounts out of scope (see
// InScope) and accounts already inactive are left alone. The result is sorted by system
// and account, so a workflow may call this deterministically.
func OffboardingActions(reason LeaveReason, formerDept string, accounts []AccountFacts) []AccountAction {
	var out []AccountAction
	for _, a := range accounts {
		if !a.Active || !InScope(reason, formerDept, a.SystemDepartment) {
			continue
		}
		switch {
		case a.Held:
			out = append(out, AccountAction{a, ActionDisable})
		case a.Known && (a.Shared || a.Privileged):
			out = append(out, AccountAction{a, ActionRotate})
		}
	}
	sortActions(out)
	return out
}

// sortActions sorts actions by system and account, so that a workflow iterates them
// deterministically.
func sortActions(out []AccountAction) {
	slices.SortFunc(out, func(x, y AccountAction) int {
		if c := strings.Compare(x.SystemID, y.SystemID); c != 0 {
			return c
		}
		return strings.Compare(x.AccountID, y.AccountID)
	})
}

// AddedSince returns the actions of now on accounts filed does not name (by system and
// account: an offboarding accounts for each account once), in now's order. An offboarding reads the leaver's accounts when HR files it and
// again when the effective date has ended: every ID the leaver holds on that day goes
// (§6.2(1)2), so an account created meanwhile is dealt with too, and the register says which
// ones were added since filing. Actions of filed that now lacks are not returned: what was
// snapshotted at filing is still accounted for.
func AddedSince(filed, now []AccountAction) []AccountAction {
	var out []AccountAction
	for _, a := range now {
		if !slices.ContainsFunc(filed, func(f AccountAction) bool {
			return f.SystemID == a.SystemID && f.AccountID == a.AccountID
		}) {
			out = append(out, a)
		}
	}
	return out
}

// Rotator is the post that changes the password of a privileged or shared ID a leaver knew
// (§6.2(1)3(イ): 「統括情報セキュリティ責任者及び情報システム管理者」, or a person they name whom
// the CISO approves): the system's manager, unless there is none, the manager is the leaver
// whose knowledge is the reason for the change, or the manager is a vendor's person
// (§6.2(1)3(エ): never a vendor); then the GISO. Nobody else is chosen by the code: a member of
// the section changes it only as a designee the CISO approved.
func Rotator(ism, leaver string, vendors []string) Role {
	if ism == "" || ism == leaver || slices.Contains(vendors, ism) {
		return RoleGISO
	}
	return RoleISM
}

// Vendors lists the candidates who are a vendor's people (外部委託事業者, RoleVendor): they
// never change a privileged ID or its password (§6.2(1)3(エ)).
func Vendors(candidates []Candidate) []string {
	var out []string
	for _, c := range candidates {
		if slices.Contains(c.Roles, RoleVendor) {
			out = append(out, c.EmployeeID)
		}
	}
	return out
}

// TransferReviews lists, for a transfer, the leaver's own active IDs on systems other
// departments own (the common systems), which OffboardingActions leaves alone: their access
// there is not the former department's to remove, but it may no longer be needed for the
// work (§6.2(1)2(イ) 「業務上必要がなくなった場合」, §6.1(1)), so each system's manager reviews
// it and keeps it only with a recorded reason. The new department's own systems are what the
// person moves to: not reviewed. Retirement and secondment remove everything already:
// nothing to review. Sorted by system and account.
func TransferReviews(reason LeaveReason, formerDept, newDept string, accounts []AccountFacts) []AccountAction {
	if reason != Transfer {
		return nil
	}
	var out []AccountAction
	for _, a := range accounts {
		if a.Active && a.Held && !InScope(reason, formerDept, a.SystemDepartment) && a.SystemDepartment != newDept {
			out = append(out, AccountAction{a, ActionReview})
		}
	}
	sortActions(out)
	return out
}

// SectionTransfer reports whether a transfer moves a person between two sections (課室) of
// one department (部局) (§2: the 課室 are the units under a 部局 whose heads manage the
// systems, §2(4)1). It is a transfer like one between departments: staff must not use
// another section's folders and files (§6.1(1)), so the former section's access is
// reviewed. Both sections must be known.
func SectionTransfer(reason LeaveReason, formerDept, formerSection, newDept, newSection string) bool {
	return reason == Transfer && formerDept == newDept && formerSection != "" && newSection != "" && formerSection != newSection
}

// SectionTransferActions decides, for a transfer between two sections of one department,
// the password changes: the shared and privileged IDs of the former section's systems whose
// password the person knew get a new one (§6.2(1)3), as on a transfer between departments.
// The person's own IDs there are reviewed instead (SectionTransferReviews); the rest of the
// department's systems, and other departments', stay as they are: the person still works in
// the department. Sorted by system and account.
func SectionTransferActions(formerSection string, accounts []AccountFacts) []AccountAction {
	var out []AccountAction
	for _, a := range accounts {
		if a.Active && formerSection != "" && a.SystemSection == formerSection && !a.Held && a.Known && (a.Shared || a.Privileged) {
			out = append(out, AccountAction{a, ActionRotate})
		}
	}
	sortActions(out)
	return out
}

// SectionTransferReviews lists, for a transfer between two sections of one department, the
// person's own active IDs on the former section's systems: each system's manager disables
// each or keeps it with a reason on the record (§6.1(1), §6.2(1)2(イ) 「業務上必要がなくなった
// 場合」), as the managers of other departments' systems do on a transfer between
// departments. Sorted by system and account.
func SectionTransferReviews(formerSection string, accounts []AccountFacts) []AccountAction {
	var out []AccountAction
	for _, a := range accounts {
		if a.Active && a.Held && formerSection != "" && a.SystemSection == formerSection {
			out = append(out, AccountAction{a, ActionReview})
		}
	}
	sortActions(out)
	return out
}

// Candidate is a person who might be asked to rotate a credential.
type Candidate struct {
	EmployeeID   string
	DepartmentID string
	// SectionID is the person's section (課室) within DepartmentID, or "".
	SectionID string
	Employed  bool
	Roles     []Role
}

// CanRotate says why a person may not change the password of a privileged or shared ID of
// a system owned by ownerDept, or nil if they may. Only an employed staff member of the
// owning section may (§6.2(1)3); never a vendor (§6.2(1)3(エ)), and never the leaver whose
// knowledge of the password is the reason for the change.
func CanRotate(c Candidate, ownerDept, leaver string) error {
	switch {
	case slices.Contains(c.Roles, RoleVendor):
		return fmt.Errorf("%s is a vendor: vendors must not change privileged IDs or passwords (§6.2(1)3(エ))", c.EmployeeID)
	case c.EmployeeID == leaver:
		return fmt.Errorf("%s is the leaver", c.EmployeeID)
	case !c.Employed:
		return fmt.Errorf("%s is no longer employed", c.EmployeeID)
	case c.DepartmentID != ownerDept:
		return fmt.Errorf("%s is not a member of the owning section %s", c.EmployeeID, ownerDept)
	}
	return nil
}

// CanDesignate says why a person may not be designated to change the password of a
// privileged or shared ID of a system owned by ownerDept and, when the system has one, by
// ownerSection, or nil if they may (§6.2(1)3(イ) 「…指名し、CISOが認めた者」): CanRotate, and
// a member of the owning section when there is one, since staff do not use another section's
// systems (§6.1(1)). A system without a section is the department's: any member of it may.
func CanDesignate(c Candidate, ownerDept, ownerSection, leaver string) error {
	if err := CanRotate(c, ownerDept, leaver); err != nil {
		return err
	}
	if ownerSection != "" && c.SectionID != ownerSection {
		return fmt.Errorf("%s is not a member of the owning section %s", c.EmployeeID, ownerSection)
	}
	return nil
}

// ChooseRotator picks who rotates a credential: the first candidate, in the order given
// (the system's manager first, then the section's other staff), that CanRotate allows. It
// reports false when nobody in the section may. Only offboardings that reached their
// rotation before the change "offboarding-rotator-post" use it; since then Rotator decides.
func ChooseRotator(candidates []Candidate, ownerDept, leaver string) (string, bool) {
	for _, c := range candidates {
		if CanRotate(c, ownerDept, leaver) == nil {
			return c.EmployeeID, true
		}
	}
	return "", false
}
