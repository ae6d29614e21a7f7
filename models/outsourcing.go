package models

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// OutsourcingReview is the register's record of one outsourcing contract (外部委託, §8.1):
// the vendor, the work, the information it touches, the contract period and the vendor's
// evidence of security (ISMS certificate, audits). The workflow carries only the process ID,
// the contact's ID, dates and levels; everything written by people stays here.
type OutsourcingReview struct {
	ProcessID    string `gorm:"primaryKey;size:64"`
	DepartmentID string `gorm:"size:64;index;not null"`
	RequesterID  string `gorm:"size:64;index;not null"`
	VendorName   string `gorm:"size:200;not null"`
	// CorporateNumber is the vendor's 13-digit 法人番号, its check digit verified; empty for
	// a vendor that has none (a sole proprietor, a foreign company), which is then named by
	// OtherIdentifier, with IdentifierReason saying why.
	CorporateNumber  string `gorm:"size:13;index;not null"`
	OtherIdentifier  string `gorm:"size:100"`
	IdentifierReason string `gorm:"type:text"`
	ContactID        string `gorm:"size:64;not null"`
	Work             string `gorm:"type:text"`
	// Assets is the JSON list of the information assets the work touches (name, class,
	// classification).
	Assets         string `gorm:"type:text"`
	Classification int    `gorm:"not null"`
	Subcontracted  bool   `gorm:"not null;default:false"`
	Subcontractors string `gorm:"type:text"`
	ContractStart  string `gorm:"size:10;not null"`
	ContractEnd    string `gorm:"size:10;not null"`
	CertNumber     string `gorm:"size:100"`
	// CertExpiry is the last day of the ISMS certificate's validity (YYYY-MM-DD), updated
	// when the vendor sends a renewed one.
	CertExpiry           string `gorm:"size:10"`
	AuditStatus          string `gorm:"size:16;not null"`
	AuditNote            string `gorm:"type:text"`
	ReportIntervalMonths int    `gorm:"not null"`
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// ClauseMark is one clause's mark in one round of the contract clause review (§8.1(2)):
// present (with the article of the contract that states it), missing or not applicable.
type ClauseMark struct {
	ID        uint   `gorm:"primaryKey"`
	ProcessID string `gorm:"size:64;not null;uniqueIndex:idx_clause_mark,priority:1"`
	Round     int    `gorm:"not null;uniqueIndex:idx_clause_mark,priority:2"`
	Clause    string `gorm:"size:32;not null;uniqueIndex:idx_clause_mark,priority:3"`
	N         int    `gorm:"not null"`
	Mark      string `gorm:"size:32;not null"`
	Article   string `gorm:"size:200"`
	// Reason is why the item does not apply to the work, for a clause marked not applicable
	// (accepted or refused, §8.1(2) 「必要に応じて」): free text, kept here only.
	Reason    string `gorm:"type:text"`
	TaskID    string `gorm:"size:191;not null"`
	CreatedAt time.Time
}

// Outsourcing report status values.
const (
	ReportReceived = "received"
	ReportMissing  = "missing"
)

// OutsourcingReport is one periodic report of the vendor while the contract runs (§8.1(2)
// 委託業務の定期報告): the period covered and what the vendor said, or that it never came.
type OutsourcingReport struct {
	ID          uint   `gorm:"primaryKey"`
	ProcessID   string `gorm:"size:64;not null;uniqueIndex:idx_outsourcing_report,priority:1"`
	Seq         int    `gorm:"not null;uniqueIndex:idx_outsourcing_report,priority:2"`
	TaskID      string `gorm:"size:191;not null"`
	PeriodFrom  string `gorm:"size:10;not null"`
	PeriodTo    string `gorm:"size:10;not null"`
	Status      string `gorm:"size:16;not null"`
	SubmittedBy string `gorm:"size:64"`
	// Incidents, StaffChanges and Subcontracting are "none" or "some"; the details are the
	// free text of the decision.
	Incidents      string `gorm:"size:8"`
	StaffChanges   string `gorm:"size:8"`
	Subcontracting string `gorm:"size:8"`
	Details        string `gorm:"type:text"`
	CreatedAt      time.Time
}

// DisposalRecord records the return or disposal of one class of information assets at the
// end of the contract: when, by whom, and what was done (§3(2)9(イ)).
type DisposalRecord struct {
	ID         uint   `gorm:"primaryKey"`
	ProcessID  string `gorm:"size:64;not null;uniqueIndex:idx_disposal,priority:1"`
	AssetClass string `gorm:"size:32;not null;uniqueIndex:idx_disposal,priority:2"`
	Date       string `gorm:"size:10;not null"`
	Person     string `gorm:"size:200;not null"`
	Method     string `gorm:"size:16;not null"`
	Note       string `gorm:"type:text"`
	TaskID     string `gorm:"size:191;not null"`
	RecordedBy string `gorm:"size:64;not null"`
	CreatedAt  time.Time
}

// SaveOutsourcingReview stores the review and its vendor contact together, once the process
// row exists and before its workflow starts.
func (s *Store) SaveOutsourcingReview(ctx context.Context, r OutsourcingReview, c ExternalContact) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&c).Error; err != nil {
			return err
		}
		return tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&r).Error
	})
}

