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
