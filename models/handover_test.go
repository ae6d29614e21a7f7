package models_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/models"
)

func withRoles(id, dept, status string, roles ...string) models.Person {
	p := models.Person{EmployeeID: id, Name: "Name " + id, Email: id + "@town.example", DepartmentID: dept, Locale: "ja", Status: status}
	for _, r := range roles {
		p.Roles = append(p.Roles, models.PersonRole{EmployeeID: id, Role: r})
	}
	return p
}

// A put reports the existing people whose roles, department or employment status changed;
// a new person, a new name or a reordering of the same roles is no change of post.
func TestPutPeopleChangesReportsChangedPosts(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		base := []models.Person{
			withRoles("A", "d1", "employed", "staff", "diso"),
			withRoles("B", "d1", "employed", "staff"),
			withRoles("C", "d1", "employed", "ism"),
			withRoles("D", "d1", "employed", "staff"),
			withRoles("E", "d1", "employed", "staff"),
		}
		created, changed, err := s.PutPeopleChanges(ctx, base)
		if err != nil || created != 5 || len(changed) != 0 {
			t.Fatalf("first put: created %d, changed %v, %v", created, changed, err)
		}
		next := []models.Person{
			withRoles("A", "d1", "employed", "diso", "staff"), // same roles, other order
			withRoles("B", "d1", "employed", "staff", "ism"),  // a role more
			withRoles("C", "d2", "employed", "ism"),           // another department
			withRoles("D", "d1", "retired", "staff"),          // retired
			withRoles("F", "d1", "employed", "ciso"),          // new
		}
		next[0].Name = "A renamed"
		next = append(next, withRoles("E", "d1", "employed")) // roles removed
		created, changed, err = s.PutPeopleChanges(ctx, next)
		if err != nil {
			t.Fatal(err)
		}
		if created != 1 || !slices.Equal(changed, []string{"B", "C", "D", "E"}) {
			t.Errorf("created %d, changed %v; want 1 and [B C D E]", created, changed)
		}
		e, _ := s.Person(ctx, "E")
		if len(e.Roles) != 0 {
			t.Errorf("E still holds %v", e.RoleNames())
		}
	})
}

// The open tasks of several people, by person: assigned, escalated or held for them.
func TestOpenTaskWorkflowsOf(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		for _, x := range []models.Task{
			{ID: "w1/a/1", ProcessID: "w1", WorkflowID: "w1", AssigneeID: "P", Status: models.TaskOpen},
			{ID: "w1/b/1", ProcessID: "w1", WorkflowID: "w1", AssigneeID: "Q", EscalatedToID: "P", Status: models.TaskOpen},
			{ID: "w2/a/1", ProcessID: "w2", WorkflowID: "w2", AssigneeID: "DEP", OnBehalfOf: "P", Status: models.TaskOpen},
			{ID: "w3/a/1", ProcessID: "w3", WorkflowID: "w3", AssigneeID: "P", Status: models.TaskDecided},
			{ID: "w4/a/1", ProcessID: "w4", WorkflowID: "w4", AssigneeID: "R", Status: models.TaskOpen},
		} {
			x.Step, x.Choices, x.DueAt, x.ExpiresAt = "s", "done", now, now
			if err := s.CreateTask(ctx, &x); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.OpenTaskWorkflowsOf(ctx, []string{"P", "Q", "NOBODY"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || !slices.Equal(got["P"], []string{"w1", "w2"}) || !slices.Equal(got["Q"], []string{"w1"}) {
			t.Errorf("got %v, want P: [w1 w2], Q: [w1]", got)
		}
		one, err := s.OpenTaskWorkflows(ctx, "P")
		if err != nil || !slices.Equal(one, got["P"]) {
			t.Errorf("OpenTaskWorkflows(P) = %v, %v; the bulk one says %v", one, err, got["P"])
		}
	})
}

// The posts a leaver left end once, with a note in the offboarding's timeline.
func TestEndLeaverPosts(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutPeople(ctx, []models.Person{
			withRoles("R", "tax", "employed", "staff", "diso", "ism"),
			withRoles("T", "tax", "employed", "staff", "hr", "diso"),
		}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"OFB-R", "OFB-T", "OFB-X"} {
			if err := s.CreateProcess(ctx, &models.Process{ID: id, Kind: models.KindOffboarding, Status: "in_progress", Stage: "offboarding", WorkflowID: id}); err != nil {
				t.Fatal(err)
			}
		}
		at := time.Date(2026, 4, 1, 1, 0, 0, 0, time.UTC)
		for range 2 { // the second run is a retry: nothing changes
			note, err := s.EndLeaverPosts(ctx, models.LeaverPosts{ProcessID: "OFB-R", EmployeeID: "R", Status: "retired", AllRoles: true, At: at})
			if err != nil || !strings.Contains(note, "diso, ism, staff") {
				t.Fatalf("retire R: %q, %v", note, err)
			}
		}
		r, _ := s.Person(ctx, "R")
		if r.Status != "retired" || len(r.Roles) != 0 || r.DepartmentID != "tax" {
			t.Errorf("R after retiring: %s in %s with %v", r.Status, r.DepartmentID, r.RoleNames())
		}
		if _, err := s.EndLeaverPosts(ctx, models.LeaverPosts{ProcessID: "OFB-T", EmployeeID: "T", Status: "employed", Department: "welfare",
			EndRoles: []string{"ciso", "giso", "diso", "ism"}, At: at}); err != nil {
			t.Fatal(err)
		}
		tr, _ := s.Person(ctx, "T")
		roles := tr.RoleNames()
		slices.Sort(roles)
		if tr.Status != "employed" || tr.DepartmentID != "welfare" || !slices.Equal(roles, []string{"hr", "staff"}) {
			t.Errorf("T after the transfer: %s in %s with %v", tr.Status, tr.DepartmentID, roles)
		}
		var evs []models.ProcessEvent
		s.DB.Where("process_id IN ?", []string{"OFB-R", "OFB-T"}).Order("process_id").Find(&evs)
		if len(evs) != 2 || evs[0].Stage != "offboarding" || !strings.Contains(evs[1].Note, "welfare") {
			t.Errorf("timeline entries %+v", evs)
		}
		// Someone no longer in the directory has nothing to end; the timeline says so.
		note, err := s.EndLeaverPosts(ctx, models.LeaverPosts{ProcessID: "OFB-X", EmployeeID: "X", Status: "retired", AllRoles: true, At: at})
		if err != nil || !strings.Contains(note, "no X") {
			t.Errorf("unknown person: %q, %v", note, err)
		}
		// An unknown process is an error: the entry has nowhere to go.
		if _, err := s.EndLeaverPosts(ctx, models.LeaverPosts{ProcessID: "OFB-NONE", EmployeeID: "T", Status: "retired", AllRoles: true, At: at}); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown process: %v", err)
		}
	})
}

