package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// Return is what a revision task shows of the return (差戻し) it answers: who returned the
// request, when, what they wrote, and, for an outsourcing draft, each clause the reviewer
// found missing with what the reviewer noted on it (issue 14). The mail and the task page
// both show it, so the person asked to revise knows what to change.
type Return struct {
	ByID, ByName string
	// Step is the step that returned the request, e.g. ciso_review.
	Step    string
	At      time.Time
	Comment string
	Clauses []ReturnedClause
	// Accepted are the review's answers for the clauses it accepted (present with the
	// article, not applicable with the reason), keyed by the form's field names: the draft
	// as reviewed, which a revision form starts from.
	Accepted map[string]string
}

// ReturnedClause is one requirement of §8.1(2) the clause review did not accept.
type ReturnedClause struct {
	N     int
	Title Text
	// Mark is the reviewer's mark: missing, not_applicable_refused, or empty when unmarked.
	Mark string
	// Note is what the reviewer wrote on the clause (the article they looked at, the reason
	// not applicable they refused).
	Note string
}

// MarkLabel says a clause's mark in lang.
func (c ReturnedClause) MarkLabel(lang string) string {
	switch c.Mark {
	case policy.ClauseMissing:
		return Text{Ja: "記載なし", En: "missing"}.In(lang)
	case policy.ClauseNotApplicableRefused:
		return Text{Ja: "該当なしの理由が認められない（記載を求める）", En: "said not to apply, the reason refused (must be written in)"}.In(lang)
	}
	return Text{Ja: "未確認", En: "not marked"}.In(lang)
}

// LoadReturn reads the return a task answers (Task.ReturnOf) from the register; nil when the
// task answers none. A return by the GISO after rounds of clause review lists the clauses of
// the latest review.
func LoadReturn(ctx context.Context, st *models.Store, t models.Task) (*Return, error) {
	if t.ReturnOf == "" {
		return nil, nil
	}
	d, values, err := st.DecisionValues(ctx, t.ReturnOf)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("return of %s: %w", t.ID, err)
	}
	r := &Return{ByID: d.DeciderID, Step: d.Step, At: d.DecidedAt, Comment: strings.TrimSpace(d.Comment)}
	// The CISO's instructions on a returned root-cause record are a field of their form.
	if ins := strings.TrimSpace(values["instructions"]); ins != "" {
		r.Comment = strings.TrimSpace(ins + "\n" + r.Comment)
	}
	if names, err := st.Recipients(ctx, []string{d.DeciderID}); err == nil {
		r.ByName = names[d.DeciderID].Name
	}
	review, marks := d, values
	if d.Step != "clause_review" {
		if review, marks, err = lastClauseReview(ctx, st, d); err != nil {
			return nil, err
		}
	}
	if review.Step == "clause_review" {
		r.Accepted = map[string]string{}
		for _, cl := range policy.ContractClauses() {
			mark := marks[ClauseField(cl.Key)]
			if mark == policy.ClausePresent || mark == policy.ClauseNotApplicable {
				r.Accepted[ClauseField(cl.Key)] = mark
				for _, f := range []string{ArticleField(cl.Key), ReasonField(cl.Key)} {
					if v := strings.TrimSpace(marks[f]); v != "" {
						r.Accepted[f] = v
					}
				}
				continue
			}
			var notes []string
			for _, f := range []string{ArticleField(cl.Key), ReasonField(cl.Key)} {
				if v := strings.TrimSpace(marks[f]); v != "" {
					notes = append(notes, v)
				}
			}
			r.Clauses = append(r.Clauses, ReturnedClause{N: cl.N, Title: Text{Ja: cl.TitleJa, En: cl.TitleEn}, Mark: mark, Note: strings.Join(notes, " / ")})
		}
		if review.DeciderID != d.DeciderID && strings.TrimSpace(review.Comment) != "" {
			r.Comment = strings.TrimSpace(r.Comment + "\n" + strings.TrimSpace(review.Comment))
		}
	}
	return r, nil
}

// lastClauseReview finds the clause review a GISO's return followed, if any.
func lastClauseReview(ctx context.Context, st *models.Store, d models.Decision) (models.Decision, map[string]string, error) {
	if d.Step != "giso_decision" {
		return models.Decision{}, nil, nil
	}
	cr, err := st.LastDecision(ctx, d.ProcessID, "clause_review", d.DecidedAt)
	if errors.Is(err, models.ErrNotFound) {
		return models.Decision{}, nil, nil
	} else if err != nil {
		return cr, nil, err
	}
	values := map[string]string{}
	if cr.Values != "" {
		if err := json.Unmarshal([]byte(cr.Values), &values); err != nil {
			return cr, nil, err
		}
	}
	return cr, values, nil
}

