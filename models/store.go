package models

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// Store is the register and the directory, on one GORM database.
type Store struct {
	DB *gorm.DB
}

// Open connects to the database named by a POLICYFLOW_DATABASE_URL: `mysql://user:pass@tcp(host:3306)/db?…`
// for MySQL 8 or MariaDB, `sqlite://path/to/file.db` (or a bare path) for SQLite.
func Open(databaseURL string) (*Store, error) {
	cfg := &gorm.Config{Logger: logger.Discard, TranslateError: true, NowFunc: func() time.Time { return time.Now().UTC() }}
	var dialector gorm.Dialector
	switch {
	case strings.HasPrefix(databaseURL, "mysql://"):
		dsn, err := MySQLDSN(databaseURL)
		if err != nil {
			return nil, err
		}
		dialector = mysql.Open(dsn)
	case strings.HasPrefix(databaseURL, "sqlite://") || !strings.Contains(databaseURL, "://"):
		path := strings.TrimPrefix(databaseURL, "sqlite://")
		if path == "" {
			return nil, errors.New("POLICYFLOW_DATABASE_URL: sqlite:// needs a file path")
		}
		dialector = sqlite.Open(path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)")
	default:
		return nil, errors.New("POLICYFLOW_DATABASE_URL must start with mysql:// or sqlite://")
	}
	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", redact(err))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if db.Dialector.Name() == "sqlite" {
		// One writer at a time: SQLite serialises writes anyway, and this avoids SQLITE_BUSY.
		sqlDB.SetMaxOpenConns(1)
	} else {
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(10)
		sqlDB.SetConnMaxLifetime(5 * time.Minute)
	}
	return &Store{DB: db}, nil
}

// MySQLDSN turns a mysql:// URL into a driver DSN, forcing UTC times and utf8mb4.
func MySQLDSN(databaseURL string) (string, error) {
	cfg, err := mysqldriver.ParseDSN(strings.TrimPrefix(databaseURL, "mysql://"))
	if err != nil {
		return "", errors.New("POLICYFLOW_DATABASE_URL is not a valid mysql:// URL (expected mysql://user:pass@tcp(host:3306)/db?parseTime=true)")
	}
	if cfg.DBName == "" {
		return "", errors.New("POLICYFLOW_DATABASE_URL names no database")
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	// Count matched rows, not changed ones, as SQLite does: an idempotent repeat of an
	// UPDATE must not look like a missing row.
	cfg.ClientFoundRows = true
	// The driver puts the arguments into the query text (safe with utf8mb4): one round trip
	// per query instead of a prepare, an execute and a close (BENCHMARKS.md, scenario 1).
	cfg.InterpolateParams = true
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["charset"] = "utf8mb4"
	return cfg.FormatDSN(), nil
}

// redact drops a DSN's password from an error text.
func redact(err error) error {
	var u *url.Error
	if errors.As(err, &u) {
		return errors.New("cannot reach the database")
	}
	return err
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close closes the connections.
func (s *Store) Close() error {
	sqlDB, err := s.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}

// Person returns one person with their roles.
func (s *Store) Person(ctx context.Context, employeeID string) (Person, error) {
	var p Person
	err := s.DB.WithContext(ctx).Preload("Roles").First(&p, "employee_id = ?", employeeID).Error
	return p, notFound(err)
}

// People returns the people with the given IDs, by ID.
func (s *Store) People(ctx context.Context, ids []string) (map[string]Person, error) {
	var ps []Person
	if err := s.DB.WithContext(ctx).Where("employee_id IN ?", ids).Find(&ps).Error; err != nil {
		return nil, err
	}
	out := make(map[string]Person, len(ps))
	for _, p := range ps {
		out[p.EmployeeID] = p
	}
	return out, nil
}

// RoleHolder returns the employed person holding role, in department if one is given. With
// several holders the lowest employee ID wins, so the answer is stable.
func (s *Store) RoleHolder(ctx context.Context, role, department string) (string, error) {
	q := s.DB.WithContext(ctx).Model(&Person{}).
		Joins("JOIN person_roles ON person_roles.employee_id = people.employee_id").
		Where("person_roles.role = ? AND people.status = ?", role, StatusEmployed)
	if department != "" {
		q = q.Where("people.department_id = ?", department)
	}
	var ids []string
	if err := q.Order("people.employee_id").Limit(1).Pluck("people.employee_id", &ids).Error; err != nil {
		return "", err
	}
	if len(ids) == 0 {
		return "", fmt.Errorf("no %s in the directory: %w", role, ErrNotFound)
	}
	return ids[0], nil
}

// RoleMembers returns the employed people who hold the role, sorted by employee ID: every
// member of a body such as the security committee (policy.RoleCommittee), not just one holder.
func (s *Store) RoleMembers(ctx context.Context, role string) ([]Person, error) {
	var people []Person
	err := s.DB.WithContext(ctx).Preload("Roles").
		Joins("JOIN person_roles ON person_roles.employee_id = people.employee_id").
		Where("person_roles.role = ? AND people.status = ?", role, StatusEmployed).
		Order("people.employee_id").Find(&people).Error
	return people, err
}

// SystemManagers returns the managers of the given systems, sorted, without repeats.
func (s *Store) SystemManagers(ctx context.Context, systemIDs []string) ([]string, error) {
	if len(systemIDs) == 0 {
		return nil, nil
	}
	var ids []string
	err := s.DB.WithContext(ctx).Model(&System{}).Where("id IN ? AND ism_employee_id <> ''", systemIDs).
		Distinct().Order("ism_employee_id").Pluck("ism_employee_id", &ids).Error
	return ids, err
}

// Process returns one process.
func (s *Store) Process(ctx context.Context, id string) (Process, error) {
	var p Process
	err := s.DB.WithContext(ctx).First(&p, "id = ?", id).Error
	return p, notFound(err)
}

// RecordStage applies a stage change and adds it to the timeline, once per event key.
func (s *Store) RecordStage(ctx context.Context, ev ProcessEvent, final bool) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ev)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil // recorded by an earlier attempt
		}
		updates := map[string]any{"status": ev.Status, "stage": ev.Stage, "updated_at": ev.At}
		if final {
			updates["closed_at"] = ev.At
		}
		res = tx.Model(&Process{}).Where("id = ?", ev.ProcessID).Updates(updates)
		if res.Error == nil && res.RowsAffected == 0 {
			return fmt.Errorf("process %s: %w", ev.ProcessID, ErrNotFound)
		}
		return res.Error
	})
}

