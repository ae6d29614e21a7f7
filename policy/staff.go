package policy

import "slices"

// Who may file which request from the staff pages (issue 17). The API checks the same rules
// when a request is filed; the pages show a form only to those it would accept.
var startedBy = map[string][]Role{
	// §5.3(1): every member of staff reports an incident they find.
	"incident": nil,
	// §7.4(1): a department's security officer or a system's manager asks the CISO for an
	// exception.
	"exception": {RoleDISO, RoleISM},
	// §8.1: the department that outsources selects and reviews the vendor, through its
	// security officer (town setting: the policy names no filer).
	"outsourcing_review": {RoleDISO},
	// §8.3: the system's manager assesses the cloud service it will use (town setting).
	"cloud_assessment": {RoleISM},
}

// MayStart reports whether a member of staff holding roles may file a request of kind from
// the staff pages: anyone for an incident report, a holder of one of the kind's roles for
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
