package models

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// KindReconciliation is the process kind of the periodic reconciliation of accounts
// against HR's roster (§6.2(1)2(ウ)).
const KindReconciliation = "reconciliation"

// AccountUse is when an account was last used, as its system reports it (a log export, a
// directory sync). Accounts without a row are never judged unused.
type AccountUse struct {
	SystemID   string `gorm:"primaryKey;size:64"`
	AccountID  string `gorm:"primaryKey;size:128"`
	LastUsedAt time.Time
}

// ReconciliationFinding is one active account the reconciliation found wrong, and what its
// system's manager decided: disable it, or keep it (with a justification, in the task's
// decision in the register).
type ReconciliationFinding struct {
	ProcessID string `gorm:"primaryKey;size:64"`
	SystemID  string `gorm:"primaryKey;size:64"`
	AccountID string `gorm:"primaryKey;size:128"`
	Kind      string `gorm:"size:32;not null"`
	ISMID     string `gorm:"size:64;index"`
	Holder    string `gorm:"size:64"`
	Decision  string `gorm:"size:16"`
	ByID      string `gorm:"size:64"`
	TaskID    string `gorm:"size:191"`
	At        *time.Time
}

// PutAccountUse records when an account was last used.
func (s *Store) PutAccountUse(ctx context.Context, u AccountUse) error {
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "system_id"}, {Name: "account_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"last_used_at"}),
	}).Create(&u).Error
}

// EnsureProcess creates a process's register row unless it exists: a process started by a
// Temporal Schedule has no API request to create it.
func (s *Store) EnsureProcess(ctx context.Context, p Process) error {
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&p).Error
}

// ReconciledAccount is an active account with what the roster says of its holder.
type ReconciledAccount struct {
	Account
	ISMID          string
	HolderKnown    bool
	HolderEmployed bool
	LastUsed       *time.Time
	// SystemDepartment owns the system; HolderDepartment is the holder's department now;
	// HolderLeft lists the departments the holder was transferred out of by an offboarding
	// effective by then and not cancelled.
	SystemDepartment string
	HolderDepartment string
	HolderLeft       []string
	// SystemSection is the section (課室) that owns the system, or ""; HolderSection is the
	// holder's section now, or ""; HolderLeftSections lists the sections the holder was
	// transferred out of by the same offboardings (their former_section, when known).
	SystemSection      string
	HolderSection      string
	HolderLeftSections []string
}

// ActiveAccounts visits every active account with its system's manager, department and
// section, its holder's employment, department and section and the departments and sections
// they were transferred out of (by offboardings effective on or before asOf, YYYY-MM-DD, not
// cancelled), and its last use, in pages of 500.
func (s *Store) ActiveAccounts(ctx context.Context, asOf string, visit func([]ReconciledAccount) error) error {
	var systems []System
	if err := s.DB.WithContext(ctx).Find(&systems).Error; err != nil {
		return err
	}
	ism, dept, section := map[string]string{}, map[string]string{}, map[string]string{}
	for _, x := range systems {
		ism[x.ID], dept[x.ID], section[x.ID] = x.ISMEmployeeID, x.DepartmentID, x.SectionID
	}
	// Accounts' key has two columns, which GORM's FindInBatches cannot page on (it stopped
	// after the first page of 500): accountPages pages on the key itself.
	active := func(q *gorm.DB) *gorm.DB { return q.Where("status = ?", "active") }
	return s.accountPages(ctx, active, 500, func(page []Account) error {
		holders := map[string]bool{}
		var ids []string
		for _, a := range page {
			if a.HolderEmployeeID != nil && !holders[*a.HolderEmployeeID] {
				holders[*a.HolderEmployeeID] = true
				ids = append(ids, *a.HolderEmployeeID)
			}
		}
		people := map[string]Person{}
		if len(ids) > 0 {
			var ps []Person
			if err := s.DB.WithContext(ctx).Where("employee_id IN ?", ids).Find(&ps).Error; err != nil {
				return err
			}
			for _, p := range ps {
				people[p.EmployeeID] = p
			}
		}
		left, leftSections := map[string][]string{}, map[string][]string{}
		if len(ids) > 0 {
			var moves []Offboarding
			cancelled := s.DB.WithContext(ctx).Model(&Process{}).Select("id").Where("status = ?", "cancelled")
			if err := s.DB.WithContext(ctx).Where("employee_id IN ? AND reason = ? AND effective_date <= ? AND process_id NOT IN (?)",
				ids, "transfer", asOf, cancelled).Order("employee_id, effective_date").Find(&moves).Error; err != nil {
				return err
			}
			for _, m := range moves {
				left[m.EmployeeID] = append(left[m.EmployeeID], m.FormerDepartment)
				if m.FormerSection != "" {
					leftSections[m.EmployeeID] = append(leftSections[m.EmployeeID], m.FormerSection)
				}
			}
		}
		var uses []AccountUse
		if err := s.DB.WithContext(ctx).Where("system_id IN ?", distinctSystems(page)).Find(&uses).Error; err != nil {
			return err
		}
		used := map[string]time.Time{}
		for _, u := range uses {
			used[u.SystemID+"/"+u.AccountID] = u.LastUsedAt
		}
		out := make([]ReconciledAccount, 0, len(page))
		for _, a := range page {
			r := ReconciledAccount{Account: a, ISMID: ism[a.SystemID], SystemDepartment: dept[a.SystemID], SystemSection: section[a.SystemID]}
			if a.HolderEmployeeID != nil {
				p, ok := people[*a.HolderEmployeeID]
				r.HolderKnown, r.HolderEmployed = ok, ok && p.Status == StatusEmployed
				r.HolderDepartment, r.HolderLeft = p.DepartmentID, left[*a.HolderEmployeeID]
				r.HolderSection, r.HolderLeftSections = p.SectionID, leftSections[*a.HolderEmployeeID]
			}
			if t, ok := used[a.SystemID+"/"+a.AccountID]; ok {
				r.LastUsed = &t
			}
			out = append(out, r)
		}
		return visit(out)
	})
}

func distinctSystems(as []Account) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range as {
		if !seen[a.SystemID] {
			seen[a.SystemID] = true
			out = append(out, a.SystemID)
		}
	}
	return out
}

// SaveFindings stores a reconciliation's findings, once.
func (s *Store) SaveFindings(ctx context.Context, fs []ReconciliationFinding) error {
	if len(fs) == 0 {
		return nil
	}
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(fs, 200).Error
}

// FindingDecision is a system manager's decision on one finding.
type FindingDecision struct {
	SystemID, AccountID, Decision string
}

// DecideFindings records a manager's decisions and disables the accounts to disable, with
// who and when.
func (s *Store) DecideFindings(ctx context.Context, processID, taskID, by string, at time.Time, ds []FindingDecision) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, d := range ds {
			if err := tx.Model(&ReconciliationFinding{}).Where("process_id = ? AND system_id = ? AND account_id = ?", processID, d.SystemID, d.AccountID).
				Updates(map[string]any{"decision": d.Decision, "by_id": by, "task_id": taskID, "at": at}).Error; err != nil {
				return err
			}
			if d.Decision == "disable" {
				if err := setAccountStatus(tx, processID, taskID, d.SystemID, d.AccountID, "disabled", by, at); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Findings returns a reconciliation's findings by system and account.
func (s *Store) Findings(ctx context.Context, processID string) ([]ReconciliationFinding, error) {
	var fs []ReconciliationFinding
	err := s.DB.WithContext(ctx).Where("process_id = ?", processID).Order("system_id, account_id").Find(&fs).Error
	return fs, err
}
