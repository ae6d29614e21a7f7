package activities_test

import (
	"context"
	"errors"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/internal/testenv"
	"github.com/policyflow/policyflow/models"
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.NeedMariaDB))
}

// stores runs f against SQLite (dev mode) and MariaDB (production's MySQL family).
func stores(t *testing.T, f func(t *testing.T, store *models.Store)) {
	for _, name := range []string{"sqlite", "mariadb"} {
		t.Run(name, func(t *testing.T) {
			url := "sqlite://" + filepath.Join(t.TempDir(), "test.db")
			if name == "mariadb" {
				url = "mysql://" + testenv.MariaDB(t)
			}
			store, err := models.Open(url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() })
			if err := store.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			f(t, store)
		})
	}
}

// mailbox is a Mailer that keeps what it was asked to send, and can be made to fail.
type mailbox struct {
	mu   sync.Mutex
	sent []activities.Message
	fail error
}

func (m *mailbox) Send(_ context.Context, msg activities.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.sent = append(m.sent, msg)
	return nil
}

func setup(t *testing.T, store *models.Store) (*activities.Activities, *mailbox, activities.TaskSpec) {
	ctx := context.Background()
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	people := []models.Person{
		{EmployeeID: "C1", Name: "山田 花子", Email: "ciso@town.example", DepartmentID: "mayor", Locale: "ja", Status: models.StatusEmployed,
			Roles: []models.PersonRole{{EmployeeID: "C1", Role: "ciso"}}},
		{EmployeeID: "G1", Name: "Ichiro Sato", Email: "giso@town.example", DepartmentID: "general", Locale: "en", Status: models.StatusEmployed,
			Roles: []models.PersonRole{{EmployeeID: "G1", Role: "giso"}}},
	}
	if _, err := store.PutPeople(ctx, people); err != nil {
		t.Fatal(err)
	}
	p := models.Process{ID: "EXC-1", Kind: "exception", Status: "pending", Stage: "ciso_review", WorkflowID: "EXC-1", Summary: "Exception to §6.2(1)"}
	if err := store.CreateProcess(ctx, &p); err != nil {
		t.Fatal(err)
	}
	mb := &mailbox{}
	a := &activities.Activities{Store: store, Mailer: mb, PublicURL: "https://policyflow.town.example", Loc: tokyo}
	due := time.Date(2026, 5, 8, 8, 15, 0, 0, time.UTC)
	spec := activities.TaskSpec{ID: "EXC-1/ciso_review/1", ProcessID: "EXC-1", WorkflowID: "EXC-1", Step: "ciso_review",
		Title: activities.Text{Ja: "例外措置申請の審査", En: "Review an exception request"}, AssigneeID: "C1",
		Choices: []string{"approve", "reject"}, DueAt: due, ExpiresAt: due.Add(72 * time.Hour)}
	return a, mb, spec
}

func links(t *testing.T, store *models.Store) []models.TaskLink {
	var ls []models.TaskLink
	if err := store.DB.Find(&ls).Error; err != nil {
		t.Fatal(err)
	}
	return ls
}

// An activity retried after it sent its mail sends no second one (TASK-ENGINE.md 6).
func TestOpenTaskRetriedSendsOneMail(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		a, mb, spec := setup(t, store)
		ctx := context.Background()
		for range 3 {
			if err := a.OpenTask(ctx, spec); err != nil {
				t.Fatal(err)
			}
		}
		if len(mb.sent) != 1 {
			t.Fatalf("sent %d mails, want 1", len(mb.sent))
		}
		m := mb.sent[0]
		if m.To != "ciso@town.example" || !strings.Contains(m.Subject, "例外措置申請の審査") || !strings.Contains(m.Text, "https://policyflow.town.example/tasks/") || !strings.Contains(m.HTML, "/tasks/") {
			t.Errorf("mail = %+v", m)
		}
		if !strings.Contains(m.Text, "2026-05-08 17:15 JST") {
			t.Errorf("the deadline is not shown in Tokyo time:\n%s", m.Text)
		}
		ls := links(t, store)
		if len(ls) != 1 || ls[0].PersonID != "C1" {
			t.Fatalf("links = %+v", ls)
		}
		token := m.Text[strings.Index(m.Text, "/tasks/")+7:]
		token = token[:strings.IndexAny(token, "\n ")]
		if activities.HashToken(token) != ls[0].TokenHash || strings.Contains(ls[0].TokenHash, token) {
			t.Error("the link is not stored as the token's hash")
		}
		var n []models.Notification
		store.DB.Find(&n)
		if len(n) != 1 || n[0].Status != models.NotificationSent || n[0].SentAt == nil || n[0].TaskID != spec.ID {
			t.Errorf("notifications = %+v", n)
		}
	})
}

