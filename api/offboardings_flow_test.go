package api_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/policyflow/policyflow/models"
)

// linkOf waits for the mail assigning a task and returns its link.
func (s *system) linkOf(t testing.TB, task models.Task) string {
	t.Helper()
	var msg models.OutboxMessage
	eventually(t, "the mail of task "+task.ID, func() (bool, string) {
		err := s.Store.DB.Where("`key` = ?", task.ID+"/assigned/"+task.AssigneeID).First(&msg).Error
		return err == nil, fmt.Sprint(err)
	})
	return linkPattern.FindString(msg.Text)
}

// openTasks waits until a process has n open tasks and returns them by step and assignee.
func (s *system) openTasks(t testing.TB, processID string, n int) []models.Task {
	t.Helper()
	var tasks []models.Task
	eventually(t, fmt.Sprintf("%d open tasks of %s", n, processID), func() (bool, string) {
		tasks = nil
		err := s.Store.DB.Where("process_id = ? AND status = ?", processID, models.TaskOpen).Order("id").Find(&tasks).Error
		return err == nil && len(tasks) == n, fmt.Sprintf("%d open, %v", len(tasks), err)
	})
	return tasks
}

// An offboarding started late (HR's date has passed) runs at once: the managers, the
// section's staff, the department officer and the leaver decide through their links; the
// accounts end disabled with who and when, the missing asset is reported and the closing
// report goes out.
func TestOffboardingRunsThroughTheLinks(t *testing.T) {
	t.Parallel()
	s := sys(t)
	ctx := context.Background()
	dir := s.token("directory")
	leaver, dept := s.leaver(t)
	ism := s.addPerson(t, dept, "ism")
	s.addPerson(t, dept, "staff")
	otherDept := uid("dept")
	otherISM := s.addPerson(t, otherDept, "ism")
	tax, mail := uid("tax"), uid("mail")
	for sysID, owner := range map[string]models.Person{tax: ism, mail: otherISM} {
		if r := call(t, "PUT", "/api/v1/systems/"+sysID, dir, map[string]any{"name": sysID, "department": owner.DepartmentID, "ism": owner.EmployeeID, "classification": 2}); r.Status != 201 {
			t.Fatalf("put system: %s", r)
		}
		if r := call(t, "PUT", "/api/v1/systems/"+sysID+"/accounts/"+leaver.EmployeeID, dir, map[string]any{"holder": leaver.EmployeeID}); r.Status != 201 {
			t.Fatalf("put account: %s", r)
		}
	}
	call(t, "PUT", "/api/v1/systems/"+tax+"/accounts/admin", dir, map[string]any{"shared": true, "privileged": true})
	call(t, "PUT", "/api/v1/systems/"+tax+"/accounts/admin/known-by/"+leaver.EmployeeID, dir, nil)
	pc, card := uid("PC"), uid("CARD")
	call(t, "PUT", "/api/v1/people/"+leaver.EmployeeID+"/assets/"+pc, dir, map[string]any{"kind": "device", "description": "ノートPC"})
	call(t, "PUT", "/api/v1/people/"+leaver.EmployeeID+"/assets/"+card, dir, map[string]any{"kind": "id_card"})

	id := startedID(t, call(t, "POST", "/api/v1/offboardings", s.token("hr"), offboardingRequest(leaver.EmployeeID, "retirement", date(-3))), 201)
	tasks := s.openTasks(t, id, 5)
	byStep := map[string][]models.Task{}
	for _, task := range tasks {
		byStep[task.Step] = append(byStep[task.Step], task)
	}
	if got := s.process(t, id).Process.Status; got != "late" {
		t.Errorf("status %q, want late", got)
	}
	if r := byStep["rotate_credential"]; len(r) != 1 || r[0].AssigneeID != ism.EmployeeID {
		t.Fatalf("rotation task: %+v", r)
	}
	if r := byStep["confirm_assets"]; len(r) != 1 || r[0].AssigneeID == "" {
		t.Fatalf("assets task: %+v", r)
	}
	for _, task := range tasks {
		form := decision("done", "")
		switch task.Step {
		case "disable_accounts":
			form.Set("account:"+leaver.EmployeeID, "disabled")
		case "confirm_assets":
			form.Set("asset:"+pc, "missing")
			form.Set("asset:"+card, "returned")
		case "secrecy_acknowledgement":
			form = decision("acknowledge", "")
		}
		if r := post(t, s.linkOf(t, task), form, true); r.Status != 200 {
			t.Fatalf("decide %s: %s", task.Step, r)
		}
	}
	eventually(t, "the offboarding to close", func() (bool, string) {
		p := s.process(t, id).Process
		return p.Status == "completed", p.Status
	})
	for _, sysID := range []string{tax, mail} {
		acc, err := s.Store.Account(ctx, sysID, leaver.EmployeeID)
		if err != nil || acc.Status != "disabled" {
			t.Errorf("account on %s: %+v %v", sysID, acc, err)
		}
	}
	var changes []models.AccountStatusChange
	s.Store.DB.Where("process_id = ?", id).Order("system_id").Find(&changes)
	if len(changes) != 2 || changes[0].ByID == "" || changes[0].At.IsZero() {
		t.Errorf("status changes: %+v", changes)
	}
	var asset models.Asset
	s.Store.DB.First(&asset, "id = ?", pc)
	if asset.Status != "missing" {
		t.Errorf("asset %s is %s", pc, asset.Status)
	}
	kinds := map[string]int{}
	var notes []models.Notification
	s.Store.DB.Where("process_id = ?", id).Find(&notes)
	for _, n := range notes {
		kinds[n.Kind]++
	}
	if kinds["asset_missing"] != 1 || kinds["offboarding_report"] < 1 || kinds["offboarding_started"] != 1 {
		t.Errorf("notices %v", kinds)
	}
	var report models.OutboxMessage
	s.Store.DB.Where("`key` = ?", id+"/report/"+sharedGISO).First(&report)
	for _, want := range []string{tax + " / " + leaver.EmployeeID, "admin", pc, "missing", "password changed"} {
		if !strings.Contains(report.Text, want) {
			t.Errorf("the closing report lacks %q:\n%s", want, report.Text)
		}
	}
	eventually(t, "the employee to be free again", func() (bool, string) {
		_, err := s.Store.OpenOffboarding(ctx, leaver.EmployeeID)
		return err != nil, "still open"
	})
}

