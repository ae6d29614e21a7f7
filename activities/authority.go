package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// DelegationRules returns the part of the town's delegation rules (代決) that concerns one
// process kind, with the policy's own deputies. A process copies it when it starts, so the
// rules it runs under are in its history and a later change applies to later processes.
func (a *Activities) DelegationRules(ctx context.Context, kind string) (policy.Delegation, error) {
	d := policy.DefaultDelegation()
	if a.Delegation != nil {
		d = *a.Delegation
	}
	return d.ForKind(kind), nil
}

// AssignRequest asks who is to decide a step now: when its task opens, when the directory
// changes for the person who has it, or at its escalation.
type AssignRequest struct {
	ProcessID string
	// Post is the post whose holder decides; when it is zero, AssigneeID is the named person
	// asked (the requester, the leaver, a vendor's contact).
	Post       policy.Post
	AssigneeID string
	// Parties are the people the case is about: none of them decides it (separation of
	// duties). The holder being one sends the task to a deputy the rules allow, or to nobody.
	Parties []string
	// Deputy is who may stand in, from the process's copy of the delegation rules; DeputyScope
	// is the department a diso deputy is the officer of.
	Deputy      policy.Deputy
	DeputyScope string
	// Escalation asks for the deputy who may decide once the deadline has passed.
	Escalation bool
	At         time.Time
}

// Assignment says who is asked, for whom, and why.
type Assignment struct {
	// AssigneeID is asked and may decide; HolderID holds the post. They differ when a deputy
	// stands in (代決), and Basis then cites the rule.
	AssigneeID string
	HolderID   string
	Basis      string
	// Occasion is why a deputy stands in: policy.OnAbsence, OnParty or OnEscalation.
	Occasion string
	// Note says, with IDs only, why the task went where it went, for the record; empty when it
	// simply went to the holder.
	Note string
	// Nobody is set when nobody may decide: the holder is a party or vacant, and no deputy is
	// allowed. The step then takes its timeout outcome, and Note says why.
	Nobody bool
}

