package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// ReportLink is a mailed link to the security committee's yearly report (§2(6)3, §9.1(2)):
// like a task link, only the SHA-256 of its token is stored, bound to one person and one
// fiscal year. It stops working at ExpiresAt, or when revoked (migration step 13).
type ReportLink struct {
	TokenHash       string `gorm:"primaryKey;size:64"`
	FiscalYear      int    `gorm:"not null;index"`
	PersonID        string `gorm:"size:64;not null"`
	NotificationKey string `gorm:"size:191;index;not null"`
	CreatedAt       time.Time
	ExpiresAt       time.Time
	RevokedAt       *time.Time
}

// ActiveAt reports whether the link opens the report at the moment at.
func (l ReportLink) ActiveAt(at time.Time) bool {
	return l.RevokedAt == nil && at.Before(l.ExpiresAt)
}

// reportLinks is step 13: the table of mailed links to the committee's report. Re-runnable.
func reportLinks(tx *gorm.DB) error {
	if tx.Migrator().HasTable(&ReportLink{}) {
		return nil
	}
	return tx.Migrator().CreateTable(&ReportLink{})
}

// PrepareReportMail records a mail about to be sent with the report link it carries. The
// links of earlier attempts whose mail the server did not take are replaced, as for task
// mail (PrepareTaskMail).
func (s *Store) PrepareReportMail(ctx context.Context, n Notification, link ReportLink) error {
	return s.prepareLinkMail(ctx, n, &link, &ReportLink{})
}

// ReportLinkByHash finds a report link by the hash of its token, revoked or expired ones
// included: the caller tells those apart (410) from an unknown one (404).
func (s *Store) ReportLinkByHash(ctx context.Context, hash string) (ReportLink, error) {
	var l ReportLink
	err := s.DB.WithContext(ctx).First(&l, "token_hash = ?", hash).Error
	return l, notFound(err)
}

// RevokeReportLinks revokes every link to the report of a fiscal year at the moment at and
// returns how many were still working.
func (s *Store) RevokeReportLinks(ctx context.Context, fiscalYear int, at time.Time) (int64, error) {
	res := s.DB.WithContext(ctx).Model(&ReportLink{}).Where("fiscal_year = ? AND revoked_at IS NULL", fiscalYear).
		Update("revoked_at", at.UTC())
	return res.RowsAffected, res.Error
}

// ErrBatchSize is returned for a batch size below 1.
var ErrBatchSize = errors.New("batch size must be at least 1")

// EachProcess visits the processes of a kind in pages of batch, in the order they were
// filed (created_at, id), reading each page from the list index idx_process_list_kind
// (kind, created_at, id) after the last row of the page before: a register of 100,000 rows
// never sits in memory at once, and no page rereads the ones before it. Input is read.
func (s *Store) EachProcess(ctx context.Context, kind string, batch int, visit func([]Process) error) error {
	if batch < 1 {
		return ErrBatchSize
	}
	var lastAt time.Time
	var lastID string
	for first := true; ; first = false {
		q := s.DB.WithContext(ctx).Where("kind = ?", kind)
		if !first {
			// The first condition bounds the index range; the second steps over the rows of
			// the same instant already visited.
			q = q.Where("created_at >= ? AND (created_at > ? OR id > ?)", lastAt, lastAt, lastID)
		}
		var page []Process
		if err := q.Order("created_at, id").Limit(batch).Find(&page).Error; err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		if err := visit(page); err != nil {
			return err
		}
		if len(page) < batch {
			return nil
		}
		lastAt, lastID = page[len(page)-1].CreatedAt.UTC(), page[len(page)-1].ID
	}
}

// EachIncident visits the incident register in pages of batch, by process ID.
func (s *Store) EachIncident(ctx context.Context, batch int, visit func([]Incident) error) error {
	if batch < 1 {
		return ErrBatchSize
	}
	var page []Incident
	return s.DB.WithContext(ctx).FindInBatches(&page, batch, func(*gorm.DB, int) error { return visit(page) }).Error
}

// EachOutsourcingReview visits the vendor register in pages of batch, by process ID.
func (s *Store) EachOutsourcingReview(ctx context.Context, batch int, visit func([]OutsourcingReview) error) error {
	if batch < 1 {
		return ErrBatchSize
	}
	var page []OutsourcingReview
	return s.DB.WithContext(ctx).FindInBatches(&page, batch, func(*gorm.DB, int) error { return visit(page) }).Error
}

// EachCloudService visits the cloud register in pages of batch, by process ID.
func (s *Store) EachCloudService(ctx context.Context, batch int, visit func([]CloudService) error) error {
	if batch < 1 {
		return ErrBatchSize
	}
	var page []CloudService
	return s.DB.WithContext(ctx).FindInBatches(&page, batch, func(*gorm.DB, int) error { return visit(page) }).Error
}

// EachAccount visits every account in pages of batch, by system and account ID. The key
// has two columns, which GORM's FindInBatches cannot page on, so the keyset is written out.
func (s *Store) EachAccount(ctx context.Context, batch int, visit func([]Account) error) error {
	return s.accountPages(ctx, nil, batch, visit)
}

// accountPages visits the accounts the scope selects (all when nil) in pages of batch, in
// the order of their key (system, account), paging on that key.
func (s *Store) accountPages(ctx context.Context, scope func(*gorm.DB) *gorm.DB, batch int, visit func([]Account) error) error {
	if batch < 1 {
		return ErrBatchSize
	}
	var lastSys, lastAcc string
	for first := true; ; first = false {
		q := s.DB.WithContext(ctx).Order("system_id, account_id").Limit(batch)
		if scope != nil {
			q = scope(q)
		}
		if !first {
			q = q.Where("system_id >= ? AND (system_id > ? OR account_id > ?)", lastSys, lastSys, lastAcc)
		}
		var page []Account
		if err := q.Find(&page).Error; err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		if err := visit(page); err != nil {
			return err
		}
		if len(page) < batch {
			return nil
		}
		lastSys, lastAcc = page[len(page)-1].SystemID, page[len(page)-1].AccountID
	}
}