// A mail server outage fails the activity (to be retried); the retry sends one mail with
// a fresh link. The links prepared for mails that never went out are known to nobody: each
// retry replaces the last one's, so however long the outage, one link row is left.
func TestOpenTaskAfterMailOutage(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		a, mb, spec := setup(t, store)
		ctx := context.Background()
		mb.fail = errors.New("dial tcp 192.0.2.25:25: connect: connection refused")
		for i := range 5 {
			err := a.OpenTask(ctx, spec)
			if err == nil {
				t.Fatal("OpenTask succeeded with the mail server down")
			}
			var app *temporal.ApplicationError
			if errors.As(err, &app) && app.NonRetryable() {
				t.Fatalf("an outage is not retried: %v", err)
			}
			if ls := links(t, store); len(ls) != 1 {
				t.Fatalf("after attempt %d: %d link rows, want 1", i+1, len(ls))
			}
		}
		mb.fail = nil
		if err := a.OpenTask(ctx, spec); err != nil {
			t.Fatal(err)
		}
		after := links(t, store)
		if len(mb.sent) != 1 || len(after) != 1 || !strings.Contains(mb.sent[0].Text, "/tasks/") {
			t.Fatalf("sent %d, links after %v", len(mb.sent), after)
		}
		token := mb.sent[0].Text[strings.Index(mb.sent[0].Text, "/tasks/")+7:]
		token = token[:strings.IndexAny(token, "\n ")]
		if activities.HashToken(token) != after[0].TokenHash {
			t.Error("the link left is not the one mailed")
		}
		var n models.Notification
		store.DB.First(&n)
		if n.Attempts != 6 || n.Status != models.NotificationSent {
			t.Errorf("notification = %+v", n)
		}
	})
}

// A temporary refusal (451) is retried like an outage, and its error carries the reply code,
// not the server's text, which names the address.
func TestOpenTaskTemporaryRefusal(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		a, mb, spec := setup(t, store)
		spec.FailUndeliverable = true
		ctx := context.Background()
		mb.fail = &textproto.Error{Code: 451, Msg: "4.7.1 <ciso@town.example>: Recipient address rejected: greylisted"}
		for range 3 {
			err := a.OpenTask(ctx, spec)
			var app *temporal.ApplicationError
			if err == nil || (errors.As(err, &app) && app.NonRetryable()) {
				t.Fatalf("a 451 is not retried: %v", err)
			}
			if strings.Contains(err.Error(), "ciso@") || strings.Contains(err.Error(), "greylisted") || !strings.Contains(err.Error(), "451 4.7.1") {
				t.Errorf("error = %q, want the code without the server's text", err)
			}
		}
		if ls := links(t, store); len(ls) != 1 {
			t.Errorf("%d link rows, want 1", len(ls))
		}
		var p models.Person
		store.DB.First(&p, "employee_id = ?", "C1")
		if p.UndeliverableAt != nil {
			t.Error("a temporary refusal flagged the address")
		}
	})
}

