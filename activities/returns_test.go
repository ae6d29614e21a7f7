package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
)

// The mail of a task that answers a return (差戻し) shows who returned the request, when,
// the comment, and for an outsourcing draft each clause the review found missing with the
// reviewer's note, in the reader's language (issue 14). A task that answers none shows none.
func TestRevisionMailShowsTheReturn(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		a, mb, _ := setup(t, store)
		ctx := context.Background()
		p := models.Process{ID: "OUT-1", Kind: models.KindOutsourcingReview, Status: "returned", Stage: "requester_revision", WorkflowID: "OUT-1"}
		if err := store.CreateProcess(ctx, &p); err != nil {
			t.Fatal(err)
		}
		review := "OUT-1/clause_review/1"
		if err := store.CreateTask(ctx, &models.Task{ID: review, ProcessID: "OUT-1", WorkflowID: "OUT-1", Step: "clause_review",
			AssigneeID: "C1", Choices: "done", Status: models.TaskOpen}); err != nil {
			t.Fatal(err)
		}
		values := `{"clause_confidentiality":"missing","article_confidentiality":"第7条に守秘義務の定めがない","clause_publication":"not_applicable_refused","na_reason_publication":"公表しない","clause_policy_compliance":"present"}`
		if err := store.SaveDecisionRequest(ctx, models.DecisionRequest{RequestID: "r1", TaskID: review, Choice: "done", DeciderID: "C1",
			Comment: "守秘義務の条項を追加してください", Values: values}); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 5, 1, 1, 30, 0, 0, time.UTC)
		if err := store.RecordDecision(ctx, models.Decision{TaskID: review, ProcessID: "OUT-1", Step: "clause_review", Choice: "done",
			DeciderID: "C1", DecidedAt: at}, "r1"); err != nil {
			t.Fatal(err)
		}
		due := at.Add(10 * 24 * time.Hour)
		spec := activities.TaskSpec{ID: "OUT-1/requester_revision/1", ProcessID: "OUT-1", WorkflowID: "OUT-1", Step: "requester_revision",
			Title: activities.Text{Ja: "委託契約書案の修正と再提出", En: "Revise and resubmit the draft contract"}, AssigneeID: "C1",
			Choices: []string{"resubmit", "withdraw"}, DueAt: due, ExpiresAt: due.Add(72 * time.Hour), ReturnOf: review}
		if err := a.OpenTask(ctx, spec); err != nil {
			t.Fatal(err)
		}
		// The escalation goes to G1, who reads English.
		if err := a.EscalateTask(ctx, activities.TaskMail{TaskID: spec.ID, Kind: "escalation", RecipientID: "G1"}); err != nil {
			t.Fatal(err)
		}
		if len(mb.sent) != 2 {
			t.Fatalf("sent %d mails, want 2", len(mb.sent))
		}
		for i, want := range [][]string{
			{"差し戻した人: 山田 花子 (2026-05-01 10:30 JST)", "守秘義務の条項を追加してください",
				"7. 業務上知り得た情報の守秘義務 — 記載なし（審査者のメモ: 第7条に守秘義務の定めがない）", "該当なしの理由が認められない", "公表しない"},
			{"Returned by: 山田 花子 (2026-05-01 10:30 JST)", "守秘義務の条項を追加してください",
				"7. Confidentiality of what is learned on the job — missing (reviewer's note: 第7条に守秘義務の定めがない)", "the reason refused"},
		} {
			m := mb.sent[i]
			for _, w := range want {
				if !strings.Contains(m.Text, w) || !strings.Contains(m.HTML, strings.ReplaceAll(w, "'", "&#39;")) {
					t.Errorf("mail %d lacks %q:\n%s", i, w, m.Text)
				}
			}
			if strings.Contains(m.Text, "Compliance with the security policy") || strings.Contains(m.Text, "情報セキュリティポリシー及び") {
				t.Errorf("mail %d lists a clause marked present:\n%s", i, m.Text)
			}
		}

		// A task that answers no return says nothing of one.
		mb.sent = nil
		plain := spec
		plain.ID, plain.ReturnOf = "OUT-1/requester_revision/2", ""
		if err := a.OpenTask(ctx, plain); err != nil {
			t.Fatal(err)
		}
		if len(mb.sent) != 1 || strings.Contains(mb.sent[0].Text, "差し戻") {
			t.Errorf("a task answering no return mentions one:\n%s", mb.sent[0].Text)
		}
	})
}

// The CISO's instructions on a returned root-cause record (a field of the review's form,
// §5.3(3)2) are the return's comment on the next record's task.
func TestRootCauseReturnShowsTheInstructions(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		a, mb, _ := setup(t, store)
		ctx := context.Background()
		p := models.Process{ID: "INC-1", Kind: models.KindIncident, Status: "root_cause", Stage: "root_cause", WorkflowID: "INC-1"}
		if err := store.CreateProcess(ctx, &p); err != nil {
			t.Fatal(err)
		}
		review := "INC-1/root_cause_review/1"
		if err := store.CreateTask(ctx, &models.Task{ID: review, ProcessID: "INC-1", WorkflowID: "INC-1", Step: "root_cause_review",
			AssigneeID: "C1", Choices: "accept,return", Status: models.TaskOpen}); err != nil {
			t.Fatal(err)
		}
		if err := store.SaveDecisionRequest(ctx, models.DecisionRequest{RequestID: "r1", TaskID: review, Choice: "return", DeciderID: "C1",
			Values: `{"instructions":"委託先のログも調査すること"}`}); err != nil {
			t.Fatal(err)
		}
		if err := store.RecordDecision(ctx, models.Decision{TaskID: review, ProcessID: "INC-1", Step: "root_cause_review", Choice: "return",
			DeciderID: "C1", DecidedAt: time.Date(2026, 5, 1, 1, 30, 0, 0, time.UTC)}, "r1"); err != nil {
			t.Fatal(err)
		}
		due := time.Date(2026, 5, 8, 8, 15, 0, 0, time.UTC)
		if err := a.OpenTask(ctx, activities.TaskSpec{ID: "INC-1/root_cause/2", ProcessID: "INC-1", WorkflowID: "INC-1", Step: "root_cause",
			Title: activities.Text{Ja: "原因究明", En: "Root cause"}, AssigneeID: "G1", Choices: []string{"submit"}, DueAt: due, ExpiresAt: due,
			ReturnOf: review}); err != nil {
			t.Fatal(err)
		}
		if len(mb.sent) != 1 || !strings.Contains(mb.sent[0].Text, "Returned by: 山田 花子") || !strings.Contains(mb.sent[0].Text, "委託先のログも調査すること") {
			t.Errorf("the next record's mail does not show the return and its instructions:\n%v", mb.sent)
		}
	})
}
