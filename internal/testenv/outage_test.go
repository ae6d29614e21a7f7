package testenv_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-mail/mail"
	"github.com/go-sql-driver/mysql"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/internal/testenv"
)

// The outage tests are not parallel: they stop services the other tests use
// (the parallel tests run after them).

// refused reports whether a TCP connection to addr is refused, as it is by a
// stopped server whose port testenv holds.
func refused(t *testing.T, addr string) bool {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

func TestStopStartMariaDB(t *testing.T) {
	dsn := testenv.MariaDB(t)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TABLE kept (x VARCHAR(20))"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO kept VALUES ('before')"); err != nil {
		t.Fatal(err)
	}

	testenv.Stop(t, testenv.NeedMariaDB)
	if !refused(t, cfg.Addr) {
		t.Errorf("MariaDB's port %s accepts connections while stopped", cfg.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err == nil {
		t.Error("ping succeeded while MariaDB is stopped")
	}
	testenv.Start(t, testenv.NeedMariaDB)

	// The same pool, on the same address, finds the data.
	var x string
	if err := db.QueryRow("SELECT x FROM kept").Scan(&x); err != nil || x != "before" {
		t.Fatalf("after the restart: %q, %v", x, err)
	}
	if other := testenv.MariaDB(t); !strings.Contains(other, cfg.Addr) {
		t.Errorf("a new database after the restart is at %s, not %s", other, cfg.Addr)
	}
}

func TestStopStartMailpit(t *testing.T) {
	mp := testenv.Mailpit(t)
	to := fmt.Sprintf("outage-%d@town.example.jp", time.Now().UnixNano())
	send := func() error {
		msg := mail.NewMessage()
		msg.SetHeader("From", "policyflow@town.example.jp")
		msg.SetHeader("To", to)
		msg.SetHeader("Subject", "停止前")
		msg.SetBody("text/plain", "kept")
		return mail.NewDialer(mp.SMTPHost, mp.SMTPPort, "", "").DialAndSend(msg)
	}
	if err := send(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := mp.WaitFor(ctx, func(m testenv.Message) bool { return m.SentTo(to) }); err != nil {
		t.Fatal(err)
	}

	testenv.Stop(t, testenv.NeedMailpit)
	if err := send(); err == nil {
		t.Error("mail accepted while Mailpit is stopped")
	}
	if !refused(t, net.JoinHostPort(mp.SMTPHost, fmt.Sprint(mp.SMTPPort))) {
		t.Error("the SMTP port accepts connections while Mailpit is stopped")
	}
	testenv.Start(t, testenv.NeedMailpit)

	// The message received before the outage is still there.
	list, err := mp.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range list {
		for _, a := range m.To {
			if a.Address == to {
				n++
			}
		}
	}
	if n != 1 {
		t.Errorf("after the restart the mailbox has %d message(s) to %s, want 1", n, to)
	}
}

func waitForSignal(ctx workflow.Context) (string, error) {
	var s string
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, &s)
	return "got " + s, nil
}

func TestStopStartTemporal(t *testing.T) {
	c := testenv.TemporalClient(t)
	addr := testenv.TemporalAddress(t)
	taskQueue := fmt.Sprintf("outage-%d", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: taskQueue, TaskQueue: taskQueue}, waitForSignal)
	if err != nil {
		t.Fatal(err)
	}

	testenv.Stop(t, testenv.NeedTemporal)
	if !refused(t, addr) {
		t.Errorf("Temporal's port %s accepts connections while stopped", addr)
	}
	testenv.Start(t, testenv.NeedTemporal)

	// The workflow started before the outage is still there, and runs on.
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(waitForSignal)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if err := c.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), "go", "on"); err != nil {
		t.Fatalf("signal after the restart: %v", err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil || got != "got on" {
		t.Fatalf("workflow result after the restart: %q, %v", got, err)
	}
}
