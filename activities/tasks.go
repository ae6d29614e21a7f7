package activities

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/policyflow/policyflow/models"
)

// TaskSpec is a human step to open: the task row, its first link and its mail.
type TaskSpec struct {
	ID         string
	ProcessID  string
	WorkflowID string
	Step       string
	Title      Text
	AssigneeID string
	Choices    []string
	DueAt      time.Time
	// ExpiresAt is when the links stop working: the deadline, or the end of the escalation.
	ExpiresAt time.Time
	// Form lists the inputs asked for beside the choice, if any.
	Form []Field
	// PostRole and PostScope name the post whose holder decides, if the step has one;
	// OnBehalfOf is that holder when the assignee is a deputy (代決).
	PostRole, PostScope, OnBehalfOf string
}

// TaskMail is a further mail about an open task: a reminder or an escalation.
type TaskMail struct {
	TaskID string
	// Kind is "reminder-N" or "escalation"; with the task and recipient it makes the mail's
	// idempotency key.
	Kind        string
	RecipientID string
}

// NewToken returns a task-link token (256 random bits, base64url) and the hash under which
// it is stored. The token itself is never stored or logged (TASK-ENGINE.md invariant 2).
func NewToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("read random token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is the stored form of a token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// OpenTask creates the task (once, however often it is retried) and mails its assignee a
// link to decide it.
func (a *Activities) OpenTask(ctx context.Context, s TaskSpec) error {
	if s.ID == "" || s.AssigneeID == "" || len(s.Choices) == 0 {
		return badInput("open task: id, assignee and choices are required")
	}
	form := ""
	if len(s.Form) > 0 {
		b, err := json.Marshal(s.Form)
		if err != nil {
			return badInput("open task %s: form: %v", s.ID, err)
		}
		form = string(b)
	}
	t := models.Task{
		ID: s.ID, ProcessID: s.ProcessID, WorkflowID: s.WorkflowID, Step: s.Step,
		TitleJa: s.Title.Ja, TitleEn: s.Title.En, AssigneeID: s.AssigneeID,
		Choices: models.JoinList(s.Choices), Form: form, Status: models.TaskOpen, DueAt: s.DueAt, ExpiresAt: s.ExpiresAt,
		PostRole: s.PostRole, PostScope: s.PostScope, OnBehalfOf: s.OnBehalfOf,
	}
	if err := a.Store.CreateTask(ctx, &t); err != nil {
		return classify(fmt.Errorf("open task %s: %w", s.ID, err))
	}
	return a.mailTask(ctx, TaskMail{TaskID: s.ID, Kind: "assigned", RecipientID: s.AssigneeID})
}

// RemindTask mails the assignee a reminder with a fresh link, unless the task is closed.
func (a *Activities) RemindTask(ctx context.Context, m TaskMail) error {
	return a.mailTask(ctx, m)
}

// EscalateTask tells the escalation's recipient that the deadline has passed and gives them
// a link of their own to decide the task.
func (a *Activities) EscalateTask(ctx context.Context, m TaskMail) error {
	if err := a.Store.MarkEscalated(ctx, m.TaskID, m.RecipientID); err != nil {
		return classify(fmt.Errorf("escalate task %s: %w", m.TaskID, err))
	}
	return a.mailTask(ctx, m)
}

// mailTask sends one mail about a task with a new link, exactly once per (task, kind,
// recipient) as far as the register can tell: a notification already recorded as sent is
// not sent again (TASK-ENGINE.md invariant 6). A link whose mail never went out is replaced.
func (a *Activities) mailTask(ctx context.Context, m TaskMail) error {
	key := fmt.Sprintf("%s/%s/%s", m.TaskID, m.Kind, m.RecipientID)
	if sent, err := a.Store.NotificationSent(ctx, key); err != nil || sent {
		return err
	}
	task, proc, err := a.Store.TaskWithProcess(ctx, m.TaskID)
	if err != nil {
		return classify(fmt.Errorf("mail about task %s: %w", m.TaskID, err))
	}
	if task.Status != models.TaskOpen {
		return nil // decided or closed meanwhile: nothing to ask any more
	}
	person, err := a.Store.Recipient(ctx, m.RecipientID)
	if err != nil {
		return classify(fmt.Errorf("mail about task %s: recipient: %w", m.TaskID, err))
	}
	token, hash, err := NewToken()
	if err != nil {
		return err
	}
	msg, err := renderTaskMail(taskMail{
		Kind: m.Kind, Task: task, Process: proc, Person: person,
		Link: a.PublicURL + "/tasks/" + token, Loc: a.Loc,
	})
	if err != nil {
		return badInput("render mail %s: %v", key, err)
	}
	msg.Key = key
	n := models.Notification{
		Key: key, ProcessID: proc.ID, TaskID: task.ID, Kind: m.Kind, RecipientID: person.EmployeeID,
		To: person.Email, Subject: msg.Subject, Status: models.NotificationPending,
	}
	link := models.TaskLink{TokenHash: hash, TaskID: task.ID, PersonID: person.EmployeeID, NotificationKey: key}
	if err := a.Store.PrepareTaskMail(ctx, n, link); err != nil {
		return fmt.Errorf("prepare mail %s: %w", key, err)
	}
	return a.deliver(ctx, msg)
}

// deliver sends a prepared message and records it as sent.
func (a *Activities) deliver(ctx context.Context, msg Message) error {
	if err := a.Mailer.Send(ctx, msg); err != nil {
		return fmt.Errorf("deliver %s: %w", msg.Key, err)
	}
	// The mail is out: failing now would make the retry send it again. Keep trying to
	// record it while the activity may run (a database outage shorter than its timeout).
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		err := a.Store.MarkNotificationSent(ctx, msg.Key, a.now())
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("record mail %s as sent: %w", msg.Key, err)
		case <-time.After(wait):
		}
	}
}

// Notice kinds: mails that ask for nothing through a link.
const (
	// NoticeExceptionEnding tells the requester that an exception ends soon (§7.4).
	NoticeExceptionEnding = "exception_ending"
)

// Notice is a mail that informs and asks nothing through a link.
type Notice struct {
	Key         string
	ProcessID   string
	RecipientID string
	Kind        string
	Params      map[string]string
}

// SendNotice sends a notice once per key.
func (a *Activities) SendNotice(ctx context.Context, n Notice) error {
	if sent, err := a.Store.NotificationSent(ctx, n.Key); err != nil || sent {
		return err
	}
	proc, err := a.Store.Process(ctx, n.ProcessID)
	if err != nil {
		return classify(fmt.Errorf("notice %s: %w", n.Key, err))
	}
	person, err := a.Store.Recipient(ctx, n.RecipientID)
	if err != nil {
		return classify(fmt.Errorf("notice %s: recipient: %w", n.Key, err))
	}
	msg, err := renderNotice(n, proc, person, a.PublicURL)
	if errors.Is(err, errUnknownNotice) {
		return badInput("notice %s: unknown kind %q", n.Key, n.Kind)
	} else if err != nil {
		return badInput("render notice %s: %v", n.Key, err)
	}
	msg.Key = n.Key
	rec := models.Notification{
		Key: n.Key, ProcessID: proc.ID, Kind: n.Kind, RecipientID: person.EmployeeID,
		To: person.Email, Subject: msg.Subject, Status: models.NotificationPending,
	}
	if err := a.Store.PrepareTaskMail(ctx, rec, models.TaskLink{}); err != nil {
		return fmt.Errorf("prepare notice %s: %w", n.Key, err)
	}
	return a.deliver(ctx, msg)
}
