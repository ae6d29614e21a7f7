package main

import (
	"context"
	"testing"
)

// The demo directory `make dev` starts with has the two levels of §2: the residents
// department's two sections (課室), each with its head managing its system and staff of its
// own, so a transfer between sections, the designees of a section's system and the
// reconciliation's former_section finding can be tried at once.
func TestDemoHasTwoSectionsOfOneDepartment(t *testing.T) {
	store := tokenStore(t)
	ctx := context.Background()
	if err := seedDemo(ctx, store); err != nil {
		t.Fatal(err)
	}
	secs, err := store.Sections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range secs {
		got[s.ID] = s.DepartmentID
	}
	if len(got) != 2 || got["residents-records"] != "residents" || got["residents-insurance"] != "residents" {
		t.Fatalf("sections %v, want residents-records and residents-insurance of residents", got)
	}
	members := map[string]int{}
	for _, id := range []string{"D0005", "D0006", "D0008", "D0009", "D0010"} {
		p, err := store.Person(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		members[p.SectionID]++
	}
	if members["residents-records"] != 3 || members["residents-insurance"] != 2 {
		t.Errorf("members by section %v", members)
	}
	for id, want := range map[string][2]string{"resident-registry": {"residents-records", "D0005"}, "national-insurance": {"residents-insurance", "D0009"}} {
		sys, err := store.System(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if sys.SectionID != want[0] || sys.ISMEmployeeID != want[1] {
			t.Errorf("system %s: section %q, manager %q; want %v", id, sys.SectionID, sys.ISMEmployeeID, want)
		}
	}
	if err := seedDemo(ctx, store); err != nil { // a directory already filled is left alone
		t.Fatal(err)
	}
}

// The demo's security committee has members, so that its reports reach the outbox.
func TestDemoHasACommittee(t *testing.T) {
	store := tokenStore(t)
	ctx := context.Background()
	if err := seedDemo(ctx, store); err != nil {
		t.Fatal(err)
	}
	members, err := store.RoleMembers(ctx, "committee")
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 3 {
		t.Errorf("committee members %d, want the CISO, the GISO and the residents' officer", len(members))
	}
}