// AssignTask resolves who decides a step now. The post's holder is looked up in the
// directory; a holder who is a party to the case, absent, or gone is replaced by the deputy
// the rules allow for that occasion, if any. Escalation asks for the deputy who may decide
// once the deadline has passed (Nobody when there is none).
func (a *Activities) AssignTask(ctx context.Context, r AssignRequest) (Assignment, error) {
	holder := r.AssigneeID
	vacant := false
	if !r.Post.IsZero() {
		var err error
		holder, err = a.postHolder(ctx, r.Post)
		if errors.Is(err, models.ErrNotFound) {
			vacant = true
		} else if err != nil {
			return Assignment{}, err
		}
	}
	if holder == "" && !vacant {
		return Assignment{}, badInput("assign task: a post or an assignee is required")
	}
	deputy := func(on string) (string, bool, error) {
		if !r.Deputy.Allows(on) {
			return "", false, nil
		}
		id, err := a.postHolder(ctx, r.deputyPost())
		if errors.Is(err, models.ErrNotFound) {
			return "", false, nil
		}
		if err != nil || id == holder || slices.Contains(r.Parties, id) {
			return "", false, err
		}
		if _, err := a.directory().AbsenceAt(ctx, id, r.At); err == nil {
			return "", false, nil // the deputy is away too
		} else if !errors.Is(err, models.ErrNotFound) {
			return "", false, err
		}
		return id, true, nil
	}
	standIn := func(on, why string) (Assignment, error) {
		id, ok, err := deputy(on)
		if err != nil {
			return Assignment{}, fmt.Errorf("assign task: find the deputy: %w", err)
		}
		if !ok {
			return Assignment{}, nil
		}
		return Assignment{AssigneeID: id, HolderID: holder, Basis: r.Deputy.Basis, Occasion: on,
			Note: fmt.Sprintf("%s; the %s (%s) decides for them (代決) under %s", why, r.Deputy.Post, id, r.Deputy.Basis)}, nil
	}

	if r.Escalation {
		got, err := standIn(policy.OnEscalation, fmt.Sprintf("%s did not decide by the deadline", orPost(holder, r.Post)))
		if err != nil || got.AssigneeID != "" {
			return got, err
		}
		return Assignment{HolderID: holder, Nobody: true,
			Note: "nobody may decide in the holder's place: the escalation is a notice only"}, nil
	}
	switch {
	case vacant:
		got, err := standIn(policy.OnAbsence, fmt.Sprintf("nobody employed holds the post %s", r.Post))
		if err != nil || got.AssigneeID != "" {
			return got, err
		}
		return Assignment{}, fmt.Errorf("assign task: nobody employed holds the post %s and no deputy is allowed: fix the directory", r.Post)
	case slices.Contains(r.Parties, holder):
		got, err := standIn(policy.OnParty, fmt.Sprintf("the holder %s is a party to this case", holder))
		if err != nil || got.AssigneeID != "" {
			return got, err
		}
		return Assignment{HolderID: holder, Nobody: true,
			Note: fmt.Sprintf("the holder %s is a party to this case and no deputy may decide it (separation of duties)", holder)}, nil
	}
	absence, err := a.directory().AbsenceAt(ctx, holder, r.At)
	if errors.Is(err, models.ErrNotFound) {
		return Assignment{AssigneeID: holder, HolderID: holder}, nil
	}
	if err != nil {
		return Assignment{}, fmt.Errorf("assign task: absence of %s: %w", holder, err)
	}
	why := fmt.Sprintf("%s is registered absent until %s", holder, absence.To.In(a.Loc).Format("2006-01-02 15:04"))
	if absence.DeputyID != "" && r.Deputy.Allows(policy.OnAbsence) && !slices.Contains(r.Parties, absence.DeputyID) {
		// The deputy the absent person named, if they hold the post the rule names.
		if ok, err := a.directory().HoldsPost(ctx, absence.DeputyID, string(r.Deputy.Post), r.deputyPost().Scope); err != nil {
			return Assignment{}, fmt.Errorf("assign task: named deputy: %w", err)
		} else if ok {
			return Assignment{AssigneeID: absence.DeputyID, HolderID: holder, Basis: r.Deputy.Basis, Occasion: policy.OnAbsence,
				Note: fmt.Sprintf("%s; the deputy they named, the %s (%s), decides for them (代決) under %s", why, r.Deputy.Post, absence.DeputyID, r.Deputy.Basis)}, nil
		}
	}
	got, err := standIn(policy.OnAbsence, why)
	if err != nil || got.AssigneeID != "" {
		return got, err
	}
	return Assignment{AssigneeID: holder, HolderID: holder,
		Note: why + "; no deputy may decide this step, so it waits for them"}, nil
}

// deputyPost is the post whose holder may stand in: the officer of the process's department
// for a diso deputy; the town-wide posts (ciso, giso) are held for no department, so the
// process's department must not narrow the search for their holder.
func (r AssignRequest) deputyPost() policy.Post {
	if r.Deputy.Post == policy.RoleDISO {
		return policy.Post{Role: r.Deputy.Post, Scope: r.DeputyScope}
	}
	return policy.Post{Role: r.Deputy.Post}
}

func orPost(holder string, p policy.Post) string {
	if !p.IsZero() {
		return fmt.Sprintf("the %s (%s)", p, holder)
	}
	return holder
}

// Directory is what AssignTask reads of the directory: who holds a post, who is absent.
// *models.Store is the real one; the workflow tests use a fake.
type Directory interface {
	PostHolder(ctx context.Context, role, scope string) (string, error)
	HoldsPost(ctx context.Context, personID, role, scope string) (bool, error)
	AbsenceAt(ctx context.Context, employeeID string, t time.Time) (models.Absence, error)
}

func (a *Activities) directory() Directory {
	if a.Dir != nil {
		return a.Dir
	}
	return a.Store
}

// postHolder returns the employed holder of a post, or ErrNotFound.
func (a *Activities) postHolder(ctx context.Context, p policy.Post) (string, error) {
	return a.directory().PostHolder(ctx, string(p.Role), p.Scope)
}

