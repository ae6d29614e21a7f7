package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CloudRequest is a cloud service assessment (クラウドサービスの利用, §8.3) as
// POST /api/v1/cloud-assessments takes it and as the register keeps it (Process.Input).
type CloudRequest struct {
	Requester         string      `json:"requester"`
	Department        string      `json:"department,omitempty"`
	Service           string      `json:"service"`
	Provider          string      `json:"provider"`
	Purpose           string      `json:"purpose"`
	Classification    int         `json:"classification"`
	StorageRegions    []string    `json:"storage_regions"`
	ProcessingRegions []string    `json:"processing_regions"`
	GoverningLaw      string      `json:"governing_law"`
	Jurisdiction      string      `json:"jurisdiction"`
	Court             string      `json:"court,omitempty"`
	Certifications    []CloudCert `json:"certifications"`
	ExitPlan          string      `json:"exit_plan"`
	SecurityDesignRef string      `json:"security_design_ref"`
}

// CloudCert is a certification or audit report of a cloud service (§8.3(5)).
type CloudCert struct {
	Kind       string `json:"kind"`
	Reference  string `json:"reference,omitempty"`
	IssuedOn   string `json:"issued_on"`
	ValidUntil string `json:"valid_until,omitempty"`
}

// Cloud service status values in the register.
const (
	CloudAssessing   = "assessing"
	CloudApproved    = "approved"
	CloudDenied      = "denied"
	CloudRejected    = "rejected"
	CloudExiting     = "exiting"
	CloudTerminated  = "terminated"
	CloudReassessing = "reassessing"
)

// CloudService is the register of cloud services: one row per assessment process, from the
// request through its approval, its yearly reassessments (§9.1) and its end.
type CloudService struct {
	ProcessID         string `gorm:"primaryKey;size:64"`
	DepartmentID      string `gorm:"size:64;index"`
	RequesterID       string `gorm:"size:64"`
	Service           string `gorm:"size:200;not null"`
	Provider          string `gorm:"size:200;not null"`
	Purpose           string `gorm:"type:text"`
	Classification    int    `gorm:"not null"`
	StorageRegions    string `gorm:"size:200"`
	ProcessingRegions string `gorm:"size:200"`
	GoverningLaw      string `gorm:"size:8"`
	Jurisdiction      string `gorm:"size:8"`
	Court             string `gorm:"size:200"`
	// Certifications is the JSON of []CloudCert; a renewal replaces the entry of its kind.
	Certifications    string `gorm:"type:text"`
	ExitPlan          string `gorm:"type:text"`
	SecurityDesignRef string `gorm:"size:500"`
	Status            string `gorm:"size:16;not null;index"`
	// FiscalYear is the fiscal year of the last assessment; NextReassessment the day
	// (YYYY-MM-DD) the next one starts.
	FiscalYear       int
	NextReassessment string `gorm:"size:10"`
	ApprovedAt       *time.Time
	// Outcome is the latest rules outcome; Evaluation its JSON (policy.CloudEvaluation).
	Outcome           string `gorm:"size:16"`
	Evaluation        string `gorm:"type:text"`
	TerminationReason string `gorm:"size:1000"`
	TerminatedBy      string `gorm:"size:100"`
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// CertList decodes the service's certifications.
func (c CloudService) CertList() []CloudCert {
	var out []CloudCert
	_ = json.Unmarshal([]byte(c.Certifications), &out)
	return out
}

// CloudEvaluation is one run of the rules on a service: the record says which rules gave
// which outcome on which day, each fiscal year.
type CloudEvaluation struct {
	ID         uint   `gorm:"primaryKey"`
	ProcessID  string `gorm:"size:64;index;not null"`
	Key        string `gorm:"size:100;uniqueIndex;not null"`
	FiscalYear int
	Outcome    string `gorm:"size:16;not null"`
	Evaluation string `gorm:"type:text"`
	At         time.Time
}

// OpenCloudService creates the register row of an assessment from its request, once.
func (s *Store) OpenCloudService(ctx context.Context, processID string) (CloudService, error) {
	var c CloudService
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("process_id = ?", processID).First(&c).Error; err == nil {
			return nil
		} else if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		var p Process
		if err := tx.Where("id = ?", processID).First(&p).Error; err != nil {
			return notFound(err)
		}
		var r CloudRequest
		if err := json.Unmarshal([]byte(p.Input), &r); err != nil {
			return fmt.Errorf("decode the request of %s: %w", processID, err)
		}
		certs, _ := json.Marshal(r.Certifications)
		c = CloudService{
			ProcessID: processID, DepartmentID: p.DepartmentID, RequesterID: r.Requester,
			Service: r.Service, Provider: r.Provider, Purpose: r.Purpose, Classification: r.Classification,
			StorageRegions: JoinList(r.StorageRegions), ProcessingRegions: JoinList(r.ProcessingRegions),
			GoverningLaw: r.GoverningLaw, Jurisdiction: r.Jurisdiction, Court: r.Court, Certifications: string(certs),
			ExitPlan: r.ExitPlan, SecurityDesignRef: r.SecurityDesignRef, Status: CloudAssessing,
		}
		return tx.Create(&c).Error
	})
	return c, err
}

