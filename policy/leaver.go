package policy

// Employment statuses the directory gives a person after an offboarding (the API's
// employment_status values).
const (
	EmploymentEmployed = "employed"
	EmploymentRetired  = "retired"
	EmploymentSeconded = "seconded"
)

// PostsAfterLeaving says what an offboarding ends in the directory when it is over, so that
// nobody decides with a post they left (issue 12; §2 names posts, not people: 「副町長をCISOと
// する」, 「各部局の長」, 「各課室の長」).
//
//   - Retirement (退職): the person is retired and holds no role.
//   - Secondment (出向): the person is seconded and holds no role while away.
//   - Transfer (異動): the person stays employed, in the new department; the posts that go with
//     the old department or section end (CISO, GISO, department security officer, system
//     manager), while staff and hr stay as HR sets them.
//
// all reports that every role ends; otherwise ended lists the roles that do.
func PostsAfterLeaving(reason LeaveReason) (status string, ended []Role, all bool) {
	switch reason {
	case Transfer:
		return EmploymentEmployed, []Role{RoleCISO, RoleGISO, RoleDISO, RoleISM}, false
	case Secondment:
		return EmploymentSeconded, nil, true
	default:
		return EmploymentRetired, nil, true
	}
}

// PostsAfterSectionTransfer says what a transfer between two sections (課室) of one
// department ends: the person stays employed in the department, in the new section; the
// post that goes with the old section ends (a system's manager is its section's head,
// §2(4)1 「担当課室長等」), while the department's and the town's posts stay.
func PostsAfterSectionTransfer() (status string, ended []Role) {
	return EmploymentEmployed, []Role{RoleISM}
}
