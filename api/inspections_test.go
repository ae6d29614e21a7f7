package api_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// The GISO's office starts the fiscal year's self-inspection (§9.1) once; bad input is refused
// with the field named; the campaign shows its frozen population, and a system manager's
// answers through the mailed link, an item not kept with its improvement measure included,
// land in the register, the measure then being its owner's task.
func TestInspectionStartAndDecide(t *testing.T) {
	s := sys(t)
	ctx := context.Background()
	dept := uid("insdept")
	ism := s.addPerson(t, dept, "ism")
	owner := s.addPerson(t, dept, "staff")
	sysID := uid("inssys")
	dir := s.token("directory")
	if r := call(t, "PUT", "/api/v1/systems/"+sysID, dir, map[string]any{"name": "Inspected", "department": dept, "ism": ism.EmployeeID, "classification": 2}); r.Status >= 300 {
		t.Fatalf("put system: %s", r)
	}
	fy := policy.FiscalYear(time.Now().In(tokyo))
	const path = "/api/v1/inspections"
	call(t, "POST", path, s.token("hr"), nil).wantError(t, 403, "forbidden")
	call(t, "POST", path, s.token("officer"), map[string]any{"fiscal_year": fy - 1}).wantError(t, 400, "validation_failed")
	call(t, "POST", path, s.token("officer"), map[string]any{"extra": true}).wantError(t, 400, "validation_failed")
	call(t, "POST", path, s.token("officer"), map[string]any{"reason": "why"}).wantError(t, 400, "validation_failed")
	call(t, "POST", path, s.token("officer"), map[string]any{"scope": "all"}).wantError(t, 400, "bad_request")

	r := call(t, "POST", path, s.token("officer"), map[string]any{"fiscal_year": fy})
	if r.Status != 201 {
		t.Fatalf("start: %s", r)
	}
	id := r.object(t)["id"].(string)
	if id != fmt.Sprintf("INS-FY%d", fy) {
		t.Errorf("id %s, want the fiscal year's", id)
	}
	// §9.1(1) 毎年度: the year's campaign exists once.
	call(t, "POST", path, s.token("officer"), nil).wantError(t, 409, "conflict")

	var task models.Task
	eventually(t, "the system manager's task", func() (bool, string) {
		err := s.Store.DB.Where("process_id = ? AND assignee_id = ? AND step = ?", id, ism.EmployeeID, "inspect_system").First(&task).Error
		return err == nil, fmt.Sprint(err)
	})
	got := call(t, "GET", path+"/"+id, s.token("auditor"), nil).object(t)
	if got["population_frozen"] != true {
		t.Fatalf("population not shown: %v", got)
	}
	found := false
	for _, x := range got["targets"].([]any) {
		m := x.(map[string]any)
		if m["kind"] == "system" && m["target_id"] == sysID && m["inspector_id"] == ism.EmployeeID && m["department"] == dept {
			found = true
		}
	}
	if !found {
		t.Errorf("the system %s with its manager is not in the population", sysID)
	}
	call(t, "GET", path+"/EXC-20260101-AAAAAAAA", s.token("auditor"), nil).wantError(t, 404, "not_found")

	values := url.Values{"decision": {"submit"}}
	items := policy.DefaultChecklist().For(policy.TargetSystem)
	for _, it := range items {
		values.Set("answer:"+it.ID, policy.AnswerCompliant)
	}
	bad := items[0].ID
	values.Set("answer:"+bad, policy.AnswerNot)
	values.Set("comment:"+bad, "古いIDが残っている")
	link := s.linkOf(t, task)
	// §9.1(2): an item not kept without its improvement measure is refused.
	post(t, link, values, true).wantError(t, 400, "validation_failed")
	values.Set("measure:"+bad, "不要なIDを削除する")
	values.Set("owner:"+bad, owner.EmployeeID)
	values.Set("due:"+bad, time.Now().In(tokyo).AddDate(0, 0, -1).Format("2006-01-02"))
	post(t, link, values, true).wantError(t, 400, "validation_failed")
	due := time.Now().In(tokyo).AddDate(0, 1, 0).Format("2006-01-02")
	values.Set("due:"+bad, due)
	if r := post(t, link, values, true); r.Status != 200 {
		t.Fatalf("decide: %s", r)
	}
	var measure models.Task
	eventually(t, "the measure's task for its owner", func() (bool, string) {
		err := s.Store.DB.Where("process_id = ? AND assignee_id = ? AND step = ?", id, owner.EmployeeID, "improvement_measure").First(&measure).Error
		return err == nil, fmt.Sprint(err)
	})
	var ans models.InspectionAnswer
	if err := s.Store.DB.Where("process_id = ? AND target_id = ? AND item_id = ?", id, sysID, bad).First(&ans).Error; err != nil {
		t.Fatal(err)
	}
	if ans.Answer != policy.AnswerNot || ans.MeasureWhat != "不要なIDを削除する" || ans.MeasureOwner != owner.EmployeeID || ans.MeasureDue != due || ans.MeasureStatus != "open" {
		t.Errorf("answer recorded as %+v", ans)
	}
	// The owner's page says what the inspector asked of them; the text stays in the register.
	measureLink := s.linkOf(t, measure)
	if page := call(t, "GET", measureLink, "", nil); !strings.Contains(string(page.Body), "不要なIDを削除する") || !strings.Contains(string(page.Body), due) {
		t.Errorf("the owner's page does not show the measure:\n%s", page.Body)
	}
	if r := post(t, measureLink, url.Values{"decision": {"done"}, "result": {"削除した"}}, true); r.Status != 200 {
		t.Fatalf("measure done: %s", r)
	}
	eventually(t, "the measure done in the register", func() (bool, string) {
		var a models.InspectionAnswer
		err := s.Store.DB.WithContext(ctx).Where("process_id = ? AND target_id = ? AND item_id = ?", id, sysID, bad).First(&a).Error
		return err == nil && a.MeasureStatus == "done" && a.MeasureResult == "削除した", a.MeasureStatus
	})
}
