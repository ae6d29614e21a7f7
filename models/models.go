// Package models holds policyflow's GORM models and the queries on them: the directory
// (people, departments, systems, accounts), the long-term register of processes, the
// human tasks with their links and decisions, and every notification sent.
//
// The register is the town's record (DOMAIN.md, "Records the policy asks for"); Temporal's
// history is the step-by-step trail. Both name a process by the same ID.
package models

import (
	"strings"
	"time"
)

// Employment status values of a Person.
const (
	StatusEmployed    = "employed"
	StatusRetired     = "retired"
	StatusTransferred = "transferred"
	StatusSeconded    = "seconded"
)

// Department is an organisational unit with its own security officer (§2(3)).
type Department struct {
	ID        string `gorm:"primaryKey;size:64"`
	NameJa    string `gorm:"size:200"`
	NameEn    string `gorm:"size:200"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Section is a 課室: a unit of a department (部局) whose head is the system manager of the
// systems it owns (§2(4)1 「各情報システムの担当課室長等」). Staff of one section must not use
// another's folders and files (§6.1(1)), so a move between two sections of one department
// is a transfer. Its ID is unique across the town; it never changes department (migration
// step 9).
type Section struct {
	ID           string `gorm:"primaryKey;size:64"`
	DepartmentID string `gorm:"size:64;index;not null"`
	NameJa       string `gorm:"size:200"`
	NameEn       string `gorm:"size:200"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Person is a member of staff known to the directory. Names and emails live only here:
// workflows carry the EmployeeID.
type Person struct {
	EmployeeID   string `gorm:"primaryKey;size:64"`
	Name         string `gorm:"size:200;not null"`
	Email        string `gorm:"size:254;not null"`
	DepartmentID string `gorm:"size:64;index"`
	// SectionID is the person's 課室 within DepartmentID, or "" when the directory does not
	// say (data from before sections, migration step 9).
	SectionID string       `gorm:"size:64;index"`
	Locale    string       `gorm:"size:8;not null;default:ja"`
	Status    string       `gorm:"size:32;not null;default:employed"`
	Roles     []PersonRole `gorm:"foreignKey:EmployeeID;references:EmployeeID"`
	// UndeliverableAt is set when the mail server refused a mail to Email for good (a 5xx
	// answer: no such mailbox, mailbox disabled), for HR and IT to fix the address;
	// UndeliverableWhy is the server's reply code ("550 5.1.1"). A new address clears both
	// (migration step 4).
	UndeliverableAt  *time.Time
	UndeliverableWhy string `gorm:"size:64"`
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// RoleNames lists the person's roles as plain strings.
func (p Person) RoleNames() []string {
	out := make([]string, 0, len(p.Roles))
	for _, r := range p.Roles {
		out = append(out, r.Role)
	}
	return out
}

// HasRole reports whether the person holds role.
func (p Person) HasRole(role string) bool {
	for _, r := range p.Roles {
		if r.Role == role {
			return true
		}
	}
	return false
}

// PersonRole grants one role of §2 (ciso, giso, diso, ism, staff, hr) to a person.
type PersonRole struct {
	EmployeeID string `gorm:"primaryKey;size:64"`
	Role       string `gorm:"primaryKey;size:16;index"`
}

// System is an information system with the section head who manages it (§2(4)).
type System struct {
	ID           string `gorm:"primaryKey;size:64"`
	Name         string `gorm:"size:200;not null"`
	DepartmentID string `gorm:"size:64;index"`
	// SectionID is the 課室 of DepartmentID that owns the system, or "" (migration step 9).
	SectionID      string `gorm:"size:64;index"`
	ISMEmployeeID  string `gorm:"size:64;index"`
	Classification int    `gorm:"not null;default:3"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Account is a user ID on a system (§6.2(1)). A shared account has no holder.
type Account struct {
	SystemID         string  `gorm:"primaryKey;size:64"`
	AccountID        string  `gorm:"primaryKey;size:128"`
	HolderEmployeeID *string `gorm:"size:64;index"`
	Shared           bool    `gorm:"not null;default:false"`
	Privileged       bool    `gorm:"not null;default:false"`
	Status           string  `gorm:"size:32;not null;default:active"`
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// APIToken is a bearer token for the API, stored as the SHA-256 of its text.
type APIToken struct {
	ID        uint   `gorm:"primaryKey"`
	Name      string `gorm:"size:100;not null"`
	Hash      string `gorm:"size:64;uniqueIndex;not null"`
	Scopes    string `gorm:"size:200;not null"`
	CreatedAt time.Time
	RevokedAt *time.Time
	// ExpiresAt, when set, is the moment the token stops working (`policyflow token create
	// --expires`), so that tokens are rotated; nil means it works until revoked.
	ExpiresAt *time.Time
}

// ScopeList returns the token's scopes.
func (t APIToken) ScopeList() []string { return splitList(t.Scopes) }

// ActiveAt reports whether the token admits requests at the moment at: neither revoked nor
// expired.
func (t APIToken) ActiveAt(at time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || at.Before(*t.ExpiresAt))
}

// Process kinds, as in the API's `kind` field.
const (
	KindException         = "exception"
	KindIncident          = "incident"
	KindOutsourcingReview = "outsourcing_review"
	KindCloudAssessment   = "cloud_assessment"
	KindOffboarding       = "offboarding"
)

// Process is one run of a policy process: the long-term register row. The list
// (GET /processes, newest first) reads one of the idx_process_list* indexes, each ending in
// created_at, id, in order instead of sorting the matching rows (migration step 2).
type Process struct {
	ID             string    `gorm:"primaryKey;size:64;index:idx_process_list,priority:2;index:idx_process_list_kind,priority:3;index:idx_process_list_status,priority:3;index:idx_process_list_department,priority:3;index:idx_process_list_requester,priority:3;index:idx_process_list_employee,priority:3"`
	Kind           string    `gorm:"size:32;not null;index:idx_process_list_kind,priority:1"`
	Status         string    `gorm:"size:32;not null;index:idx_process_list_status,priority:1"`
	Stage          string    `gorm:"size:64;not null"`
	WorkflowID     string    `gorm:"size:128;uniqueIndex;not null"`
	DepartmentID   string    `gorm:"size:64;index:idx_process_list_department,priority:1"`
	RequesterID    string    `gorm:"size:64;index:idx_process_list_requester,priority:1"`
	EmployeeID     string    `gorm:"size:64;index:idx_process_list_employee,priority:1"`
	Summary        string    `gorm:"size:500"`
	Input          string    `gorm:"type:text"`
	IdempotencyKey *string   `gorm:"size:200;uniqueIndex"`
	RequestHash    string    `gorm:"size:64"`
	CancelReason   string    `gorm:"size:1000"`
	CancelledBy    string    `gorm:"size:100"`
	CreatedAt      time.Time `gorm:"index:idx_process_list,priority:1;index:idx_process_list_kind,priority:2;index:idx_process_list_status,priority:2;index:idx_process_list_department,priority:2;index:idx_process_list_requester,priority:2;index:idx_process_list_employee,priority:2"`
	UpdatedAt      time.Time
	ClosedAt       *time.Time
}

// ProcessEvent is one entry of a process's timeline: a stage or status change, with a note.
type ProcessEvent struct {
	ID        uint   `gorm:"primaryKey"`
	ProcessID string `gorm:"size:64;index;not null"`
	Key       string `gorm:"size:200;uniqueIndex;not null"`
	Status    string `gorm:"size:32;not null"`
	Stage     string `gorm:"size:64;not null"`
	Note      string `gorm:"size:1000"`
	At        time.Time
}

// Task status values.
const (
	TaskOpen      = "open"
	TaskDecided   = "decided"
	TaskExpired   = "expired"
	TaskCancelled = "cancelled"
)

// Task is one human step: one question for one named person, with a deadline. Links to it
// (TaskLink) are the credentials that let a person decide it.
type Task struct {
	ID            string `gorm:"primaryKey;size:191;index:idx_task_process,priority:3"`
	ProcessID     string `gorm:"size:64;index:idx_task_process,priority:1;not null"`
	WorkflowID    string `gorm:"size:128;not null"`
	Step          string `gorm:"size:64;not null"`
	TitleJa       string `gorm:"size:200"`
	TitleEn       string `gorm:"size:200"`
	AssigneeID    string `gorm:"size:64;index;not null"`
	EscalatedToID string `gorm:"size:64"`
	// PostRole and PostScope name the post whose holder decides the task (a role of §2, and
	// the department or system it is held for), when the step is assigned to a post rather
	// than to a named person such as the requester. The API refuses a decision from someone
	// who no longer holds it (migration step 3).
	PostRole  string `gorm:"size:16"`
	PostScope string `gorm:"size:64"`
	// OnBehalfOf is the post's holder when the task went to a deputy because the holder is
	// absent (代決): the decision is the deputy's, for the holder, who reviews it afterwards.
	OnBehalfOf string `gorm:"size:64"`
	// ReturnOf is the task whose decision returned the request (差戻し) that this task asks
	// to revise: its mail and page show who returned it, when, and why (migration step 8).
	ReturnOf string `gorm:"size:191"`
	Choices  string `gorm:"size:200;not null"`
	// Form is the JSON of the task's form fields ([]activities.Field), if it has any.
	Form          string `gorm:"type:text"`
	Status        string `gorm:"size:16;not null;index"`
	DueAt         time.Time
	ExpiresAt     time.Time
	RemindersSent int       `gorm:"not null;default:0"`
	Escalated     bool      `gorm:"not null;default:false"`
	CreatedAt     time.Time `gorm:"index:idx_task_process,priority:2"`
	ClosedAt      *time.Time
}

// ChoiceList returns the choices the task offers.
func (t Task) ChoiceList() []string { return splitList(t.Choices) }

// TaskLink is one emailed link: the SHA-256 of its token, bound to one task and one person.
// The token itself is never stored.
type TaskLink struct {
	TokenHash       string `gorm:"primaryKey;size:64"`
	TaskID          string `gorm:"size:191;index;not null"`
	PersonID        string `gorm:"size:64;not null"`
	NotificationKey string `gorm:"size:191;index;not null"`
	CreatedAt       time.Time
	// RevokedAt is set when the link's holder may no longer decide the task: the task was
	// handed over to a new holder of its post, or to a deputy during an absence. RevokedWhy
	// says why, for the page the old link opens (migration step 3).
	RevokedAt  *time.Time
	RevokedWhy string `gorm:"size:300"`
}

// Decision is what a person decided on a task, with where from: the register's answer to
// "who approved this, when, from which address".
type Decision struct {
	ID        uint   `gorm:"primaryKey;index:idx_decision_process,priority:3"`
	TaskID    string `gorm:"size:191;uniqueIndex;not null"`
	ProcessID string `gorm:"size:64;index:idx_decision_process,priority:1;not null"`
	Step      string `gorm:"size:64;not null"`
	Choice    string `gorm:"size:32;not null"`
	DeciderID string `gorm:"size:64;not null"`
	// OnBehalfOf is set when the decider decided for the post's holder (代決): the register
	// reads "decider for holder (代決)", and the holder is sent an after-the-fact review
	// (後閲). Basis cites the rule that allowed it (migration step 3).
	OnBehalfOf string    `gorm:"size:64"`
	Basis      string    `gorm:"size:200"`
	Comment    string    `gorm:"type:text"`
	ClientIP   string    `gorm:"size:64"`
	UserAgent  string    `gorm:"size:500"`
	Values     string    `gorm:"type:text"`
	DecidedAt  time.Time `gorm:"index:idx_decision_process,priority:2"`
}

// DecisionRequest is one POST on a task link, stored before its decision is sent to the
// workflow: the free text and the client's address stay here, out of Temporal's history.
// The request that the workflow accepts becomes the task's Decision.
type DecisionRequest struct {
	RequestID string `gorm:"primaryKey;size:64"`
	TaskID    string `gorm:"size:191;index;not null"`
	Choice    string `gorm:"size:32;not null"`
	DeciderID string `gorm:"size:64;not null"`
	Comment   string `gorm:"type:text"`
	ClientIP  string `gorm:"size:64"`
	UserAgent string `gorm:"size:500"`
	// Values is the JSON of the form fields submitted with the decision.
	Values string `gorm:"type:text"`
	// Unanswered is set when the request was told "try again later" (503): the workflow
	// may still apply it once the worker is back, and a retry is then told it succeeded.
	Unanswered bool `gorm:"not null;default:false"`
	CreatedAt  time.Time
}

// Notification status values.
const (
	NotificationPending = "pending"
	NotificationSent    = "sent"
	// NotificationFailed is a mail the server did not take, to be tried again; its link
	// was known to nobody and is replaced by the next attempt's.
	NotificationFailed = "failed"
	// NotificationUndeliverable is a mail the server refused for good.
	NotificationUndeliverable = "undeliverable"
)

// Notification is one mail: to whom, what subject, when, for which task. Key makes sending
// idempotent across activity retries (TASK-ENGINE.md invariant 6).
type Notification struct {
	ID          uint   `gorm:"primaryKey"`
	Key         string `gorm:"size:191;uniqueIndex;not null"`
	ProcessID   string `gorm:"size:64;index"`
	TaskID      string `gorm:"size:191;index"`
	Kind        string `gorm:"size:32;not null"`
	RecipientID string `gorm:"size:64"`
	To          string `gorm:"column:to_address;size:254;not null"`
	Subject     string `gorm:"size:300;not null"`
	Status      string `gorm:"size:16;not null"`
	Attempts    int    `gorm:"not null;default:0"`
	CreatedAt   time.Time
	SentAt      *time.Time
}

// OutboxMessage is a mail kept instead of sent, in dev mode only (shown at /dev/mailbox).
// It holds the body, links included, so it must never be used in production.
type OutboxMessage struct {
	ID        uint   `gorm:"primaryKey"`
	Key       string `gorm:"size:191;uniqueIndex;not null"`
	To        string `gorm:"column:to_address;size:254;not null"`
	Subject   string `gorm:"size:300;not null"`
	Text      string `gorm:"type:text"`
	HTML      string `gorm:"type:text"`
	CreatedAt time.Time
}

// All lists every model, in migration order.
func All() []any {
	return []any{
		&Department{}, &Section{}, &Person{}, &PersonRole{}, &System{}, &Account{}, &APIToken{},
		&Process{}, &ProcessEvent{}, &Task{}, &TaskLink{}, &DecisionRequest{}, &Decision{}, &Notification{},
		&OutboxMessage{},
		&Incident{}, &IncidentHop{}, &EmergencyContact{},
		&CloudService{}, &CloudEvaluation{},
		&ExternalContact{}, &OutsourcingReview{}, &ClauseMark{}, &OutsourcingReport{}, &DisposalRecord{},
		&Asset{}, &AccountAccess{}, &AccountStatusChange{}, &Offboarding{}, &OffboardingItem{},
		&OffboardingDateMove{}, &OffboardingBatch{}, &OffboardingBatchItem{},
		&AccountUse{}, &ReconciliationFinding{},
		&Absence{},
		&RateWindow{},
		&InspectionCampaign{}, &InspectionTarget{}, &InspectionAnswer{},
		&RequestVersion{},
		&ReportLink{},
		&SignInLink{}, &StaffSession{},
	}
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// JoinList is the inverse of the comma-separated list columns (Choices, Scopes).
func JoinList(items []string) string { return strings.Join(items, ",") }

// ValidID is the identifier rule of the API and the register: 1–64 letters, digits, '-', '_'
// and '.' (employee, department, system and process IDs).
func ValidID(v string) bool {
	if v == "" || len(v) > 64 {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
