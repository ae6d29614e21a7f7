package testenv_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-mail/mail"
	_ "github.com/go-sql-driver/mysql"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/internal/testenv"
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.NeedTemporal, testenv.NeedMariaDB, testenv.NeedMailpit))
}

func TestMariaDB(t *testing.T) {
	t.Parallel()
	dsn := testenv.MariaDB(t)
	if !strings.Contains(dsn, "parseTime=true") || !strings.Contains(dsn, "loc=UTC") || !strings.Contains(dsn, "charset=utf8mb4") {
		t.Errorf("DSN %q lacks parseTime=true, loc=UTC or charset=utf8mb4", dsn)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var one int
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	var tables int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("fresh database has %d tables", tables)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE policies (id BIGINT AUTO_INCREMENT PRIMARY KEY, title VARCHAR(200) NOT NULL, created_at DATETIME(6) NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	const title = "情報セキュリティ基本方針 🔒"
	if _, err := db.ExecContext(ctx, "INSERT INTO policies (title, created_at) VALUES (?, ?)", title, now); err != nil {
		t.Fatal(err)
	}
	var gotTitle string
	var gotTime time.Time
	if err := db.QueryRowContext(ctx, "SELECT title, created_at FROM policies").Scan(&gotTitle, &gotTime); err != nil {
		t.Fatal(err)
	}
	if gotTitle != title || !gotTime.Equal(now) || gotTime.Location() != time.UTC {
		t.Errorf("read back (%q, %v), want (%q, %v)", gotTitle, gotTime, title, now)
	}
}

func TestMariaDBDatabasesAreSeparate(t *testing.T) {
	t.Parallel()
	a, b := testenv.MariaDB(t), testenv.MariaDB(t)
	if a == b {
		t.Fatalf("two calls returned the same DSN %q", a)
	}
	dbA, err := sql.Open("mysql", a)
	if err != nil {
		t.Fatal(err)
	}
	defer dbA.Close()
	if _, err := dbA.Exec("CREATE TABLE t (x INT)"); err != nil {
		t.Fatal(err)
	}
	dbB, err := sql.Open("mysql", b)
	if err != nil {
		t.Fatal(err)
	}
	defer dbB.Close()
	if _, err := dbB.Exec("CREATE TABLE t (x INT)"); err != nil {
		t.Fatalf("table of one database visible in the other: %v", err)
	}
}

func TestTemporal(t *testing.T) {
	t.Parallel()
	c := testenv.TemporalClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if _, err := c.CheckHealth(ctx, nil); err != nil {
		t.Fatalf("CheckHealth: %v", err)
	}
	ns := testenv.TemporalNamespace(t)
	desc, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	if err != nil {
		t.Fatalf("DescribeNamespace: %v", err)
	}
	if got := desc.GetNamespaceInfo().GetName(); got != ns {
		t.Errorf("namespace name = %q, want %q", got, ns)
	}
	sas, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		t.Fatalf("ListSearchAttributes: %v", err)
	}
	for _, name := range []string{"PolicyProcess", "PolicyStage", "Department"} {
		if typ := sas.GetCustomAttributes()[name]; typ != enums.INDEXED_VALUE_TYPE_KEYWORD {
			t.Errorf("search attribute %s has type %v, want Keyword (all: %v)", name, typ, sas.GetCustomAttributes())
		}
	}
}

var policyProcessKey = temporal.NewSearchAttributeKeyKeyword("PolicyProcess")

func approvalWorkflow(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	if err := workflow.UpsertTypedSearchAttributes(ctx, policyProcessKey.ValueSet("approval")); err != nil {
		return "", err
	}
	if err := workflow.Sleep(ctx, 10*time.Millisecond); err != nil {
		return "", err
	}
	var out string
	err := workflow.ExecuteActivity(ctx, greet, name).Get(ctx, &out)
	return out, err
}

func greet(_ context.Context, name string) (string, error) { return "approved: " + name, nil }

// TestTemporalWorkflow runs a workflow with an activity, a timer and a search
// attribute, and finds it by the search attribute.
func TestTemporalWorkflow(t *testing.T) {
	t.Parallel()
	c := testenv.TemporalClient(t)
	taskQueue := fmt.Sprintf("testenv-%d", time.Now().UnixNano())
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(approvalWorkflow)
	w.RegisterActivity(greet)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: taskQueue, TaskQueue: taskQueue}, approvalWorkflow, "情報セキュリティ")
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	t.Logf("workflow with an activity and a 10ms timer took %v", time.Since(start))
	if got != "approved: 情報セキュリティ" {
		t.Errorf("result = %q", got)
	}

	query := fmt.Sprintf("WorkflowId = '%s' AND PolicyProcess = 'approval'", taskQueue)
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			t.Fatalf("ListWorkflow(%q): %v", query, err)
		}
		if len(resp.GetExecutions()) == 1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("ListWorkflow(%q) did not find the workflow", query)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestMailpit(t *testing.T) {
	t.Parallel()
	mp := testenv.Mailpit(t)
	to := fmt.Sprintf("kacho-%d@town.example.jp", time.Now().UnixNano())
	link := "https://policyflow.example.jp/approve?id=42&token=abc"

	msg := mail.NewMessage()
	msg.SetHeader("From", "policyflow@town.example.jp")
	msg.SetHeader("To", to)
	msg.SetHeader("Subject", "承認依頼: 情報セキュリティポリシー改定")
	msg.SetBody("text/plain", "次のリンクから承認してください: "+link+"。\nよろしくお願いします。")
	msg.AddAlternative("text/html", `<p><a href="`+link+`">承認する</a></p>`)
	d := mail.NewDialer(mp.SMTPHost, mp.SMTPPort, "", "")
	if err := d.DialAndSend(msg); err != nil {
		t.Fatalf("sending mail to %s:%d: %v", mp.SMTPHost, mp.SMTPPort, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := mp.WaitFor(ctx, func(m testenv.Message) bool { return m.SentTo(to) })
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "承認依頼: 情報セキュリティポリシー改定" {
		t.Errorf("Subject = %q", got.Subject)
	}
	if links := testenv.Links(got.Text); !reflect.DeepEqual(links, []string{link}) {
		t.Errorf("Links(Text) = %q, want [%q]; text:\n%s", links, link, got.Text)
	}
	if !strings.Contains(got.HTML, "承認する") {
		t.Errorf("HTML = %q", got.HTML)
	}
	if got.From == nil || got.From.Address != "policyflow@town.example.jp" {
		t.Errorf("From = %v", got.From)
	}

	list, err := mp.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range list {
		found = found || s.ID == got.ID
	}
	if !found {
		t.Errorf("Messages() = %v lacks message %s", list, got.ID)
	}

	// A message that never comes: WaitFor gives up with the context.
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if _, err := mp.WaitFor(short, func(m testenv.Message) bool { return m.SentTo("nobody@town.example.jp") }); err == nil {
		t.Error("WaitFor for a message never sent succeeded")
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	s := testenv.Get(t)
	if s.TemporalHostPort == "" || s.TemporalNamespace == "" || s.MySQLServerDSN == "" ||
		s.SMTPHost == "" || s.SMTPPort == 0 || s.MailpitURL == "" {
		t.Errorf("Get() = %+v has empty fields", s)
	}
	if dsn := s.MySQLDSN("x"); !strings.Contains(dsn, "/x?parseTime=true&loc=UTC&charset=utf8mb4") {
		t.Errorf("MySQLDSN(x) = %q", dsn)
	}
}

func TestLinks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"no links here", nil},
		{"see https://a.example/x.", []string{"https://a.example/x"}},
		{"(https://a.example/x) and http://b.example:8080/p?q=1&r=2,", []string{"https://a.example/x", "http://b.example:8080/p?q=1&r=2"}},
		{"https://ja.example/wiki/Foo_(bar) end", []string{"https://ja.example/wiki/Foo_(bar)"}},
		{"承認はこちらhttps://pf.example.jp/a/b?t=x%20yから", []string{"https://pf.example.jp/a/b?t=x%20y"}},
		{"<https://pf.example.jp/z>", []string{"https://pf.example.jp/z"}},
		{"not a link: https:// or ftp://x.example", nil},
	} {
		if got := testenv.Links(tc.text); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Links(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
