package models_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/internal/testenv"
	"github.com/policyflow/policyflow/models"
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.NeedMariaDB))
}

// each runs f on a fresh SQLite and a fresh MariaDB database.
func each(t *testing.T, f func(t *testing.T, s *models.Store)) {
	for _, name := range []string{"sqlite", "mariadb"} {
		t.Run(name, func(t *testing.T) {
			url := "sqlite://" + filepath.Join(t.TempDir(), "m.db")
			if name == "mariadb" {
				url = "mysql://" + testenv.MariaDB(t)
			}
			s, err := models.Open(url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			f(t, s)
		})
	}
}

func TestFreshDatabaseGetsEverything(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		for range 2 { // the second run changes nothing
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range models.All() {
			if !s.DB.Migrator().HasTable(m) {
				t.Errorf("no table for %T", m)
			}
		}
		v, err := s.SchemaVersion(ctx)
		if err != nil || v != models.Migrations[len(models.Migrations)-1].Version {
			t.Errorf("schema version %d, %v", v, err)
		}
	})
}

// A database at an older version runs the newer steps, once, in order.
func TestStepsRunForward(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.MigrateWith(ctx, models.Migrations); err != nil {
			t.Fatal(err)
		}
		// The test's own steps come after the last real one.
		last := models.Migrations[len(models.Migrations)-1].Version
		var ran []int
		steps := append(append([]models.Migration{}, models.Migrations...),
			models.Migration{Version: last + 1, Name: "add a column", Up: func(tx *gorm.DB) error {
				ran = append(ran, last+1)
				return tx.Exec("ALTER TABLE processes ADD COLUMN note_for_test VARCHAR(20)").Error
			}},
			models.Migration{Version: last + 2, Name: "fill it", Up: func(tx *gorm.DB) error {
				ran = append(ran, last+2)
				return tx.Exec("UPDATE processes SET note_for_test = 'x'").Error
			}})
		for range 2 {
			if err := s.MigrateWith(ctx, steps); err != nil {
				t.Fatal(err)
			}
		}
		if len(ran) != 2 || ran[0] != last+1 || ran[1] != last+2 {
			t.Errorf("steps ran %v, want [%d %d] once", ran, last+1, last+2)
		}
		if !s.DB.Migrator().HasColumn(&models.Process{}, "note_for_test") {
			t.Errorf("step %d did not change the schema", last+1)
		}
		if v, _ := s.SchemaVersion(ctx); v != last+2 {
			t.Errorf("schema version %d, want %d", v, last+2)
		}
		// A failing step stops there and is not recorded.
		bad := append(steps, models.Migration{Version: last + 3, Name: "broken", Up: func(tx *gorm.DB) error {
			return tx.Exec("ALTER TABLE no_such_table ADD COLUMN x INT").Error
		}})
		if err := s.MigrateWith(ctx, bad); err == nil {
			t.Fatal("a failing step was not reported")
		}
		if v, _ := s.SchemaVersion(ctx); v != last+2 {
			t.Errorf("a failed step was recorded: version %d", v)
		}
	})
}

// The indexes of version 1 that step 2 replaces, as the models declared them then.
var v1Indexes = []struct{ table, name, columns string }{
	{"processes", "idx_process_kind_created", "kind, created_at"},
	{"processes", "idx_processes_status", "status"},
	{"processes", "idx_processes_department_id", "department_id"},
	{"processes", "idx_processes_requester_id", "requester_id"},
	{"processes", "idx_processes_employee_id", "employee_id"},
	{"tasks", "idx_tasks_process_id", "process_id"},
	{"decisions", "idx_decisions_process_id", "process_id"},
}

// indexes lists every index of every model's table: "table name (columns)", sorted.
func indexes(t *testing.T, s *models.Store) []string {
	t.Helper()
	var out []string
	for _, m := range models.All() {
		ixs, err := s.DB.Session(&gorm.Session{Logger: logger.Discard}).Migrator().GetIndexes(m)
		if err != nil {
			t.Fatal(err)
		}
		stmt := &gorm.Statement{DB: s.DB}
		if err := stmt.Parse(m); err != nil {
			t.Fatal(err)
		}
		for _, ix := range ixs {
			if pk, _ := ix.PrimaryKey(); pk {
				continue
			}
			unique, _ := ix.Unique()
			out = append(out, fmt.Sprintf("%s %s (%s) unique=%v", stmt.Table, ix.Name(), strings.Join(ix.Columns(), ", "), unique))
		}
	}
	sort.Strings(out)
	return out
}

