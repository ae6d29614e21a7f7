package models

import (
	"context"
	"errors"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// PutPeople creates or replaces people with their roles, all or none, and creates their
// departments when new. It returns how many were created.
func (s *Store) PutPeople(ctx context.Context, people []Person) (created int, err error) {
	created, _, err = s.PutPeopleChanges(ctx, people)
	return created, err
}

// PutPeopleChanges is PutPeople that also reports, sorted, the existing people whose posts
// may have changed: their roles, department or employment status differ from what the
// directory held. Open tasks of theirs must be resolved again (workflows.SignalReassess);
// a new person, or a new name, address or locale, is no change of post.
func (s *Store) PutPeopleChanges(ctx context.Context, people []Person) (created int, changed []string, err error) {
	return s.putPeople(ctx, people, true)
}

// PutRosterChanges is PutPeopleChanges for a roster import. withSections false is a roster
// without a section column (as rosters were before sections, migration step 9): each
// person keeps the section the directory holds, unless their department changes, which
// leaves them in none.
func (s *Store) PutRosterChanges(ctx context.Context, people []Person, withSections bool) (created int, changed []string, err error) {
	return s.putPeople(ctx, people, withSections)
}

func (s *Store) putPeople(ctx context.Context, people []Person, withSections bool) (created int, changed []string, err error) {
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		created, changed = 0, nil
		ids := make([]string, len(people))
		depts := map[string]bool{}
		for i, p := range people {
			ids[i] = p.EmployeeID
			depts[p.DepartmentID] = true
		}
		for d := range depts {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&Department{ID: d}).Error; err != nil {
				return err
			}
		}
		before := map[string]Person{}
		for chunk := range chunks(ids, 500) {
			var got []Person
			if err := tx.Select("employee_id", "department_id", "section_id", "status", "email").Where("employee_id IN ?", chunk).Find(&got).Error; err != nil {
				return err
			}
			var roles []PersonRole
			if err := tx.Where("employee_id IN ?", chunk).Find(&roles).Error; err != nil {
				return err
			}
			for _, p := range got {
				before[p.EmployeeID] = p
			}
			for _, r := range roles {
				p := before[r.EmployeeID]
				p.Roles = append(p.Roles, r)
				before[r.EmployeeID] = p
			}
		}
		for chunk := range chunks(ids, 500) {
			if err := tx.Where("employee_id IN ?", chunk).Delete(&PersonRole{}).Error; err != nil {
				return err
			}
		}
		for _, p := range people {
			old, known := before[p.EmployeeID]
			if !known {
				created++
			} else if postChanged(old, p) {
				changed = append(changed, p.EmployeeID)
			}
			roles := p.Roles
			p.Roles = nil
			if !withSections {
				p.SectionID = ""
				if known && old.DepartmentID == p.DepartmentID {
					p.SectionID = old.SectionID
				}
			}
			if err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "employee_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"name", "email", "department_id", "section_id", "locale", "status", "updated_at"}),
			}).Create(&p).Error; err != nil {
				return err
			}
			if known && old.Email != p.Email {
				// A new address is a new chance: the flag of an undeliverable one goes.
				if err := tx.Model(&Person{}).Where("employee_id = ?", p.EmployeeID).
					Updates(map[string]any{"undeliverable_at": nil, "undeliverable_why": ""}).Error; err != nil {
					return err
				}
			}
			if len(roles) > 0 {
				if err := tx.Create(&roles).Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	slices.Sort(changed)
	return created, slices.Compact(changed), nil
}

// postChanged reports whether a person's roles, department or employment status differ.
func postChanged(old, new Person) bool {
	if old.DepartmentID != new.DepartmentID || old.Status != new.Status {
		return true
	}
	a, b := old.RoleNames(), new.RoleNames()
	slices.Sort(a)
	slices.Sort(b)
	return !slices.Equal(slices.Compact(a), slices.Compact(b))
}

func chunks(ids []string, n int) func(func([]string) bool) {
	return func(yield func([]string) bool) {
		for i := 0; i < len(ids); i += n {
			if !yield(ids[i:min(i+n, len(ids))]) {
				return
			}
		}
	}
}

// System returns one system.
func (s *Store) System(ctx context.Context, id string) (System, error) {
	var sys System
	err := s.DB.WithContext(ctx).First(&sys, "id = ?", id).Error
	return sys, notFound(err)
}

