package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

const mariadbInstallHint = "run `make tools`, or `apt-get install -y mariadb-server` " +
	"(only the mariadbd and mariadb-install-db binaries are used; no system service is needed)"

// The account tests connect with on a server started by this package.
const (
	mariadbUser     = "policyflow"
	mariadbPassword = "policyflow"
)

type mariadbInfo struct {
	serverDSN string        // DSN without a database
	cfg       *mysql.Config // parsed serverDSN
	admin     *sql.DB       // creates and drops the tests' databases
}

func startMariaDB(ctx context.Context, e *env, s *service) error {
	if dsn := os.Getenv(EnvMySQLDSN); dsn != "" {
		s.external = true
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			return fmt.Errorf("invalid $%s: %w", EnvMySQLDSN, err)
		}
		cfg.DBName = ""
		info, err := connectAdmin(ctx, nil, cfg)
		if err != nil {
			return fmt.Errorf("MySQL server at $%s=%s: %w", EnvMySQLDSN, dsn, err)
		}
		s.mariadb = info
		s.stopFn = func() { info.admin.Close() }
		return nil
	}

	sbinDirs := []string{"/usr/sbin", "/usr/local/sbin", "/usr/libexec", "/usr/local/mysql/bin", "/usr/bin", "/usr/local/bin"}
	mariadbd, err := lookBinary(EnvMariaDBD, []string{"mariadbd", "mysqld"}, sbinDirs)
	if err != nil {
		return fmt.Errorf("%s: %s", notFound("mariadbd", err, "mariadbd", sbinDirs[:2]), mariadbInstallHint)
	}
	binDirs := []string{filepath.Dir(mariadbd), "/usr/bin", "/usr/local/bin", "/usr/local/mysql/scripts"}
	installDB, err := lookBinary("", []string{"mariadb-install-db", "mysql_install_db"}, binDirs)
	if err != nil {
		return fmt.Errorf("%s: %s", notFound("mariadb-install-db", err, "mariadb-install-db", binDirs[:2]), mariadbInstallHint)
	}

	// A fresh data directory, with a root account without password.
	dataDir := filepath.Join(e.dir, "data", "mariadb")
	installLog := filepath.Join(e.dir, "mariadb-install.log")
	installArgs := append([]string{
		"--no-defaults", // must come first
		"--datadir=" + dataDir,
		// Not the shared /tmp: the bootstrap's temporary tables there have failed when
		// several test binaries install at once ("Could not remove temporary table").
		"--tmpdir=" + filepath.Join(e.dir, "data"),
		"--auth-root-authentication-method=normal",
		"--skip-test-db",
		"--skip-name-resolve",
	}, runAsArgs()...)
	p, err := startProcess("mariadb-install-db", installLog, installDB, installArgs, childEnv("MYSQL_", "MARIADB_"))
	if err != nil {
		return fmt.Errorf("%w: %s", err, mariadbInstallHint)
	}
	select {
	case <-p.done:
		if p.waitErr != nil {
			return withLog(fmt.Errorf("%s failed: %v", installDB, p.waitErr), installLog)
		}
	case <-ctx.Done():
		p.kill()
		return withLog(fmt.Errorf("%s: %w", installDB, ctx.Err()), installLog)
	}

	// Unix socket paths are limited to 107 bytes.
	socket := filepath.Join(e.dir, "data", "mariadb.sock")
	if len(socket) > 100 {
		socket = filepath.Join("/tmp", fmt.Sprintf("policyflow-mariadb-%d.sock", os.Getpid()))
	}
	s.logPath = filepath.Join(e.dir, "mariadb.log")
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		args := append([]string{
			"--no-defaults", // must come first: ignore /etc/mysql
			"--datadir=" + dataDir,
			"--socket=" + socket,
			"--pid-file=" + filepath.Join(e.dir, "data", "mariadb.pid"),
			"--tmpdir=" + filepath.Join(e.dir, "data"),
			"--port=" + itoa(port),
			"--bind-address=127.0.0.1",
			"--skip-networking=0",
			"--skip-name-resolve",
			// Like Debian's packaged server, so tests see production behaviour.
			"--character-set-server=utf8mb4",
			"--collation-server=utf8mb4_general_ci",
			"--default-time-zone=+00:00",
			"--max-connections=1000",
			// Durability is pointless for a throwaway server; speed is not.
			"--innodb-flush-log-at-trx-commit=0",
			"--innodb-doublewrite=0",
			"--innodb-buffer-pool-size=64M",
		}, runAsArgs()...)
		p, err := startProcess("mariadbd", s.logPath, mariadbd, args, childEnv("MYSQL_", "MARIADB_"))
		if err != nil {
			return fmt.Errorf("%w: %s", err, mariadbInstallHint)
		}
		s.proc = p
		rootCfg := mysql.NewConfig()
		rootCfg.User = "root"
		rootCfg.Net = "tcp"
		rootCfg.Addr = "127.0.0.1:" + itoa(port)
		info, err := connectAdmin(ctx, p, rootCfg)
		if err == nil {
			err = createTestUser(ctx, info.admin)
			info.admin.Close()
		}
		if err == nil {
			cfg := rootCfg.Clone()
			cfg.User, cfg.Passwd = mariadbUser, mariadbPassword
			info, err = connectAdmin(ctx, p, cfg)
		}
		if err == nil {
			s.mariadb = info
			s.ports = []int{port}
			// The data directory keeps the test user and the tests' databases.
			s.relaunch = relaunchWith(s, "mariadbd", mariadbd, args, childEnv("MYSQL_", "MARIADB_"), info.admin.PingContext)
			s.stopFn = func() {
				info.admin.Close()
				if !strings.HasPrefix(socket, e.dir) {
					_ = os.Remove(socket)
				}
			}
			return nil
		}
		p.kill()
		s.proc = nil
		if isExitedEarly(err) && attempt < 3 && ctx.Err() == nil {
			continue // most likely another test binary took the port
		}
		return withLog(err, s.logPath)
	}
}

