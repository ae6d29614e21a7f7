package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Migration is one versioned step of the database schema. Steps run forward, in order,
// each once; the versions applied are recorded in schema_migrations.
//
// A new step changes the schema with explicit operations, for example
//
//	{Version: 3, Name: "decision requests remember a 503", Up: func(tx *gorm.DB) error {
//		return tx.Migrator().AddColumn(&DecisionRequest{}, "Unanswered")
//	}}
//
// and the models change with it; a fresh database gets the current models at once.
type Migration struct {
	Version int
	Name    string
	Up      func(tx *gorm.DB) error
}

// SchemaMigration records one applied step.
type SchemaMigration struct {
	Version   int    `gorm:"primaryKey;autoIncrement:false"`
	Name      string `gorm:"size:200;not null"`
	AppliedAt time.Time
}

// Migrations is policyflow's schema history. Version 1 is the schema of the first release:
// every model as it is.
var Migrations = []Migration{
	{Version: 1, Name: "baseline: directory, register, tasks, decisions, notifications", Up: func(tx *gorm.DB) error {
		return tx.AutoMigrate(All()...)
	}},
	{Version: 2, Name: "indexes in the lists' and the detail's order", Up: listIndexes},
	{Version: 3, Name: "authority: posts on tasks, revoked links, decisions for a holder (代決), absences", Up: authorityColumns},
	{Version: 4, Name: "undeliverable addresses flagged in the directory", Up: undeliverableColumns},
	{Version: 5, Name: "API tokens expire; the dev-mode demo token is revoked", Up: tokenExpiry},
	{Version: 6, Name: "public window: request counts per address prefix and minute, shared by API processes", Up: rateWindows},
	{Version: 7, Name: "outsourcing: vendors without a 法人番号, reasons for clauses not applicable", Up: outsourcingAsNeeded},
	{Version: 8, Name: "returns: every version of a request, the return a revision task answers", Up: requestVersions},
	{Version: 9, Name: "directory: sections (課室) of departments, on people, systems and offboardings", Up: sectionColumns},
	{Version: 10, Name: "self-inspection: campaigns, targets, answers and improvement measures (§9.1)", Up: inspectionTables},
	{Version: 11, Name: "staff pages: one-time sign-in links and sessions, stored hashed", Up: staffSessions},
	{Version: 12, Name: "incidents: the report to the security committee at closure", Up: incidentCommitteeReport},
	{Version: 13, Name: "mailed links to the security committee's yearly report", Up: reportLinks},
}

// sectionColumns is step 9: the directory's second level, the sections (課室) of a department
// (§2(4)); a person's and a system's section, and the sections an offboarding moves between.
// Rows from before have none ("") and keep working. Re-runnable.
func sectionColumns(tx *gorm.DB) error {
	m := tx.Migrator()
	if !m.HasTable(&Section{}) {
		if err := m.CreateTable(&Section{}); err != nil {
			return fmt.Errorf("create sections: %w", err)
		}
	}
	for _, c := range []struct {
		model any
		field string
	}{{&Person{}, "SectionID"}, {&System{}, "SectionID"}, {&Offboarding{}, "FormerSection"}, {&Offboarding{}, "NewSection"}} {
		if !m.HasColumn(c.model, c.field) {
			if err := m.AddColumn(c.model, c.field); err != nil {
				return fmt.Errorf("add %T.%s: %w", c.model, c.field, err)
			}
		}
	}
	for _, c := range []struct {
		model any
		index string
	}{{&Person{}, "idx_people_section_id"}, {&System{}, "idx_systems_section_id"}} {
		if !m.HasIndex(c.model, c.index) {
			if err := m.CreateIndex(c.model, c.index); err != nil {
				return fmt.Errorf("create %s: %w", c.index, err)
			}
		}
	}
	return nil
}

// incidentCommitteeReport is step 12: the report an incident closes with, as sent to the
// security committee, and when it was made. Re-runnable.
func incidentCommitteeReport(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, field := range []string{"CommitteeReport", "CommitteeReportedAt"} {
		if !m.HasColumn(&Incident{}, field) {
			if err := m.AddColumn(&Incident{}, field); err != nil {
				return fmt.Errorf("add Incident.%s: %w", field, err)
			}
		}
	}
	return nil
}

