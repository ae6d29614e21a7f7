package models

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm/clause"
)

// ContactPrefix starts the ID of every external contact. A directory ID may not contain
// ':', so a contact's ID can never be taken for an employee's.
const ContactPrefix = "ext:"

// IsContactID reports whether id names an external contact rather than a person of the
// directory.
func IsContactID(id string) bool { return strings.HasPrefix(id, ContactPrefix) }

// ExternalContact is someone outside the town who is asked to act through a link: a
// vendor's contact person (§5.1(3), §8.1). It is not a person of the directory, holds no
// role and can never be a decider of anything but the tasks a process assigns to it. Like a
// person, it is named in workflows only by its ID; the name and address stay here.
type ExternalContact struct {
	ID           string `gorm:"primaryKey;size:64"`
	ProcessID    string `gorm:"size:64;index;not null"`
	Organisation string `gorm:"size:200;not null"`
	Name         string `gorm:"size:200"`
	Email        string `gorm:"size:254;not null"`
	Locale       string `gorm:"size:8;not null;default:ja"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// asPerson presents a contact as a recipient of mail and links.
func (c ExternalContact) asPerson() Person {
	name := c.Name
	if name == "" {
		name = c.Organisation
	} else if c.Organisation != "" {
		name = c.Organisation + " " + c.Name
	}
	return Person{EmployeeID: c.ID, Name: name, Email: c.Email, Locale: c.Locale, Status: StatusEmployed}
}

// PutContact creates or replaces an external contact.
func (s *Store) PutContact(ctx context.Context, c ExternalContact) error {
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&c).Error
}

// Recipient returns whom a task or notice goes to: a person of the directory, or an
// external contact presented as one (its ID, name, address and locale; no roles).
func (s *Store) Recipient(ctx context.Context, id string) (Person, error) {
	if !IsContactID(id) {
		return s.Person(ctx, id)
	}
	var c ExternalContact
	if err := s.DB.WithContext(ctx).First(&c, "id = ?", id).Error; err != nil {
		return Person{}, notFound(err)
	}
	return c.asPerson(), nil
}

// Recipients is People for IDs that may name external contacts too.
func (s *Store) Recipients(ctx context.Context, ids []string) (map[string]Person, error) {
	var people, contacts []string
	for _, id := range ids {
		if IsContactID(id) {
			contacts = append(contacts, id)
		} else {
			people = append(people, id)
		}
	}
	out, err := s.People(ctx, people)
	if err != nil || len(contacts) == 0 {
		return out, err
	}
	var cs []ExternalContact
	if err := s.DB.WithContext(ctx).Where("id IN ?", contacts).Find(&cs).Error; err != nil {
		return nil, err
	}
	for _, c := range cs {
		out[c.ID] = c.asPerson()
	}
	return out, nil
}