// A database migrated from version 1 ends with the indexes a fresh one gets from the
// models, and the lists' queries read them.
func TestMigratedIndexesMatchFresh(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		fresh := indexes(t, s)
		for _, want := range []string{
			"processes idx_process_list (created_at, id) unique=false",
			"processes idx_process_list_employee (employee_id, created_at, id) unique=false",
			"tasks idx_task_process (process_id, created_at, id) unique=false",
		} {
			if !slices.Contains(fresh, want) {
				t.Errorf("a fresh database lacks %s; it has\n%s", want, strings.Join(fresh, "\n"))
			}
		}

		// Back to version 1: its indexes instead of step 2's, and only step 1 recorded.
		m := s.DB.Migrator()
		for _, name := range []string{"idx_process_list", "idx_process_list_kind", "idx_process_list_status", "idx_process_list_department", "idx_process_list_requester", "idx_process_list_employee"} {
			if err := m.DropIndex(&models.Process{}, name); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.DropIndex(&models.Task{}, "idx_task_process"); err != nil {
			t.Fatal(err)
		}
		if err := m.DropIndex(&models.Decision{}, "idx_decision_process"); err != nil {
			t.Fatal(err)
		}
		for _, ix := range v1Indexes {
			if err := s.DB.Exec(fmt.Sprintf("CREATE INDEX %s ON %s (%s)", ix.name, ix.table, ix.columns)).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DB.Where("version > 1").Delete(&models.SchemaMigration{}).Error; err != nil {
			t.Fatal(err)
		}
		if slices.Equal(indexes(t, s), fresh) {
			t.Fatal("the version 1 indexes were not restored")
		}
		for range 2 { // the second run changes nothing
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := indexes(t, s); !slices.Equal(got, fresh) {
			t.Errorf("migrated indexes differ from a fresh database's:\nmigrated:\n%s\nfresh:\n%s", strings.Join(got, "\n"), strings.Join(fresh, "\n"))
		}
		// Step 2 is re-runnable: half done (new indexes made, old ones left), it finishes.
		for _, ix := range v1Indexes[:2] {
			if err := s.DB.Exec(fmt.Sprintf("CREATE INDEX %s ON %s (%s)", ix.name, ix.table, ix.columns)).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := models.Migrations[1].Up(s.DB); err != nil {
			t.Fatal(err)
		}
		if got := indexes(t, s); !slices.Equal(got, fresh) {
			t.Errorf("step 2 run again left:\n%s", strings.Join(got, "\n"))
		}
	})
}

// Step 5 gives API tokens an expiry and revokes the admin token that dev mode used to write
// into whatever database it was pointed at (issue 15); other tokens keep working. Run on a
// database from before it, twice, and once more by hand (re-runnable).
func TestTokenExpiryStep(t *testing.T) {
	if models.DemoTokenHash != activities.HashToken("dev-admin-token") {
		t.Fatalf("DemoTokenHash is not the hash of dev-admin-token")
	}
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		// Back to before step 5: no expiry column, the demo token stored as dev mode did.
		if err := s.DB.Migrator().DropColumn(&models.APIToken{}, "ExpiresAt"); err != nil {
			t.Fatal(err)
		}
		if err := s.DB.Where("version = 5").Delete(&models.SchemaMigration{}).Error; err != nil {
			t.Fatal(err)
		}
		for _, tok := range []struct{ name, hash string }{
			{models.DemoTokenName, activities.HashToken("a custom POLICYFLOW_DEV_TOKEN")},
			{"copied-demo", models.DemoTokenHash},
			{"hr-system", activities.HashToken("hr-system-token")},
		} {
			if err := s.DB.Exec("INSERT INTO api_tokens (name, hash, scopes, created_at) VALUES (?, ?, 'admin', ?)", tok.name, tok.hash, time.Now().UTC()).Error; err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := models.Migrations[len(models.Migrations)-1].Up(s.DB); err != nil {
			t.Fatalf("step 5 again: %v", err)
		}
		if !s.DB.Migrator().HasColumn(&models.APIToken{}, "ExpiresAt") {
			t.Fatal("step 5 added no expires_at column")
		}
		for name, hash := range map[string]string{
			models.DemoTokenName: activities.HashToken("a custom POLICYFLOW_DEV_TOKEN"),
			"copied-demo":        models.DemoTokenHash,
		} {
			if _, err := s.TokenByHash(ctx, hash); err != models.ErrNotFound {
				t.Errorf("%s: the demo token still works after step 5 (err %v)", name, err)
			}
		}
		tok, err := s.TokenByHash(ctx, activities.HashToken("hr-system-token"))
		if err != nil || !tok.ActiveAt(time.Now()) {
			t.Errorf("an ordinary token no longer works after step 5: %+v %v", tok, err)
		}
	})
}