// PutSystem creates or replaces a system; it reports whether it was created.
func (s *Store) PutSystem(ctx context.Context, sys System) (bool, error) {
	var created bool
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&Department{ID: sys.DepartmentID}).Error; err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&System{}).Where("id = ?", sys.ID).Count(&n).Error; err != nil {
			return err
		}
		created = n == 0
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "id"}},
			DoUpdates: clause.AssignmentColumns([]string{"name", "department_id", "section_id", "ism_employee_id", "classification", "updated_at"}),
		}).Create(&sys).Error
	})
	return created, err
}

// Sections lists every section (課室), by department and ID.
func (s *Store) Sections(ctx context.Context) ([]Section, error) {
	var out []Section
	err := s.DB.WithContext(ctx).Order("department_id, id").Find(&out).Error
	return out, err
}

// Section returns one section.
func (s *Store) Section(ctx context.Context, id string) (Section, error) {
	var sec Section
	err := s.DB.WithContext(ctx).First(&sec, "id = ?", id).Error
	return sec, notFound(err)
}

// ErrSectionMoved is returned when a section would change department: its people and
// systems belong to the department it was registered in.
var ErrSectionMoved = errors.New("a section does not change department")

// PutSection creates or renames a section, creating its department when new; it reports
// whether it was created. A section never changes department (ErrSectionMoved).
func (s *Store) PutSection(ctx context.Context, sec Section) (bool, error) {
	var created bool
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var old Section
		err := tx.First(&old, "id = ?", sec.ID).Error
		switch {
		case err == nil && old.DepartmentID != sec.DepartmentID:
			return ErrSectionMoved
		case err == nil:
			return tx.Model(&Section{}).Where("id = ?", sec.ID).Updates(map[string]any{"name_ja": sec.NameJa, "name_en": sec.NameEn, "updated_at": time.Now().UTC()}).Error
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		created = true
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&Department{ID: sec.DepartmentID}).Error; err != nil {
			return err
		}
		return tx.Create(&sec).Error
	})
	return created, err
}

// PutAccount creates or replaces an account; it reports whether it was created.
func (s *Store) PutAccount(ctx context.Context, a Account) (bool, error) {
	var created bool
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Account{}).Where("system_id = ? AND account_id = ?", a.SystemID, a.AccountID).Count(&n).Error; err != nil {
			return err
		}
		created = n == 0
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "system_id"}, {Name: "account_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"holder_employee_id", "shared", "privileged", "status", "updated_at"}),
		}).Create(&a).Error
	})
	return created, err
}

// TokenByHash finds an unrevoked API token by the hash of its text. It may have expired:
// the caller checks ActiveAt against its own clock.
func (s *Store) TokenByHash(ctx context.Context, hash string) (APIToken, error) {
	var t APIToken
	err := s.DB.WithContext(ctx).Where("hash = ? AND revoked_at IS NULL", hash).First(&t).Error
	return t, notFound(err)
}

// PutToken stores a token's hash with its scopes and expiry, replacing one of the same name
// (which is then as new: created now, not revoked).
func (s *Store) PutToken(ctx context.Context, t APIToken) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var old APIToken
		err := tx.Where("name = ?", t.Name).First(&old).Error
		if err == nil {
			return tx.Model(&old).Updates(map[string]any{"hash": t.Hash, "scopes": t.Scopes, "revoked_at": nil,
				"expires_at": t.ExpiresAt, "created_at": time.Now().UTC()}).Error
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		return tx.Create(&t).Error
	})
}

// Tokens lists every API token, by name, revoked and expired ones included. The hashes are
// not read.
func (s *Store) Tokens(ctx context.Context) ([]APIToken, error) {
	var ts []APIToken
	err := s.DB.WithContext(ctx).Select("id", "name", "scopes", "created_at", "revoked_at", "expires_at").Order("name").Find(&ts).Error
	return ts, err
}

// RevokeToken revokes the token of that name at the moment at; from then on it is refused
// (401). Revoking a revoked token changes nothing. It returns the token as it now stands, or
// ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, name string, at time.Time) (APIToken, error) {
	var t APIToken
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("name = ?", name).First(&t).Error; err != nil {
			return err
		}
		if t.RevokedAt != nil {
			return nil
		}
		at = at.UTC()
		t.RevokedAt = &at
		return tx.Model(&APIToken{}).Where("id = ?", t.ID).Update("revoked_at", at).Error
	})
	t.Hash = ""
	return t, notFound(err)
}