// A permanent refusal (550) is a fact, not an outage: the activity fails for good with
// ErrUndeliverable (no address in it), the task row is there for the escalation, the person
// is flagged in the directory until their address changes, the timeline says so, and one
// link row is left however often it runs.
func TestOpenTaskRefusedForGood(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		a, mb, spec := setup(t, store)
		spec.FailUndeliverable = true
		ctx := context.Background()
		mb.fail = &textproto.Error{Code: 550, Msg: "5.1.1 <ciso@town.example>: Recipient address rejected: User unknown in virtual mailbox table"}
		for range 3 {
			err := a.OpenTask(ctx, spec)
			var app *temporal.ApplicationError
			if !errors.As(err, &app) || app.Type() != activities.ErrUndeliverable || !app.NonRetryable() {
				t.Fatalf("err = %v, want a non-retryable %s", err, activities.ErrUndeliverable)
			}
			if strings.Contains(err.Error(), "@") || strings.Contains(err.Error(), "User unknown") || !strings.Contains(err.Error(), "550 5.1.1") {
				t.Errorf("error = %q, want the code without the address or the server's text", err)
			}
		}
		var task models.Task
		if err := store.DB.First(&task, "id = ?", spec.ID).Error; err != nil || task.Status != models.TaskOpen {
			t.Fatalf("task row = %+v, %v", task, err)
		}
		if ls := links(t, store); len(ls) != 1 {
			t.Errorf("%d link rows, want 1", len(ls))
		}
		var n models.Notification
		store.DB.First(&n)
		if n.Status != models.NotificationUndeliverable {
			t.Errorf("notification = %+v", n)
		}
		var p models.Person
		store.DB.First(&p, "employee_id = ?", "C1")
		if p.UndeliverableAt == nil || p.UndeliverableWhy != "550 5.1.1" {
			t.Errorf("person flag = %v %q", p.UndeliverableAt, p.UndeliverableWhy)
		}
		var evs []models.ProcessEvent
		store.DB.Where("process_id = ?", "EXC-1").Find(&evs)
		if len(evs) != 1 || !strings.Contains(evs[0].Note, "C1 could not be delivered: permanent refusal (550 5.1.1)") || strings.Contains(evs[0].Note, "@") {
			t.Errorf("timeline = %+v", evs)
		}
		// The same name with the same address keeps the flag; a new address clears it.
		p.Roles = []models.PersonRole{{EmployeeID: "C1", Role: "ciso"}}
		if _, err := store.PutPeople(ctx, []models.Person{p}); err != nil {
			t.Fatal(err)
		}
		store.DB.First(&p, "employee_id = ?", "C1")
		if p.UndeliverableAt == nil {
			t.Error("the flag went without a new address")
		}
		p.Email = "c.yamada@town.example"
		if _, err := store.PutPeople(ctx, []models.Person{p}); err != nil {
			t.Fatal(err)
		}
		var fixed models.Person
		store.DB.First(&fixed, "employee_id = ?", "C1")
		if fixed.UndeliverableAt != nil || fixed.UndeliverableWhy != "" {
			t.Errorf("a new address kept the flag: %v %q", fixed.UndeliverableAt, fixed.UndeliverableWhy)
		}
	})
}

// A process that did not ask for ErrUndeliverable (one started before the change, or a
// notice) gets the refusal recorded and the mail given up: it goes on instead of retrying.
func TestNoticeRefusedForGoodIsGivenUp(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		a, mb, _ := setup(t, store)
		mb.fail = &textproto.Error{Code: 550, Msg: "5.2.1 mailbox disabled"}
		err := a.SendNotice(context.Background(), activities.Notice{Key: "EXC-1/exception_ending/G1", ProcessID: "EXC-1",
			RecipientID: "G1", Kind: activities.NoticeExceptionEnding, Params: map[string]string{"end_date": "2026-06-30"}})
		if err != nil {
			t.Fatalf("err = %v, want the notice given up", err)
		}
		var p models.Person
		store.DB.First(&p, "employee_id = ?", "G1")
		if p.UndeliverableWhy != "550 5.2.1" {
			t.Errorf("flag = %q", p.UndeliverableWhy)
		}
	})
}

// Reminders and escalations are mails of their own, once each, in the recipient's language;
// the escalation gives its recipient a link of their own.
func TestRemindAndEscalate(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		a, mb, spec := setup(t, store)
		ctx := context.Background()
		if err := a.OpenTask(ctx, spec); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := a.RemindTask(ctx, activities.TaskMail{TaskID: spec.ID, Kind: "reminder-1", RecipientID: "C1"}); err != nil {
				t.Fatal(err)
			}
			if err := a.EscalateTask(ctx, activities.TaskMail{TaskID: spec.ID, Kind: "escalation", RecipientID: "G1"}); err != nil {
				t.Fatal(err)
			}
		}
		if len(mb.sent) != 3 {
			t.Fatalf("sent %d mails, want 3", len(mb.sent))
		}
		if !strings.HasPrefix(mb.sent[1].Subject, "【リマインダー】") || !strings.HasPrefix(mb.sent[2].Subject, "[Escalation] ") || mb.sent[2].To != "giso@town.example" {
			t.Errorf("subjects %q, %q to %s", mb.sent[1].Subject, mb.sent[2].Subject, mb.sent[2].To)
		}
		var task models.Task
		store.DB.First(&task, "id = ?", spec.ID)
		if !task.Escalated || task.EscalatedToID != "G1" {
			t.Errorf("task = %+v", task)
		}
		owners := map[string]int{}
		for _, l := range links(t, store) {
			owners[l.PersonID]++
		}
		if owners["C1"] != 2 || owners["G1"] != 1 {
			t.Errorf("links per person = %v", owners)
		}
		// Once the task is decided, a late reminder sends nothing.
		if err := store.RecordDecision(ctx, models.Decision{TaskID: spec.ID, ProcessID: "EXC-1", Step: "ciso_review", Choice: "approve", DeciderID: "G1", DecidedAt: time.Now()}, "r1"); err != nil {
			t.Fatal(err)
		}
		if err := a.RemindTask(ctx, activities.TaskMail{TaskID: spec.ID, Kind: "reminder-2", RecipientID: "C1"}); err != nil {
			t.Fatal(err)
		}
		if len(mb.sent) != 3 {
			t.Errorf("a reminder went out for a decided task")
		}
	})
}

