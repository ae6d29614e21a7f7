package api

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

// A task that answers a return (差戻し, issue 14) shows who returned the request, when and
// why, and its form holds the request's current values (activities.Field.Revises): the person
// changes what was asked and resubmits, and the register keeps the result as the request's
// next version (models.ReviseRequest). A resubmission is checked here as the request's filing
// is checked; a field left empty keeps its current value.

// returnedView is the return a task answers, as the page shows it.
type returnedView struct {
	By, At, Comment string
	// Clauses are the contract clauses found missing, each with the reviewer's note.
	Clauses []labelled
}

// returnOf loads the return a task answers for its page; nil when it answers none or the
// register cannot say (the page then shows the task without it).
func (s *Server) returnOf(ctx context.Context, t models.Task, lang string) (*returnedView, *activities.Return) {
	r, err := activities.LoadReturn(ctx, s.Store, t)
	if err != nil {
		s.Log.Warn("load the return a task answers", "task", t.ID, "err", err)
		return nil, nil
	}
	if r == nil {
		return nil, nil
	}
	v := &returnedView{By: r.ByName, At: activities.FormatTime(r.At, s.Loc), Comment: r.Comment}
	if v.By == "" {
		v.By = r.ByID
	}
	if v.Comment == "" {
		v.Comment = pick(lang, "（コメントなし）", "(no comment)")
	}
	for _, c := range r.Clauses {
		v.Clauses = append(v.Clauses, labelled{Label: fmt.Sprintf("%d. %s — %s", c.N, c.Title.In(lang), c.MarkLabel(lang)), Value: c.Note})
	}
	return v, r
}

// currentValues are the request's current values of a form's revising fields, to fill the
// form with.
func currentValues(p models.Process, form []activities.Field) map[string]string {
	out := map[string]string{}
	var in map[string]any
	if json.Unmarshal([]byte(p.Input), &in) != nil {
		return out
	}
	for _, f := range form {
		if v, ok := in[f.Name].(string); ok && f.Revises {
			out[f.Name] = v
		}
	}
	return out
}

// startValues are what a revision form starts from: the request's current values, and for
// a returned outsourcing draft whose clauses the request does not hold yet, the answers the
// review accepted (ret.Accepted), so only the clauses found missing are left to answer.
func startValues(p models.Process, form []activities.Field, ret *activities.Return) map[string]string {
	cur := currentValues(p, form)
	if ret == nil {
		return cur
	}
	for _, f := range form {
		if _, ok := cur[f.Name]; !ok && f.Revises && ret.Accepted[f.Name] != "" {
			cur[f.Name] = ret.Accepted[f.Name]
		}
	}
	return cur
}

// revises reports whether a form revises a request.
func revises(form []activities.Field) bool {
	for _, f := range form {
		if f.Revises {
			return true
		}
	}
	return false
}

// checkRevision checks a resubmission of a returned request: the values it posts over the
// request's current ones must make a request its filing would accept. Field errors are 400;
// a breach of the town's bounds on an exception's period is the 422 a filing gets.
func (s *Server) checkRevision(ctx context.Context, t models.Task, p models.Process, form []activities.Field, choice string, values map[string]string) (fieldErrors, error) {
	f := fieldErrors{}
	if choice != workflows.ChoiceResubmit || !revises(form) {
		return f, nil
	}
	merged := currentValues(p, form)
	for _, field := range form {
		if field.EmptyClears {
			// The form holds the field's whole value: what is not posted is cleared.
			delete(merged, field.Name)
		}
	}
	for k, v := range values {
		merged[k] = v
	}
	switch p.Kind {
	case models.KindException:
		// The same checks as POST /exceptions (§7.4(1)); a returned request is never an
		// emergency one, which is taken first and ratified afterwards (§7.4(2)).
		checkExceptionAsk(f, merged["alternative"], merged["reason"])
		start, end := s.checkExceptionPeriod(f, merged["start_date"], merged["end_date"], false)
		if len(f) > 0 {
			return f, nil
		}
		_, err := s.checkExceptionBounds(merged["start_date"], start, end, false)
		return f, err
	case models.KindOutsourcingReview:
		if t.Step == "selection_revision" {
			// The vendor, its identifier, contact, certificate and audit, as a filing's
			// (§8.1(1)).
			s.checkSelectionRevision(f, merged)
			return f, nil
		}
		// Each clause the review did not accept is answered: where the revised draft states
		// it, or why it does not apply (§8.1(2)); the reason itself is the form's RequiredIf.
		_, r := s.returnOf(ctx, t, "en")
		if r == nil {
			return f, nil
		}
		for _, c := range r.Clauses {
			key := clauseKey(c.N)
			switch merged[activities.ClauseField(key)] {
			case "":
				f.check(false, activities.ClauseField(key), "was found missing: say where the revised draft states it, or why it does not apply")
			case policy.ClausePresent:
				f.check(strings.TrimSpace(merged[activities.ArticleField(key)]) != "", activities.ArticleField(key), "name the article of the revised draft that states it")
			}
		}
	}
	return f, nil
}