// requestVersions is step 8: the register keeps every version of a request that was returned
// (差戻し) and revised, and a revision task names the return it answers. Re-runnable.
func requestVersions(tx *gorm.DB) error {
	m := tx.Migrator()
	if !m.HasColumn(&Task{}, "ReturnOf") {
		if err := m.AddColumn(&Task{}, "ReturnOf"); err != nil {
			return fmt.Errorf("add Task.ReturnOf: %w", err)
		}
	}
	if !m.HasTable(&RequestVersion{}) {
		return m.CreateTable(&RequestVersion{})
	}
	return nil
}

// outsourcingAsNeeded is step 7: a vendor named by another identifier and the reason it has
// no corporate number; a clause mark's reason (§8.1(2) 「必要に応じて」) and its longer mark
// (not_applicable_refused). Re-runnable.
func outsourcingAsNeeded(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, c := range []struct {
		model any
		field string
	}{{&OutsourcingReview{}, "OtherIdentifier"}, {&OutsourcingReview{}, "IdentifierReason"}, {&ClauseMark{}, "Reason"}} {
		if !m.HasColumn(c.model, c.field) {
			if err := m.AddColumn(c.model, c.field); err != nil {
				return fmt.Errorf("add %T.%s: %w", c.model, c.field, err)
			}
		}
	}
	// SQLite does not enforce a varchar's size, and altering a column there rebuilds the
	// table without its indexes.
	if tx.Dialector.Name() == "sqlite" {
		return nil
	}
	if err := m.AlterColumn(&ClauseMark{}, "Mark"); err != nil {
		return fmt.Errorf("widen ClauseMark.Mark: %w", err)
	}
	return nil
}

// undeliverableColumns is step 4: a person whose address the mail server refused for good is
// flagged, with when and the server's reply code, until the address changes. Re-runnable.
func undeliverableColumns(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, field := range []string{"UndeliverableAt", "UndeliverableWhy"} {
		if !m.HasColumn(&Person{}, field) {
			if err := m.AddColumn(&Person{}, field); err != nil {
				return fmt.Errorf("add Person.%s: %w", field, err)
			}
		}
	}
	return nil
}

// DemoTokenName is the name under which `policyflow dev` used to store its admin token in
// the database it was pointed at; DemoTokenHash is the hash of the token it stored by
// default, "dev-admin-token", published in the README.
const (
	DemoTokenName = "dev-admin"
	DemoTokenHash = "1734d503f6aa6a047c36d113cbad769f719c93784b469b771c4c3e7c63adbefd"
)

// tokenExpiry is step 5: an API token may carry an expiry (ExpiresAt), and the admin token
// that dev mode used to write into whatever database it was pointed at, which `serve` then
// accepted, is revoked: dev mode now keeps it in memory only. Re-runnable.
func tokenExpiry(tx *gorm.DB) error {
	m := tx.Migrator()
	if !m.HasColumn(&APIToken{}, "ExpiresAt") {
		if err := m.AddColumn(&APIToken{}, "ExpiresAt"); err != nil {
			return fmt.Errorf("add APIToken.ExpiresAt: %w", err)
		}
	}
	return tx.Model(&APIToken{}).Where("(name = ? OR hash = ?) AND revoked_at IS NULL", DemoTokenName, DemoTokenHash).
		Update("revoked_at", time.Now().UTC()).Error
}

// authorityColumns is step 3: a task names the post whose holder decides it and the holder a
// deputy stands in for, a link can be revoked when its task is handed over, a decision records
// for whom and under which rule it was taken, and absences are registered. Re-runnable.
func authorityColumns(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, c := range []struct {
		model any
		field string
	}{
		{&Task{}, "PostRole"}, {&Task{}, "PostScope"}, {&Task{}, "OnBehalfOf"},
		{&TaskLink{}, "RevokedAt"}, {&TaskLink{}, "RevokedWhy"},
		{&Decision{}, "OnBehalfOf"}, {&Decision{}, "Basis"},
	} {
		if !m.HasColumn(c.model, c.field) {
			if err := m.AddColumn(c.model, c.field); err != nil {
				return fmt.Errorf("add %T.%s: %w", c.model, c.field, err)
			}
		}
	}
	if !m.HasTable(&Absence{}) {
		return m.CreateTable(&Absence{})
	}
	return nil
}

