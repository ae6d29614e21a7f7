package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	"gorm.io/gorm"
)

// RequestVersion is one version of a process's request. A request that was returned (差戻し)
// and revised has one row per version: version 1 is the request as filed, each later one the
// request as a revision left it, with who revised it, when, and the return that led to it.
// Process.Input is always the latest version (migration step 8).
type RequestVersion struct {
	ID         uint   `gorm:"primaryKey"`
	ProcessID  string `gorm:"size:64;not null;uniqueIndex:idx_request_version,priority:1"`
	WorkflowID string `gorm:"size:128;not null"`
	Version    int    `gorm:"not null;uniqueIndex:idx_request_version,priority:2"`
	// Request is the JSON of the request in this version.
	Request string `gorm:"type:text"`
	// ByID is who filed (version 1) or revised it.
	ByID string `gorm:"size:64"`
	// TaskID is the revision task whose decision made this version; empty for version 1.
	TaskID string `gorm:"size:191;index"`
	// ReturnTaskID is the task whose decision returned the previous version, and ReturnByID
	// and ReturnComment who returned it and what they wrote.
	ReturnTaskID  string `gorm:"size:191"`
	ReturnByID    string `gorm:"size:64"`
	ReturnComment string `gorm:"type:text"`
	CreatedAt     time.Time
}

// Revision is a revised request for ReviseRequest.
type Revision struct {
	ProcessID string
	// TaskID is the revision task; a revision is recorded once per task.
	TaskID       string
	ReturnTaskID string
	ByID         string
	At           time.Time
	// Values replace the request's fields of the same name; a nil value removes the field.
	Values map[string]any
	// Summarize, if set, gives the process's new summary from its old one and the old and
	// new request.
	Summarize func(summary string, before, after map[string]any) string
}

// ReviseRequest records a revision of a process's request: version 1 (the request as filed)
// if it is not there yet, then the revised request as the next version, and makes it the
// process's current request. It is idempotent on the revision task: a retried activity
// returns the version it recorded before.
func (s *Store) ReviseRequest(ctx context.Context, r Revision) (RequestVersion, error) {
	var out RequestVersion
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		out, _, err = reviseRequest(tx, r)
		return err
	})
	return out, err
}

// SelectionRevision is what a revised vendor selection (§8.1(1)) changes in the register
// besides the request: the review's vendor, certificate and audit, and the vendor's contact.
type SelectionRevision struct {
	VendorName, CorporateNumber, OtherIdentifier, IdentifierReason string
	CertNumber, CertExpiry, AuditStatus, AuditNote                 string
	ContactName, ContactEmail, ContactLocale                       string
}

// ReviseOutsourcingSelection records a revised vendor selection as the request's next
// version (ReviseRequest) and, in the same transaction, makes the outsourcing review and its
// vendor contact say the same: the register never holds a request naming one vendor and a
// review naming another. Idempotent on the revision task.
func (s *Store) ReviseOutsourcingSelection(ctx context.Context, r Revision, v SelectionRevision) (RequestVersion, error) {
	var out RequestVersion
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var again bool
		var err error
		if out, again, err = reviseRequest(tx, r); err != nil || again {
			return err
		}
		var review OutsourcingReview
		if err := tx.First(&review, "process_id = ?", r.ProcessID).Error; err != nil {
			return notFound(err)
		}
		if err := tx.Model(&OutsourcingReview{}).Where("process_id = ?", r.ProcessID).Updates(map[string]any{
			"vendor_name": v.VendorName, "corporate_number": v.CorporateNumber, "other_identifier": v.OtherIdentifier,
			"identifier_reason": v.IdentifierReason, "cert_number": v.CertNumber, "cert_expiry": v.CertExpiry,
			"audit_status": v.AuditStatus, "audit_note": v.AuditNote}).Error; err != nil {
			return err
		}
		return tx.Model(&ExternalContact{}).Where("id = ?", review.ContactID).Updates(map[string]any{
			"organisation": v.VendorName, "name": v.ContactName, "email": v.ContactEmail, "locale": v.ContactLocale}).Error
	})
	return out, err
}

