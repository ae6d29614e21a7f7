package policy

import "slices"

// Who may file which request, from the API and from the staff pages alike (issue 17): the
// API's checks refuse a requester these rules do not allow (checkException,
// checkOutsourcing, checkCloud, through MayStart), and the pages show a form only to those
// the API would accept.
//
// startedBy names the roles of which a requester must hold one; nil is anyone employed.
var startedBy = map[string][]Role{
	// §5.3(1): every member of staff reports an incident they find.
	"incident": nil,
	// §7.4(1): a department's security officer or a system's manager asks the CISO for an
	// exception.
	"exception": {RoleDISO, RoleISM},
	// §8.1(1) and §8.3 name no one who asks: the member of staff in charge of the contract
	// or of the service files it (and revises it, and records the disposal), whoever they
	// are, and the department security officer reviews it.
	"outsourcing_review": nil,
	"cloud_assessment":   nil,
}

// reviewedBy names the post that decides a request of kind, which may therefore not file
// it: nobody decides their own request, and no deputy may decide in the post's place (the
// default delegation rules give the officers' approvals and the CISO's permissions none),
// so a request its decider filed could only expire.
var reviewedBy = map[string]Role{
	// §7.4(1): the CISO permits an exception.
	"exception": RoleCISO,
	// §8.1(1): the department security officer (情報セキュリティ責任者) confirms the vendor's
	// selection (the step selection_review).
	"outsourcing_review": RoleDISO,
	// §8.3(1)-(5): the department security officer judges the cloud service (the step
	// diso_assessment).
	"cloud_assessment": RoleDISO,
}

// RequesterRoles are the roles of which a requester of kind must hold one; nil for a kind
// anyone employed may file, or one nobody files by request.
func RequesterRoles(kind string) []Role { return slices.Clone(startedBy[kind]) }

// ReviewedBy is the post that decides a request of kind, whose holders may not file it.
func ReviewedBy(kind string) (Role, bool) {
	r, ok := reviewedBy[kind]
	return r, ok
}

// MayStart reports whether a member of staff holding roles may file a request of kind, from
// the API or the staff pages: anyone for an incident report, a holder of one of the kind's
// roles for an exception, anyone but a department security officer for an outsourcing
// review or a cloud assessment (the officer reviews them), nobody for a kind the pages do
// not file (offboarding and reconciliation are HR's and the system's).
func MayStart(kind string, roles []string) bool {
	need, ok := startedBy[kind]
	if !ok {
		return false
	}
	if r, ok := reviewedBy[kind]; ok && slices.Contains(roles, string(r)) {
		return false
	}
	if need == nil {
		return true
	}
	return slices.ContainsFunc(need, func(r Role) bool { return slices.Contains(roles, string(r)) })
}

// Withdrawable reports whether the requester may withdraw a running process of kind, in the
// register's status, from the staff pages: a request is theirs to take back until it is
// decided — while it is submitted, waiting for a decision (pending, escalated) or returned to
// them. Once approved or in effect it is the town's to end (an exception's restoration, a
// contract's disposal, a service's exit plan), and an incident report is never withdrawn: once
// reported, the incident is the town's to handle (§5.3, §7.3). This is a town setting; the
// policy sets no rule on withdrawing a request.
func Withdrawable(kind, status string) bool {
	switch kind {
	case "exception", "outsourcing_review", "cloud_assessment":
	default:
		return false
	}
	switch status {
	case "starting", "submitted", "pending", "escalated", "returned":
		return true
	}
	return false
}