// listIndexes is step 2: the register's lists (newest first, by kind, status, department,
// requester or employee) read an index ending in created_at, id instead of sorting every
// matching row, and a process's tasks and decisions are read from an index in the detail's
// order. The new indexes replace single-column ones that are their prefixes. Re-runnable:
// it creates the indexes that are missing, then drops the old ones that are left, so a query
// always has one of them.
func listIndexes(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, t := range []struct {
		model        any
		create, drop []string
	}{
		{&Process{},
			[]string{"idx_process_list", "idx_process_list_kind", "idx_process_list_status", "idx_process_list_department", "idx_process_list_requester", "idx_process_list_employee"},
			[]string{"idx_process_kind_created", "idx_processes_status", "idx_processes_department_id", "idx_processes_requester_id", "idx_processes_employee_id"}},
		{&Task{}, []string{"idx_task_process"}, []string{"idx_tasks_process_id"}},
		{&Decision{}, []string{"idx_decision_process"}, []string{"idx_decisions_process_id"}},
	} {
		for _, name := range t.create {
			if !m.HasIndex(t.model, name) {
				if err := m.CreateIndex(t.model, name); err != nil {
					return fmt.Errorf("create %s: %w", name, err)
				}
			}
		}
		for _, name := range t.drop {
			if m.HasIndex(t.model, name) {
				if err := m.DropIndex(t.model, name); err != nil {
					return fmt.Errorf("drop %s: %w", name, err)
				}
			}
		}
	}
	return nil
}

// Migrate brings the schema up to date: on an empty database it creates every table and
// marks every step applied; otherwise it runs the steps not yet applied, in order. It is
// safe to run repeatedly and from several processes started together only if one of them
// runs `policyflow migrate` first (as compose does).
func (s *Store) Migrate(ctx context.Context) error {
	return s.MigrateWith(ctx, Migrations)
}

// MigrateWith is Migrate with a given list of steps (tests use it).
func (s *Store) MigrateWith(ctx context.Context, steps []Migration) error {
	db := s.DB.WithContext(ctx)
	if db.Dialector.Name() == "mysql" {
		db = db.Set("gorm:table_options", "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
	}
	db = db.Session(&gorm.Session{}) // reusable: each statement below starts clean
	if err := db.AutoMigrate(&SchemaMigration{}); err != nil {
		return fmt.Errorf("migrate: schema_migrations: %w", err)
	}
	var applied []SchemaMigration
	if err := db.Order("version").Find(&applied).Error; err != nil {
		return fmt.Errorf("migrate: read applied steps: %w", err)
	}
	done := map[int]bool{}
	for _, a := range applied {
		done[a.Version] = true
	}
	fresh := len(applied) == 0 && !db.Migrator().HasTable(&Process{})
	if fresh {
		// An empty database gets today's models and every step as applied.
		if err := db.AutoMigrate(All()...); err != nil {
			return fmt.Errorf("migrate: create the schema: %w", err)
		}
		for _, m := range steps {
			if err := db.Create(&SchemaMigration{Version: m.Version, Name: m.Name, AppliedAt: time.Now().UTC()}).Error; err != nil {
				return fmt.Errorf("migrate: record step %d: %w", m.Version, err)
			}
		}
		return nil
	}
	for _, m := range steps {
		if done[m.Version] {
			continue
		}
		// MySQL commits DDL as it goes, so a step is not atomic there: steps are written to
		// be re-runnable (HasColumn / HasTable checks) in case one stops half-way.
		if err := m.Up(db); err != nil {
			return fmt.Errorf("migrate: step %d (%s): %w", m.Version, m.Name, err)
		}
		if err := db.Create(&SchemaMigration{Version: m.Version, Name: m.Name, AppliedAt: time.Now().UTC()}).Error; err != nil {
			return fmt.Errorf("migrate: record step %d: %w", m.Version, err)
		}
	}
	return nil
}

// SchemaVersion is the highest step applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.DB.WithContext(ctx).Model(&SchemaMigration{}).Select("COALESCE(MAX(version), 0)").Scan(&v).Error
	return v, err
}