// CreateTask inserts a task unless it exists (an activity retry).
func (s *Store) CreateTask(ctx context.Context, t *Task) error {
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(t).Error
}

// TaskWithProcess returns a task and its process.
func (s *Store) TaskWithProcess(ctx context.Context, taskID string) (Task, Process, error) {
	var t Task
	if err := s.DB.WithContext(ctx).First(&t, "id = ?", taskID).Error; err != nil {
		return t, Process{}, notFound(err)
	}
	p, err := s.Process(ctx, t.ProcessID)
	return t, p, err
}

// HandOverTask gives an open task to another person: the old assignee's links stop working
// (revoked, with why), and the task names its new assignee and the holder they act for.
// Re-runnable.
func (s *Store) HandOverTask(ctx context.Context, taskID, from, to, onBehalfOf, why string, at time.Time) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&TaskLink{}).Where("task_id = ? AND person_id = ? AND revoked_at IS NULL", taskID, from).
			Updates(map[string]any{"revoked_at": at, "revoked_why": why}).Error; err != nil {
			return err
		}
		return tx.Model(&Task{}).Where("id = ? AND status = ?", taskID, TaskOpen).
			Updates(map[string]any{"assignee_id": to, "on_behalf_of": onBehalfOf}).Error
	})
}

// MarkEscalated records that a task was escalated to a person.
func (s *Store) MarkEscalated(ctx context.Context, taskID, to string) error {
	res := s.DB.WithContext(ctx).Model(&Task{}).Where("id = ?", taskID).
		Updates(map[string]any{"escalated": true, "escalated_to_id": to})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// CloseTask closes an open task as expired or cancelled.
func (s *Store) CloseTask(ctx context.Context, taskID, status string, at time.Time) error {
	return s.DB.WithContext(ctx).Model(&Task{}).Where("id = ? AND status = ?", taskID, TaskOpen).
		Updates(map[string]any{"status": status, "closed_at": at}).Error
}

// NotificationSent reports whether the mail with this key was sent already.
func (s *Store) NotificationSent(ctx context.Context, key string) (bool, error) {
	var n int64
	err := s.DB.WithContext(ctx).Model(&Notification{}).Where("`key` = ? AND status = ?", key, NotificationSent).Count(&n).Error
	return n > 0, err
}

// PrepareTaskMail records a mail about to be sent and, when link has a token hash, the link
// it carries. The links of earlier attempts whose mail the server did not take (recorded as
// failed or undeliverable) are replaced: they are known to nobody, and a mail server down for
// a day must not leave a link row per retry. A link of an attempt that may have gone out (it
// died before recording either way) stays and keeps working; all of a task's links die with
// the task.
func (s *Store) PrepareTaskMail(ctx context.Context, n Notification, link TaskLink) error {
	if link.TokenHash == "" {
		return s.prepareLinkMail(ctx, n, nil, nil)
	}
	return s.prepareLinkMail(ctx, n, &link, &TaskLink{})
}

// prepareLinkMail records a mail about to go out and, when it carries one, its link (a
// pointer to the row; model is an empty row of its table): a retry after a mail that failed
// for good revokes the links that mail carried before it makes a new one, in one transaction.
func (s *Store) prepareLinkMail(ctx context.Context, n Notification, link, model any) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if link != nil {
			var failed int64
			if err := tx.Model(&Notification{}).Where("`key` = ? AND status IN ?", n.Key,
				[]string{NotificationFailed, NotificationUndeliverable}).Count(&failed).Error; err != nil {
				return err
			}
			if failed > 0 {
				if err := tx.Where("notification_key = ? AND revoked_at IS NULL", n.Key).Delete(model).Error; err != nil {
					return err
				}
			}
			if err := tx.Create(link).Error; err != nil {
				return err
			}
		}
		n.Attempts = 1
		return tx.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "key"}},
			DoUpdates: clause.Assignments(map[string]any{"attempts": gorm.Expr("attempts + 1"), "subject": n.Subject, "to_address": n.To,
				"status": NotificationPending}),
		}).Create(&n).Error
	})
}

