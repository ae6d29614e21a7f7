package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// authorityRecord is what these tests read of GET /api/v1/processes/{id}.
type authorityRecord struct {
	Process struct{ Status, Stage string }
	Tasks   []struct {
		ID         string
		Step       string
		AssigneeID string `json:"assignee_id"`
		Status     string
	}
	Decisions []struct {
		TaskID     string `json:"task_id"`
		Step       string
		Choice     string `json:"decision"`
		DeciderID  string `json:"decider_id"`
		OnBehalfOf string `json:"on_behalf_of"`
		Basis      string
	}
	Notifications []struct {
		Kind        string
		TaskID      string `json:"task_id"`
		RecipientID string `json:"recipient_id"`
		Subject     string
	}
	Timeline []struct{ Note string }
}

func (r authorityRecord) task(step string) (id, assignee, status string) {
	for _, t := range r.Tasks {
		if t.Step == step {
			id, assignee, status = t.ID, t.AssigneeID, t.Status
		}
	}
	return id, assignee, status
}

func (r authorityRecord) timelineHas(parts ...string) bool {
	for _, e := range r.Timeline {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(e.Note, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// TestAuthorityEndToEnd runs the authority rules of issue 12 on the real services with the
// built binary, every step through the API and the links in the mails Mailpit received:
//
//  1. the CISO's post changes hands between the filing of an exception and the CISO's
//     decision: the successor is mailed a link of their own, the predecessor's link is
//     refused (410) and changes nothing, and the successor's decision is on the record with
//     the hand-over in the timeline;
//  2. the CISO retires with a link in their mailbox: the link is refused (403 or 410) and
//     records nothing, and the task goes to the new CISO;
//  3. a registered absence of the CISO sends an incident's instruction step to the GISO at
//     once (§2(2)5), whose decision is recorded as made for the CISO, who gets the 後閲 mail.
//
// That a vendor's page shows none of the town's internal fields is asserted on the vendor's
// own links in TestOutsourcingEndToEnd.
func TestAuthorityEndToEnd(t *testing.T) {
	s := startSystem(t)
	directory := s.run("token", "create", "e2e-directory", "directory")
	officer := s.run("token", "create", "e2e-officer", "officer")
	auditor := s.run("token", "create", "e2e-auditor", "auditor")
	admin := s.run("token", "create", "e2e-admin", "admin")

	people := map[string]map[string]any{
		"AU-CISO-A": {"name": "副町長 甲", "email": "au-ciso-a@town.example", "department": "mayor", "roles": []string{"ciso"}},
		"AU-CISO-B": {"name": "副町長 乙", "email": "au-ciso-b@town.example", "department": "mayor", "roles": []string{"staff"}},
		"AU-CISO-C": {"name": "副町長 丙", "email": "au-ciso-c@town.example", "department": "mayor", "roles": []string{"staff"}},
		"AU-GISO":   {"name": "総務部長 テスト", "email": "au-giso@town.example", "department": "general", "roles": []string{"giso"}},
		"AU-DISO":   {"name": "住民課長 テスト", "email": "au-diso@town.example", "department": "residents", "roles": []string{"diso"}},
		"AU-ISM":    {"name": "住民係長 テスト", "email": "au-ism@town.example", "department": "residents", "roles": []string{"ism"}},
		"AU-STAFF":  {"name": "窓口職員 テスト", "email": "au-staff@town.example", "department": "residents", "roles": []string{"staff"}},
	}
	s.putPeople(directory, people)
	if code := s.call(directory, "PUT", "/api/v1/systems/au-registry", map[string]any{"name": "住民基本台帳", "department": "residents", "ism": "AU-ISM", "classification": 1}, nil); code != http.StatusCreated {
		t.Fatalf("PUT system: %d", code)
	}
	// change replaces a person already in the directory (200), which tells the processes
	// with an open task of theirs (reassess).
	change := func(t *testing.T, id string, edit map[string]any) {
		t.Helper()
		p := map[string]any{}
		for k, v := range people[id] {
			p[k] = v
		}
		for k, v := range edit {
			p[k] = v
		}
		people[id] = p
		if code := s.call(directory, "PUT", "/api/v1/people/"+id, p, nil); code != http.StatusOK {
			t.Fatalf("PUT person %s %v: %d", id, edit, code)
		}
	}
	record := func(t *testing.T, id string) authorityRecord {
		t.Helper()
		var r authorityRecord
		if code := s.call(auditor, "GET", "/api/v1/processes/"+id, nil, &r); code != http.StatusOK {
			t.Fatalf("GET process %s: %d", id, code)
		}
		return r
	}
	fileException := func(t *testing.T, reason string) string {
		t.Helper()
		now := time.Now().In(tokyo(t))
		var p struct{ ID string }
		if code := s.call(officer, "POST", "/api/v1/exceptions", map[string]any{
			"requester": "AU-DISO", "clauses": []string{"6.2(1)"}, "alternative": "操作ログを毎日確認する",
			"reason": reason, "systems": []string{"au-registry"}, "classification": 1,
			"start_date": now.Format("2006-01-02"), "end_date": now.AddDate(0, 3, 0).Format("2006-01-02"),
		}, &p); code != http.StatusCreated || p.ID == "" {
			t.Fatalf("POST /exceptions: %d %+v", code, p)
		}
		return p.ID
	}
	cancel := func(t *testing.T, id string) {
		t.Helper()
		if code := s.call(admin, "POST", "/api/v1/processes/"+id+"/cancel", map[string]string{"reason": "e2e cleanup"}, nil); code != http.StatusOK {
			t.Errorf("cancel %s: %d", id, code)
		}
	}

	ok := t.Run("post changes hands before the CISO decides", func(t *testing.T) {
		id := fileException(t, "保守業者の作業のため")
		linkA := linkIn(t, "au-ciso-a@town.example", id, "例外措置申請の審査")

		// The CISO's post goes from A to B: B is given the role first (B has no open task,
		// nothing is told), then A loses it, which tells A's process.
		change(t, "AU-CISO-B", map[string]any{"roles": []string{"ciso"}})
		change(t, "AU-CISO-A", map[string]any{"roles": []string{"staff"}})

		handover := mailIn(t, "au-ciso-b@town.example", id, "【引継ぎ】")
		if !strings.Contains(handover.Subject, "例外措置申請の審査") || !strings.Contains(handover.Text, "引き継がれました") {
			t.Errorf("hand-over mail %q:\n%s", handover.Subject, handover.Text)
		}
		linkB := linkIn(t, "au-ciso-b@town.example", id, "【引継ぎ】")
		if linkB == linkA {
			t.Fatalf("B was mailed A's link")
		}

		// A's link: the page says it was handed over, to whom; a POST is refused the same way.
		code, page := getPage(t, linkA)
		if code != http.StatusGone || !strings.Contains(page, "引き継がれた") || !strings.Contains(page, "副町長 乙") {
			t.Errorf("GET A's link after the hand-over: %d\n%s", code, page)
		}
		code, page = decide(t, linkA, "approve", "甲として承認")
		if code != http.StatusGone || !strings.Contains(page, "引き継がれた") || !strings.Contains(page, "判断は記録されていません") {
			t.Errorf("POST on A's link after the hand-over: %d\n%s", code, page)
		}
		r := record(t, id)
		taskID, assignee, status := r.task("ciso_review")
		if len(r.Decisions) != 0 || assignee != "AU-CISO-B" || status != "open" || r.Process.Status != "pending" {
			t.Fatalf("after A's POST: process %s, ciso_review %s for %s, decisions %+v", r.Process.Status, status, assignee, r.Decisions)
		}
		handed := false
		for _, n := range r.Notifications {
			handed = handed || (n.Kind == "handover-1" && n.TaskID == taskID && n.RecipientID == "AU-CISO-B")
		}
		if !handed {
			t.Errorf("the register has no hand-over mail to B: %+v", r.Notifications)
		}

		// B decides through B's own link.
		if code, page := decide(t, linkB, "approve", "乙として承認します"); code != http.StatusOK || !strings.Contains(page, "記録しました") {
			t.Fatalf("B approves: %d\n%s", code, page)
		}
		eventually(t, 30*time.Second, "the exception to be in effect", func() bool {
			r = record(t, id)
			return r.Process.Status == "in_effect"
		})
		if len(r.Decisions) != 1 || r.Decisions[0].DeciderID != "AU-CISO-B" || r.Decisions[0].Choice != "approve" || r.Decisions[0].OnBehalfOf != "" {
			t.Errorf("decisions = %+v", r.Decisions)
		}
		if !r.timelineHas(taskID, "handed over", "AU-CISO-B") {
			t.Errorf("the timeline does not mention the hand-over to B: %+v", r.Timeline)
		}
		cancel(t, id)
	})
	if !ok {
		return
	}

	ok = t.Run("a retired CISO's link is refused", func(t *testing.T) {
		id := fileException(t, "端末更新のため")
		linkB := linkIn(t, "au-ciso-b@town.example", id, "例外措置申請の審査")

		// The successor C is appointed (B still holds the post: nothing is handed over yet),
		// then B retires.
		change(t, "AU-CISO-C", map[string]any{"roles": []string{"ciso"}})
		change(t, "AU-CISO-B", map[string]any{"employment_status": "retired"})

		// B's link at once: refused, as not employed (403) or, if the engine has handed the
		// task over already, as handed over (410).
		code, page := decide(t, linkB, "approve", "退職後の承認")
		if (code != http.StatusForbidden && code != http.StatusGone) || !strings.Contains(page, "判断は記録されていません") {
			t.Fatalf("POST on the retired CISO's link: %d\n%s", code, page)
		}
		t.Logf("the retired CISO's POST right after the PUT answered %d", code)

		linkC := linkIn(t, "au-ciso-c@town.example", id, "【引継ぎ】")
		code, page = decide(t, linkB, "approve", "退職後の承認")
		if code != http.StatusGone || !strings.Contains(page, "副町長 丙") {
			t.Errorf("POST on the retired CISO's link after the hand-over: %d\n%s", code, page)
		}
		r := record(t, id)
		_, assignee, status := r.task("ciso_review")
		if len(r.Decisions) != 0 || assignee != "AU-CISO-C" || status != "open" || r.Process.Status != "pending" {
			t.Fatalf("after the retired CISO's POSTs: process %s, ciso_review %s for %s, decisions %+v", r.Process.Status, status, assignee, r.Decisions)
		}

		if code, page := decide(t, linkC, "reject", "代替措置が不十分"); code != http.StatusOK {
			t.Fatalf("C rejects: %d\n%s", code, page)
		}
		waitClosed(t, s, auditor, id, "rejected")
		r = record(t, id)
		if len(r.Decisions) != 1 || r.Decisions[0].DeciderID != "AU-CISO-C" {
			t.Errorf("decisions = %+v", r.Decisions)
		}
	})
	if !ok {
		return
	}

	t.Run("an absent CISO's incident instruction goes to the GISO with a 後閲 notice", func(t *testing.T) {
		now := time.Now()
		var absence struct {
			ID     uint
			Status string
		}
		if code := s.call(directory, "POST", "/api/v1/people/AU-CISO-C/absences", map[string]any{
			"from": now.Add(-time.Minute).Format(time.RFC3339), "to": now.Add(48 * time.Hour).Format(time.RFC3339), "reason": "出張",
		}, &absence); code != http.StatusCreated || absence.Status != "in_force" {
			t.Fatalf("POST absence: %d %+v", code, absence)
		}

		var started struct{ ID string }
		if code := s.call(officer, "POST", "/api/v1/incidents", map[string]any{
			"reporter": "AU-STAFF", "system": "au-registry", "category": "malware", "classification": 1,
			"description": "端末で身代金を要求する画面が表示された", "discovered_at": now.Add(-10 * time.Minute).Format(time.RFC3339),
		}, &started); code != http.StatusCreated || started.ID == "" {
			t.Fatalf("POST /incidents: %d %+v", code, started)
		}
		id := started.ID
		submit(t, linkIn(t, "au-diso@town.example", id, "インシデントの判定"), "record", map[string]string{
			"severity": "high", "plan": "yes", "ciso": "no", "notes": "ランサムウェアの疑い"})

		// High severity: the CISO's instructions, asked of the GISO at once.
		instruct := linkIn(t, "au-giso@town.example", id, "対応の指示")
		r := record(t, id)
		taskID, assignee, _ := r.task("ciso_instruction")
		if assignee != "AU-GISO" {
			t.Fatalf("ciso_instruction is assigned to %q, want AU-GISO", assignee)
		}
		var mails []string
		for _, n := range r.Notifications {
			if n.TaskID == taskID {
				mails = append(mails, n.Kind+" to "+n.RecipientID)
			}
		}
		if len(mails) != 1 || mails[0] != "assigned to AU-GISO" {
			t.Errorf("the task's mails are %v, want only the GISO's assignment (not the CISO's, nor a hand-over)", mails)
		}
		if !r.timelineHas("ciso_instruction", "AU-CISO-C is registered absent", "AU-GISO", "代決") {
			t.Errorf("the timeline does not say why the GISO has the task: %+v", r.Timeline)
		}
		submit(t, instruct, "instruct", map[string]string{"instructions": "端末を隔離し、業者に連絡すること"})

		eventually(t, 30*time.Second, "the GISO's decision in the register", func() bool {
			r = record(t, id)
			for _, d := range r.Decisions {
				if d.Step == "ciso_instruction" {
					return true
				}
			}
			return false
		})
		for _, d := range r.Decisions {
			if d.Step == "ciso_instruction" && (d.DeciderID != "AU-GISO" || d.OnBehalfOf != "AU-CISO-C" || !strings.Contains(d.Basis, "§2(2)5")) {
				t.Errorf("the instruction is recorded as %+v, want AU-GISO for AU-CISO-C under §2(2)5", d)
			}
		}
		review := mailIn(t, "au-ciso-c@town.example", id, "【後閲】")
		if !strings.Contains(review.Text, "総務部長 テスト") || !strings.Contains(review.Text, "§2(2)5") {
			t.Errorf("後閲 mail %q:\n%s", review.Subject, review.Text)
		}
		var inc struct {
			Hops []struct{ Hop, Note string }
		}
		s.call(auditor, "GET", "/api/v1/incidents/"+id, nil, &inc)
		judged := false
		for _, h := range inc.Hops {
			judged = judged || (h.Hop == "giso_own_judgement" && strings.Contains(h.Note, "registered absent"))
		}
		if !judged {
			t.Errorf("no giso_own_judgement hop saying the CISO is registered absent: %+v", inc.Hops)
		}
		cancel(t, id)
	})
}
