package models

import (
	"context"
	"errors"
	"fmt"
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

// Absence status values, as the API reports them: before, during and after the absence, or
// withdrawn.
const (
	AbsenceUpcoming  = "upcoming"
	AbsenceInForce   = "in_force"
	AbsenceEnded     = "ended"
	AbsenceCancelled = "cancelled"
)

// StatusAt is the absence's status at now.
func (a Absence) StatusAt(now time.Time) string {
	switch {
	case a.CancelledAt != nil:
		return AbsenceCancelled
	case now.Before(a.From):
		return AbsenceUpcoming
	case now.Before(a.To):
		return AbsenceInForce
	default:
		return AbsenceEnded
	}
}

// CreateAbsence registers an absence; a.ID is set.
func (s *Store) CreateAbsence(ctx context.Context, a *Absence) error {
	if err := s.DB.WithContext(ctx).Create(a).Error; err != nil {
		return fmt.Errorf("register absence of %s: %w", a.EmployeeID, err)
	}
	return nil
}

// DeleteAbsence removes an absence whose registration could not be completed (its workflow
// did not start), so that a failed request changes nothing.
func (s *Store) DeleteAbsence(ctx context.Context, id uint) error {
	if err := s.DB.WithContext(ctx).Delete(&Absence{}, id).Error; err != nil {
		return fmt.Errorf("remove absence %d: %w", id, err)
	}
	return nil
}

// Absences lists the person's absences, the latest to start first.
func (s *Store) Absences(ctx context.Context, employeeID string) ([]Absence, error) {
	var as []Absence
	err := s.DB.WithContext(ctx).Where("employee_id = ?", employeeID).Order("starts_at DESC, id DESC").Find(&as).Error
	if err != nil {
		return nil, fmt.Errorf("absences of %s: %w", employeeID, err)
	}
	return as, nil
}

// PersonAbsence returns one absence of the person, or ErrNotFound (also when the absence
// belongs to someone else).
func (s *Store) PersonAbsence(ctx context.Context, employeeID string, id uint) (Absence, error) {
	var a Absence
	err := s.DB.WithContext(ctx).First(&a, "id = ? AND employee_id = ?", id, employeeID).Error
	return a, notFound(err)
}

// CancelAbsence withdraws an absence at at, once: withdrawing one already withdrawn keeps
// the first time. It returns the absence as it now stands.
func (s *Store) CancelAbsence(ctx context.Context, employeeID string, id uint, at time.Time) (Absence, error) {
	err := s.DB.WithContext(ctx).Model(&Absence{}).
		Where("id = ? AND employee_id = ? AND cancelled_at IS NULL", id, employeeID).
		Update("cancelled_at", at).Error
	if err != nil {
		return Absence{}, fmt.Errorf("withdraw absence %d: %w", id, err)
	}
	return s.PersonAbsence(ctx, employeeID, id)
}

// RestoreAbsence undoes a withdrawal that could not be carried through (its workflow could
// not be cancelled), so that a failed request changes nothing.
func (s *Store) RestoreAbsence(ctx context.Context, employeeID string, id uint) error {
	err := s.DB.WithContext(ctx).Model(&Absence{}).Where("id = ? AND employee_id = ?", id, employeeID).
		Update("cancelled_at", nil).Error
	if err != nil {
		return fmt.Errorf("restore absence %d: %w", id, err)
	}
	return nil
}