// ReturnText is the return as plain text in lang, for mails: who, when, the comment and the
// clauses, one a line.
func (r *Return) Text(lang string, loc *time.Location) string {
	if r == nil {
		return ""
	}
	who := r.ByName
	if who == "" {
		who = r.ByID
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s (%s)\n", Text{Ja: "差し戻した人: ", En: "Returned by: "}.In(lang), who, FormatTime(r.At, loc))
	comment := r.Comment
	if comment == "" {
		comment = Text{Ja: "（コメントなし）", En: "(no comment)"}.In(lang)
	}
	fmt.Fprintf(&b, "%s%s\n", Text{Ja: "コメント　　: ", En: "Comment    : "}.In(lang), comment)
	if len(r.Clauses) > 0 {
		b.WriteString(Text{Ja: "不足とされた契約条項（8.1(2)）:\n", En: "Contract clauses found missing (8.1(2)):\n"}.In(lang))
		for _, c := range r.Clauses {
			fmt.Fprintf(&b, "  %d. %s — %s", c.N, c.Title.In(lang), c.MarkLabel(lang))
			if c.Note != "" {
				fmt.Fprintf(&b, Text{Ja: "（審査者のメモ: %s）", En: " (reviewer's note: %s)"}.In(lang), c.Note)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// RevisionRecord asks the register to keep a resubmitted request as its next version.
type RevisionRecord struct {
	ProcessID string
	// TaskID is the revision task whose resubmission holds the revised fields.
	TaskID string
	// ReturnOf is the task whose decision returned the previous version.
	ReturnOf string
}

// RecordRevision keeps the request as the revision task's resubmission left it: the form's
// revising fields (Field.Revises) replace the request's, the result becomes the process's
// request and the register's next version, with who returned the previous one and why, and
// the timeline names the fields that changed. Idempotent on the task.
func (a *Activities) RecordRevision(ctx context.Context, r RevisionRecord) error {
	rev, d, err := a.revision(ctx, r)
	if err != nil {
		return err
	}
	v, err := a.Store.ReviseRequest(ctx, rev)
	if err != nil {
		return classify(fmt.Errorf("record revision %s: %w", r.TaskID, err))
	}
	return a.noteRevision(ctx, r, d, v)
}

// revision reads a resubmission: the revising fields (Field.Revises) the revision task's
// decision holds, as the request's new values; an empty field whose form holds its whole
// value (Field.EmptyClears) removes it.
func (a *Activities) revision(ctx context.Context, r RevisionRecord) (models.Revision, models.Decision, error) {
	task, _, err := a.Store.TaskWithProcess(ctx, r.TaskID)
	if err != nil {
		return models.Revision{}, models.Decision{}, classify(fmt.Errorf("record revision %s: %w", r.TaskID, err))
	}
	d, values, err := a.Store.DecisionValues(ctx, r.TaskID)
	if err != nil {
		return models.Revision{}, d, classify(fmt.Errorf("record revision %s: decision: %w", r.TaskID, err))
	}
	var form []Field
	if task.Form != "" {
		if err := json.Unmarshal([]byte(task.Form), &form); err != nil {
			return models.Revision{}, d, badInput("record revision %s: form: %v", r.TaskID, err)
		}
	}
	revised := map[string]any{}
	for _, f := range form {
		v := strings.TrimSpace(values[f.Name])
		switch {
		case !f.Revises:
		case v != "":
			revised[f.Name] = v
		case f.EmptyClears:
			revised[f.Name] = nil
		}
	}
	return models.Revision{ProcessID: r.ProcessID, TaskID: r.TaskID, ReturnTaskID: r.ReturnOf,
		ByID: d.DeciderID, At: d.DecidedAt, Values: revised, Summarize: summarizeRevision}, d, nil
}

// noteRevision writes the timeline's line for version v: who resubmitted it and the fields
// that changed since the version before.
func (a *Activities) noteRevision(ctx context.Context, r RevisionRecord, d models.Decision, v models.RequestVersion) error {
	changed := "nothing changed"
	vs, err := a.Store.RequestVersions(ctx, r.ProcessID)
	if err != nil {
		return classify(fmt.Errorf("record revision %s: %w", r.TaskID, err))
	}
	for _, prev := range vs {
		if prev.Version != v.Version-1 {
			continue
		}
		if diff, err := models.DiffRequests(prev.Request, v.Request); err == nil && len(diff) > 0 {
			fields := make([]string, len(diff))
			for i, c := range diff {
				fields[i] = c.Field
			}
			changed = "changed: " + strings.Join(fields, ", ")
		}
	}
	note := fmt.Sprintf("the request was revised by %s and resubmitted as version %d (%s)", d.DeciderID, v.Version, changed)
	if err := a.Store.AddTimeline(ctx, r.ProcessID, r.TaskID+"/revision", note, d.DecidedAt); err != nil {
		return classify(fmt.Errorf("record revision %s: timeline: %w", r.TaskID, err))
	}
	return nil
}

// summarizeRevision keeps a process's summary true to a revised request: the dates it names
// (an exception's period, a contract's) follow the revision.
func summarizeRevision(summary string, before, after map[string]any) string {
	for _, k := range []string{"start_date", "end_date", "contract_start", "contract_end"} {
		old, _ := before[k].(string)
		now, _ := after[k].(string)
		if old != "" && now != "" && old != now {
			summary = strings.Replace(summary, old, now, 1)
		}
	}
	return summary
}
