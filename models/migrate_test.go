package models_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"gorm.io/gorm"

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
		var ran []int
		steps := append(append([]models.Migration{}, models.Migrations...),
			models.Migration{Version: 2, Name: "add a column", Up: func(tx *gorm.DB) error {
				ran = append(ran, 2)
				return tx.Exec("ALTER TABLE processes ADD COLUMN note_for_test VARCHAR(20)").Error
			}},
			models.Migration{Version: 3, Name: "fill it", Up: func(tx *gorm.DB) error {
				ran = append(ran, 3)
				return tx.Exec("UPDATE processes SET note_for_test = 'x'").Error
			}})
		for range 2 {
			if err := s.MigrateWith(ctx, steps); err != nil {
				t.Fatal(err)
			}
		}
		if len(ran) != 2 || ran[0] != 2 || ran[1] != 3 {
			t.Errorf("steps ran %v, want [2 3] once", ran)
		}
		if !s.DB.Migrator().HasColumn(&models.Process{}, "note_for_test") {
			t.Error("step 2 did not change the schema")
		}
		if v, _ := s.SchemaVersion(ctx); v != 3 {
			t.Errorf("schema version %d, want 3", v)
		}
		// A failing step stops there and is not recorded.
		bad := append(steps, models.Migration{Version: 4, Name: "broken", Up: func(tx *gorm.DB) error {
			return tx.Exec("ALTER TABLE no_such_table ADD COLUMN x INT").Error
		}})
		if err := s.MigrateWith(ctx, bad); err == nil {
			t.Fatal("a failing step was not reported")
		}
		if v, _ := s.SchemaVersion(ctx); v != 3 {
			t.Errorf("a failed step was recorded: version %d", v)
		}
	})
}
