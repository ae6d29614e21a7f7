package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/internal/testenv"
	"github.com/policyflow/policyflow/models"
)

// TestOffboardingEndToEnd runs an offboarding on the real services. HR starts it dated
// today: the process waits for the end of the day in Tokyo and the department security
// officer is told. HR then corrects the date to yesterday (the person left a day earlier
// than first reported), so the work starts at once, late; the system managers' links from
// Mailpit are clicked, and the accounts end disabled in MariaDB with who and when.
func TestOffboardingEndToEnd(t *testing.T) {
	s := startSystem(t)
	directory := s.run("token", "create", "e2e-directory", "directory")
	hr := s.run("token", "create", "e2e-hr", "hr")
	auditor := s.run("token", "create", "e2e-auditor", "auditor")

	people := map[string]map[string]any{
		"OFB-CISO":   {"name": "副町長 テスト", "email": "ofb-ciso@town.example", "department": "mayor", "roles": []string{"ciso"}},
		"OFB-GISO":   {"name": "総務部長 テスト", "email": "ofb-giso@town.example", "department": "general", "roles": []string{"giso"}},
		"OFB-HR":     {"name": "人事係 テスト", "email": "ofb-hr@town.example", "department": "general", "roles": []string{"hr"}},
		"OFB-DISO":   {"name": "税務課長 テスト", "email": "ofb-diso@town.example", "department": "taxation", "roles": []string{"diso"}},
		"OFB-ISM1":   {"name": "税務係長 テスト", "email": "ofb-ism1@town.example", "department": "taxation", "roles": []string{"ism"}},
		"OFB-ISM2":   {"name": "Mail Admin", "email": "ofb-ism2@town.example", "department": "general", "roles": []string{"ism"}, "locale": "en"},
		"OFB-LEAVER": {"name": "退職 予定", "email": "ofb-leaver@town.example", "department": "taxation", "roles": []string{"staff"}},
	}
	s.putPeople(directory, people)
	for id, owner := range map[string][]string{"tax": {"taxation", "OFB-ISM1"}, "mail": {"general", "OFB-ISM2"}} {
		if code := s.call(directory, "PUT", "/api/v1/systems/"+id, map[string]any{"name": id, "department": owner[0], "ism": owner[1], "classification": 2}, nil); code != http.StatusCreated {
			t.Fatalf("PUT system %s: %d", id, code)
		}
		if code := s.call(directory, "PUT", "/api/v1/systems/"+id+"/accounts/leaver", map[string]any{"holder": "OFB-LEAVER"}, nil); code != http.StatusCreated {
			t.Fatalf("PUT account on %s: %d", id, code)
		}
	}
	if code := s.call(directory, "PUT", "/api/v1/people/OFB-LEAVER/assets/PC-0042", map[string]any{"kind": "device", "description": "ノートPC"}, nil); code != http.StatusCreated {
		t.Fatalf("PUT asset: %d", code)
	}

	loc := tokyo(t)
	today := time.Now().In(loc).Format("2006-01-02")
	yesterday := time.Now().In(loc).AddDate(0, 0, -1).Format("2006-01-02")
	var started struct{ ID, Kind, Status, WorkflowID string }
	if code := s.call(hr, "POST", "/api/v1/offboardings", map[string]any{"employee_id": "OFB-LEAVER", "reason": "retirement", "effective_date": today}, &started); code != http.StatusCreated {
		t.Fatalf("POST /offboardings: %d %+v", code, started)
	}
	var again struct{ ID string }
	if code := s.call(hr, "POST", "/api/v1/offboardings", map[string]any{"employee_id": "OFB-LEAVER", "reason": "retirement", "effective_date": today}, &again); code != http.StatusOK || again.ID != started.ID {
		t.Fatalf("HR's retry: %d %+v", code, again)
	}
	// The department security officer is told at once; nothing else happens before the
	// end of the day.
	mp := testenv.Mailpit(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := mp.WaitFor(ctx, func(m testenv.Message) bool {
		return m.SentTo("ofb-diso@town.example") && strings.Contains(m.Subject, started.ID)
	}); err != nil {
		t.Fatalf("the DISO's notice: %v", err)
	}
	var got struct {
		Process struct{ Status, Stage string }
	}
	eventually(t, 30*time.Second, "the process to wait for the end of today", func() bool {
		s.call(auditor, "GET", "/api/v1/processes/"+started.ID, nil, &got)
		return got.Process.Stage == "awaiting_effective_date"
	})

	// HR corrects the date: the person left yesterday.
	var moved map[string]any
	if code := s.call(hr, "POST", "/api/v1/offboardings/"+started.ID+"/move-date", map[string]any{"effective_date": yesterday, "reason": "退職日の訂正"}, &moved); code != http.StatusOK {
		t.Fatalf("move date: %d %v", code, moved)
	}

	// The system managers' links from Mailpit: one select per account.
	for _, m := range []struct{ to, subject string }{
		{"ofb-ism1@town.example", "アカウントの無効化・削除（tax）"},
		{"ofb-ism2@town.example", "Disable or delete a leaver's accounts (mail)"},
	} {
		link := linkIn(t, m.to, started.ID, m.subject)
		resp, err := http.PostForm(link, url.Values{"decision": {"done"}, "account:leaver": {"disabled"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s's decision: %d", m.to, resp.StatusCode)
		}
	}
	// The department security officer confirms the PC; the leaver acknowledges secrecy.
	assets := linkIn(t, "ofb-diso@town.example", started.ID, "貸与物の返却確認")
	if resp, err := http.PostForm(assets, url.Values{"decision": {"done"}, "asset:PC-0042": {"returned"}}); err != nil || resp.StatusCode != 200 {
		t.Fatalf("assets: %v %v", err, resp)
	}
	if code, body := decide(t, linkIn(t, "ofb-leaver@town.example", started.ID, "守秘義務"), "acknowledge", ""); code != 200 {
		t.Fatalf("acknowledge: %d\n%s", code, body)
	}
	eventually(t, 30*time.Second, "the offboarding to complete", func() bool {
		s.call(auditor, "GET", "/api/v1/processes/"+started.ID, nil, &got)
		return got.Process.Status == "completed"
	})

	// In MariaDB: the accounts are disabled, by their managers, and the offboarding was late.
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
	for sysID, ism := range map[string]string{"tax": "OFB-ISM1", "mail": "OFB-ISM2"} {
		acc, err := store.Account(context.Background(), sysID, "leaver")
		if err != nil || acc.Status != "disabled" {
			t.Errorf("account on %s: %+v %v", sysID, acc, err)
		}
		var ch models.AccountStatusChange
		if err := store.DB.Where("process_id = ? AND system_id = ?", started.ID, sysID).First(&ch).Error; err != nil || ch.ByID != ism || ch.At.IsZero() {
			t.Errorf("status change on %s: %+v %v", sysID, ch, err)
		}
	}
	o, err := store.OffboardingOf(context.Background(), started.ID)
	if err != nil || !o.Late || o.EffectiveDate != yesterday || o.OpenEmployeeID != nil {
		t.Errorf("offboarding row: %+v %v", o, err)
	}
	// The closing report reached HR.
	if _, err := mp.WaitFor(ctx, func(m testenv.Message) bool {
		return m.SentTo("ofb-hr@town.example") && strings.Contains(m.Subject, started.ID) && strings.Contains(m.Text, "PC-0042")
	}); err != nil {
		t.Errorf("the closing report to HR: %v", err)
	}
	recordHistory(t, started.ID, "offboarding_moved_late_completed.json")

	// HR's roster now says the person retired; an account on mail that was forgotten shows
	// up in the reconciliation, and its manager disables it from the link.
	leaver := people["OFB-LEAVER"]
	leaver["employment_status"] = "retired"
	if code := s.call(directory, "PUT", "/api/v1/people/OFB-LEAVER", leaver, nil); code != http.StatusOK {
		t.Fatalf("PUT retired person: %d", code)
	}
	if code := s.call(directory, "PUT", "/api/v1/systems/mail/accounts/leaver-alias", map[string]any{"holder": "OFB-LEAVER"}, nil); code != http.StatusCreated {
		t.Fatalf("PUT forgotten account: %d", code)
	}
	var rec struct{ ID string }
	if code := s.call(hr, "POST", "/api/v1/reconciliations", nil, &rec); code != http.StatusCreated {
		t.Fatalf("POST /reconciliations: %d", code)
	}
	link := linkIn(t, "ofb-ism2@town.example", rec.ID, "reconciliation")
	resp, err := http.PostForm(link, url.Values{"decision": {"done"}, "finding:mail/leaver-alias": {"disable"}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("reconciliation decision: %v %v", err, resp)
	}
	resp.Body.Close()
	eventually(t, 30*time.Second, "the reconciliation to complete", func() bool {
		s.call(auditor, "GET", "/api/v1/processes/"+rec.ID, nil, &got)
		return got.Process.Status == "completed"
	})
	if acc, err := store.Account(context.Background(), "mail", "leaver-alias"); err != nil || acc.Status != "disabled" {
		t.Errorf("forgotten account: %+v %v", acc, err)
	}
	recordHistory(t, rec.ID, "reconciliation_completed.json")
}