// ProcessesByID returns the processes with the given IDs, without their input, by ID.
func (s *Store) ProcessesByID(ctx context.Context, ids []string) (map[string]Process, error) {
	out := make(map[string]Process, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var ps []Process
	if err := s.DB.WithContext(ctx).Omit("input").Where("id IN ?", ids).Find(&ps).Error; err != nil {
		return nil, err
	}
	for _, p := range ps {
		out[p.ID] = p
	}
	return out, nil
}

// HopsOf returns the hops of the given incidents, each incident's in the order they
// happened.
func (s *Store) HopsOf(ctx context.Context, processIDs []string) (map[string][]IncidentHop, error) {
	return rowsOf(s.DB.WithContext(ctx), processIDs, "process_id, at, id", func(h IncidentHop) string { return h.ProcessID })
}

// rowsOf reads the rows of T that belong to the given processes (a process_id column), in
// order, grouped by process.
func rowsOf[T any](db *gorm.DB, processIDs []string, order string, process func(T) string) (map[string][]T, error) {
	out := map[string][]T{}
	if len(processIDs) == 0 {
		return out, nil
	}
	var rows []T
	if err := db.Where("process_id IN ?", processIDs).Order(order).Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[process(r)] = append(out[process(r)], r)
	}
	return out, nil
}

// LatestReconciliation returns the most recent reconciliation process, or ErrNotFound.
func (s *Store) LatestReconciliation(ctx context.Context) (Process, error) {
	var p Process
	err := s.DB.WithContext(ctx).Omit("input").Where("kind = ?", KindReconciliation).Order("created_at DESC, id DESC").First(&p).Error
	return p, notFound(err)
}

// FindingsFor returns a reconciliation's findings on the given systems, by system/account.
func (s *Store) FindingsFor(ctx context.Context, processID string, systemIDs []string) (map[string]ReconciliationFinding, error) {
	out := map[string]ReconciliationFinding{}
	var fs []ReconciliationFinding
	if err := s.DB.WithContext(ctx).Where("process_id = ? AND system_id IN ?", processID, systemIDs).Find(&fs).Error; err != nil {
		return nil, err
	}
	for _, f := range fs {
		out[f.SystemID+"/"+f.AccountID] = f
	}
	return out, nil
}

// AccountUses returns the last use of the accounts on the given systems, by system/account.
func (s *Store) AccountUses(ctx context.Context, systemIDs []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	var us []AccountUse
	if err := s.DB.WithContext(ctx).Where("system_id IN ?", systemIDs).Find(&us).Error; err != nil {
		return nil, err
	}
	for _, u := range us {
		out[u.SystemID+"/"+u.AccountID] = u.LastUsedAt
	}
	return out, nil
}

// EachOffboarding visits the offboarding register in pages of batch, by process ID.
func (s *Store) EachOffboarding(ctx context.Context, batch int, visit func([]Offboarding) error) error {
	if batch < 1 {
		return ErrBatchSize
	}
	var page []Offboarding
	return s.DB.WithContext(ctx).FindInBatches(&page, batch, func(*gorm.DB, int) error { return visit(page) }).Error
}

// OffboardingItemsOf returns the items of the given offboardings, by process.
func (s *Store) OffboardingItemsOf(ctx context.Context, processIDs []string) (map[string][]OffboardingItem, error) {
	return rowsOf(s.DB.WithContext(ctx), processIDs, "process_id, `key`", func(it OffboardingItem) string { return it.ProcessID })
}

// ProcessesCreated returns the processes of a kind created in [from, to), oldest first,
// without their input (at most limit).
func (s *Store) ProcessesCreated(ctx context.Context, kind string, from, to time.Time, limit int) ([]Process, error) {
	var ps []Process
	err := s.DB.WithContext(ctx).Omit("input").Where("kind = ? AND created_at >= ? AND created_at < ?", kind, from.UTC(), to.UTC()).
		Order("created_at, id").Limit(limit).Find(&ps).Error
	return ps, err
}

// OverdueTasks returns the open tasks whose deadline passed before now, the oldest first
// (at most limit).
func (s *Store) OverdueTasks(ctx context.Context, now time.Time, limit int) ([]Task, error) {
	var ts []Task
	err := s.DB.WithContext(ctx).Where("status = ? AND due_at < ?", TaskOpen, now.UTC()).Order("due_at, id").Limit(limit).Find(&ts).Error
	return ts, err
}

// AbsencesBetween returns the absences not withdrawn that overlap [from, to), by start.
func (s *Store) AbsencesBetween(ctx context.Context, from, to time.Time, limit int) ([]Absence, error) {
	var as []Absence
	err := s.DB.WithContext(ctx).Where("cancelled_at IS NULL AND starts_at < ? AND ends_at > ?", to.UTC(), from.UTC()).
		Order("starts_at, id").Limit(limit).Find(&as).Error
	return as, err
}

// ProcessesInStatus returns the processes of a kind in a status, input included, by ID
// (at most limit).
func (s *Store) ProcessesInStatus(ctx context.Context, kind, status string, limit int) ([]Process, error) {
	var ps []Process
	err := s.DB.WithContext(ctx).Where("kind = ? AND status = ?", kind, status).Order("id").Limit(limit).Find(&ps).Error
	return ps, err
}