// reviseRequest is ReviseRequest within tx; again reports a revision recorded before.
func reviseRequest(tx *gorm.DB, r Revision) (out RequestVersion, again bool, err error) {
	err = func() error {
		if err := tx.Where("process_id = ? AND task_id = ?", r.ProcessID, r.TaskID).First(&out).Error; err == nil {
			again = true
			return nil
		} else if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		var p Process
		if err := tx.First(&p, "id = ?", r.ProcessID).Error; err != nil {
			return notFound(err)
		}
		var last RequestVersion
		err := tx.Where("process_id = ?", r.ProcessID).Order("version DESC").First(&last).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			last = RequestVersion{ProcessID: p.ID, WorkflowID: p.WorkflowID, Version: 1, Request: p.Input, ByID: p.RequesterID, CreatedAt: p.CreatedAt}
			if err := tx.Create(&last).Error; err != nil {
				return err
			}
		case err != nil:
			return err
		}
		before := map[string]any{}
		if p.Input != "" {
			if err := json.Unmarshal([]byte(p.Input), &before); err != nil {
				return fmt.Errorf("revise %s: the request is not JSON: %w", p.ID, err)
			}
		}
		after := maps.Clone(before)
		for k, v := range r.Values {
			if v == nil {
				delete(after, k)
			} else {
				after[k] = v
			}
		}
		b, err := json.Marshal(after)
		if err != nil {
			return err
		}
		out = RequestVersion{ProcessID: p.ID, WorkflowID: p.WorkflowID, Version: last.Version + 1, Request: string(b),
			ByID: r.ByID, TaskID: r.TaskID, ReturnTaskID: r.ReturnTaskID, CreatedAt: r.At}
		if r.ReturnTaskID != "" {
			var ret Decision
			if err := tx.Where("task_id = ?", r.ReturnTaskID).First(&ret).Error; err == nil {
				out.ReturnByID, out.ReturnComment = ret.DeciderID, ret.Comment
			} else if !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
		}
		if err := tx.Create(&out).Error; err != nil {
			return err
		}
		set := map[string]any{"input": out.Request}
		if r.Summarize != nil {
			set["summary"] = r.Summarize(p.Summary, before, after)
		}
		return tx.Model(&Process{}).Where("id = ?", p.ID).Updates(set).Error
	}()
	return out, again, err
}

// RequestVersions returns a process's versions, oldest first; none for a request never
// revised.
func (s *Store) RequestVersions(ctx context.Context, processID string) ([]RequestVersion, error) {
	var vs []RequestVersion
	err := s.DB.WithContext(ctx).Where("process_id = ?", processID).Order("version").Find(&vs).Error
	return vs, err
}

// FieldChange is one field of a request that differs between two versions.
type FieldChange struct {
	Field string `json:"field"`
	From  any    `json:"from"`
	To    any    `json:"to"`
}

// DiffRequests lists the fields that differ between two versions of a request (JSON
// objects), in the order of their names. A field added or removed has a nil From or To.
func DiffRequests(before, after string) ([]FieldChange, error) {
	var a, b map[string]any
	if err := json.Unmarshal([]byte(before), &a); err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	if err := json.Unmarshal([]byte(after), &b); err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	keys := slices.Sorted(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []FieldChange
	for _, k := range keys {
		if !reflect.DeepEqual(a[k], b[k]) {
			out = append(out, FieldChange{Field: k, From: a[k], To: b[k]})
		}
	}
	return out, nil
}

// LastDecision returns the latest decision on a process's step made at or before a time.
func (s *Store) LastDecision(ctx context.Context, processID, step string, before time.Time) (Decision, error) {
	var d Decision
	err := s.DB.WithContext(ctx).Where("process_id = ? AND step = ? AND decided_at <= ?", processID, step, before).
		Order("decided_at DESC, id DESC").First(&d).Error
	return d, notFound(err)
}