// A decision is recorded once however often the activity runs, with what the API stored.
func TestRecordDecisionJoinsTheRequest(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		a, _, spec := setup(t, store)
		ctx := context.Background()
		if err := a.OpenTask(ctx, spec); err != nil {
			t.Fatal(err)
		}
		req := models.DecisionRequest{RequestID: "req-1", TaskID: spec.ID, Choice: "approve", DeciderID: "C1", Comment: "承認します", ClientIP: "192.0.2.7", UserAgent: "Mozilla"}
		if err := store.SaveDecisionRequest(ctx, req); err != nil {
			t.Fatal(err)
		}
		rec := activities.DecisionRecord{TaskID: spec.ID, ProcessID: "EXC-1", Step: "ciso_review", Choice: "approve", DeciderID: "C1", RequestID: "req-1", DecidedAt: time.Now()}
		for range 2 {
			if err := a.RecordDecision(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
		var ds []models.Decision
		store.DB.Find(&ds)
		if len(ds) != 1 || ds[0].Comment != "承認します" || ds[0].ClientIP != "192.0.2.7" || ds[0].UserAgent != "Mozilla" {
			t.Fatalf("decisions = %+v", ds)
		}
		var task models.Task
		store.DB.First(&task, "id = ?", spec.ID)
		if task.Status != models.TaskDecided || task.ClosedAt == nil {
			t.Errorf("task = %+v", task)
		}
	})
}

func TestResolveRoster(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		a, _, _ := setup(t, store)
		ctx := context.Background()
		if _, err := store.PutPeople(ctx, []models.Person{{EmployeeID: "I1", Name: "ism", Email: "i@town.example", DepartmentID: "general", Status: models.StatusEmployed,
			Roles: []models.PersonRole{{EmployeeID: "I1", Role: "ism"}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := store.PutSystem(ctx, models.System{ID: "S1", Name: "s", DepartmentID: "general", ISMEmployeeID: "I1", Classification: 2}); err != nil {
			t.Fatal(err)
		}
		r, err := a.ResolveRoster(ctx, activities.RosterRequest{DepartmentID: "general", SystemIDs: []string{"S1", "S1"}})
		if err != nil {
			t.Fatal(err)
		}
		if r.CISO != "C1" || r.GISO != "G1" || r.DISO != "" || len(r.ISMs) != 1 || r.ISMs[0] != "I1" {
			t.Errorf("roster = %+v", r)
		}
		// A retired CISO no longer counts: the look-up fails (and is retried) until one exists.
		store.DB.Model(&models.Person{}).Where("employee_id = ?", "C1").Update("status", models.StatusRetired)
		if _, err := a.ResolveRoster(ctx, activities.RosterRequest{}); err == nil {
			t.Error("a roster without a CISO was accepted")
		}
	})
}

// The escalation of an unreachable assignee's task and the unreachable notice render in both
// languages and say why.
func TestUnreachableMailsRender(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		a, mb, spec := setup(t, store)
		ctx := context.Background()
		if err := a.OpenTask(ctx, spec); err != nil {
			t.Fatal(err)
		}
		if err := a.EscalateTask(ctx, activities.TaskMail{TaskID: spec.ID, Kind: activities.KindUnreachableEscalation, RecipientID: "G1"}); err != nil {
			t.Fatal(err)
		}
		if err := a.SendAuthorityNotice(ctx, activities.AuthorityNotice{Kind: activities.NoticeUnreachable, TaskID: spec.ID,
			RecipientID: "G1", HolderID: "C1", HolderRole: "ciso"}); err != nil {
			t.Fatal(err)
		}
		if len(mb.sent) != 3 || !strings.HasPrefix(mb.sent[1].Subject, "[Escalation: unreachable] ") ||
			!strings.Contains(mb.sent[1].Text, "could not be delivered") || !strings.Contains(mb.sent[2].Text, "could not be delivered") {
			t.Fatalf("mails = %+v", mb.sent)
		}
	})
}
