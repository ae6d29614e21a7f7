package policy

import (
	"slices"
	"testing"
)

func TestOffboardingActions(t *testing.T) {
	accounts := []AccountFacts{
		{SystemID: "tax", AccountID: "u1", SystemDepartment: "taxation", Held: true, Active: true},
		{SystemID: "mail", AccountID: "u1", SystemDepartment: "general", Held: true, Active: true},
		{SystemID: "tax", AccountID: "admin", SystemDepartment: "taxation", Known: true, Privileged: true, Active: true},
		{SystemID: "mail", AccountID: "shared-desk", SystemDepartment: "general", Known: true, Shared: true, Active: true},
		{SystemID: "tax", AccountID: "old", SystemDepartment: "taxation", Held: true, Active: false},
		{SystemID: "tax", AccountID: "plain", SystemDepartment: "taxation", Known: true, Active: true},
	}
	names := func(as []AccountAction) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.SystemID+"/"+a.AccountID+":"+a.Action)
		}
		return out
	}
	cases := []struct {
		name   string
		reason LeaveReason
		want   []string
	}{
		{"retirement removes everything", Retirement, []string{"mail/shared-desk:rotate", "mail/u1:disable", "tax/admin:rotate", "tax/u1:disable"}},
		{"secondment removes everything", Secondment, []string{"mail/shared-desk:rotate", "mail/u1:disable", "tax/admin:rotate", "tax/u1:disable"}},
		// §6.1(1): a transfer removes only the former department's access.
		{"transfer keeps common systems", Transfer, []string{"tax/admin:rotate", "tax/u1:disable"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := names(OffboardingActions(c.reason, "taxation", accounts))
			if !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// §6.2(1)2: every ID the leaver holds on the effective date goes, including those created
// after HR filed the offboarding.
func TestAddedSince(t *testing.T) {
	act := func(sys, acc, action string) AccountAction {
		return AccountAction{AccountFacts{SystemID: sys, AccountID: acc}, action}
	}
	filed := []AccountAction{act("tax", "u1", ActionDisable), act("tax", "admin", ActionRotate)}
	cases := []struct {
		name string
		now  []AccountAction
		want []AccountAction
	}{
		{"nothing new", filed, nil},
		{"an account created after filing", append(slices.Clone(filed), act("web", "u1", ActionDisable)), []AccountAction{act("web", "u1", ActionDisable)}},
		{"a password learnt after filing", []AccountAction{act("tax", "u1", ActionDisable), act("tax", "admin", ActionRotate), act("tax", "ops", ActionRotate)}, []AccountAction{act("tax", "ops", ActionRotate)}},
		{"an account gone since filing is not added", []AccountAction{act("tax", "u1", ActionDisable)}, nil},
		{"an account already snapshotted is accounted for once", []AccountAction{act("tax", "u1", ActionDisable), act("tax", "admin", ActionDisable)}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := AddedSince(filed, c.now); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestRotator(t *testing.T) {
	cases := []struct {
		name, ism string
		vendors   []string
		want      Role
	}{
		// §6.2(1)3(イ): the system's manager changes the privileged password.
		{"the system's manager", "I1", nil, RoleISM},
		// The leaver's knowledge is the reason for the change: the GISO, not a section member.
		{"the manager is the leaver", "L1", nil, RoleGISO},
		// §6.2(1)3(エ): never a vendor.
		{"the manager is a vendor's person", "V1", []string{"V1"}, RoleGISO},
		{"the system has no manager", "", nil, RoleGISO},
		{"a vendor elsewhere in the section changes nothing", "I1", []string{"V1"}, RoleISM},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Rotator(c.ism, "L1", c.vendors); got != c.want {
				t.Errorf("Rotator(%q) = %s, want %s", c.ism, got, c.want)
			}
		})
	}
}

func TestVendors(t *testing.T) {
	got := Vendors([]Candidate{{EmployeeID: "E1", DepartmentID: "taxation", Employed: true, Roles: []Role{RoleStaff}}, {EmployeeID: "V1", DepartmentID: "taxation", Employed: true, Roles: []Role{RoleISM, RoleVendor}}, {EmployeeID: "V2", DepartmentID: "taxation", Employed: true, Roles: []Role{RoleVendor}}})
	if !slices.Equal(got, []string{"V1", "V2"}) {
		t.Errorf("Vendors = %v, want V1 and V2 (§6.2(1)3(エ))", got)
	}
}

// §6.1(1), §6.2(1)2(イ): a transfer reviews the leaver's IDs on other departments' systems
// instead of keeping them silently; retirement and secondment disable them anyway.
func TestTransferReviews(t *testing.T) {
	accounts := []AccountFacts{
		{SystemID: "tax", AccountID: "u1", SystemDepartment: "taxation", Held: true, Active: true},
		{SystemID: "mail", AccountID: "u1", SystemDepartment: "general", Held: true, Active: true},
		{SystemID: "gis", AccountID: "u1", SystemDepartment: "planning", Held: true, Active: true},
		{SystemID: "mail", AccountID: "desk", SystemDepartment: "general", Known: true, Shared: true, Active: true},
		{SystemID: "old", AccountID: "u1", SystemDepartment: "general", Held: true, Active: false},
		{SystemID: "care", AccountID: "u1", SystemDepartment: "welfare", Held: true, Active: true},
	}
	cases := []struct {
		name   string
		reason LeaveReason
		want   []string
	}{
		{"transfer: other departments' systems, own IDs, active; not the new department's", Transfer, []string{"gis/u1", "mail/u1"}},
		{"retirement disables everything: nothing to review", Retirement, nil},
		{"secondment disables everything: nothing to review", Secondment, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, a := range TransferReviews(c.reason, "taxation", "welfare", accounts) {
				if a.Action != ActionReview {
					t.Errorf("action %q, want review", a.Action)
				}
				got = append(got, a.SystemID+"/"+a.AccountID)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestCanRotate(t *testing.T) {
	cases := []struct {
		name string
		c    Candidate
		ok   bool
	}{
		{"staff of the owning section", Candidate{EmployeeID: "E1", DepartmentID: "taxation", Employed: true, Roles: []Role{RoleStaff}}, true},
		{"the section's manager", Candidate{EmployeeID: "E2", DepartmentID: "taxation", Employed: true, Roles: []Role{RoleISM}}, true},
		{"a vendor, even in the section (§6.2(1)3(エ))", Candidate{EmployeeID: "V1", DepartmentID: "taxation", Employed: true, Roles: []Role{RoleVendor}}, false},
		{"a vendor who is also staff", Candidate{EmployeeID: "V2", DepartmentID: "taxation", Employed: true, Roles: []Role{RoleStaff, RoleVendor}}, false},
		{"another section", Candidate{EmployeeID: "E3", DepartmentID: "general", Employed: true, Roles: []Role{RoleStaff}}, false},
		{"not employed", Candidate{EmployeeID: "E4", DepartmentID: "taxation", Employed: false, Roles: []Role{RoleStaff}}, false},
		{"the leaver", Candidate{EmployeeID: "L1", DepartmentID: "taxation", Employed: true, Roles: []Role{RoleISM}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CanRotate(c.c, "taxation", "L1")
			if (err == nil) != c.ok {
				t.Errorf("CanRotate = %v, want ok %t", err, c.ok)
			}
		})
	}
}

func TestChooseRotatorSkipsVendorAndLeaver(t *testing.T) {
	cs := []Candidate{
		{EmployeeID: "V1", DepartmentID: "taxation", Employed: true, Roles: []Role{RoleVendor, RoleISM}},
		{EmployeeID: "L1", DepartmentID: "taxation", Employed: true, Roles: []Role{RoleStaff}},
		{EmployeeID: "E1", DepartmentID: "taxation", Employed: true, Roles: []Role{RoleStaff}},
	}
	if got, ok := ChooseRotator(cs, "taxation", "L1"); !ok || got != "E1" {
		t.Errorf("ChooseRotator = %q %t, want E1", got, ok)
	}
	if _, ok := ChooseRotator(cs[:2], "taxation", "L1"); ok {
		t.Error("ChooseRotator found someone among a vendor and the leaver")
	}
}

func TestParseLeaveReason(t *testing.T) {
	for _, s := range []string{"retirement", "transfer", "secondment"} {
		if _, err := ParseLeaveReason(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	if _, err := ParseLeaveReason("fired"); err == nil {
		t.Error("fired accepted")
	}
}

// §2: 課室 are the units of a 部局; a move between two of them is a transfer, but only when
// both are known and differ, within one department.
func TestSectionTransfer(t *testing.T) {
	for _, c := range []struct {
		name                           string
		reason                         LeaveReason
		formerDept, formerSec, newDept string
		newSec                         string
		want                           bool
	}{
		{"two sections of one department", Transfer, "zeimu", "kazei", "zeimu", "shuno", true},
		{"the same section", Transfer, "zeimu", "kazei", "zeimu", "kazei", false},
		{"former section unknown", Transfer, "zeimu", "", "zeimu", "shuno", false},
		{"new section not given", Transfer, "zeimu", "kazei", "zeimu", "", false},
		{"another department", Transfer, "zeimu", "kazei", "fukushi", "kaigo", false},
		{"a retirement", Retirement, "zeimu", "kazei", "zeimu", "shuno", false},
	} {
		if got := SectionTransfer(c.reason, c.formerDept, c.formerSec, c.newDept, c.newSec); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// A transfer between sections deals with the former section's systems only (§6.1(1)): the
// person's own active IDs there are reviewed (§6.2(1)2(イ)), the shared or privileged ones
// they knew there get a new password (§6.2(1)3); the department's other sections' systems,
// other departments' and inactive IDs are left alone.
func TestSectionTransferActionsAndReviews(t *testing.T) {
	accounts := []AccountFacts{
		{SystemID: "kazei", AccountID: "u1", SystemDepartment: "zeimu", SystemSection: "kazei", Held: true, Active: true},
		{SystemID: "kazei", AccountID: "admin", SystemDepartment: "zeimu", SystemSection: "kazei", Known: true, Privileged: true, Active: true},
		{SystemID: "kazei", AccountID: "memo", SystemDepartment: "zeimu", SystemSection: "kazei", Known: true, Active: true},
		{SystemID: "kazei-old", AccountID: "u1", SystemDepartment: "zeimu", SystemSection: "kazei", Held: true, Active: false},
		{SystemID: "shuno", AccountID: "u1", SystemDepartment: "zeimu", SystemSection: "shuno", Held: true, Active: true},
		{SystemID: "zeimu-portal", AccountID: "u1", SystemDepartment: "zeimu", Held: true, Active: true},
		{SystemID: "mail", AccountID: "u1", SystemDepartment: "general", Held: true, Active: true},
		{SystemID: "mail", AccountID: "desk", SystemDepartment: "general", Known: true, Shared: true, Active: true},
	}
	names := func(as []AccountAction, action string) []string {
		var out []string
		for _, a := range as {
			if a.Action != action {
				t.Errorf("%s/%s: action %q, want %q", a.SystemID, a.AccountID, a.Action, action)
			}
			out = append(out, a.SystemID+"/"+a.AccountID)
		}
		return out
	}
	if got := names(SectionTransferReviews("kazei", accounts), ActionReview); !slices.Equal(got, []string{"kazei/u1"}) {
		t.Errorf("reviews %v", got)
	}
	if got := names(SectionTransferActions("kazei", accounts), ActionRotate); !slices.Equal(got, []string{"kazei/admin"}) {
		t.Errorf("actions %v", got)
	}
	if got := SectionTransferReviews("", accounts); got != nil {
		t.Errorf("no former section: %v", got)
	}
}

// §6.2(1)3(イ), §6.1(1): a designee for a system a section owns is a member of that section;
// for a system of the department without a section, any member of the department. The
// rules of CanRotate (never a vendor (エ), nor the leaver, nor someone gone) hold either way.
func TestCanDesignate(t *testing.T) {
	cases := []struct {
		name    string
		c       Candidate
		section string
		ok      bool
	}{
		{"staff of the owning section", Candidate{EmployeeID: "E1", DepartmentID: "taxation", SectionID: "assess", Employed: true, Roles: []Role{RoleStaff}}, "assess", true},
		{"staff of another section of the department", Candidate{EmployeeID: "E2", DepartmentID: "taxation", SectionID: "collect", Employed: true, Roles: []Role{RoleStaff}}, "assess", false},
		{"staff of the department in no section", Candidate{EmployeeID: "E3", DepartmentID: "taxation", Employed: true, Roles: []Role{RoleStaff}}, "assess", false},
		{"a vendor of the owning section (エ)", Candidate{EmployeeID: "V1", DepartmentID: "taxation", SectionID: "assess", Employed: true, Roles: []Role{RoleVendor}}, "assess", false},
		{"the leaver, of the owning section", Candidate{EmployeeID: "L1", DepartmentID: "taxation", SectionID: "assess", Employed: true, Roles: []Role{RoleStaff}}, "assess", false},
		{"a system without a section: any section of the department", Candidate{EmployeeID: "E2", DepartmentID: "taxation", SectionID: "collect", Employed: true, Roles: []Role{RoleStaff}}, "", true},
		{"a system without a section: another department", Candidate{EmployeeID: "E4", DepartmentID: "general", Employed: true, Roles: []Role{RoleStaff}}, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CanDesignate(c.c, "taxation", c.section, "L1")
			if (err == nil) != c.ok {
				t.Errorf("CanDesignate = %v, want ok %t", err, c.ok)
			}
		})
	}
}
