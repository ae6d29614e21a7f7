package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// committeeIncident is a closed malware incident in the register: discovered at 09:00,
// received at 09:30, triaged at 10:15 and closed at 12:00, with its root-cause record.
func committeeIncident(t *testing.T, store *models.Store, members ...models.Person) *activities.Activities {
	t.Helper()
	ctx := context.Background()
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if len(members) > 0 {
		if _, err := store.PutPeople(ctx, members); err != nil {
			t.Fatal(err)
		}
	}
	p := models.Process{ID: "INC-1", Kind: models.KindIncident, Status: "closed", Stage: "closed", WorkflowID: "INC-1", Summary: "PC infected in the residents' office"}
	if err := store.CreateProcess(ctx, &p); err != nil {
		t.Fatal(err)
	}
	at := func(hm string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", "2026-04-27 "+hm, tokyo)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	if err := store.CreateIncident(ctx, models.Incident{ProcessID: "INC-1", Source: "staff", ReporterID: "S1", DepartmentID: "residents",
		SystemID: "SYS1", Category: "malware", Description: "a pop-up", DiscoveredAt: at("09:00"), ReceivedAt: at("09:30")}); err != nil {
		t.Fatal(err)
	}
	for i, h := range []models.IncidentHop{
		{Hop: "discovered", ActorID: "S1", At: at("09:00")},
		{Hop: "received", At: at("09:30")},
		{Hop: "triaged", ActorID: "D1", Note: "severity high", At: at("10:15")},
		{Hop: "measure_1_done", ActorID: "D1", At: at("11:30")},
		{Hop: "closed", At: at("12:00")},
	} {
		h.ProcessID, h.Key = "INC-1", "INC-1/"+string(rune('a'+i))
		if err := store.RecordIncidentHop(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []models.Decision{
		{TaskID: "INC-1/root_cause/1", Step: "root_cause", Values: `{"cause":"an unpatched browser","measure_1":"patch monthly","owner_1":"D1","measure_2":"train staff","owner_2":"G1"}`},
		{TaskID: "INC-1/cause_department/1", Step: "cause_department", Values: `{"cause":"the update was postponed"}`},
	} {
		d.ProcessID, d.Choice, d.DeciderID, d.DecidedAt = "INC-1", "submit", "G1", at("11:00")
		if err := store.DB.Create(&d).Error; err != nil {
			t.Fatal(err)
		}
	}
	return &activities.Activities{Store: store, Mailer: &mailbox{}, PublicURL: "https://policyflow.town.example", Loc: tokyo,
		Now: func() time.Time { return at("12:00") }}
}

func committeeMember(id, locale, status string) models.Person {
	return models.Person{EmployeeID: id, Name: "Member " + id, Email: strings.ToLower(id) + "@town.example", DepartmentID: "general",
		Locale: locale, Status: status, Roles: []models.PersonRole{{EmployeeID: id, Role: string(policy.RoleCommittee)}}}
}

// The report says what happened, the timeline in minutes since discovery, the cause and the
// measures, and goes once to each employed member, in the member's language, however
// often the activity is retried; the register keeps it and the timeline says whom it went to.
func TestReportToCommittee(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		a := committeeIncident(t, store, committeeMember("M1", "ja", models.StatusEmployed), committeeMember("M2", "en", models.StatusEmployed),
			committeeMember("M3", "ja", models.StatusRetired))
		mb := a.Mailer.(*mailbox)
		req := activities.CommitteeReport{ProcessID: "INC-1", Severity: policy.SeverityHigh, Outcome: "closed", PlanVersion: "default-2026-12"}
		for range 2 { // a retry sends nothing twice
			got, err := a.ReportToCommittee(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got.Members, ",") != "M1,M2" {
				t.Fatalf("members = %v, want M1,M2 (M3 retired)", got.Members)
			}
		}
		if len(mb.sent) != 2 {
			t.Fatalf("sent %d mails, want 2", len(mb.sent))
		}
		ja, en := mb.sent[0], mb.sent[1]
		if ja.To != "m1@town.example" || en.To != "m2@town.example" {
			t.Fatalf("to %s and %s", ja.To, en.To)
		}
		for _, want := range []string{"情報セキュリティ委員会", "分類：不正プログラム感染", "重大度：高", "所管部局：residents", "情報システム：SYS1",
			"概要：PC infected in the residents' office", "発見からの経過分", "    +0分", "   +30分", "   +75分  2026-04-27 10:15 JST  triaged (D1): severity high",
			"  +180分", "an unpatched browser", "所管部局の所見：the update was postponed",
			"1. patch monthly（担当 D1）：完了", "2. train staff（担当 G1）：未完了", "default-2026-12"} {
			if !strings.Contains(ja.Text, want) {
				t.Errorf("Japanese report lacks %q:\n%s", want, ja.Text)
			}
		}
		for _, want := range []string{"security committee", "Category: Malware infection", "Severity: High", "minutes since discovery",
			"   +75 min  2026-04-27 10:15 JST  triaged (D1)", "  +180 min", "1. patch monthly (owner D1): done", "2. train staff (owner G1): not done"} {
			if !strings.Contains(en.Text, want) {
				t.Errorf("English report lacks %q:\n%s", want, en.Text)
			}
		}
		if strings.Contains(ja.Text, "/tasks/") || strings.Contains(en.Text, "/tasks/") {
			t.Error("the report is a notice: it carries no task link")
		}
		in, err := store.Incident(ctx, "INC-1")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(in.CommitteeReport, "+75分") || !strings.Contains(in.CommitteeReport, "+75 min") || in.CommitteeReportedAt == nil {
			t.Errorf("the register does not keep the report: %q", in.CommitteeReport)
		}
		detail, err := store.ProcessDetail(ctx, "INC-1")
		if err != nil {
			t.Fatal(err)
		}
		var notes []string
		for _, e := range detail.Events {
			notes = append(notes, e.Note)
		}
		if !strings.Contains(strings.Join(notes, "\n"), "mailed to its 2 members (M1, M2)") {
			t.Errorf("timeline = %v", notes)
		}
	})
}

// A committee without members: the report is kept and the timeline says nobody was mailed.
func TestReportToCommitteeWithoutMembers(t *testing.T) {
	stores(t, func(t *testing.T, store *models.Store) {
		ctx := context.Background()
		a := committeeIncident(t, store)
		got, err := a.ReportToCommittee(ctx, activities.CommitteeReport{ProcessID: "INC-1", Severity: policy.SeverityLow, Outcome: "closed"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Members) != 0 || len(a.Mailer.(*mailbox).sent) != 0 {
			t.Fatalf("members %v, mails %d", got.Members, len(a.Mailer.(*mailbox).sent))
		}
		detail, err := store.ProcessDetail(ctx, "INC-1")
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range detail.Events {
			found = found || strings.Contains(e.Note, "no members")
		}
		if !found {
			t.Errorf("the timeline does not say that the committee has no members: %+v", detail.Events)
		}
	})
}