// Handover moves an open task to another person: when its post changed hands, or an absence
// of the person who has it started.
type Handover struct {
	TaskID, ProcessID string
	From, To          string
	// OnBehalfOf is the holder the new assignee acts for (代決), if they are a deputy.
	OnBehalfOf string
	// Seq numbers the task's hand-overs; Note says why, with IDs only.
	Seq  int
	Note string
}

// HandOverTask revokes the old assignee's links to the task (their page then says it was
// handed over), names the new assignee on the task, and notes it in the process's timeline.
// The new assignee's mail is sent separately, as an ordinary activity.
func (a *Activities) HandOverTask(ctx context.Context, h Handover) error {
	why := "handed over: " + h.Note
	if err := a.Store.HandOverTask(ctx, h.TaskID, h.From, h.To, h.OnBehalfOf, why, a.now()); err != nil {
		return classify(fmt.Errorf("hand over task %s: %w", h.TaskID, err))
	}
	key := fmt.Sprintf("%s/handover/%d", h.TaskID, h.Seq)
	if err := a.Store.AddTimeline(ctx, h.ProcessID, key, fmt.Sprintf("task %s %s", h.TaskID, why), a.now()); err != nil {
		return classify(fmt.Errorf("hand over task %s: timeline: %w", h.TaskID, err))
	}
	return nil
}

// TimelineNote is a line for a process's timeline, once per key.
type TimelineNote struct {
	ProcessID, Key, Note string
}

// NoteTimeline adds a line to a process's timeline: who a task went to and why, a step nobody
// may decide.
func (a *Activities) NoteTimeline(ctx context.Context, n TimelineNote) error {
	if err := a.Store.AddTimeline(ctx, n.ProcessID, n.Key, n.Note, a.now()); err != nil {
		return classify(fmt.Errorf("timeline of %s: %w", n.ProcessID, err))
	}
	return nil
}

// Notice kinds of the authority rules.
const (
	// NoticeEscalation tells the person the town names that a holder has not decided a step
	// by its deadline, when nobody may decide in the holder's place: pressure, not authority.
	NoticeEscalation = "escalation_notice"
	// NoticeAfterReview tells a holder that a deputy decided in their place (後閲).
	NoticeAfterReview = "after_review"
	// NoticeUnreachable tells the person the town names that the mail asking a holder to
	// decide a step could not be delivered (the address was refused for good), when nobody
	// may decide in the holder's place: they are to reach the holder some other way.
	NoticeUnreachable = "unreachable_notice"
)

