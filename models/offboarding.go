package models

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Asset status values: an asset lent to a person, given back, or reported missing.
const (
	AssetLent     = "lent"
	AssetReturned = "returned"
	AssetMissing  = "missing"
)

// Asset kinds lent to staff: the information assets a leaver gives back (§5.1(1)8).
var AssetKinds = []string{"device", "media", "id_card", "document"}

// Asset is an information asset lent to a person: a PC, a USB stick, an ID card. Its
// description may name things; workflows carry only its ID.
type Asset struct {
	ID               string `gorm:"primaryKey;size:64"`
	HolderEmployeeID string `gorm:"size:64;index;not null"`
	Kind             string `gorm:"size:16;not null"`
	Description      string `gorm:"size:500"`
	Status           string `gorm:"size:16;not null;default:lent"`
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// AccountAccess records that a person knows the password of a shared or privileged
// account they do not hold, so that it is changed when they leave (§6.2(1)3, §5.4(2)9).
type AccountAccess struct {
	SystemID   string `gorm:"primaryKey;size:64"`
	AccountID  string `gorm:"primaryKey;size:128"`
	EmployeeID string `gorm:"primaryKey;size:64;index"`
	CreatedAt  time.Time
}

// AccountStatusChange is the record of who changed an account's status, when, and in which
// process and task (§6.2(1)2: the system manager disables or deletes user IDs).
type AccountStatusChange struct {
	ID        uint   `gorm:"primaryKey"`
	ProcessID string `gorm:"size:64;not null;uniqueIndex:idx_account_change,priority:1"`
	SystemID  string `gorm:"size:64;not null;uniqueIndex:idx_account_change,priority:2"`
	AccountID string `gorm:"size:128;not null;uniqueIndex:idx_account_change,priority:3"`
	TaskID    string `gorm:"size:191"`
	Status    string `gorm:"size:32;not null"`
	ByID      string `gorm:"size:64;not null"`
	At        time.Time
}

// Offboarding is the register's record of one offboarding besides its Process row: whom,
// why, from when. OpenEmployeeID is the employee's ID while the process is open and NULL
// once it closes; its unique index is what makes "one open offboarding per person" hold
// even under concurrent requests.
type Offboarding struct {
	ProcessID        string `gorm:"primaryKey;size:64"`
	EmployeeID       string `gorm:"size:64;not null;index:idx_offboarding_emp_date,priority:1"`
	EffectiveDate    string `gorm:"size:10;not null;index:idx_offboarding_emp_date,priority:2"`
	OriginalDate     string `gorm:"size:10;not null"`
	Reason           string `gorm:"size:16;not null"`
	FormerDepartment string `gorm:"size:64"`
	NewDepartment    string `gorm:"size:64"`
	// FormerSection and NewSection are the 課室 the person leaves and joins, when the
	// directory knows them; a transfer within one department names both (migration step 9).
	FormerSection  string  `gorm:"size:64"`
	NewSection     string  `gorm:"size:64"`
	Late           bool    `gorm:"not null;default:false"`
	OpenEmployeeID *string `gorm:"size:64;uniqueIndex"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Offboarding item kinds and outcomes.
const (
	ItemAccount = "account"
	ItemAsset   = "asset"
)

// OffboardingItem is one thing an offboarding must account for, snapshotted at its start:
// an account to disable, a credential to rotate, an asset to get back. Outcome is empty
// until someone confirms it (disabled, deleted, rotated, returned, missing), with who and
// when.
type OffboardingItem struct {
	ProcessID string `gorm:"primaryKey;size:64"`
	Key       string `gorm:"primaryKey;size:191"`
	Kind      string `gorm:"size:16;not null"`
	SystemID  string `gorm:"size:64"`
	AccountID string `gorm:"size:128"`
	AssetID   string `gorm:"size:64"`
	Action    string `gorm:"size:16;not null"`
	Outcome   string `gorm:"size:16"`
	ByID      string `gorm:"size:64"`
	TaskID    string `gorm:"size:191"`
	At        *time.Time
}

// ErrOpenOffboarding is returned when the employee already has an open offboarding.
var ErrOpenOffboarding = errors.New("an offboarding is open for this employee")

// PutAsset creates or replaces a lent asset; it reports whether it was created.
func (s *Store) PutAsset(ctx context.Context, a Asset) (bool, error) {
	var created bool
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Asset{}).Where("id = ?", a.ID).Count(&n).Error; err != nil {
			return err
		}
		created = n == 0
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "id"}},
			DoUpdates: clause.AssignmentColumns([]string{"holder_employee_id", "kind", "description", "status", "updated_at"}),
		}).Create(&a).Error
	})
	return created, err
}

// PutAccountAccess records that a person knows an account's password.
func (s *Store) PutAccountAccess(ctx context.Context, a AccountAccess) error {
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&a).Error
}

// DeleteAccountAccess forgets that a person knows an account's password.
func (s *Store) DeleteAccountAccess(ctx context.Context, a AccountAccess) error {
	return s.DB.WithContext(ctx).Where("system_id = ? AND account_id = ? AND employee_id = ?", a.SystemID, a.AccountID, a.EmployeeID).
		Delete(&AccountAccess{}).Error
}

// Account returns one account.
func (s *Store) Account(ctx context.Context, systemID, accountID string) (Account, error) {
	var a Account
	err := s.DB.WithContext(ctx).First(&a, "system_id = ? AND account_id = ?", systemID, accountID).Error
	return a, notFound(err)
}

// LeaverAccount is an account a leaver holds or knows the password of, with its system.
type LeaverAccount struct {
	Account
	Known        bool
	SystemDeptID string
	// SystemSectionID is the section (課室) that owns the system, or "".
	SystemSectionID string
	ISMID           string
}

// LeaverAccounts returns the accounts a person holds and the shared or privileged ones
// whose password they are recorded to know, each with its system's department and manager.
func (s *Store) LeaverAccounts(ctx context.Context, employeeID string) ([]LeaverAccount, error) {
	db := s.DB.WithContext(ctx)
	var held []Account
	if err := db.Where("holder_employee_id = ?", employeeID).Find(&held).Error; err != nil {
		return nil, err
	}
	var known []Account
	if err := db.Model(&Account{}).Joins("JOIN account_accesses aa ON aa.system_id = accounts.system_id AND aa.account_id = accounts.account_id").
		Where("aa.employee_id = ?", employeeID).Find(&known).Error; err != nil {
		return nil, err
	}
	out := make([]LeaverAccount, 0, len(held)+len(known))
	seen := map[string]bool{}
	for _, a := range held {
		seen[a.SystemID+"/"+a.AccountID] = true
		out = append(out, LeaverAccount{Account: a})
	}
	for _, a := range known {
		if !seen[a.SystemID+"/"+a.AccountID] {
			out = append(out, LeaverAccount{Account: a, Known: true})
		}
	}
	ids := map[string]bool{}
	for _, a := range out {
		ids[a.SystemID] = true
	}
	systems := map[string]System{}
	if len(ids) > 0 {
		var list []string
		for id := range ids {
			list = append(list, id)
		}
		var syss []System
		if err := db.Where("id IN ?", list).Find(&syss).Error; err != nil {
			return nil, err
		}
		for _, x := range syss {
			systems[x.ID] = x
		}
	}
	for i := range out {
		out[i].SystemDeptID = systems[out[i].SystemID].DepartmentID
		out[i].SystemSectionID = systems[out[i].SystemID].SectionID
		out[i].ISMID = systems[out[i].SystemID].ISMEmployeeID
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].SystemID != out[j].SystemID {
			return out[i].SystemID < out[j].SystemID
		}
		return out[i].AccountID < out[j].AccountID
	})
	return out, nil
}

// LentAssets returns the assets still lent to a person, by ID.
func (s *Store) LentAssets(ctx context.Context, employeeID string) ([]Asset, error) {
	var as []Asset
	err := s.DB.WithContext(ctx).Where("holder_employee_id = ? AND status = ?", employeeID, AssetLent).Order("id").Find(&as).Error
	return as, err
}

// DepartmentPeople returns the people of a department with their roles, by employee ID.
func (s *Store) DepartmentPeople(ctx context.Context, department string, limit int) ([]Person, error) {
	var ps []Person
	err := s.DB.WithContext(ctx).Preload("Roles").Where("department_id = ?", department).Order("employee_id").Limit(limit).Find(&ps).Error
	return ps, err
}

// SectionPeople returns the people of a section (課室) with their roles, by employee ID. A
// section's ID is unique in the town.
func (s *Store) SectionPeople(ctx context.Context, section string, limit int) ([]Person, error) {
	var ps []Person
	err := s.DB.WithContext(ctx).Preload("Roles").Where("section_id = ?", section).Order("employee_id").Limit(limit).Find(&ps).Error
	return ps, err
}

// CreateOffboarding registers a new offboarding process with its details, in one
// transaction. ErrDuplicate: a process with this ID exists (a retry). ErrOpenOffboarding:
// another offboarding of the employee is open.
func (s *Store) CreateOffboarding(ctx context.Context, p *Process, o *Offboarding) error {
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(p).Error; err != nil {
			return err
		}
		if err := tx.Create(o).Error; errors.Is(err, gorm.ErrDuplicatedKey) {
			return ErrOpenOffboarding
		} else if err != nil {
			return err
		}
		return nil
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return ErrDuplicate
	}
	return err
}

// DeleteUnstartedOffboarding removes an offboarding whose workflow could not be started.
func (s *Store) DeleteUnstartedOffboarding(ctx context.Context, id string) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("id = ? AND status = ?", id, "starting").Delete(&Process{})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return tx.Where("process_id = ?", id).Delete(&Offboarding{}).Error
	})
}

// OffboardingOf returns the offboarding of a process.
func (s *Store) OffboardingOf(ctx context.Context, processID string) (Offboarding, error) {
	var o Offboarding
	err := s.DB.WithContext(ctx).First(&o, "process_id = ?", processID).Error
	return o, notFound(err)
}

// OffboardingByDate finds the offboarding of an employee with this (current or original)
// effective date.
func (s *Store) OffboardingByDate(ctx context.Context, employeeID, date string) (Offboarding, error) {
	var o Offboarding
	err := s.DB.WithContext(ctx).Where("employee_id = ? AND (effective_date = ? OR original_date = ?)", employeeID, date, date).
		Order("created_at DESC").First(&o).Error
	return o, notFound(err)
}

// OpenOffboarding returns the employee's open offboarding.
func (s *Store) OpenOffboarding(ctx context.Context, employeeID string) (Offboarding, error) {
	var o Offboarding
	err := s.DB.WithContext(ctx).First(&o, "open_employee_id = ?", employeeID).Error
	return o, notFound(err)
}

// MoveOffboardingDate records a new effective date.
func (s *Store) MoveOffboardingDate(ctx context.Context, processID, date string, late bool) error {
	return s.DB.WithContext(ctx).Model(&Offboarding{}).Where("process_id = ?", processID).
		Updates(map[string]any{"effective_date": date, "late": late}).Error
}

// MarkOffboardingLate records that the work started after the effective date.
func (s *Store) MarkOffboardingLate(ctx context.Context, processID string) error {
	return s.DB.WithContext(ctx).Model(&Offboarding{}).Where("process_id = ?", processID).Update("late", true).Error
}

// CloseOffboarding frees the employee for a later offboarding.
func (s *Store) CloseOffboarding(ctx context.Context, processID string) error {
	return s.DB.WithContext(ctx).Model(&Offboarding{}).Where("process_id = ?", processID).Update("open_employee_id", nil).Error
}

// SaveOffboardingItems stores the snapshot of what an offboarding must account for, once.
func (s *Store) SaveOffboardingItems(ctx context.Context, items []OffboardingItem) error {
	if len(items) == 0 {
		return nil
	}
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(items, 200).Error
}

// OffboardingItems returns an offboarding's items, by key.
func (s *Store) OffboardingItems(ctx context.Context, processID string) ([]OffboardingItem, error) {
	var items []OffboardingItem
	err := s.DB.WithContext(ctx).Where("process_id = ?", processID).Order("`key`").Find(&items).Error
	return items, err
}

// Outcome is a confirmed disposition of one offboarding item.
type Outcome struct {
	Key     string
	Outcome string
}

// RecordOutcomes writes what a person confirmed on a task, idempotently: each item's
// outcome with who and when; for accounts disabled or deleted, the account's status and a
// status-change record; for assets, the asset's status.
func (s *Store) RecordOutcomes(ctx context.Context, processID, taskID, by string, at time.Time, outcomes []Outcome) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, o := range outcomes {
			var it OffboardingItem
			if err := tx.First(&it, "process_id = ? AND `key` = ?", processID, o.Key).Error; err != nil {
				return fmt.Errorf("item %s: %w", o.Key, notFound(err))
			}
			if err := tx.Model(&it).Updates(map[string]any{"outcome": o.Outcome, "by_id": by, "task_id": taskID, "at": at}).Error; err != nil {
				return err
			}
			switch {
			case it.Kind == ItemAccount && (o.Outcome == "disabled" || o.Outcome == "deleted"):
				if err := setAccountStatus(tx, processID, taskID, it.SystemID, it.AccountID, o.Outcome, by, at); err != nil {
					return err
				}
			case it.Kind == ItemAsset:
				if err := tx.Model(&Asset{}).Where("id = ?", it.AssetID).Update("status", o.Outcome).Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// setAccountStatus changes an account's status and records who did it, once per process.
func setAccountStatus(tx *gorm.DB, processID, taskID, systemID, accountID, status, by string, at time.Time) error {
	if err := tx.Model(&Account{}).Where("system_id = ? AND account_id = ?", systemID, accountID).
		Updates(map[string]any{"status": status, "updated_at": at}).Error; err != nil {
		return err
	}
	return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&AccountStatusChange{
		ProcessID: processID, SystemID: systemID, AccountID: accountID, TaskID: taskID, Status: status, ByID: by, At: at,
	}).Error
}

// SetAccountStatus changes an account's status on a person's decision in a process.
func (s *Store) SetAccountStatus(ctx context.Context, processID, taskID, systemID, accountID, status, by string, at time.Time) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return setAccountStatus(tx, processID, taskID, systemID, accountID, status, by, at)
	})
}

// OffboardingDateMove records HR moving an offboarding's effective date, with the reason.
type OffboardingDateMove struct {
	ID        uint   `gorm:"primaryKey"`
	ProcessID string `gorm:"size:64;index;not null"`
	FromDate  string `gorm:"size:10;not null"`
	ToDate    string `gorm:"size:10;not null"`
	Reason    string `gorm:"size:1000"`
	By        string `gorm:"size:100"`
	At        time.Time
}

// AddDateMove records a date move.
func (s *Store) AddDateMove(ctx context.Context, m OffboardingDateMove) error {
	return s.DB.WithContext(ctx).Create(&m).Error
}

// Bulk batch and item states.
const (
	BatchRunning   = "running"
	BatchDone      = "done"
	BatchCancelled = "cancelled"

	ItemPending   = "pending"
	ItemStarted   = "started"
	ItemExisting  = "existing"
	ItemRejected  = "rejected"
	ItemCancelled = "cancelled"
)

// OffboardingBatch is one bulk request of offboardings (the April 1 reshuffle): its items
// are started one by one and their results kept here, so that a caller can read the
// progress of a large batch.
type OffboardingBatch struct {
	ID         string `gorm:"primaryKey;size:64"`
	Status     string `gorm:"size:16;not null"`
	Total      int    `gorm:"not null"`
	CreatedBy  string `gorm:"size:100"`
	CreatedAt  time.Time
	FinishedAt *time.Time
}

// OffboardingBatchItem is one item of a batch and its result.
type OffboardingBatchItem struct {
	BatchID       string `gorm:"primaryKey;size:64"`
	Seq           int    `gorm:"primaryKey;autoIncrement:false"`
	EmployeeID    string `gorm:"size:200"`
	EffectiveDate string `gorm:"size:32"`
	Body          string `gorm:"type:text"`
	Result        string `gorm:"size:16;not null;index"`
	ProcessID     string `gorm:"size:64"`
	ErrorCode     string `gorm:"size:32"`
	ErrorMessage  string `gorm:"size:500"`
	ErrorFields   string `gorm:"type:text"`
}

// CreateBatch stores a batch with its items, all pending.
func (s *Store) CreateBatch(ctx context.Context, b OffboardingBatch, items []OffboardingBatchItem) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&b).Error; err != nil {
			return err
		}
		return tx.CreateInBatches(items, 500).Error
	})
}

// SetBatchItem records one item's result, if the item is still pending: a late or repeated
// write never overwrites a result or a cancellation.
func (s *Store) SetBatchItem(ctx context.Context, it OffboardingBatchItem) error {
	return s.DB.WithContext(ctx).Model(&OffboardingBatchItem{}).Where("batch_id = ? AND seq = ? AND result = ?", it.BatchID, it.Seq, ItemPending).
		Updates(map[string]any{"result": it.Result, "process_id": it.ProcessID, "error_code": it.ErrorCode,
			"error_message": it.ErrorMessage, "error_fields": it.ErrorFields, "body": ""}).Error
}

// PendingBatchItems returns up to n pending items of a batch, with their bodies, in order.
func (s *Store) PendingBatchItems(ctx context.Context, id string, n int) ([]OffboardingBatchItem, error) {
	var items []OffboardingBatchItem
	err := s.DB.WithContext(ctx).Where("batch_id = ? AND result = ?", id, ItemPending).Order("seq").Limit(n).Find(&items).Error
	return items, err
}

// BatchPending counts a batch's pending items.
func (s *Store) BatchPending(ctx context.Context, id string) (int, error) {
	var n int64
	err := s.DB.WithContext(ctx).Model(&OffboardingBatchItem{}).Where("batch_id = ? AND result = ?", id, ItemPending).Count(&n).Error
	return int(n), err
}

// FinishBatch marks a running batch done.
func (s *Store) FinishBatch(ctx context.Context, id string, at time.Time) error {
	return s.DB.WithContext(ctx).Model(&OffboardingBatch{}).Where("id = ? AND status = ?", id, BatchRunning).
		Updates(map[string]any{"status": BatchDone, "finished_at": at}).Error
}

// CancelBatch marks a running batch cancelled and its pending items cancelled (they are
// never started). A batch already finished is left as it is.
func (s *Store) CancelBatch(ctx context.Context, id string, at time.Time) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&OffboardingBatch{}).Where("id = ? AND status = ?", id, BatchRunning).
			Updates(map[string]any{"status": BatchCancelled, "finished_at": at})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return tx.Model(&OffboardingBatchItem{}).Where("batch_id = ? AND result = ?", id, ItemPending).
			Updates(map[string]any{"result": ItemCancelled, "body": ""}).Error
	})
}

// DeleteBatch removes a batch and its items (one whose workflow could not be started).
func (s *Store) DeleteBatch(ctx context.Context, id string) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("batch_id = ?", id).Delete(&OffboardingBatchItem{}).Error; err != nil {
			return err
		}
		return tx.Where("id = ?", id).Delete(&OffboardingBatch{}).Error
	})
}

// BatchOf returns a batch without its items.
func (s *Store) BatchOf(ctx context.Context, id string) (OffboardingBatch, error) {
	var b OffboardingBatch
	err := s.DB.WithContext(ctx).First(&b, "id = ?", id).Error
	return b, notFound(err)
}

// Batch returns a batch with its items in order.
func (s *Store) Batch(ctx context.Context, id string) (OffboardingBatch, []OffboardingBatchItem, error) {
	var b OffboardingBatch
	if err := s.DB.WithContext(ctx).First(&b, "id = ?", id).Error; err != nil {
		return b, nil, notFound(err)
	}
	var items []OffboardingBatchItem
	err := s.DB.WithContext(ctx).Omit("body").Where("batch_id = ?", id).Order("seq").Find(&items).Error
	return b, items, err
}
