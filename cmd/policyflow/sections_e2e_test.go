package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/models"
)

// TestOffboardingAddedAccountAndSectionTransferEndToEnd runs two offboardings on the real
// services (MariaDB, Mailpit, Temporal, the built binary's serve and worker).
//
//  1. A retirement filed today; an account on another section's system is created after
//     filing; HR moves the date to yesterday, so the accounts are read again at once: the
//     added account's manager gets its task by mail and disables it from the link (§6.2(1)2:
//     every ID held on the effective date goes). The admin password the leaver knew is
//     changed by a designee the CISO approved, a member of the system's section (the other
//     section's head may not be named; §6.1(1)), of whom the GISO, the department's officer
//     and the system's manager are told (§6.2(1)3(イ)(ウ)).
//  2. A transfer between two sections (課室) of one department (§2, §6.1(1)): the manager of
//     the former section's system reviews the person's ID there from the mailed link and
//     keeps it with a reason; the new section's system is not touched; the directory has the
//     person in the new section.
//  3. The reconciliation then finds the ID kept on the former section's system
//     (former_section, §6.2(1)2(ウ)); its manager keeps it only with a written reason.
func TestOffboardingAddedAccountAndSectionTransferEndToEnd(t *testing.T) {
	s := startSystem(t)
	directory := s.run("token", "create", "e2e-directory", "directory")
	hr := s.run("token", "create", "e2e-hr", "hr")
	auditor := s.run("token", "create", "e2e-auditor", "auditor")
	for id, name := range map[string]string{"sec-assess": "課税課", "sec-collect": "収納課"} {
		if code := s.call(directory, "PUT", "/api/v1/sections/"+id, map[string]any{"department": "zeimu", "name_ja": name}, nil); code != http.StatusCreated {
			t.Fatalf("PUT section %s: %d", id, code)
		}
	}
	s.putPeople(directory, map[string]map[string]any{
		"SEC-CISO":   {"name": "副町長 テスト", "email": "sec-ciso@town.example", "department": "mayor", "roles": []string{"ciso"}},
		"SEC-GISO":   {"name": "総務部長 テスト", "email": "sec-giso@town.example", "department": "general", "roles": []string{"giso"}},
		"SEC-HR":     {"name": "人事係 テスト", "email": "sec-hr@town.example", "department": "general", "roles": []string{"hr"}},
		"SEC-DISO":   {"name": "税務部長 テスト", "email": "sec-diso@town.example", "department": "zeimu", "roles": []string{"diso"}},
		"SEC-ISMA":   {"name": "課税課長 テスト", "email": "sec-isma@town.example", "department": "zeimu", "section": "sec-assess", "roles": []string{"ism"}},
		"SEC-ISMB":   {"name": "収納課長 テスト", "email": "sec-ismb@town.example", "department": "zeimu", "section": "sec-collect", "roles": []string{"ism"}},
		"SEC-LEAVER": {"name": "退職 予定", "email": "sec-leaver@town.example", "department": "zeimu", "section": "sec-assess", "roles": []string{"staff"}},
		"SEC-MOVER":  {"name": "異動 予定", "email": "sec-mover@town.example", "department": "zeimu", "section": "sec-assess", "roles": []string{"staff"}},
		"SEC-STAFFA": {"name": "課税係 テスト", "email": "sec-staffa@town.example", "department": "zeimu", "section": "sec-assess", "roles": []string{"staff"}},
	})
	for id, owner := range map[string][]string{"kazei": {"sec-assess", "SEC-ISMA"}, "shuno": {"sec-collect", "SEC-ISMB"}} {
		if code := s.call(directory, "PUT", "/api/v1/systems/"+id, map[string]any{"name": id, "department": "zeimu", "section": owner[0], "ism": owner[1], "classification": 2}, nil); code != http.StatusCreated {
			t.Fatalf("PUT system %s: %d", id, code)
		}
	}
	account := func(sysID, holder string) {
		t.Helper()
		if code := s.call(directory, "PUT", "/api/v1/systems/"+sysID+"/accounts/"+strings.ToLower(holder), map[string]any{"holder": holder}, nil); code != http.StatusCreated {
			t.Fatalf("PUT account on %s: %d", sysID, code)
		}
	}
	account("kazei", "SEC-LEAVER")
	account("kazei", "SEC-MOVER")
	if code := s.call(directory, "PUT", "/api/v1/systems/kazei/accounts/admin", map[string]any{"shared": true, "privileged": true}, nil); code != http.StatusCreated {
		t.Fatalf("PUT admin account: %d", code)
	}
	if code := s.call(directory, "PUT", "/api/v1/systems/kazei/accounts/admin/known-by/SEC-LEAVER", nil, nil); code != http.StatusOK {
		t.Fatalf("PUT known-by: %d", code)
	}
	account("shuno", "SEC-MOVER")

	loc := tokyo(t)
	today := time.Now().In(loc).Format("2006-01-02")
	yesterday := time.Now().In(loc).AddDate(0, 0, -1).Format("2006-01-02")
	var got struct {
		Process struct{ Status, Stage string }
	}
	status := func(id string) string {
		s.call(auditor, "GET", "/api/v1/processes/"+id, nil, &got)
		return got.Process.Status
	}
	submit := func(link string, form url.Values) {
		t.Helper()
		if code, body := postForm(t, link, form); code != http.StatusOK {
			t.Fatalf("decision: %d\n%s", code, body)
		}
	}

	// 1. The retirement, and an account created after filing.
	var retire struct{ ID string }
	if code := s.call(hr, "POST", "/api/v1/offboardings", map[string]any{"employee_id": "SEC-LEAVER", "reason": "retirement", "effective_date": today}, &retire); code != http.StatusCreated {
		t.Fatalf("POST retirement: %d", code)
	}
	eventually(t, 30*time.Second, "the retirement to wait for the end of today", func() bool {
		s.call(auditor, "GET", "/api/v1/processes/"+retire.ID, nil, &got)
		return got.Process.Stage == "awaiting_effective_date"
	})
	account("shuno", "SEC-LEAVER")
	if code := s.call(hr, "POST", "/api/v1/offboardings/"+retire.ID+"/move-date", map[string]any{"effective_date": yesterday, "reason": "退職日の訂正"}, nil); code != http.StatusOK {
		t.Fatalf("move date: %d", code)
	}
	submit(linkIn(t, "sec-ismb@town.example", retire.ID, "アカウントの無効化・削除（shuno）"), url.Values{"decision": {"done"}, "account:sec-leaver": {"disabled"}})
	submit(linkIn(t, "sec-isma@town.example", retire.ID, "アカウントの無効化・削除（kazei）"), url.Values{"decision": {"done"}, "account:sec-leaver": {"deleted"}})
	if code, body := decide(t, linkIn(t, "sec-leaver@town.example", retire.ID, "守秘義務"), "acknowledge", ""); code != http.StatusOK {
		t.Fatalf("acknowledge: %d\n%s", code, body)
	}
	// The admin password the leaver knew: its manager may not name the other section's head,
	// names a member of kazei's own section, the CISO approves (§6.2(1)3(イ)), the GISO, the
	// department's officer and the manager are told of the designee (ウ), and the designee
	// changes it from their own link.
	rotation := linkIn(t, "sec-isma@town.example", retire.ID, "パスワード変更（kazei / admin）")
	if code, _ := postForm(t, rotation, url.Values{"decision": {"designate"}, "designee": {"SEC-ISMB"}}); code != http.StatusBadRequest {
		t.Errorf("naming the other section's head: %d, want 400", code)
	}
	submit(rotation, url.Values{"decision": {"designate"}, "designee": {"SEC-STAFFA"}})
	if code, body := decide(t, linkIn(t, "sec-ciso@town.example", retire.ID, "代行者の承認"), "approve", ""); code != http.StatusOK {
		t.Fatalf("the CISO's approval: %d\n%s", code, body)
	}
	for _, to := range []string{"sec-giso@town.example", "sec-diso@town.example", "sec-isma@town.example"} {
		m := mailIn(t, to, retire.ID, "代行者をCISOが認めました")
		if !strings.Contains(m.Text, "課税係 テスト (SEC-STAFFA)") || strings.Contains(m.Text, "/tasks/") {
			t.Errorf("the designee notice to %s:\n%s", to, m.Text)
		}
	}
	submit(linkIn(t, "sec-staffa@town.example", retire.ID, "kazei / admin、代行"), url.Values{"decision": {"done"}})

	// 2. The transfer between the two sections of zeimu.
	var move struct{ ID string }
	if code := s.call(hr, "POST", "/api/v1/offboardings", map[string]any{"employee_id": "SEC-MOVER", "reason": "transfer", "effective_date": yesterday,
		"new_department": "zeimu", "new_section": "sec-collect"}, &move); code != http.StatusCreated {
		t.Fatalf("POST section transfer: %d", code)
	}
	review := linkIn(t, "sec-isma@town.example", move.ID, "異動者のアカウントの要否確認（kazei）")
	keep := url.Values{"decision": {"done"}, "account:sec-mover": {"kept"}}
	if code, _ := postForm(t, review, keep); code != http.StatusBadRequest {
		t.Errorf("keeping without a reason: %d, want 400", code)
	}
	keep.Set("reason:sec-mover", "収納課への引継ぎ期間中、課税情報の照会に使う")
	submit(review, keep)
	if code, body := decide(t, linkIn(t, "sec-mover@town.example", move.ID, "守秘義務"), "acknowledge", ""); code != http.StatusOK {
		t.Fatalf("acknowledge: %d\n%s", code, body)
	}

	for _, id := range []string{retire.ID, move.ID} {
		eventually(t, 30*time.Second, id+" to complete", func() bool { return status(id) == "completed" })
	}
	// 3. The reconciliation: the mover's ID kept on kazei is an ID left on the former
	// section's system.
	var rec struct{ ID string }
	if code := s.call(hr, "POST", "/api/v1/reconciliations", nil, &rec); code != http.StatusCreated {
		t.Fatalf("POST /reconciliations: %d", code)
	}
	reconcile := linkIn(t, "sec-isma@town.example", rec.ID, "照合結果の確認")
	keep = url.Values{"decision": {"done"}, "finding:kazei/sec-mover": {"keep"}}
	if code, _ := postForm(t, reconcile, keep); code != http.StatusBadRequest {
		t.Errorf("keeping the ID on the former section's system without a reason: %d, want 400", code)
	}
	keep.Set("reason:kazei/sec-mover", "収納課への引継ぎが終わる月末まで")
	submit(reconcile, keep)
	eventually(t, 30*time.Second, rec.ID+" to complete", func() bool { return status(rec.ID) == "completed" })

	recordHistory(t, retire.ID, "offboarding_section_designee.json")
	recordHistory(t, move.ID, "offboarding_section_transfer.json")
	recordHistory(t, rec.ID, "reconciliation_former_section.json")

	// In MariaDB.
	var dsn string
	for _, kv := range s.env {
		if v, ok := strings.CutPrefix(kv, "POLICYFLOW_DATABASE_URL="); ok {
			dsn = v
		}
	}
	store, err := models.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	var ch models.AccountStatusChange
	if err := store.DB.Where("process_id = ? AND system_id = ? AND account_id = ?", retire.ID, "shuno", "sec-leaver").First(&ch).Error; err != nil || ch.ByID != "SEC-ISMB" || ch.Status != "disabled" {
		t.Errorf("the account added after filing: %+v %v", ch, err)
	}
	var rotated models.OffboardingItem
	if err := store.DB.First(&rotated, "process_id = ? AND `key` = ?", retire.ID, "account:kazei/admin").Error; err != nil || rotated.Outcome != "rotated" || rotated.ByID != "SEC-STAFFA" {
		t.Errorf("the admin password: %+v %v", rotated, err)
	}
	var told int64
	store.DB.Model(&models.ProcessEvent{}).Where("process_id = ? AND note LIKE ?", retire.ID, "%approval of SEC-STAFFA as designee for kazei/admin was notified to the GISO (SEC-GISO), the security officer of zeimu (SEC-DISO), the manager of kazei (SEC-ISMA)%").Count(&told)
	if told != 1 {
		t.Errorf("no timeline note of who was told of the designee")
	}
	var added int64
	store.DB.Model(&models.ProcessEvent{}).Where("process_id = ? AND note LIKE ?", retire.ID, "%added since filing: shuno/sec-leaver (disable)%").Count(&added)
	if added != 1 {
		t.Errorf("no timeline note of the account added since filing")
	}
	for sysID, want := range map[string]string{"kazei": "active", "shuno": "active"} {
		if acc, err := store.Account(ctx, sysID, "sec-mover"); err != nil || acc.Status != want {
			t.Errorf("the mover's account on %s: %+v %v, want %s", sysID, acc, err, want)
		}
	}
	items, _ := store.OffboardingItems(ctx, move.ID)
	if len(items) != 1 || items[0].SystemID != "kazei" || items[0].Action != "review" || items[0].Outcome != "kept" || items[0].ByID != "SEC-ISMA" {
		t.Errorf("the section transfer's items: %+v", items)
	}
	if p, err := store.Person(ctx, "SEC-MOVER"); err != nil || p.DepartmentID != "zeimu" || p.SectionID != "sec-collect" || p.Status != models.StatusEmployed {
		t.Errorf("the mover in the directory: %+v %v", p, err)
	}
	fs, err := store.Findings(ctx, rec.ID)
	if err != nil || len(fs) != 1 || fs[0].SystemID != "kazei" || fs[0].AccountID != "sec-mover" || fs[0].Kind != "former_section" || fs[0].Decision != "keep" || fs[0].ByID != "SEC-ISMA" {
		t.Errorf("the reconciliation's findings: %+v %v, want kazei/sec-mover former_section kept by SEC-ISMA", fs, err)
	}
}