// MarkNotificationFailed records that a mail did not go out: status is NotificationFailed (the
// server was down or answered 4xx; the activity is retried) or NotificationUndeliverable.
func (s *Store) MarkNotificationFailed(ctx context.Context, key, status string) error {
	return s.DB.WithContext(ctx).Model(&Notification{}).Where("`key` = ? AND status <> ?", key, NotificationSent).
		Update("status", status).Error
}

// FlagUndeliverable records that the mail server refused a person's address for good, with
// its reply code. A later change of the address clears it (PutPeopleChanges). An external
// contact's ID matches no person: nothing is flagged.
func (s *Store) FlagUndeliverable(ctx context.Context, employeeID, why string, at time.Time) error {
	return s.DB.WithContext(ctx).Model(&Person{}).Where("employee_id = ?", employeeID).
		Updates(map[string]any{"undeliverable_at": at, "undeliverable_why": why}).Error
}

// MarkNotificationSent records that a mail went out.
func (s *Store) MarkNotificationSent(ctx context.Context, key string, at time.Time) error {
	return s.DB.WithContext(ctx).Model(&Notification{}).Where("`key` = ?", key).
		Updates(map[string]any{"status": NotificationSent, "sent_at": at}).Error
}

// PutOutbox keeps a dev-mode mail, once per key.
func (s *Store) PutOutbox(ctx context.Context, m OutboxMessage) error {
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&m).Error
}

// Outbox lists dev-mode mail, newest first.
func (s *Store) Outbox(ctx context.Context, limit int) ([]OutboxMessage, error) {
	var ms []OutboxMessage
	err := s.DB.WithContext(ctx).Order("id DESC").Limit(limit).Find(&ms).Error
	return ms, err
}

// EnsureDecision is RecordDecision for a second writer: the API, after the workflow has
// accepted a decision whose record the workflow itself usually writes first (in the workflow
// task that answers the Update). One indexed read when the decision is there already; the
// whole record otherwise.
func (s *Store) EnsureDecision(ctx context.Context, d Decision, requestID string) error {
	var n int64
	if err := s.DB.WithContext(ctx).Model(&Decision{}).Where("task_id = ?", d.TaskID).Limit(1).Count(&n).Error; err == nil && n > 0 {
		return nil
	}
	return s.RecordDecision(ctx, d, requestID)
}

// RecordDecision writes the decision on a task, once, joining the comment, address and user
// agent the API stored under requestID, and closes the task.
func (s *Store) RecordDecision(ctx context.Context, d Decision, requestID string) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var req DecisionRequest
		err := tx.First(&req, "request_id = ?", requestID).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		d.Comment, d.ClientIP, d.UserAgent, d.Values = req.Comment, req.ClientIP, req.UserAgent, req.Values
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&d).Error; err != nil {
			return err
		}
		if d.OnBehalfOf != "" {
			// The API may have written the row first, without knowing for whom the decider
			// decided (代決): the workflow's record says so.
			if err := tx.Model(&Decision{}).Where("task_id = ?", d.TaskID).
				Updates(map[string]any{"on_behalf_of": d.OnBehalfOf, "basis": d.Basis}).Error; err != nil {
				return err
			}
		}
		return tx.Model(&Task{}).Where("id = ? AND status = ?", d.TaskID, TaskOpen).
			Updates(map[string]any{"status": TaskDecided, "closed_at": d.DecidedAt}).Error
	})
}

// AddTimeline adds a note to a process's timeline under its current status and stage, once
// per key: a hand-over, a deputy's decision, a step nobody may decide.
func (s *Store) AddTimeline(ctx context.Context, processID, key, note string, at time.Time) error {
	p, err := s.Process(ctx, processID)
	if err != nil {
		return err
	}
	ev := ProcessEvent{ProcessID: processID, Key: key, Status: p.Status, Stage: p.Stage, Note: note, At: at}
	return s.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&ev).Error
}
