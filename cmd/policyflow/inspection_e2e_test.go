package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/internal/testenv"
	"github.com/policyflow/policyflow/policy"
)

// TestInspectionEndToEnd runs the yearly self-inspection (§9.1) on the real services: the GISO's
// office starts it through the API, the system's manager and the department's officer answer
// the checklist from the links Mailpit received (an item not kept, with its improvement
// measure), the measure's owner reports it done from their link, and every member of the
// security committee gets the compiled results, then how the measures ended (§9.1(2)).
func TestInspectionEndToEnd(t *testing.T) {
	s := startSystem(t)
	directory := s.run("token", "create", "e2e-directory", "directory")
	officer := s.run("token", "create", "e2e-officer", "officer")
	auditor := s.run("token", "create", "e2e-auditor", "auditor")

	s.putPeople(directory, map[string]map[string]any{
		"INS-CISO":  {"name": "副町長 点検", "email": "ins-ciso@town.example", "department": "insp", "roles": []string{"ciso", "committee"}},
		"INS-GISO":  {"name": "GISO Inspect", "email": "ins-giso@town.example", "department": "insp", "roles": []string{"giso", "committee"}, "locale": "en"},
		"INS-DISO":  {"name": "総務課長 点検", "email": "ins-diso@town.example", "department": "insp", "roles": []string{"diso"}},
		"INS-ISM":   {"name": "係長 点検", "email": "ins-ism@town.example", "department": "insp", "roles": []string{"ism"}},
		"INS-OWNER": {"name": "担当 点検", "email": "ins-owner@town.example", "department": "insp", "roles": []string{"staff"}},
	})
	if code := s.call(directory, "PUT", "/api/v1/systems/insp-app", map[string]any{"name": "文書管理", "department": "insp", "ism": "INS-ISM", "classification": 2}, nil); code != http.StatusCreated {
		t.Fatalf("PUT system: %d", code)
	}
	var started struct{ ID string }
	if code := s.call(officer, "POST", "/api/v1/inspections", nil, &started); code != http.StatusCreated {
		t.Fatalf("POST /inspections: %d", code)
	}
	fy := policy.FiscalYear(time.Now().In(tokyo(t)))
	if started.ID != fmt.Sprintf("INS-FY%d", fy) {
		t.Errorf("campaign %q", started.ID)
	}
	if code := s.call(officer, "POST", "/api/v1/inspections", nil, nil); code != http.StatusConflict {
		t.Errorf("a second campaign of the year: %d, want 409", code)
	}

	checklist := policy.DefaultChecklist()
	answers := func(kind string) url.Values {
		v := url.Values{"decision": {"submit"}}
		for _, it := range checklist.For(kind) {
			v.Set("answer:"+it.ID, policy.AnswerCompliant)
		}
		return v
	}
	sysForm := answers(policy.TargetSystem)
	item := checklist.For(policy.TargetSystem)[0].ID
	due := time.Now().In(tokyo(t)).AddDate(0, 1, 0).Format("2006-01-02")
	sysForm.Set("answer:"+item, policy.AnswerNot)
	sysForm.Set("comment:"+item, "分類の表示がない")
	sysForm.Set("measure:"+item, "取扱制限を表示する")
	sysForm.Set("owner:"+item, "INS-OWNER")
	sysForm.Set("due:"+item, due)
	if code, body := postForm(t, linkIn(t, "ins-ism@town.example", started.ID, "自己点検の実施（情報システム insp-app）"), sysForm); code != 200 {
		t.Fatalf("the manager's answers: %d\n%s", code, body)
	}
	if code, body := postForm(t, linkIn(t, "ins-diso@town.example", started.ID, "自己点検の実施（部局 insp）"), answers(policy.TargetDepartment)); code != 200 {
		t.Fatalf("the officer's answers: %d\n%s", code, body)
	}
	// §9.1(2): the results and the measure planned reach every committee member, in their
	// language, once both are inspected.
	mp := testenv.Mailpit(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, m := range []struct{ to, part string }{{"ins-ciso@town.example", "点検結果と改善策"}, {"ins-giso@town.example", "results and improvement measures"}} {
		if _, err := mp.WaitFor(ctx, func(x testenv.Message) bool {
			return x.SentTo(m.to) && strings.Contains(x.Subject, started.ID) && strings.Contains(x.Text, m.part) && strings.Contains(x.Text, "取扱制限を表示する")
		}); err != nil {
			t.Fatalf("the results to %s: %v", m.to, err)
		}
	}
	if code, body := postForm(t, linkIn(t, "ins-owner@town.example", started.ID, "改善策の実施"), url.Values{"decision": {"done"}, "result": {"表示した"}}); code != 200 {
		t.Fatalf("the measure done: %d\n%s", code, body)
	}
	var got struct {
		Status  string
		Targets []struct {
			Kind, Status string
			TargetID     string `json:"target_id"`
			InspectorID  string `json:"inspector_id"`
			Answers      []struct {
				ItemID  string `json:"item_id"`
				Answer  string
				Measure *struct{ Owner, Due, Status, Result string }
			}
		}
	}
	eventually(t, 60*time.Second, "the campaign to complete", func() bool {
		s.call(auditor, "GET", "/api/v1/inspections/"+started.ID, nil, &got)
		return got.Status == "completed"
	})
	measured := 0
	for _, x := range got.Targets {
		if x.Status != "inspected" {
			t.Errorf("target %s/%s: %s", x.Kind, x.TargetID, x.Status)
		}
		for _, a := range x.Answers {
			if a.Measure != nil {
				measured++
				if a.ItemID != item || a.Measure.Owner != "INS-OWNER" || a.Measure.Due != due || a.Measure.Status != "done" || a.Measure.Result != "表示した" {
					t.Errorf("measure %+v", *a.Measure)
				}
			}
		}
	}
	inspectors := fmt.Sprint(got.Targets[0].InspectorID, " ", got.Targets[len(got.Targets)-1].InspectorID)
	if len(got.Targets) != 2 || measured != 1 || inspectors != "INS-ISM INS-DISO" {
		t.Errorf("targets %+v", got.Targets)
	}
	if _, err := mp.WaitFor(ctx, func(x testenv.Message) bool {
		return x.SentTo("ins-giso@town.example") && strings.Contains(x.Subject, started.ID) && strings.Contains(x.Text, "how the improvement measures ended")
	}); err != nil {
		t.Errorf("the final report: %v", err)
	}
	recordHistory(t, started.ID, "inspection_completed.json")
	recordHistory(t, started.ID+"/system/insp-app", "inspection_target_measure_done.json")
}
