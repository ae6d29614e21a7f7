package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// submit posts a decision with form fields on an emailed link, as the task page's form does.
func submit(t *testing.T, link, choice string, fields map[string]string) {
	t.Helper()
	form := url.Values{"decision": {choice}}
	for k, v := range fields {
		form.Set(k, v)
	}
	if code, page := postForm(t, link, form); code != http.StatusOK || !strings.Contains(page, "記録しました") {
		t.Fatalf("%s with %v: %d\n%s", choice, fields, code, page)
	}
}

// TestIncidentEndToEnd runs a high-severity malware incident on the real services, from the
// report to its closure, every step decided through the link in the mail Mailpit received
// and every form value posted as a form field.
func TestIncidentEndToEnd(t *testing.T) {
	s := startSystem(t)
	directory := s.run("token", "create", "e2e-directory", "directory")
	officer := s.run("token", "create", "e2e-officer", "officer")
	auditor := s.run("token", "create", "e2e-auditor", "auditor")

	people := map[string]map[string]any{
		"INC-CISO":  {"name": "副町長 テスト", "email": "inc-ciso@town.example", "department": "mayor", "roles": []string{"ciso"}},
		"INC-GISO":  {"name": "総務部長 テスト", "email": "inc-giso@town.example", "department": "general", "roles": []string{"giso"}},
		"INC-DISO":  {"name": "住民課長 テスト", "email": "inc-diso@town.example", "department": "residents", "roles": []string{"diso", "committee"}},
		"INC-CMTE":  {"name": "Committee Member", "email": "inc-cmte@town.example", "department": "general", "roles": []string{"committee"}, "locale": "en"},
		"INC-ISM":   {"name": "住民係長 テスト", "email": "inc-ism@town.example", "department": "residents", "roles": []string{"ism"}},
		"INC-STAFF": {"name": "窓口職員 テスト", "email": "inc-staff@town.example", "department": "residents", "roles": []string{"staff"}},
	}
	s.putPeople(directory, people)
	if code := s.call(directory, "PUT", "/api/v1/systems/counter-pc", map[string]any{"name": "窓口端末", "department": "residents", "ism": "INC-ISM", "classification": 1}, nil); code != http.StatusCreated {
		t.Fatalf("PUT system: %d", code)
	}
	if code := s.call(directory, "PUT", "/api/v1/emergency-contacts/vendor", map[string]any{"name": "保守業者 ヘルプデスク", "phone": "0745-00-0000", "priority": 1}, nil); code != http.StatusCreated {
		t.Fatalf("PUT emergency contact: %d", code)
	}

	var started struct{ ID, Kind, Status, WorkflowID string }
	code := s.call(officer, "POST", "/api/v1/incidents", map[string]any{
		"reporter": "INC-STAFF", "system": "counter-pc", "category": "malware", "classification": 1,
		"description": "窓口端末で身代金を要求する画面が表示された", "discovered_at": time.Now().Add(-10 * time.Minute).Format(time.RFC3339),
	}, &started)
	if code != http.StatusCreated || started.ID == "" {
		t.Fatalf("POST /incidents: %d %+v", code, started)
	}
	id := started.ID

	// 0. At once (§6.4(3)7 「即時」), before anyone triages: the reporter takes the device off
	// the network and the system's manager confirms it.
	unplugged := map[string]string{"disconnect_lan_cable": "done", "disconnect_wireless": "not_applicable",
		"disconnect_power": "not_applicable", "disconnect_mobile": "not_applicable"}
	submit(t, linkIn(t, "inc-staff@town.example", id, "切り離してください"), "done", unplugged)
	submit(t, linkIn(t, "inc-ism@town.example", id, "切り離しを確認"), "done", unplugged)
	// 1. The officer triages: high, under the plan, default handlers.
	submit(t, linkIn(t, "inc-diso@town.example", id, "インシデントの判定"), "record", map[string]string{
		"severity": "high", "plan": "yes", "ciso": "no", "handler_contact": "default", "notes": "ランサムウェアの疑い"})
	// 2. High: the CISO gives instructions.
	submit(t, linkIn(t, "inc-ciso@town.example", id, "対応の指示"), "instruct", map[string]string{"instructions": "端末を隔離し、業者に連絡すること"})
	// 3. Contact (the GISO, from the contact list) and evidence (the system's manager).
	contact := linkIn(t, "inc-giso@town.example", id, "関係者への連絡")
	resp, err := http.Get(contact)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "保守業者 ヘルプデスク") || !strings.Contains(string(page), "0745-00-0000") {
		t.Errorf("the contact step's page does not list the emergency contact:\n%s", page)
	}
	submit(t, contact, "done", map[string]string{"contact_vendor": "contacted", "actions": "業者に電話した"})
	submit(t, linkIn(t, "inc-ism@town.example", id, "証拠保全"), "done", map[string]string{"actions": "ログを保全した"})
	// 4. Containment: the disconnection of §6.4(3)7 was confirmed in the first hour, so the
	// page shows who confirmed it instead of asking again; then recovery.
	containment := linkIn(t, "inc-ism@town.example", id, "被害拡大の防止")
	if _, page := getPage(t, containment); !strings.Contains(page, "切り離しの確認") || strings.Contains(page, "disconnect_lan_cable") {
		t.Errorf("the containment page does not show the first hour's confirmation, or asks it again:\n%s", page)
	}
	submit(t, containment, "done", map[string]string{"actions": "端末を隔離した"})
	submit(t, linkIn(t, "inc-ism@town.example", id, "復旧"), "done", map[string]string{"actions": "端末を再構築した"})
	// 5. The root cause (§5.3(3)1): the department's officer and the system's manager give
	// their part, the GISO reports, the CISO accepts, the measure is done.
	submit(t, linkIn(t, "inc-diso@town.example", id, "原因究明への協力（所管部局）"), "submit", map[string]string{"cause": "職員が添付ファイルを開いた"})
	submit(t, linkIn(t, "inc-ism@town.example", id, "原因究明への協力（情報システム管理者）"), "submit", map[string]string{"cause": "端末の対策ソフトが古かった"})
	rc1 := linkIn(t, "inc-giso@town.example", id, "原因究明")
	submit(t, rc1, "submit", map[string]string{
		"cause": "添付ファイルを開いた", "measure_1": "標的型メール訓練を実施する", "owner_1": "INC-DISO"})
	// The CISO returns the first record (§5.3(3)2); the GISO's next task says who returned
	// it and the instructions, and starts from the record returned (issue 14).
	rv1 := linkIn(t, "inc-ciso@town.example", id, "再発防止策の確認")
	submit(t, rv1, "return", map[string]string{"instructions": "対策ソフトの更新漏れの原因も調べること"})
	rc2Mail := mailIn(t, "inc-giso@town.example", id, "原因究明", rc1)
	if !strings.Contains(rc2Mail.Text, "差し戻した人: 副町長 テスト") || !strings.Contains(rc2Mail.Text, "対策ソフトの更新漏れの原因も調べること") {
		t.Errorf("the second record's mail does not show the return:\n%s", rc2Mail.Text)
	}
	rc2 := linkIn(t, "inc-giso@town.example", id, "原因究明", rc1)
	if code, body := getPage(t, rc2); code != 200 || !strings.Contains(body, "対策ソフトの更新漏れの原因も調べること") || !strings.Contains(body, ">添付ファイルを開いた</textarea>") {
		t.Errorf("the second record's page does not show the return or start from the first record: %d\n%s", code, body)
	}
	submit(t, rc2, "submit", map[string]string{
		"cause": "添付ファイルを開いた。対策ソフトの自動更新が停止していた", "measure_1": "標的型メール訓練を実施する", "owner_1": "INC-DISO"})
	review := linkIn(t, "inc-ciso@town.example", id, "再発防止策の確認", rv1)
	resp, err = http.Get(review)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "標的型メール訓練を実施する") {
		t.Errorf("the review page does not show the measures:\n%s", page)
	}
	submit(t, review, "accept", map[string]string{"instructions": "訓練を年度内に実施すること"})
	submit(t, linkIn(t, "inc-diso@town.example", id, "再発防止策 1 の実施"), "done", map[string]string{"result": "訓練を実施した"})

	var got struct {
		Process   struct{ Status, Stage string }
		Decisions []struct {
			Step   string
			Choice string `json:"decision"`
		}
	}
	eventually(t, 30*time.Second, "the incident to close", func() bool {
		s.call(auditor, "GET", "/api/v1/processes/"+id, nil, &got)
		return got.Process.Status == "closed"
	})
	if len(got.Decisions) != 15 {
		t.Errorf("%d decisions, want 15 (a root-cause record returned once): %+v", len(got.Decisions), got.Decisions)
	}
	var rec struct {
		Hops []struct{ Hop string }
	}
	s.call(auditor, "GET", "/api/v1/incidents/"+id, nil, &rec)
	var hops []string
	for _, h := range rec.Hops {
		hops = append(hops, h.Hop)
	}
	for _, want := range []string{"discovered", "received", "giso_notified", "ism_notified", "triaged", "ciso_instructed",
		"contact_done", "evidence_done", "containment_done", "recovery_done", "root_cause_accepted", "measure_1_done", "closed", "committee_reported"} {
		if !strings.Contains(","+strings.Join(hops, ",")+",", ","+want+",") {
			t.Errorf("hop %s missing: %v", want, hops)
		}
	}
	// 6. The security committee gets the report, each member in their language, with the
	// timeline in minutes since discovery; the timeline says whom it went to.
	ja := mailIn(t, "inc-diso@town.example", id, "情報セキュリティ委員会")
	en := mailIn(t, "inc-cmte@town.example", id, "security committee")
	for _, want := range []string{"発見からの経過分", "分類：不正プログラム感染", "重大度：高", "添付ファイルを開いた", "標的型メール訓練を実施する（担当 INC-DISO）：完了"} {
		if !strings.Contains(ja.Text, want) {
			t.Errorf("the committee's Japanese report lacks %q:\n%s", want, ja.Text)
		}
	}
	for _, want := range []string{"minutes since discovery", "Category: Malware infection", "Severity: High", "(owner INC-DISO): done"} {
		if !strings.Contains(en.Text, want) {
			t.Errorf("the committee's English report lacks %q:\n%s", want, en.Text)
		}
	}
	var timeline struct {
		Timeline []struct{ Note string }
	}
	s.call(auditor, "GET", "/api/v1/processes/"+id, nil, &timeline)
	reported := false
	for _, e := range timeline.Timeline {
		reported = reported || strings.Contains(e.Note, "security committee mailed to its 2 members (INC-CMTE, INC-DISO)")
	}
	if !reported {
		t.Errorf("the timeline does not say whom the committee's report went to: %+v", timeline.Timeline)
	}
	recordHistory(t, id, "incident_committee_closed.json")
}