// An absence's status and its withdrawal.
func TestAbsenceStatusAndWithdrawal(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		from := time.Date(2027, 1, 3, 15, 0, 0, 0, time.UTC)
		a := models.Absence{EmployeeID: "P", From: from, To: from.Add(48 * time.Hour), RegisteredBy: "token:t"}
		if err := s.CreateAbsence(ctx, &a); err != nil || a.ID == 0 {
			t.Fatalf("create: %v (id %d)", err, a.ID)
		}
		later := models.Absence{EmployeeID: "P", From: from.Add(72 * time.Hour), To: from.Add(96 * time.Hour), RegisteredBy: "link:P"}
		if err := s.CreateAbsence(ctx, &later); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			at   time.Time
			want string
		}{{from.Add(-time.Second), "upcoming"}, {from, "in_force"}, {a.To.Add(-time.Second), "in_force"}, {a.To, "ended"}} {
			if got := a.StatusAt(c.at); got != c.want {
				t.Errorf("status at %v = %s, want %s", c.at, got, c.want)
			}
		}
		list, err := s.Absences(ctx, "P")
		if err != nil || len(list) != 2 || list[0].ID != later.ID {
			t.Errorf("list %+v, %v; want the later first", list, err)
		}
		if _, err := s.PersonAbsence(ctx, "Q", a.ID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("another person's absence: %v", err)
		}
		first := time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)
		got, err := s.CancelAbsence(ctx, "P", a.ID, first)
		if err != nil || got.CancelledAt == nil || got.StatusAt(from) != "cancelled" {
			t.Fatalf("cancel: %+v, %v", got, err)
		}
		got, _ = s.CancelAbsence(ctx, "P", a.ID, first.Add(time.Hour))
		if !got.CancelledAt.Equal(first) {
			t.Errorf("a second withdrawal moved the time to %v", got.CancelledAt)
		}
		if _, err := s.AbsenceAt(ctx, "P", from.Add(time.Hour)); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("a withdrawn absence is still in force: %v", err)
		}
	})
}

// The committee's members are every employed holder of the role, not one of them.
func TestRoleMembersListsEveryEmployedHolder(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutPeople(ctx, []models.Person{
			withRoles("M2", "d1", "employed", "staff", "committee"),
			withRoles("M1", "d2", "employed", "ciso", "committee"),
			withRoles("M3", "d1", "retired", "committee"),
			withRoles("S1", "d1", "employed", "staff"),
		}); err != nil {
			t.Fatal(err)
		}
		got, err := s.RoleMembers(ctx, "committee")
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, p := range got {
			ids = append(ids, p.EmployeeID)
		}
		if !slices.Equal(ids, []string{"M1", "M2"}) {
			t.Fatalf("members = %v, want [M1 M2]", ids)
		}
		if len(got[0].Roles) != 2 {
			t.Fatalf("roles not loaded: %+v", got[0].Roles)
		}
	})
}
