package policy

import "slices"

// Who may file which request, from the API and from the staff pages alike (issue 17): the
// API's checks refuse a requester these rules do not name (checkException, checkOutsourcing,
// checkCloud), and the pages show a form only to those the API would accept.
var startedBy = map[string][]Role{
	// §5.3(1): every member of staff reports an incident they find.
	"incident": nil,
	// §7.4(1): a department's security officer or a system's manager asks the CISO for an
	// exception.
	"exception": {RoleDISO, RoleISM},
	// §8.1(1) makes the department security officer (情報セキュリティ責任者) answerable for
	// selecting a vendor, and §5.1(3) has the officer brief the vendors of system development
	// and maintenance; the policy names no one who asks for the review. Town setting: the
	// officer or a system's manager (情報システム管理者, whose systems are what is outsourced)
	// files it, and the officer reviews it; an officer who files their own is a party, and
	// the review goes to a deputy or the GISO (separation of duties).
	"outsourcing_review": {RoleDISO, RoleISM},
	// §8.3(1)-(5) have the department security officer judge a cloud service before it is
	// used; the policy names no one who asks. Town setting: as for an outsourcing review, the
	// officer or a system's manager files it, and the officer assesses it.
	"cloud_assessment": {RoleDISO, RoleISM},
}

// RequesterRoles are the roles of which a requester of kind must hold one; nil for a kind
// anyone may file (an incident report) or one nobody files by request.
func RequesterRoles(kind string) []Role { return slices.Clone(startedBy[kind]) }

// MayStart reports whether a member of staff holding roles may file a request of kind, from
// the API or the staff pages: anyone for an incident report, a holder of one of the kind's roles for
// the others, nobody for a kind the pages do not file (offboarding and reconciliation are
// HR's and the system's).
func MayStart(kind string, roles []string) bool {
	need, ok := startedBy[kind]
	if !ok {
		return false
	}
	if need == nil {
		return true
	}
	return slices.ContainsFunc(need, func(r Role) bool { return slices.Contains(roles, string(r)) })
}

// Withdrawable reports whether the requester may withdraw a running process of kind from
// the staff pages: a request is theirs to take back until it is decided. An incident report
// is not: once reported, the incident is the town's to handle (§5.3, §7.3). This is a town
// setting; the policy sets no rule on withdrawing a request.
func Withdrawable(kind string) bool {
	switch kind {
	case "exception", "outsourcing_review", "cloud_assessment":
		return true
	}
	return false
}
