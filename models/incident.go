package models

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Incident sources: a report from inside (§5.3(1)) or from a resident or other outsider
// through the public window (§5.3(2)).
const (
	IncidentFromStaff    = "staff"
	IncidentFromResident = "resident"
)

// Incident is the register's record of a security incident (§5.3): what was reported, by
// whom, when it was discovered and received. The description and a resident's contact
// details are free text and personal data: they live here and never in a workflow.
type Incident struct {
	ProcessID      string `gorm:"primaryKey;size:64"`
	Source         string `gorm:"size:16;not null"`
	ReporterID     string `gorm:"size:64;index"`
	ReporterName   string `gorm:"size:200"`
	ReporterEmail  string `gorm:"size:254"`
	ReporterPhone  string `gorm:"size:64"`
	DepartmentID   string `gorm:"size:64;index"`
	SystemID       string `gorm:"size:64"`
	Category       string `gorm:"size:32;not null;index"`
	Description    string `gorm:"type:text"`
	Classification int
	DiscoveredAt   time.Time
	ReceivedAt     time.Time
	// ReceiptNumber is what a resident is given back: it names the report, not the process.
	ReceiptNumber *string `gorm:"size:32;uniqueIndex"`
	// CommitteeReport is the report the incident closed with, as the security committee
	// was sent it (Japanese, then English); CommitteeReportedAt is when it was made.
	CommitteeReport     string `gorm:"type:text"`
	CommitteeReportedAt *time.Time
	CreatedAt           time.Time
}

// IncidentHop is one timestamped hop of an incident's reporting chain (§5.3(1)): reported,
// received, the officer told, the GISO and system manager told, triaged, the CISO asked and
// answering, each step of the plan done, the root cause recorded, closed. The register
// shows how promptly each happened.
type IncidentHop struct {
	ID        uint   `gorm:"primaryKey"`
	Key       string `gorm:"size:191;uniqueIndex;not null"`
	ProcessID string `gorm:"size:64;index;not null"`
	Hop       string `gorm:"size:64;not null"`
	// ActorID is the employee ID who did or was told, if any.
	ActorID string `gorm:"size:64"`
	Note    string `gorm:"size:500"`
	At      time.Time
}

