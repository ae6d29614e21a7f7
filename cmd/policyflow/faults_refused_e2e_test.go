package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/internal/testenv"
)

// TestFaultMailboxRefused proves that a mailbox the mail server refuses for good (issue 15:
// Mailpit answers "550 5.1.0" for one address, as a town's server does for a deleted
// mailbox) is a fact the process handles, not an outage it waits out. An incident is
// reported in a department whose security officer's address is refused:
//   - no mail to that address is ever taken, and the officer is flagged in the register with
//     the server's reply code;
//   - the process's timeline says that the mail could not be delivered, without the address;
//   - the triage escalates to the GISO at once (not after its one-hour deadline), with a
//     link of the GISO's own and a mail that says the assignee could not be reached;
//   - the GISO triages it as low severity through that link; the record step, asked of the
//     same officer, escalates to the GISO again, who records what was done; the incident
//     closes, both decisions recorded as the GISO's for the officer (代決);
//   - each mail to the officer is one notification, undeliverable, with at most one link row;
//   - and the ledger holds (checkLedger): every task closed, one accepted decide Update per
//     task, one mail per delivered notification.
func TestFaultMailboxRefused(t *testing.T) {
	var refused, gisoMail string
	r := newRig(t, func(people map[string]map[string]any) {
		refused = testenv.RefusedAddress(t, people["F-DISO"]["email"].(string))
		people["F-DISO"]["email"] = refused
		gisoMail = people["F-GISO"]["email"].(string)
	})
	r.unreachable["F-DISO"] = true
	ph := newPhase(t)

	// A member of the officer's department reports an incident; the triage is the officer's.
	reported := time.Now()
	var started struct{ ID string }
	if code := r.call(r.officer, "POST", "/api/v1/incidents", map[string]any{
		"reporter": "F-ISM", "category": "misdelivered_mail", "classification": 2,
		"description": "住民宛の通知を別の住民に送付した", "discovered_at": reported.Add(-5 * time.Minute).Format(time.RFC3339),
	}, &started); code != http.StatusCreated || started.ID == "" {
		t.Fatalf("POST /incidents: %d %+v", code, started)
	}
	id := started.ID
	r.processes = append(r.processes, id)
	r.expectDecisions[id] = []string{"record", "record", "submit", "submit", "accept"}
	record := func() authorityRecord {
		t.Helper()
		var rec authorityRecord
		if code := r.call(r.auditor, "GET", "/api/v1/processes/"+id, nil, &rec); code != http.StatusOK {
			t.Fatalf("GET process %s: %d", id, code)
		}
		return rec
	}

	// The GISO is given the triage at once, saying why.
	esc := mailIn(t, gisoMail, id, "【エスカレーション・連絡不能】情報セキュリティインシデントの判定")
	waited := time.Since(reported)
	ph.done("the triage escalated to the GISO")
	if waited > 2*time.Minute { // the triage's deadline is an hour away
		t.Errorf("the escalation came %v after the report: not at once", waited)
	}
	if !strings.Contains(esc.Text, "配送できなかった") || !strings.Contains(esc.Text, "期限を待たずに") {
		t.Errorf("the escalation does not say that the officer could not be reached:\n%s", esc.Text)
	}
	if strings.Contains(esc.Text, refused) || strings.Contains(esc.HTML, refused) {
		t.Errorf("the escalation names the refused address:\n%s", esc.Text)
	}
	triage := linkIn(t, gisoMail, id, "【エスカレーション・連絡不能】情報セキュリティインシデントの判定")

	// The register: the officer flagged with the reply code, the timeline saying why,
	// without the address; the triage still the officer's, escalated.
	var flaggedAt *time.Time
	var why string
	if err := r.db.QueryRow("SELECT undeliverable_at, undeliverable_why FROM people WHERE employee_id = 'F-DISO'").Scan(&flaggedAt, &why); err != nil {
		t.Fatal(err)
	}
	if flaggedAt == nil || why != "550 5.1.0" {
		t.Errorf("the officer's flag in the register: at %v, why %q; want set, \"550 5.1.0\"", flaggedAt, why)
	}
	var others int
	if err := r.db.QueryRow("SELECT COUNT(*) FROM people WHERE undeliverable_at IS NOT NULL AND employee_id <> 'F-DISO'").Scan(&others); err != nil {
		t.Fatal(err)
	}
	if others != 0 {
		t.Errorf("%d other people are flagged undeliverable", others)
	}
	rec := record()
	triageTask, assignee, status := rec.task("triage")
	if assignee != "F-DISO" || status != "open" {
		t.Errorf("triage: assigned to %q, %s; want F-DISO, open", assignee, status)
	}
	if !rec.timelineHas(triageTask, "F-DISO could not be delivered", "permanent refusal (550 5.1.0)") {
		t.Errorf("the timeline does not say that the triage mail could not be delivered: %+v", rec.Timeline)
	}
	for _, e := range rec.Timeline {
		if strings.Contains(e.Note, refused) || strings.Contains(e.Note, testenv.RefusedMailbox) {
			t.Errorf("the timeline names the refused address: %q", e.Note)
		}
	}

	// The GISO triages: low severity, outside the plan.
	submit(t, triage, "record", map[string]string{"severity": "low", "plan": "no", "ciso": "no", "notes": "誤送付1件、回収済み"})
	ph.done("the GISO triaged through the escalation's link")

	// The record step is the officer's again: it escalates to the GISO at once too.
	recLink := linkIn(t, gisoMail, id, "【エスカレーション・連絡不能】情報セキュリティインシデントの対応記録", triage)
	ph.done("the record step escalated to the GISO")
	submit(t, recLink, "record", map[string]string{"actions": "誤送付先から回収し、本人に謝罪した", "cause": "封入時の確認漏れ"})
	// §5.3(3): even a low incident ends with a root cause. The officer's part is asked of the
	// officer and escalates to the GISO at once as well; then the GISO's record, which the
	// CISO accepts.
	causeLink := linkIn(t, gisoMail, id, "【エスカレーション・連絡不能】インシデントの原因究明への協力（所管部局）", recLink)
	submit(t, causeLink, "submit", map[string]string{"cause": "封入時の確認漏れ"})
	submit(t, linkIn(t, gisoMail, id, "インシデントの原因究明と再発防止策の報告"), "submit", map[string]string{"cause": "封入時の確認漏れ"})
	submit(t, linkIn(t, r.cisoMail, id, "原因究明と再発防止策の確認"), "accept", nil)
	ph.done("the root cause recorded and accepted")
	waitClosed(t, r.system, r.auditor, id, "closed")
	mailIn(t, gisoMail, id, "情報セキュリティインシデントが終結しました")
	ph.done("the incident closed")

	rec = record()
	if len(rec.Decisions) != 5 {
		t.Fatalf("decisions = %+v, want the triage, the record, the department's part of the cause, the root cause and its acceptance", rec.Decisions)
	}
	for _, d := range rec.Decisions {
		if d.Step == "root_cause" || d.Step == "root_cause_review" {
			continue // the GISO's and the CISO's own steps
		}
		if d.DeciderID != "F-GISO" || d.OnBehalfOf != "F-DISO" || d.Basis == "" {
			t.Errorf("decision on %s: %s for %q (%q); want F-GISO for F-DISO under the town's rule", d.Step, d.DeciderID, d.OnBehalfOf, d.Basis)
		}
	}
	recordTask, assignee, _ := rec.task("record")
	if assignee != "F-DISO" {
		t.Errorf("record: assigned to %q, want F-DISO", assignee)
	}
	if !rec.timelineHas(recordTask, "F-DISO could not be delivered", "permanent refusal") {
		t.Errorf("the timeline does not say that the record step's mail could not be delivered: %+v", rec.Timeline)
	}
	var hops struct{ Hops []struct{ Hop string } }
	r.call(r.auditor, "GET", "/api/v1/incidents/"+id, nil, &hops)
	var got []string
	for _, h := range hops.Hops {
		got = append(got, h.Hop)
	}
	for _, want := range []string{"triaged", "recorded", "closed"} {
		if !strings.Contains(","+strings.Join(got, ",")+",", ","+want+",") {
			t.Errorf("hop %s missing: %v", want, got)
		}
	}

	// Mail to the officer: none taken by Mailpit; each attempt one notification, recorded as
	// undeliverable, with at most one link row (a refusal is not retried into new links).
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	list, err := r.mp.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if sentTo(m, refused) {
			t.Errorf("Mailpit took a mail to the refused address: %q", m.Subject)
		}
	}
	rows, err := r.db.Query("SELECT n.`key`, n.kind, n.status, n.attempts, COUNT(l.token_hash) FROM notifications n " +
		"LEFT JOIN task_links l ON l.notification_key = n.`key` WHERE n.recipient_id = 'F-DISO' GROUP BY n.`key`, n.kind, n.status, n.attempts")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for rows.Next() {
		var key, kind, status string
		var attempts, links int
		if err := rows.Scan(&key, &kind, &status, &attempts, &links); err != nil {
			t.Fatal(err)
		}
		kinds[kind]++
		t.Logf("mail to the officer %s: %s after %d attempt(s), %d link row(s)", key, status, attempts, links)
		if status != "undeliverable" || links > 1 || (kind != "assigned" && links != 0) {
			t.Errorf("notification %s (%s): %s, %d attempt(s), %d link row(s); want undeliverable with at most one link row (none for a notice)",
				key, kind, status, attempts, links)
		}
	}
	rows.Close()
	if kinds["assigned"] != 3 {
		t.Errorf("the officer's mails by kind: %v; want the three tasks' assignments (and the 後閲 notices)", kinds)
	}
	var escalations int
	if err := r.db.QueryRow("SELECT COUNT(*) FROM notifications WHERE process_id = ? AND recipient_id = 'F-GISO' AND kind = 'escalation-unreachable' AND status = 'sent'", id).Scan(&escalations); err != nil {
		t.Fatal(err)
	}
	if escalations != 3 {
		t.Errorf("%d unreachable escalations sent to the GISO, want 3", escalations)
	}

	r.checkLedger()
	ph.done("register, mailbox and ledger checked")
}