var authorityNotices = map[string]noticeText{
	NoticeEscalation: {
		Subject: Text{Ja: "【期限超過のお知らせ】担当者が期限までに判断していません", En: "[Overdue] A decision was not made by its deadline"},
		Body: Text{
			Ja: "{{.name}} 様\n\n手続 {{.process_id}}（{{.summary}}）の「{{.step_ja}}」について、担当の{{.holder_role_ja}}（{{.holder}}）が期限 {{.due}} までに判断していません。\nこの判断は担当者に限られ、代わって判断することはできません。担当者への働きかけをお願いします。{{.expires}} までに判断がなければ、期限切れとして扱われます。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nIn {{.process_id}} ({{.summary}}), the {{.holder_role_en}} ({{.holder}}) has not decided \"{{.step_en}}\" by its deadline, {{.due}}.\nOnly they may decide it: nobody may decide in their place. Please follow it up with them. If nobody decides by {{.expires}}, the step expires.\n\n--\npolicyflow\n",
		},
	},
	NoticeUnreachable: {
		Subject: Text{Ja: "【連絡不能】担当者にメールが届きません", En: "[Unreachable] The mail to the person who decides could not be delivered"},
		Body: Text{
			Ja: "{{.name}} 様\n\n手続 {{.process_id}}（{{.summary}}）の「{{.step_ja}}」について、担当の{{.holder_role_ja}}（{{.holder}}）へのメールが配送できませんでした（宛先のメールサーバが受信を拒否しました）。\nこの判断は担当者に限られ、代わって判断することはできません。メール以外の方法で担当者に連絡してください。宛先は人事・情報システム担当による名簿の修正が必要です。{{.expires}} までに判断がなければ、期限切れとして扱われます。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nIn {{.process_id}} ({{.summary}}), the mail asking the {{.holder_role_en}} ({{.holder}}) to decide \"{{.step_en}}\" could not be delivered: their mail server refused the address.\nOnly they may decide it: nobody may decide in their place. Please reach them some other way; HR and IT need to correct their address in the directory. If nobody decides by {{.expires}}, the step expires.\n\n--\npolicyflow\n",
		},
	},
	NoticeAfterReview: {
		Subject: Text{Ja: "【後閲】あなたに代わって判断が行われました", En: "[For review] A decision was made in your place"},
		Body: Text{
			Ja: "{{.name}} 様\n\n手続 {{.process_id}}（{{.summary}}）の「{{.step_ja}}」について、{{.decider}} があなたに代わって判断しました（代決）。\n\n  判断：{{.choice_ja}}\n  日時：{{.decided_at}}\n  根拠：{{.basis}}\n\n後閲のうえ、問題があれば統括情報セキュリティ責任者に連絡してください。\n\n--\npolicyflow\n",
			En: "Dear {{.name}},\n\nIn {{.process_id}} ({{.summary}}), {{.decider}} decided \"{{.step_en}}\" in your place.\n\n  Decision: {{.choice_en}}\n  At: {{.decided_at}}\n  Under: {{.basis}}\n\nPlease review it, and tell the General Information Security Officer if anything is wrong.\n\n--\npolicyflow\n",
		},
	},
}

// AuthorityNotice asks for one of the authority rules' notices about a task: the escalation
// notice to whom the town names (nobody may decide in the holder's place), or the holder's
// after-the-fact review (後閲) of a deputy's decision. Names are looked up here, so history
// carries IDs only.
type AuthorityNotice struct {
	Kind        string
	TaskID      string
	RecipientID string
	HolderID    string
	HolderRole  policy.Role
	DeciderID   string
	Choice      string
	Basis       string
	DecidedAt   time.Time
	// FailUndeliverable: as in TaskSpec.
	FailUndeliverable bool
}

// SendAuthorityNotice sends an AuthorityNotice once per (task, kind, recipient).
func (a *Activities) SendAuthorityNotice(ctx context.Context, n AuthorityNotice) error {
	task, proc, err := a.Store.TaskWithProcess(ctx, n.TaskID)
	if err != nil {
		return classify(fmt.Errorf("authority notice on %s: %w", n.TaskID, err))
	}
	people, err := a.Store.People(ctx, []string{n.HolderID, n.DeciderID})
	if err != nil {
		return fmt.Errorf("authority notice on %s: %w", n.TaskID, err)
	}
	name := func(id string) string {
		if p, ok := people[id]; ok && p.Name != "" {
			return p.Name + " (" + id + ")"
		}
		return id
	}
	params := map[string]string{
		"step_ja": task.TitleJa, "step_en": task.TitleEn, "holder": name(n.HolderID),
		"holder_role_ja": n.HolderRole.Title("ja"), "holder_role_en": n.HolderRole.Title("en"),
		"due": FormatTime(task.DueAt, a.Loc), "expires": FormatTime(task.ExpiresAt, a.Loc),
		"decider": name(n.DeciderID), "choice_ja": ChoiceLabel(n.Choice, "ja"), "choice_en": ChoiceLabel(n.Choice, "en"),
		"basis": n.Basis, "decided_at": FormatTime(n.DecidedAt, a.Loc),
	}
	return a.SendNotice(ctx, Notice{
		Key: fmt.Sprintf("%s/%s/%s", n.TaskID, n.Kind, n.RecipientID), ProcessID: proc.ID,
		RecipientID: n.RecipientID, Kind: n.Kind, Params: params, FailUndeliverable: n.FailUndeliverable,
	})
}