// EmergencyContact is one entry of the emergency contact list (関係者の連絡先, §7.3(2)1),
// kept by the GISO (§2(2)7). The contact step of an incident asks its handler to reach
// each entry that applies to the incident's category.
type EmergencyContact struct {
	ID           string `gorm:"primaryKey;size:64"`
	Name         string `gorm:"size:200;not null"`
	Organization string `gorm:"size:200"`
	Phone        string `gorm:"size:64"`
	Email        string `gorm:"size:254"`
	// Categories limits the entry to incidents of these categories (comma-separated);
	// empty means every incident.
	Categories string `gorm:"size:400"`
	Notes      string `gorm:"size:1000"`
	// Priority orders the list: the lowest is called first.
	Priority  int `gorm:"not null;default:0"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CategoryList returns the categories the entry is limited to.
func (c EmergencyContact) CategoryList() []string { return splitList(c.Categories) }

// AppliesTo reports whether the entry is to be contacted for an incident of category.
func (c EmergencyContact) AppliesTo(category string) bool {
	list := c.CategoryList()
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if x == category {
			return true
		}
	}
	return false
}

// CreateIncident stores an incident's record once; a repeat leaves the first.
func (s *Store) CreateIncident(ctx context.Context, in Incident) error {
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&in).Error
}

// Incident returns the record of the incident run by a process.
func (s *Store) Incident(ctx context.Context, processID string) (Incident, error) {
	var in Incident
	err := s.DB.WithContext(ctx).First(&in, "process_id = ?", processID).Error
	return in, notFound(err)
}

// SetCommitteeReport stores the report an incident closed with (the same report however
// often it is made again).
func (s *Store) SetCommitteeReport(ctx context.Context, processID, report string, at time.Time) error {
	return s.DB.WithContext(ctx).Model(&Incident{}).Where("process_id = ?", processID).
		Updates(map[string]any{"committee_report": report, "committee_reported_at": at}).Error
}

// MoveIncident makes department the department of an incident's process and of its
// record: a resident's report passed on to the department concerned (§5.3(2)1–2) is that
// department's from then on, in the register's lists and filters too. It reports the
// department the process had before; moving it again to the same department changes nothing.
func (s *Store) MoveIncident(ctx context.Context, processID, department string) (string, error) {
	var before string
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var p Process
		if err := tx.First(&p, "id = ?", processID).Error; err != nil {
			return notFound(err)
		}
		before = p.DepartmentID
		if err := tx.Model(&Process{}).Where("id = ?", processID).Update("department_id", department).Error; err != nil {
			return err
		}
		return tx.Model(&Incident{}).Where("process_id = ?", processID).Update("department_id", department).Error
	})
	return before, err
}

// RecordIncidentHop stores a hop once per key.
func (s *Store) RecordIncidentHop(ctx context.Context, h IncidentHop) error {
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&h).Error
}

// IncidentHops returns an incident's hops in the order they happened.
func (s *Store) IncidentHops(ctx context.Context, processID string) ([]IncidentHop, error) {
	var hs []IncidentHop
	err := s.DB.WithContext(ctx).Where("process_id = ?", processID).Order("at, id").Find(&hs).Error
	return hs, err
}

// PutEmergencyContact creates or replaces an entry of the contact list; it reports whether
// it was created.
func (s *Store) PutEmergencyContact(ctx context.Context, c EmergencyContact) (bool, error) {
	var created bool
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&EmergencyContact{}).Where("id = ?", c.ID).Count(&n).Error; err != nil {
			return err
		}
		created = n == 0
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "id"}},
			DoUpdates: clause.AssignmentColumns([]string{"name", "organization", "phone", "email", "categories", "notes", "priority", "updated_at"}),
		}).Create(&c).Error
	})
	return created, err
}

// EmergencyContacts returns the entries of the contact list that apply to an incident of
// category (all entries when category is empty), in calling order.
func (s *Store) EmergencyContacts(ctx context.Context, category string) ([]EmergencyContact, error) {
	var all []EmergencyContact
	if err := s.DB.WithContext(ctx).Order("priority, id").Find(&all).Error; err != nil {
		return nil, err
	}
	out := all[:0]
	for _, c := range all {
		if category == "" || c.AppliesTo(category) {
			out = append(out, c)
		}
	}
	return out, nil
}

// OfficerDepartments returns the departments that have an employed security officer
// (diso), sorted: those a resident's report may be passed on to (§5.3(2)1–2).
func (s *Store) OfficerDepartments(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.DB.WithContext(ctx).Model(&Person{}).
		Joins("JOIN person_roles ON person_roles.employee_id = people.employee_id").
		Where("person_roles.role = ? AND people.status = ? AND people.department_id <> ''", "diso", StatusEmployed).
		Distinct().Order("people.department_id").Limit(200).Pluck("people.department_id", &ids).Error
	return ids, err
}

// DepartmentMembers returns the employee IDs of the employed people of a department,
// sorted: the people an officer may name as handlers of an incident's steps.
func (s *Store) DepartmentMembers(ctx context.Context, department string) ([]string, error) {
	var ids []string
	err := s.DB.WithContext(ctx).Model(&Person{}).Where("department_id = ? AND status = ?", department, StatusEmployed).
		Order("employee_id").Limit(200).Pluck("employee_id", &ids).Error
	return ids, err
}

// LatestDecisionValues returns the form values of the latest decision on a step of a
// process, as stored with the decision (free text included), or nil.
func (s *Store) LatestDecisionValues(ctx context.Context, processID, step string) (map[string]string, error) {
	var d Decision
	err := s.DB.WithContext(ctx).Where("process_id = ? AND step = ?", processID, step).Order("decided_at DESC, id DESC").First(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return decodeValues(d.Values), nil
}

func decodeValues(s string) map[string]string {
	out := map[string]string{}
	s = strings.TrimSpace(s)
	if s == "" {
		return out
	}
	_ = json.Unmarshal([]byte(s), &out)
	return out
}