// clauseKey is the key of the §8.1(2) requirement numbered n.
func clauseKey(n int) string {
	for _, c := range policy.ContractClauses() {
		if c.N == n {
			return c.Key
		}
	}
	return ""
}

// versionBody is one version of a request in the register's detail.
type versionBody struct {
	Version       int                  `json:"version"`
	By            string               `json:"by"`
	ByName        string               `json:"by_name,omitempty"`
	At            time.Time            `json:"at"`
	TaskID        string               `json:"task_id,omitempty"`
	ReturnTaskID  string               `json:"return_task_id,omitempty"`
	ReturnBy      string               `json:"return_by,omitempty"`
	ReturnComment string               `json:"return_comment,omitempty"`
	Request       json.RawMessage      `json:"request"`
	Changes       []models.FieldChange `json:"changes"`
}

// versionsBody lists a request's versions with the fields each changed from the one before.
func (s *Server) versionsBody(d models.ProcessDetail) []versionBody {
	out := make([]versionBody, 0, len(d.Versions))
	for i, v := range d.Versions {
		b := versionBody{Version: v.Version, By: v.ByID, ByName: d.Names[v.ByID], At: v.CreatedAt.In(s.Loc),
			TaskID: v.TaskID, ReturnTaskID: v.ReturnTaskID, ReturnBy: v.ReturnByID, ReturnComment: v.ReturnComment,
			Request: json.RawMessage(orEmptyObject(v.Request)), Changes: []models.FieldChange{}}
		if i > 0 {
			if ch, err := models.DiffRequests(d.Versions[i-1].Request, v.Request); err == nil && ch != nil {
				b.Changes = ch
			}
		}
		out = append(out, b)
	}
	return out
}

func orEmptyObject(s string) string {
	if !json.Valid([]byte(s)) {
		return "{}"
	}
	return s
}

// revisionDetails are what the reader of a step sees of a request's revisions: which version
// it reads and the fields (those its step may see, policy.Visible) that changed since the
// version before; and for the clause review, the requester's answer for each clause of the
// revised draft (where it states it, or why it does not apply), the very thing under review.
func (s *Server) revisionDetails(ctx context.Context, p models.Process, step, lang string) []labelled {
	vs, err := s.Store.RequestVersions(ctx, p.ID)
	if err != nil || len(vs) < 2 {
		return nil
	}
	last := vs[len(vs)-1]
	visible, _ := policy.Visible(p.Kind, step)
	var changed []string
	if ch, err := models.DiffRequests(vs[len(vs)-2].Request, last.Request); err == nil {
		for _, c := range ch {
			if slices.Contains(visible, c.Field) {
				changed = append(changed, fieldLabel(c.Field, lang))
			}
		}
	}
	what := pick(lang, "変更した項目はありません", "nothing it may show changed")
	if len(changed) > 0 {
		what = strings.Join(changed, pick(lang, "、", ", "))
	}
	out := []labelled{{Label: pick(lang, "申請の版", "Version of the request"),
		Value: fmt.Sprintf(pick(lang, "第%d版（差戻し後に修正。前の版からの変更: %s）", "%d (revised after a return; changed since the version before: %s)"), last.Version, what)}}
	if p.Kind != models.KindOutsourcingReview || step != "clause_review" {
		return out
	}
	var in map[string]any
	if json.Unmarshal([]byte(last.Request), &in) != nil {
		return out
	}
	var lines []string
	for _, c := range policy.ContractClauses() {
		mark, _ := in[activities.ClauseField(c.Key)].(string)
		if mark == "" {
			continue
		}
		line := fmt.Sprintf("%d. %s — ", c.N, pick(lang, c.TitleJa, c.TitleEn))
		if mark == policy.ClausePresent {
			article, _ := in[activities.ArticleField(c.Key)].(string)
			line += pick(lang, "記載した: ", "stated in: ") + article
		} else {
			reason, _ := in[activities.ReasonField(c.Key)].(string)
			line += pick(lang, "該当なし（理由: ", "does not apply (reason: ") + reason + pick(lang, "）", ")")
		}
		lines = append(lines, line)
	}
	if len(lines) > 0 {
		out = append(out, labelled{Label: pick(lang, "修正した契約書案の記載（申請者の回答）", "The revised draft, as the requester answers"), Value: strings.Join(lines, "\n")})
	}
	return out
}

// previousRecord is what a task that answers a return starts from when it asks for a record
// again rather than revising the request (the next round's root-cause record, §5.3(3)): the
// values of the record that was returned, for the fields the form asks. Nil otherwise.
func (s *Server) previousRecord(ctx context.Context, t models.Task, form []activities.Field) map[string]string {
	if t.ReturnOf == "" || revises(form) || len(form) == 0 {
		return nil
	}
	d, err := s.Store.LastDecision(ctx, t.ProcessID, t.Step, s.now())
	if err != nil {
		return nil
	}
	var values map[string]string
	if d.Values == "" || json.Unmarshal([]byte(d.Values), &values) != nil {
		return nil
	}
	out := map[string]string{}
	for _, f := range form {
		if v := values[f.Name]; v != "" {
			out[f.Name] = v
		}
	}
	return out
}