// CloudServiceByID returns one row of the cloud register.
func (s *Store) CloudServiceByID(ctx context.Context, processID string) (CloudService, error) {
	var c CloudService
	err := s.DB.WithContext(ctx).Where("process_id = ?", processID).First(&c).Error
	return c, notFound(err)
}

// RecordCloudEvaluation keeps an evaluation (idempotent on key), sets it as the service's
// latest, and puts it into the process's register entry under "rules", so that every task
// page and GET /processes/{id} show the rules' outcome and reasons.
func (s *Store) RecordCloudEvaluation(ctx context.Context, e CloudEvaluation) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&e).Error; err != nil {
			return err
		}
		if err := tx.Model(&CloudService{}).Where("process_id = ?", e.ProcessID).
			Updates(map[string]any{"outcome": e.Outcome, "evaluation": e.Evaluation, "fiscal_year": e.FiscalYear}).Error; err != nil {
			return err
		}
		var p Process
		if err := tx.Where("id = ?", e.ProcessID).First(&p).Error; err != nil {
			return notFound(err)
		}
		var in map[string]json.RawMessage
		if err := json.Unmarshal([]byte(p.Input), &in); err != nil || in == nil {
			in = map[string]json.RawMessage{}
		}
		in["rules"] = json.RawMessage(e.Evaluation)
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		return tx.Model(&Process{}).Where("id = ?", e.ProcessID).Update("input", string(b)).Error
	})
}

// SetCloudStatus moves a service in the register; approvedAt is set on the first approval.
func (s *Store) SetCloudStatus(ctx context.Context, processID, status, nextReassessment string, approvedAt *time.Time) error {
	up := map[string]any{"status": status, "next_reassessment": nextReassessment}
	if approvedAt != nil {
		up["approved_at"] = gorm.Expr("COALESCE(approved_at, ?)", approvedAt.UTC())
	}
	res := s.DB.WithContext(ctx).Model(&CloudService{}).Where("process_id = ?", processID).Updates(up)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// RenewCloudCertificate replaces the certification of one kind with its renewal.
func (s *Store) RenewCloudCertificate(ctx context.Context, processID string, cert CloudCert) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var c CloudService
		if err := tx.Where("process_id = ?", processID).First(&c).Error; err != nil {
			return notFound(err)
		}
		list := c.CertList()
		kept := list[:0]
		for _, x := range list {
			if x.Kind != cert.Kind {
				kept = append(kept, x)
			}
		}
		b, _ := json.Marshal(append(kept, cert))
		return tx.Model(&CloudService{}).Where("process_id = ?", processID).Update("certifications", string(b)).Error
	})
}

// SetCloudTermination records why and by whom the use of a service is being ended; the
// first reason stays.
func (s *Store) SetCloudTermination(ctx context.Context, processID, reason, by string) error {
	return s.DB.WithContext(ctx).Model(&CloudService{}).Where("process_id = ? AND (termination_reason = '' OR termination_reason IS NULL)", processID).
		Updates(map[string]any{"termination_reason": reason, "terminated_by": by}).Error
}

// ListCloudServices returns the register, optionally of one status, by next reassessment.
func (s *Store) ListCloudServices(ctx context.Context, status string) ([]CloudService, error) {
	q := s.DB.WithContext(ctx).Model(&CloudService{})
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var out []CloudService
	err := q.Order("next_reassessment, process_id").Limit(1000).Find(&out).Error
	return out, err
}
