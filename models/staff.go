package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// SignInLink is a one-time link mailed to a member of staff who asked to sign in to the
// staff pages (issue 17). Only the token's SHA-256 is stored; the link works once, until
// ExpiresAt.
type SignInLink struct {
	Hash       string    `gorm:"primaryKey;size:64"`
	EmployeeID string    `gorm:"size:64;not null;index:idx_sign_in_person,priority:1"`
	CreatedAt  time.Time `gorm:"index:idx_sign_in_person,priority:2"`
	ExpiresAt  time.Time
	UsedAt     *time.Time
}

// StaffSession is a signed-in member of staff, opened by a SignInLink. Only the session
// token's SHA-256 is stored. A session ends when its holder signs out, after the town's idle
// timeout without a request, and after its absolute timeout in any case.
type StaffSession struct {
	Hash       string `gorm:"primaryKey;size:64"`
	EmployeeID string `gorm:"size:64;not null;index"`
	CreatedAt  time.Time
	LastSeenAt time.Time
	EndedAt    *time.Time
}

// ErrLinkUsed is returned for a sign-in link that was used already, has expired or is not
// known; the three are told apart nowhere, so the page cannot be used to probe links.
var ErrLinkUsed = fmt.Errorf("sign-in link used, expired or unknown: %w", ErrNotFound)

// CreateSignInLink stores a new sign-in link.
func (s *Store) CreateSignInLink(ctx context.Context, l SignInLink) error {
	return s.DB.WithContext(ctx).Create(&l).Error
}

// RecentSignInLinks counts the links made for a person since since: a bound on how many
// mails one person can be sent by others asking on their behalf.
func (s *Store) RecentSignInLinks(ctx context.Context, employeeID string, since time.Time) (int64, error) {
	var n int64
	err := s.DB.WithContext(ctx).Model(&SignInLink{}).Where("employee_id = ? AND created_at >= ?", employeeID, since).Count(&n).Error
	return n, err
}

// UseSignInLink marks the link with this hash used and returns whose it is: once, and only
// before it expires. Two requests at once with the same link: one wins, the other is
// ErrLinkUsed.
func (s *Store) UseSignInLink(ctx context.Context, hash string, now time.Time) (string, error) {
	db := s.DB.WithContext(ctx)
	res := db.Model(&SignInLink{}).Where("hash = ? AND used_at IS NULL AND expires_at > ?", hash, now).Update("used_at", now)
	if res.Error != nil {
		return "", res.Error
	}
	if res.RowsAffected != 1 {
		return "", ErrLinkUsed
	}
	var l SignInLink
	if err := db.First(&l, "hash = ?", hash).Error; err != nil {
		return "", err
	}
	return l.EmployeeID, nil
}

// SignInLinkUsable reports whether the link with this hash could still sign someone in.
func (s *Store) SignInLinkUsable(ctx context.Context, hash string, now time.Time) (bool, error) {
	var n int64
	err := s.DB.WithContext(ctx).Model(&SignInLink{}).Where("hash = ? AND used_at IS NULL AND expires_at > ?", hash, now).Count(&n).Error
	return n == 1, err
}

// CreateStaffSession stores a new session.
func (s *Store) CreateStaffSession(ctx context.Context, ss StaffSession) error {
	return s.DB.WithContext(ctx).Create(&ss).Error
}

// StaffSessionByHash returns the session with this hash, ended or not.
func (s *Store) StaffSessionByHash(ctx context.Context, hash string) (StaffSession, error) {
	var ss StaffSession
	err := s.DB.WithContext(ctx).First(&ss, "hash = ?", hash).Error
	return ss, notFound(err)
}

// TouchStaffSession records a request in the session, which resets its idle timeout.
func (s *Store) TouchStaffSession(ctx context.Context, hash string, at time.Time) error {
	return s.DB.WithContext(ctx).Model(&StaffSession{}).Where("hash = ? AND ended_at IS NULL", hash).Update("last_seen_at", at).Error
}

// EndStaffSession ends a session (sign-out or a timeout).
func (s *Store) EndStaffSession(ctx context.Context, hash string, at time.Time) error {
	return s.DB.WithContext(ctx).Model(&StaffSession{}).Where("hash = ? AND ended_at IS NULL", hash).Update("ended_at", at).Error
}