// A transfer through the links (§6.1(1), §6.2(1)2(イ)): the former department's account is
// disabled; the manager of another department's system reviews the leaver's ID there, and
// keeping it without a reason is refused; kept with one, it stays active, and the register
// holds the reason and names it on the timeline.
func TestOffboardingTransferReviewThroughTheLinks(t *testing.T) {
	t.Parallel()
	s := sys(t)
	ctx := context.Background()
	dir := s.token("directory")
	leaver, dept := s.leaver(t)
	ism := s.addPerson(t, dept, "ism")
	otherDept := uid("dept")
	otherISM := s.addPerson(t, otherDept, "ism")
	tax, mail := uid("tax"), uid("mail")
	for sysID, owner := range map[string]models.Person{tax: ism, mail: otherISM} {
		if r := call(t, "PUT", "/api/v1/systems/"+sysID, dir, map[string]any{"name": sysID, "department": owner.DepartmentID, "ism": owner.EmployeeID, "classification": 2}); r.Status != 201 {
			t.Fatalf("put system: %s", r)
		}
		if r := call(t, "PUT", "/api/v1/systems/"+sysID+"/accounts/"+leaver.EmployeeID, dir, map[string]any{"holder": leaver.EmployeeID}); r.Status != 201 {
			t.Fatalf("put account: %s", r)
		}
	}
	id := startedID(t, call(t, "POST", "/api/v1/offboardings", s.token("hr"), offboardingRequest(leaver.EmployeeID, "transfer", date(-3))), 201)
	tasks := s.openTasks(t, id, 3)
	var review models.Task
	for _, task := range tasks {
		form := decision("done", "")
		switch task.Step {
		case "disable_accounts":
			form.Set("account:"+leaver.EmployeeID, "disabled")
		case "review_transfer_access":
			review = task
			continue
		case "secrecy_acknowledgement":
			form = decision("acknowledge", "")
		}
		if r := post(t, s.linkOf(t, task), form, true); r.Status != 200 {
			t.Fatalf("decide %s: %s", task.Step, r)
		}
	}
	if review.AssigneeID != otherISM.EmployeeID {
		t.Fatalf("review task %+v, want one for %s", review, otherISM.EmployeeID)
	}
	link := s.linkOf(t, review)
	keep := decision("done", "")
	keep.Set("account:"+leaver.EmployeeID, "kept")
	post(t, link, keep, true).wantError(t, 400, "validation_failed")
	keep.Set("reason:"+leaver.EmployeeID, "兼務先の業務で引き続き使用する")
	if r := post(t, link, keep, true); r.Status != 200 {
		t.Fatalf("keep with a reason: %s", r)
	}
	eventually(t, "the offboarding to close", func() (bool, string) {
		p := s.process(t, id).Process
		return p.Status == "completed", p.Status
	})
	if acc, err := s.Store.Account(ctx, tax, leaver.EmployeeID); err != nil || acc.Status != "disabled" {
		t.Errorf("former department's account: %+v %v", acc, err)
	}
	if acc, err := s.Store.Account(ctx, mail, leaver.EmployeeID); err != nil || acc.Status != "active" {
		t.Errorf("the kept account: %+v %v", acc, err)
	}
	var item models.OffboardingItem
	s.Store.DB.First(&item, "process_id = ? AND `key` = ?", id, "account:"+mail+"/"+leaver.EmployeeID)
	if item.Action != "review" || item.Outcome != "kept" || item.ByID != otherISM.EmployeeID {
		t.Errorf("item %+v", item)
	}
	if _, values, err := s.Store.DecisionValues(ctx, review.ID); err != nil || values["reason:"+leaver.EmployeeID] == "" {
		t.Errorf("the reason is not in the register: %v %v", values, err)
	}
	var kept int64
	s.Store.DB.Model(&models.ProcessEvent{}).Where("process_id = ? AND note LIKE ?", id, "%kept after the transfer%").Count(&kept)
	if kept != 1 {
		t.Errorf("timeline notes of the kept ID: %d", kept)
	}
}

