package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/internal/testenv"
)

// noMailTo fails the test if a mail to addr about the process, whose subject contains
// subjectPart, is in Mailpit.
func noMailTo(t *testing.T, addr, processID, subjectPart string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ms, err := testenv.Mailpit(t).Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if !strings.Contains(m.Subject, processID) || !strings.Contains(m.Subject, subjectPart) {
			continue
		}
		for _, a := range append(append(m.To, m.Cc...), m.Bcc...) {
			if strings.EqualFold(a.Address, addr) {
				t.Errorf("%s got %q", addr, m.Subject)
			}
		}
	}
}

// incidentHops returns the incident's hops from GET /incidents/{id}, by name.
func (s *system) incidentHops(token, id string) map[string]struct{ Actor, Note string } {
	var rec struct {
		Hops []struct {
			Hop   string
			Actor string `json:"actor_id"`
			Note  string
		}
	}
	s.call(token, "GET", "/api/v1/incidents/"+id, nil, &rec)
	out := map[string]struct{ Actor, Note string }{}
	for _, h := range rec.Hops {
		out[h.Hop] = struct{ Actor, Note string }{h.Actor, h.Note}
	}
	return out
}

// TestIncidentRoutesEndToEnd runs the two categories the policy routes past the department's
// officer on the real services, every step decided through the link in the mail Mailpit
// received, recipients checked by address:
//
//   - a policy violation (§7.2(2)): staff report to both the GISO and their department's
//     officer, and it is the GISO who judges it — the triage task goes to the GISO, not to
//     the department's officer, who is told of the report with the system's manager;
//   - a notice of an attack (§6.5(2)): the GISO triages, the CISO is told of the report at
//     once and decides through the instruction task whether the systems are stopped.
func TestIncidentRoutesEndToEnd(t *testing.T) {
	s := startSystem(t)
	directory := s.run("token", "create", "e2e-directory", "directory")
	officer := s.run("token", "create", "e2e-officer", "officer")
	auditor := s.run("token", "create", "e2e-auditor", "auditor")
	const (
		ciso  = "rt-ciso@town.example"
		giso  = "rt-giso@town.example"
		diso  = "rt-diso@town.example"
		ism   = "rt-ism@town.example"
		staff = "rt-staff@town.example"
	)
	s.putPeople(directory, map[string]map[string]any{
		"RT-CISO":  {"name": "副町長 経路", "email": ciso, "department": "mayor", "roles": []string{"ciso"}},
		"RT-GISO":  {"name": "総務部長 経路", "email": giso, "department": "general", "roles": []string{"giso"}},
		"RT-DISO":  {"name": "税務課長 経路", "email": diso, "department": "tax", "roles": []string{"diso"}},
		"RT-ISM":   {"name": "税務係長 経路", "email": ism, "department": "tax", "roles": []string{"ism"}},
		"RT-STAFF": {"name": "税務職員 経路", "email": staff, "department": "tax", "roles": []string{"staff"}},
	})
	if code := s.call(directory, "PUT", "/api/v1/systems/tax-db", map[string]any{"name": "税務システム", "department": "tax", "ism": "RT-ISM", "classification": 1}, nil); code != http.StatusCreated {
		t.Fatalf("PUT system: %d", code)
	}
	report := func(category, description string) string {
		t.Helper()
		var started struct{ ID string }
		code := s.call(officer, "POST", "/api/v1/incidents", map[string]any{
			"reporter": "RT-STAFF", "system": "tax-db", "category": category, "classification": 1,
			"description": description, "discovered_at": time.Now().Add(-5 * time.Minute).Format(time.RFC3339),
		}, &started)
		if code != http.StatusCreated || started.ID == "" {
			t.Fatalf("POST /incidents (%s): %d %+v", category, code, started)
		}
		return started.ID
	}
	const told, triage = "インシデントが報告されました", "インシデントの判定"

	// A policy violation (§7.2(2)1–2): the GISO triages; the department's officer and the
	// system's manager are told of the report.
	pv := report("policy_violation", "職員が業務データを私物のUSBメモリに複写していた")
	triageLink := linkIn(t, giso, pv, triage)
	mailIn(t, diso, pv, told)
	mailIn(t, ism, pv, told)
	noMailTo(t, diso, pv, triage)
	noMailTo(t, giso, pv, told) // the triager is not told of what it is asked to triage
	submit(t, triageLink, "record", map[string]string{"severity": "medium", "plan": "no", "ciso": "no", "notes": "持ち出しは1件、回収済み"})
	// Outside the plan the triager, the GISO, records what was done.
	linkIn(t, giso, pv, "対応記録")
	hops := s.incidentHops(auditor, pv)
	if h := hops["triaged"]; h.Actor != "RT-GISO" {
		t.Errorf("policy violation triaged by %q, want RT-GISO (§7.2(2)2): %v", h.Actor, hops)
	}
	for hop, who := range map[string]string{"diso_notified": "RT-DISO", "ism_notified": "RT-ISM", "triage_requested": "RT-GISO"} {
		if h, ok := hops[hop]; !ok || h.Actor != who {
			t.Errorf("hop %s = %+v, want %s: %v", hop, h, who, hops)
		}
	}
	if _, ok := hops["giso_notified"]; ok {
		t.Errorf("the GISO, who triages, was told of the report as well: %v", hops)
	}

	// A notice of an attack (§6.5(2)): the GISO triages (never low), the CISO is told at
	// once, and the CISO decides whether the systems are stopped.
	an := report("attack_notice", "「明日、町のサイトを攻撃する」との予告メールが届いた")
	mailIn(t, ciso, an, told)
	mailIn(t, diso, an, told)
	mailIn(t, ism, an, told)
	triageLink = linkIn(t, giso, an, triage)
	noMailTo(t, diso, an, triage)
	if code, page := getPage(t, triageLink); code != http.StatusOK || !strings.Contains(page, `value="medium"`) || strings.Contains(page, `value="low"`) {
		t.Errorf("the attack notice's triage offers low, or does not open: %d", code)
	}
	submit(t, triageLink, "record", map[string]string{"severity": "medium", "plan": "no", "ciso": "no"})
	// The CISO is asked though the GISO did not ask (§6.5(2)); the form decides the stop.
	stop := linkIn(t, ciso, an, "対応の指示")
	if _, page := getPage(t, stop); !strings.Contains(page, "stop_systems") {
		t.Errorf("the CISO's form has no stop_systems field:\n%s", page)
	}
	submit(t, stop, "instruct", map[string]string{"stop_systems": "yes", "instructions": "公開サーバを一時停止し、警察に相談すること"})
	eventually(t, 30*time.Second, "the CISO's decision on the record", func() bool {
		_, ok := s.incidentHops(auditor, an)["stop_systems_decided"]
		return ok
	})
	hops = s.incidentHops(auditor, an)
	if h := hops["stop_systems_decided"]; h.Actor != "RT-CISO" || !strings.Contains(h.Note, "stop the systems: yes") {
		t.Errorf("stop_systems_decided = %+v, want by RT-CISO, yes", h)
	}
	for hop, who := range map[string]string{"ciso_notified": "RT-CISO", "triaged": "RT-GISO", "ciso_instructed": "RT-CISO"} {
		if h, ok := hops[hop]; !ok || h.Actor != who {
			t.Errorf("hop %s = %+v, want %s: %v", hop, h, who, hops)
		}
	}
}