// PersonByEmail returns the person whose work address is email (compared without case).
func (s *Store) PersonByEmail(ctx context.Context, email string) (Person, error) {
	var p Person
	err := s.DB.WithContext(ctx).Preload("Roles").Where("LOWER(email) = ?", strings.ToLower(email)).Order("employee_id").First(&p).Error
	return p, notFound(err)
}

// staffSessions is migration step 11: sign-in links and sessions of the staff pages
// (issue 17). Re-runnable.
func staffSessions(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, model := range []any{&SignInLink{}, &StaffSession{}} {
		if !m.HasTable(model) {
			if err := m.CreateTable(model); err != nil {
				return fmt.Errorf("create %T: %w", model, err)
			}
		}
	}
	return nil
}

// OpenTasksOf returns the open tasks that the person holds a working link for (as the
// assignee, a deputy or an escalation's recipient), soonest due first.
func (s *Store) OpenTasksOf(ctx context.Context, personID string, now time.Time) ([]Task, error) {
	var ts []Task
	db := s.DB.WithContext(ctx)
	links := db.Model(&TaskLink{}).Select("task_id").Where("person_id = ? AND revoked_at IS NULL", personID)
	err := db.Where("status = ? AND expires_at > ? AND id IN (?)", TaskOpen, now, links).Order("due_at, id").Limit(200).Find(&ts).Error
	return ts, err
}

// HoldsTaskLink reports whether the person holds a link to the task that was not revoked.
func (s *Store) HoldsTaskLink(ctx context.Context, taskID, personID string) (bool, error) {
	var n int64
	err := s.DB.WithContext(ctx).Model(&TaskLink{}).Where("task_id = ? AND person_id = ? AND revoked_at IS NULL", taskID, personID).Count(&n).Error
	return n > 0, err
}

// AddTaskLink stores one more link to a task for a person who already holds one: the staff
// pages open a task through a fresh link rather than a new way to decide it.
func (s *Store) AddTaskLink(ctx context.Context, l TaskLink) error {
	return s.DB.WithContext(ctx).Create(&l).Error
}

// ProcessesOf returns the processes the person asked for or takes part in (holds or held a
// link to one of its tasks, or decided one), newest first, at most limit.
func (s *Store) ProcessesOf(ctx context.Context, personID string, limit int) ([]Process, error) {
	var ps []Process
	db := s.DB.WithContext(ctx)
	linked := db.Model(&Task{}).Select("process_id").Where("id IN (?)", db.Model(&TaskLink{}).Select("task_id").Where("person_id = ?", personID))
	decided := db.Model(&Decision{}).Select("process_id").Where("decider_id = ?", personID)
	err := db.Where("requester_id = ? OR id IN (?) OR id IN (?)", personID, linked, decided).
		Order("created_at DESC, id DESC").Limit(limit).Find(&ps).Error
	return ps, err
}

// StepsOf returns the steps of a process whose tasks the person held a link to or decided:
// what they took part in, which sets what they may see of it.
func (s *Store) StepsOf(ctx context.Context, processID, personID string) ([]string, error) {
	var steps []string
	db := s.DB.WithContext(ctx)
	linked := db.Model(&TaskLink{}).Select("task_id").Where("person_id = ?", personID)
	decided := db.Model(&Decision{}).Select("task_id").Where("decider_id = ?", personID)
	err := db.Model(&Task{}).Where("process_id = ? AND (id IN (?) OR id IN (?))", processID, linked, decided).
		Distinct().Order("step").Pluck("step", &steps).Error
	return steps, err
}

// SystemsOf returns the systems registered to a department, by name.
func (s *Store) SystemsOf(ctx context.Context, department string) ([]System, error) {
	var ss []System
	err := s.DB.WithContext(ctx).Where("department_id = ?", department).Order("name, id").Find(&ss).Error
	return ss, err
}

// ForgetStaffSignIns deletes the sign-in links that expired before before and the sessions
// last used before it: neither can sign anyone in any more, and the table stays small.
func (s *Store) ForgetStaffSignIns(ctx context.Context, before time.Time) error {
	db := s.DB.WithContext(ctx)
	if err := db.Where("expires_at < ?", before).Delete(&SignInLink{}).Error; err != nil {
		return fmt.Errorf("forget sign-in links: %w", err)
	}
	if err := db.Where("last_seen_at < ?", before).Delete(&StaffSession{}).Error; err != nil {
		return fmt.Errorf("forget staff sessions: %w", err)
	}
	return nil
}
