package models_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/policyflow/policyflow/models"
)

// The list by employee_id (two ordered reads merged) pages through exactly the processes
// about or asked for by the person, newest first, each once, with equal creation times
// ordered by ID, and combines with the other filters.
func TestListByEmployeeMergesBothColumns(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		const who = "E-ME"
		base := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		var want []string // newest first
		for i := range 40 {
			p := models.Process{ID: fmt.Sprintf("P%03d", i), Kind: models.KindException, Status: "pending", Stage: "x",
				WorkflowID: fmt.Sprintf("wf-%03d", i), DepartmentID: "d", RequesterID: "E-OTHER",
				CreatedAt: base.Add(time.Duration(i/3) * time.Minute)} // three at a time share a creation time
			switch i % 4 {
			case 0:
				p.EmployeeID = who
			case 1:
				p.RequesterID = who
			case 2:
				p.EmployeeID, p.RequesterID = who, who
			}
			if i%8 == 5 {
				p.Kind = models.KindOffboarding
			}
			if err := s.CreateProcess(ctx, &p); err != nil {
				t.Fatal(err)
			}
			if i%4 != 3 {
				want = append(want, p.ID)
			}
		}
		slices.SortFunc(want, func(a, b string) int { // (created_at, id) descending
			ia, ib := 0, 0
			fmt.Sscanf(a, "P%d", &ia)
			fmt.Sscanf(b, "P%d", &ib)
			if ia/3 != ib/3 {
				return ib/3 - ia/3
			}
			return ib - ia
		})
		var got []string
		f := models.ProcessFilter{EmployeeID: who, Limit: 7}
		for range 10 {
			page, err := s.ListProcesses(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page {
				got = append(got, p.ID)
			}
			if len(page) < f.Limit {
				break
			}
			last := page[len(page)-1]
			f.AfterCreated, f.AfterID = last.CreatedAt, last.ID
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages by employee_id:\n got %v\nwant %v", got, want)
		}
		page, err := s.ListProcesses(ctx, models.ProcessFilter{EmployeeID: who, Kind: models.KindOffboarding, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var off []string
		for _, p := range page {
			off = append(off, p.ID)
		}
		if !slices.Equal(off, []string{"P037", "P029", "P021", "P013", "P005"}) {
			t.Errorf("offboardings by employee_id: %v", off)
		}
	})
}

// EnsureDecision, the API's write after the workflow accepted a decision, records it with the
// stored request's comment when nobody has, and changes nothing when the workflow already did.
func TestEnsureDecision(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Second)
		for _, id := range []string{"T-API", "T-WF"} {
			task := models.Task{ID: id, ProcessID: "P-1", WorkflowID: "P-1", Step: "review", AssigneeID: "C1",
				Choices: "approve,reject", Status: models.TaskOpen, DueAt: now, ExpiresAt: now}
			if err := s.CreateTask(ctx, &task); err != nil {
				t.Fatal(err)
			}
			req := models.DecisionRequest{RequestID: "req-" + id, TaskID: id, Choice: "approve", DeciderID: "C1", Comment: "ok " + id}
			if err := s.SaveDecisionRequest(ctx, req); err != nil {
				t.Fatal(err)
			}
		}
		d := func(task, choice string) models.Decision {
			return models.Decision{TaskID: task, ProcessID: "P-1", Step: "review", Choice: choice, DeciderID: "C1", DecidedAt: now}
		}
		// Nobody recorded T-API: the API's write records it, closing the task.
		if err := s.EnsureDecision(ctx, d("T-API", "approve"), "req-T-API"); err != nil {
			t.Fatal(err)
		}
		// The workflow recorded T-WF first; the API's write (here with a wrong choice, to
		// see that it writes nothing) leaves it as it was.
		if err := s.RecordDecision(ctx, d("T-WF", "approve"), "req-T-WF"); err != nil {
			t.Fatal(err)
		}
		if err := s.EnsureDecision(ctx, d("T-WF", "reject"), "req-T-WF"); err != nil {
			t.Fatal(err)
		}
		for task, want := range map[string]string{"T-API": "approve", "T-WF": "approve"} {
			got, err := s.DecisionOn(ctx, task)
			if err != nil || got.Choice != want || got.Comment != "ok "+task {
				t.Errorf("%s: decision %+v, %v; want %s with the stored comment", task, got, err, want)
			}
		}
		var open int64
		s.DB.Model(&models.Task{}).Where("status = ?", models.TaskOpen).Count(&open)
		if open != 0 {
			t.Errorf("%d tasks still open", open)
		}
	})
}
