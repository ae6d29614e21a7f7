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

	"go.temporal.io/sdk/temporal"

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
	// FailUndeliverable asks for an ErrUndeliverable failure when the mail server refuses the
	// assignee's address for good, so that the workflow can escalate at once (set since the
	// change "undeliverable"). Without it the refusal is recorded and the activity succeeds:
	// the task then waits for its deadline, as older processes expect.
	FailUndeliverable bool
	// ReturnOf is the task whose decision returned the request this task asks to revise
	// (差戻し): its mail and page show who returned it, when, and why.
	ReturnOf string `json:",omitempty"`
}

// TaskMail is a further mail about an open task: a reminder or an escalation.
type TaskMail struct {
	TaskID string
	// Kind is "reminder-N" or "escalation"; with the task and recipient it makes the mail's
	// idempotency key.
	Kind        string
	RecipientID string
	// FailUndeliverable: as in TaskSpec.
	FailUndeliverable bool
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
		PostRole: s.PostRole, PostScope: s.PostScope, OnBehalfOf: s.OnBehalfOf, ReturnOf: s.ReturnOf,
	}
	if err := a.Store.CreateTask(ctx, &t); err != nil {
		return classify(fmt.Errorf("open task %s: %w", s.ID, err))
	}
	// The row is written before the mail: a refused mail fails the activity with the task
	// in the register, for the escalation to find.
	return a.mailTask(ctx, TaskMail{TaskID: s.ID, Kind: "assigned", RecipientID: s.AssigneeID, FailUndeliverable: s.FailUndeliverable})
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
	ret, err := LoadReturn(ctx, a.Store, task)
	if err != nil {
		return classify(fmt.Errorf("mail about task %s: %w", m.TaskID, err))
	}
	token, hash, err := NewToken()
	if err != nil {
		return err
	}
	msg, err := renderTaskMail(taskMail{
		Kind: m.Kind, Task: task, Process: proc, Person: person,
		Link: a.PublicURL + "/tasks/" + token, Loc: a.Loc, Return: ret,
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
	return a.deliver(ctx, msg, outgoing{processID: proc.ID, recipientID: person.EmployeeID, kind: m.Kind,
		taskID: task.ID, fail: m.FailUndeliverable})
}

// ErrUndeliverable is the application error type of a mail the server refused for good (a
// 5xx answer: no such mailbox, mailbox disabled, the domain takes no mail). It is never
// retried; its message names the mail by its key (task, kind, employee ID) and the server's
// reply code, never the address or the server's text.
const ErrUndeliverable = "Undeliverable"

// outgoing says what a message is about, for the record when it cannot be delivered.
type outgoing struct {
	processID, recipientID, kind, taskID string
	// fail asks for an ErrUndeliverable failure on a permanent refusal; otherwise the refusal
	// is recorded and the mail given up.
	fail bool
}

// deliver sends a prepared message and records it as sent. A mail the server did not take
// is recorded as failed, so the retry replaces its link; one refused for good is recorded as
// undeliverable, the recipient is flagged in the directory, the process's timeline says so,
// and the activity fails with ErrUndeliverable (when o.fail) or gives the mail up. Errors
// carry the server's reply code, never its text: it names the address.
func (a *Activities) deliver(ctx context.Context, msg Message, o outgoing) error {
	if err := a.Mailer.Send(ctx, msg); err != nil {
		if ctx.Err() != nil {
			// The attempt timed out and the mail may still go out: keep its link.
			return fmt.Errorf("deliver %s: %w", msg.Key, ctx.Err())
		}
		f := classifyMailError(err)
		if !f.Permanent {
			if err := a.Store.MarkNotificationFailed(ctx, msg.Key, models.NotificationFailed); err != nil {
				a.logger().Warn("record a failed mail", "key", msg.Key, "error", err)
			}
			return fmt.Errorf("deliver %s: %w", msg.Key, redactReply(err))
		}
		return a.undeliverable(ctx, msg.Key, f, o)
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
	// FailUndeliverable: as in TaskSpec. Without it, a notice refused for good is recorded
	// and given up, and the process goes on.
	FailUndeliverable bool
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
	return a.deliver(ctx, msg, outgoing{processID: proc.ID, recipientID: person.EmployeeID, kind: n.Kind, fail: n.FailUndeliverable})
}

// undeliverable records a mail refused for good: the notification, the flag on the person
// (for HR and IT to fix the address) and a line on the process's timeline, each idempotent.
func (a *Activities) undeliverable(ctx context.Context, key string, f MailFailure, o outgoing) error {
	why := f.Code
	if why == "" {
		why = "refused"
	}
	if err := a.Store.MarkNotificationFailed(ctx, key, models.NotificationUndeliverable); err != nil {
		return fmt.Errorf("record undeliverable mail %s: %w", key, err)
	}
	if err := a.Store.FlagUndeliverable(ctx, o.recipientID, why, a.now()); err != nil {
		return fmt.Errorf("flag %s as undeliverable: %w", o.recipientID, err)
	}
	about := ""
	if o.taskID != "" {
		about = " about task " + o.taskID
	}
	note := fmt.Sprintf("mail (%s)%s to %s could not be delivered: permanent refusal (%s); the address is flagged in the directory",
		o.kind, about, o.recipientID, why)
	// A mail about no process (the committee's report, the monthly digest) has no timeline.
	if o.processID != "" {
		if err := a.Store.AddTimeline(ctx, o.processID, key+"/undeliverable", note, a.now()); err != nil {
			return classify(fmt.Errorf("record undeliverable mail %s: timeline: %w", key, err))
		}
	}
	a.logger().Warn("mail refused for good", "key", key, "code", why)
	if !o.fail {
		return nil
	}
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("mail %s could not be delivered: permanent refusal (%s)", key, why), ErrUndeliverable, nil)
}
