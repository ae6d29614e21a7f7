package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Absence is a registered absence of a person (leave, a business trip, sick leave): from when,
// until when, and optionally whom the person names as deputy. Tasks that open during an
// absence go to the deputy the town's delegation rules allow (代決), and open tasks are handed
// over when it starts (issue 12). The reason is free text and stays in the register.
type Absence struct {
	ID         uint      `gorm:"primaryKey"`
	EmployeeID string    `gorm:"size:64;not null;index:idx_absence_person,priority:1"`
	From       time.Time `gorm:"column:starts_at;not null;index:idx_absence_person,priority:2"`
	To         time.Time `gorm:"column:ends_at;not null"`
	// DeputyID is the deputy the person names; empty means the delegation rules name one.
	// Either way the deputy must be one the rules allow for the step.
	DeputyID     string `gorm:"size:64"`
	Reason       string `gorm:"size:1000"`
	RegisteredBy string `gorm:"size:100;not null"`
	CreatedAt    time.Time
	// CancelledAt is set when the absence is withdrawn before or while it runs.
	CancelledAt *time.Time
}

// AbsenceAt returns the person's absence in force at t (the latest registered if several
// overlap), or ErrNotFound.
func (s *Store) AbsenceAt(ctx context.Context, employeeID string, t time.Time) (Absence, error) {
	var a Absence
	err := s.DB.WithContext(ctx).
		Where("employee_id = ? AND starts_at <= ? AND ends_at > ? AND cancelled_at IS NULL", employeeID, t, t).
		Order("id DESC").First(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return a, ErrNotFound
	}
	return a, err
}