// runAsArgs is --user=root when running as root, which mariadbd otherwise
// refuses to do.
func runAsArgs() []string {
	if os.Geteuid() != 0 {
		return nil
	}
	name := "root"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return []string{"--user=" + name}
}

// connectAdmin opens a small pool on the server described by cfg and waits
// until it answers.
func connectAdmin(ctx context.Context, p *process, cfg *mysql.Config) (*mariadbInfo, error) {
	cfg = cfg.Clone()
	cfg.DBName = ""
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	// DROP DATABASE waits for locks held by connections a test left open;
	// don't let it wait forever.
	cfg.Params["lock_wait_timeout"] = "20"
	cfg.Timeout = 5 * time.Second
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(4)
	if err := waitReady(ctx, p, db.PingContext); err != nil {
		db.Close()
		return nil, err
	}
	server := cfg.Clone()
	delete(server.Params, "lock_wait_timeout")
	server.Timeout = 0
	return &mariadbInfo{serverDSN: server.FormatDSN(), cfg: server, admin: db}, nil
}

func createTestUser(ctx context.Context, db *sql.DB) error {
	for _, q := range []string{
		"CREATE USER '" + mariadbUser + "'@'%' IDENTIFIED BY '" + mariadbPassword + "'",
		"GRANT ALL PRIVILEGES ON *.* TO '" + mariadbUser + "'@'%' WITH GRANT OPTION",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// MariaDB creates an empty database (utf8mb4) for this test on the shared
// MariaDB server and returns a go-sql-driver/mysql DSN for it, like
//
//	policyflow:policyflow@tcp(127.0.0.1:40123)/testdb_mytest_1a2b3c4d?charset=utf8mb4&loc=UTC&parseTime=true
//
// The database is dropped when the test ends; close your connections to it
// in a t.Cleanup registered after calling MariaDB. It fails tb if MariaDB is
// unavailable.
func MariaDB(tb testing.TB) string {
	tb.Helper()
	s := get(tb, NeedMariaDB)
	info := s.mariadb
	name := testDBName(tb.Name())
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	if _, err := info.admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"); err != nil {
		tb.Fatalf("testenv: creating database %s on %s: %v", name, info.cfg.Addr, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
		defer cancel()
		if _, err := info.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			tb.Logf("testenv: could not drop database %s: %v (does the test leave a transaction open?)", name, err)
		}
	})
	tb.Log(s.describe("MariaDB at " + info.cfg.Addr + ", database " + name))
	return databaseDSN(info.cfg, name)
}

// databaseDSN returns the DSN for database name on the server of cfg, with
// the parameters policyflow uses spelled out (FormatDSN would omit loc=UTC,
// the driver's default).
func databaseDSN(server *mysql.Config, name string) string {
	cfg := server.Clone()
	cfg.DBName = name
	cfg.ParseTime, cfg.Loc = false, time.UTC
	for _, k := range []string{"parseTime", "loc", "charset"} {
		delete(cfg.Params, k)
	}
	dsn := cfg.FormatDSN()
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "parseTime=true&loc=UTC&charset=utf8mb4"
}

// MySQLDSN returns a DSN like the one MariaDB returns, for database dbName
// on the MariaDB server (which the caller creates and drops).
func (s *Services) MySQLDSN(dbName string) string {
	cfg, err := mysql.ParseDSN(s.MySQLServerDSN)
	if err != nil {
		panic("testenv: invalid MySQLServerDSN: " + err.Error())
	}
	return databaseDSN(cfg, dbName)
}

// testDBName makes a database name from a test name: testdb_<name>_<random>,
// at most 64 characters of [a-z0-9_].
func testDBName(testName string) string {
	var b strings.Builder
	lastUnderscore := true
	for _, r := range strings.ToLower(testName) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			lastUnderscore = false
		} else if !lastUnderscore {
			b.WriteByte('_')
			lastUnderscore = true
		}
	}
	base := strings.Trim(b.String(), "_")
	if len(base) > 40 {
		base = strings.TrimRight(base[:40], "_")
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	if base == "" {
		return "testdb_" + hex.EncodeToString(rnd[:])
	}
	return "testdb_" + base + "_" + hex.EncodeToString(rnd[:])
}