// OutsourcingReview returns the review of a process.
func (s *Store) OutsourcingReview(ctx context.Context, processID string) (OutsourcingReview, error) {
	var r OutsourcingReview
	err := s.DB.WithContext(ctx).First(&r, "process_id = ?", processID).Error
	return r, notFound(err)
}

// DecisionValues returns the form values recorded with the decision on a task (free text
// included), decoded.
func (s *Store) DecisionValues(ctx context.Context, taskID string) (Decision, map[string]string, error) {
	var d Decision
	if err := s.DB.WithContext(ctx).First(&d, "task_id = ?", taskID).Error; err != nil {
		return d, nil, notFound(err)
	}
	values := map[string]string{}
	if d.Values != "" {
		if err := json.Unmarshal([]byte(d.Values), &values); err != nil {
			return d, nil, err
		}
	}
	return d, values, nil
}

// SaveClauseMarks stores one round's marks, once.
func (s *Store) SaveClauseMarks(ctx context.Context, marks []ClauseMark) error {
	if len(marks) == 0 {
		return nil
	}
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&marks).Error
}

// ClauseMarks returns a process's marks, by round and clause.
func (s *Store) ClauseMarks(ctx context.Context, processID string) ([]ClauseMark, error) {
	var out []ClauseMark
	err := s.DB.WithContext(ctx).Where("process_id = ?", processID).Order("round, n").Find(&out).Error
	return out, err
}

// SaveOutsourcingReport stores one periodic report, once.
func (s *Store) SaveOutsourcingReport(ctx context.Context, r OutsourcingReport) error {
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&r).Error
}

// OutsourcingReports returns a process's periodic reports in order.
func (s *Store) OutsourcingReports(ctx context.Context, processID string) ([]OutsourcingReport, error) {
	var out []OutsourcingReport
	err := s.DB.WithContext(ctx).Where("process_id = ?", processID).Order("seq").Find(&out).Error
	return out, err
}

// UpdateCertificate records the vendor's renewed ISMS certificate.
func (s *Store) UpdateCertificate(ctx context.Context, processID, number, expiry string) error {
	updates := map[string]any{"cert_expiry": expiry}
	if number != "" {
		updates["cert_number"] = number
	}
	return s.DB.WithContext(ctx).Model(&OutsourcingReview{}).Where("process_id = ?", processID).Updates(updates).Error
}

// SaveDisposals stores the disposal records of a process, once per asset class.
func (s *Store) SaveDisposals(ctx context.Context, rs []DisposalRecord) error {
	if len(rs) == 0 {
		return nil
	}
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rs).Error
}

// Disposals returns a process's disposal records.
func (s *Store) Disposals(ctx context.Context, processID string) ([]DisposalRecord, error) {
	var out []DisposalRecord
	err := s.DB.WithContext(ctx).Where("process_id = ?", processID).Order("asset_class").Find(&out).Error
	return out, err
}

// OfficeMember returns the employed member of department with the lowest employee ID other
// than exclude and other than the CISO, or ErrNotFound: the GISO's office staff review
// contracts (§8.1(2)).
func (s *Store) OfficeMember(ctx context.Context, department, exclude string) (string, error) {
	var ids []string
	ciso := s.DB.Model(&PersonRole{}).Select("employee_id").Where("role = ?", "ciso")
	err := s.DB.WithContext(ctx).Model(&Person{}).
		Where("department_id = ? AND status = ? AND employee_id <> ?", department, StatusEmployed, exclude).
		Where("employee_id NOT IN (?)", ciso).
		Order("employee_id").Limit(1).Pluck("employee_id", &ids).Error
	if err != nil {
		return "", err
	}
	if len(ids) == 0 {
		return "", ErrNotFound
	}
	return ids[0], nil
}
