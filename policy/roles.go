package policy

import (
	"fmt"
	"strings"
)

// A Role is a position in the town's information-security organisation (§2)
// that a step of a process is assigned to. Its value is the short name used in
// configuration, the database and URLs.
type Role string

// The roles that the processes assign work to (§2, 図－1).
const (
	// RoleCISO is the Chief Information Security Officer, the deputy mayor,
	// who has the final say on all information assets (§2(1)) and permits
	// exceptions (§7.4(1)).
	RoleCISO Role = "ciso"

	// RoleGISO is the General Information Security Officer, the director of
	// general affairs, who assists the CISO and acts on own judgement in an
	// incident when the CISO is absent (§2(2)).
	RoleGISO Role = "giso"

	// RoleDISO is the Information Security Officer of a department, its
	// head, responsible for security within the department (§2(3)).
	RoleDISO Role = "diso"

	// RoleISM is the Information System Manager, the section head owning an
	// information system, responsible for that system (§2(4)).
	RoleISM Role = "ism"

	// RoleStaff is any member of staff: employees, part-time and temporary
	// staff (職員等, §2(3)4).
	RoleStaff Role = "staff"

	// RoleHR is the personnel section, with which user IDs are checked so
	// that none is left unused (§6.2(1)2(ウ)).
	RoleHR Role = "hr"

	// RoleCommittee is a member of the information security committee
	// (情報セキュリティ委員会, §2(6)), which receives incident reports at closure and
	// the self-inspection's results (§9.1(2)) and reviews the policy (§9.1(3)).
	RoleCommittee Role = "committee"
)

// ParseRole returns the role whose short name is s, ignoring case and
// surrounding spaces.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := roleTitles(r); !ok {
		return "", fmt.Errorf("parse role %q: unknown role", s)
	}
	return r, nil
}

// Title returns the title of the role as the policy gives it (§2): in
// Japanese when locale is Japanese ("ja", "ja-JP", "ja_JP"), otherwise in
// English. An unknown role is returned as it is.
func (r Role) Title(locale string) string {
	t, ok := roleTitles(r)
	if !ok {
		return string(r)
	}
	if japanese(locale) {
		return t.ja
	}
	return t.en
}

type title struct{ ja, en string }

func roleTitles(r Role) (title, bool) {
	switch r {
	case RoleCISO:
		return title{"最高情報セキュリティ責任者", "Chief Information Security Officer"}, true
	case RoleGISO:
		return title{"統括情報セキュリティ責任者", "General Information Security Officer"}, true
	case RoleDISO:
		return title{"情報セキュリティ責任者", "Department Information Security Officer"}, true
	case RoleISM:
		return title{"情報システム管理者", "Information System Manager"}, true
	case RoleStaff:
		return title{"職員等", "Staff"}, true
	case RoleHR:
		return title{"人事管理部門", "Personnel Section"}, true
	case RoleCommittee:
		return title{"情報セキュリティ委員会委員", "Security committee member"}, true
	case RoleVendor:
		return title{"外部委託事業者", "Vendor"}, true
	}
	return title{}, false
}

// A Level is the classification of an information asset by its
// confidentiality (§3(1)). Level 1 is the most sensitive; many rules of §3(2)
// apply to levels 1 and 2 only. The zero Level is not a valid classification.
type Level int

// The classification levels of §3(1), 図－2.
const (
	// Level1 is personal information under the Act on the Protection of
	// Personal Information, and information whose breach could seriously
	// affect residents' lives, property and the like.
	Level1 Level = 1

	// Level2 is other information not to be disclosed under the town's
	// ordinance on the disclosure of official documents, and information
	// whose breach could seriously affect the conduct of administration.
	Level2 Level = 2

	// Level3 is all other information.
	Level3 Level = 3
)

// ParseLevel returns the classification level numbered n.
func ParseLevel(n int) (Level, error) {
	l := Level(n)
	if l < Level1 || l > Level3 {
		return 0, fmt.Errorf("parse level %d: want 1, 2 or 3", n)
	}
	return l, nil
}

// Title returns the name of the level as the policy writes it (§3(1)): in
// Japanese when locale is Japanese, otherwise in English.
func (l Level) Title(locale string) string {
	if japanese(locale) {
		return fmt.Sprintf("レベル%d", int(l))
	}
	return fmt.Sprintf("Level %d", int(l))
}

// japanese reports whether locale is a Japanese locale tag such as "ja",
// "ja-JP" or "ja_JP".
func japanese(locale string) bool {
	lang, _, _ := strings.Cut(strings.ToLower(locale), "-")
	lang, _, _ = strings.Cut(lang, "_")
	return lang == "ja"
}