// The reconciliation through the API: an account of a retired person is a finding in its
// manager's task; disabling it there disables the account.
func TestReconciliationThroughTheAPI(t *testing.T) {
	t.Parallel()
	s := sys(t)
	ctx := context.Background()
	dir := s.token("directory")
	dept := uid("dept")
	ism := s.addPerson(t, dept, "ism")
	gone := s.addPerson(t, dept, "staff")
	gone.Status = models.StatusRetired
	if _, err := s.Store.PutPeople(ctx, []models.Person{gone}); err != nil {
		t.Fatal(err)
	}
	sysID := uid("sys")
	call(t, "PUT", "/api/v1/systems/"+sysID, dir, map[string]any{"name": "Sys", "department": dept, "ism": ism.EmployeeID, "classification": 3})
	call(t, "PUT", "/api/v1/systems/"+sysID+"/accounts/old", dir, map[string]any{"holder": gone.EmployeeID})
	call(t, "PUT", "/api/v1/systems/"+sysID+"/accounts/ok", dir, map[string]any{"holder": ism.EmployeeID})
	if r := call(t, "PUT", "/api/v1/systems/"+sysID+"/accounts/ok/last-use", dir, map[string]any{"last_used_at": "2026-01-01T09:00:00+09:00"}); r.Status != 200 {
		t.Fatalf("last use: %s", r)
	}
	call(t, "PUT", "/api/v1/systems/"+sysID+"/accounts/ok/last-use", dir, map[string]any{}).wantError(t, 400, "validation_failed")
	call(t, "POST", "/api/v1/reconciliations", s.token("officer"), nil).wantError(t, 403, "forbidden")
	call(t, "POST", "/api/v1/reconciliations", s.token("hr"), map[string]any{"unused_days": -1}).wantError(t, 400, "validation_failed")

	r := call(t, "POST", "/api/v1/reconciliations", s.token("hr"), map[string]any{"unused_days": 30})
	if r.Status != 201 {
		t.Fatalf("start: %s", r)
	}
	id := r.object(t)["id"].(string)
	var task models.Task
	eventually(t, "the manager's task", func() (bool, string) {
		err := s.Store.DB.Where("process_id = ? AND assignee_id = ?", id, ism.EmployeeID).First(&task).Error
		return err == nil, fmt.Sprint(err)
	})
	// §6.2(1)2(ウ): the retired holder's ID is kept only with a written reason of its own.
	noReason := url.Values{"decision": {"done"}, "finding:" + sysID + "/old": {"keep"}, "finding:" + sysID + "/ok": {"keep"},
		"justification": {"年度末の監査用に継続"}}
	post(t, s.linkOf(t, task), noReason, true).wantError(t, 400, "validation_failed")
	v := url.Values{"decision": {"done"}, "finding:" + sysID + "/old": {"disable"}, "finding:" + sysID + "/ok": {"keep"},
		"justification": {"年度末の監査用に継続"}}
	if r := post(t, s.linkOf(t, task), v, true); r.Status != 200 {
		t.Fatalf("decide: %s", r)
	}
	eventually(t, "the account to be disabled", func() (bool, string) {
		acc, err := s.Store.Account(ctx, sysID, "old")
		return err == nil && acc.Status == "disabled", acc.Status
	})
	if acc, _ := s.Store.Account(ctx, sysID, "ok"); acc.Status != "active" {
		t.Errorf("the kept account is %s", acc.Status)
	}
	var fs []models.ReconciliationFinding
	s.Store.DB.Where("process_id = ? AND system_id = ?", id, sysID).Order("account_id").Find(&fs)
	if len(fs) != 2 || fs[0].Kind != "unused" || fs[1].Kind != "not_employed" || fs[1].ByID != ism.EmployeeID || fs[1].Decision != "disable" {
		t.Errorf("findings %+v", fs)
	}
}
