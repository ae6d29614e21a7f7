package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/policyflow/policyflow/models"
)

// postTask is a task for a post whose holder may change before deciding: an exception request
// returned by the CISO waits for its requester, a department's security officer, marked as
// the engine marks a task for a post (PostRole, PostScope).
type postTask struct {
	openTask
	Holder models.Person
}

func (s *system) newPostTask(t *testing.T, locale string) postTask {
	t.Helper()
	o := s.newOpenTask(t)
	if r := post(t, o.Link, decision("return", "please name the systems"), true); r.Status != http.StatusOK {
		t.Fatalf("the CISO returns the request: %s", r)
	}
	rev := s.waitForOpenTask(t, o.ProcessID)
	if rev.Task.AssigneeID != o.Requester.EmployeeID || rev.Task.Step != "requester_revision" {
		t.Fatalf("the open task is %s for %s, want the requester's revision", rev.Task.Step, rev.Task.AssigneeID)
	}
	if err := s.Store.DB.Model(&models.Task{}).Where("id = ?", rev.Task.ID).
		Updates(map[string]any{"post_role": "diso", "post_scope": o.Requester.DepartmentID}).Error; err != nil {
		t.Fatal(err)
	}
	rev.Task.PostRole, rev.Task.PostScope = "diso", o.Requester.DepartmentID
	holder := o.Requester
	holder.Locale = locale
	s.putPeople(t, holder)
	return postTask{openTask: rev, Holder: holder}
}

// putPeople replaces people in the directory's table, as the directory API would, without
// telling any process (the engine's hand-over is not what these tests are about).
func (s *system) putPeople(t *testing.T, people ...models.Person) {
	t.Helper()
	if _, err := s.Store.PutPeople(context.Background(), people); err != nil {
		t.Fatalf("put people: %v", err)
	}
}

// wantRefused checks that the link's GET and POST, as pages (under heading) and as JSON, are
// refused with status and code, saying want, and that nothing was stored or sent to the
// workflow.
func (s *system) wantRefused(t *testing.T, o postTask, status int, code, heading string, want ...string) {
	t.Helper()
	before, history := s.snapshot(t, o.ProcessID), s.historyLength(t, o.ProcessID)
	says := func(what, body string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s does not say %q: %s", what, w, body)
			}
		}
	}
	if page := call(t, http.MethodGet, o.Link, "", nil); page.Status != status {
		t.Errorf("GET: %s, want %d", page, status)
	} else {
		says("the GET page", string(page.Body))
		if !strings.Contains(string(page.Body), "<h1>"+heading+"</h1>") {
			t.Errorf("the GET page's heading is not %q: %s", heading, page)
		}
		if strings.Contains(string(page.Body), "<form") {
			t.Errorf("the GET page still shows the form")
		}
	}
	says("GET as JSON", call(t, http.MethodGet, o.Link, "", nil, "Accept", "application/json").wantError(t, status, code).Message)
	if page := post(t, o.Link, decision("resubmit", "after all"), false); page.Status != status {
		t.Errorf("POST: %s, want %d", page, status)
	} else {
		says("the POST page", string(page.Body))
		if !strings.Contains(string(page.Body), "<h1>"+heading+"</h1>") {
			t.Errorf("the POST page's heading is not %q: %s", heading, page)
		}
	}
	says("POST as JSON", post(t, o.Link, decision("resubmit", "after all"), true).wantError(t, status, code).Message)

	if after := s.snapshot(t, o.ProcessID); after != before {
		t.Errorf("a refused POST changed the register:\nbefore %s\nafter %s", before, after)
	}
	if n := s.countRows(t, &models.DecisionRequest{}, "task_id = ?", o.Task.ID); n != 0 {
		t.Errorf("%d decision requests stored", n)
	}
	if n := s.countRows(t, &models.Decision{}, "task_id = ?", o.Task.ID); n != 0 {
		t.Errorf("%d decisions recorded", n)
	}
	if h := s.historyLength(t, o.ProcessID); h != history {
		t.Errorf("a refused POST reached the workflow: %d events, then %d", history, h)
	}
	if accepted, _ := s.historyCounts(t, o.ProcessID); accepted != 1 {
		t.Errorf("%d decide Updates accepted, want the CISO's only", accepted)
	}
}

// A holder who retired cannot decide with a link mailed earlier (issue 12, item 5).
func TestTaskLinkRetiredHolderRefused(t *testing.T) {
	t.Parallel()
	s := sys(t)
	o := s.newPostTask(t, "en")
	o.Holder.Status = models.StatusRetired
	s.putPeople(t, o.Holder)
	s.wantRefused(t, o, http.StatusForbidden, "forbidden", "You cannot decide this task", "no longer work for the town", "Nothing was recorded")
}

// A holder whose role was removed no longer holds the task's post.
func TestTaskLinkRoleRemovedRefused(t *testing.T) {
	t.Parallel()
	s := sys(t)
	o := s.newPostTask(t, "en")
	o.Holder.Roles = []models.PersonRole{{EmployeeID: o.Holder.EmployeeID, Role: "staff"}}
	s.putPeople(t, o.Holder)
	s.wantRefused(t, o, http.StatusForbidden, "forbidden", "You cannot decide this task", "Department Information Security Officer", "a post you no longer hold")
}

// A department's security officer moved to another department, still a security officer
// there, no longer holds the post of the first; the page speaks Japanese, the holder's locale.
func TestTaskLinkDISOMovedRefused(t *testing.T) {
	t.Parallel()
	s := sys(t)
	o := s.newPostTask(t, "ja")
	o.Holder.DepartmentID = uid("dept")
	s.putPeople(t, o.Holder)
	s.wantRefused(t, o, http.StatusForbidden, "forbidden",
		"この件を判断できません", "この件は情報セキュリティ責任者が判断するものですが、あなたは現在その職にないため判断できません。", "判断は記録されていません。")
}

// A link revoked when the task was handed over to the post's new holder answers 410 with
// whom it went to and why, in the old holder's language.
func TestTaskLinkRevokedRefused(t *testing.T) {
	t.Parallel()
	s := sys(t)
	o := s.newPostTask(t, "ja")
	successor := s.addPerson(t, o.Holder.DepartmentID, "diso")
	if err := s.Store.DB.Model(&models.Task{}).Where("id = ?", o.Task.ID).Update("assignee_id", successor.EmployeeID).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.Store.DB.Model(&models.TaskLink{}).Where("task_id = ? AND person_id = ?", o.Task.ID, o.Holder.EmployeeID).
		Updates(map[string]any{"revoked_at": time.Now().UTC(), "revoked_why": "情報セキュリティ責任者の交代"}).Error; err != nil {
		t.Fatal(err)
	}
	s.wantRefused(t, o, http.StatusGone, "gone",
		"このリンクは使用できません", "この件は後任の"+successor.Name+"さんに引き継がれたため", "理由: 情報セキュリティ責任者の交代", "判断は記録されていません。")
}

// The checks refuse only who they should: the post's holder decides, and so does a deputy
// deciding for the holder (OnBehalfOf), who needs only to be employed for now.
func TestTaskLinkPostHolderAndDeputyDecide(t *testing.T) {
	t.Parallel()
	s := sys(t)
	o := s.newPostTask(t, "en")
	if page := call(t, http.MethodGet, o.Link, "", nil); page.Status != http.StatusOK || !strings.Contains(string(page.Body), "<form") {
		t.Errorf("GET by the post's holder: %s", page)
	}
	if r := post(t, o.Link, decision("withdraw", "no longer needed"), true); r.Status != http.StatusOK {
		t.Errorf("POST by the post's holder: %s", r)
	}

	o = s.newPostTask(t, "en")
	o.Holder.Roles = nil
	s.putPeople(t, o.Holder)
	if err := s.Store.DB.Model(&models.Task{}).Where("id = ?", o.Task.ID).Update("on_behalf_of", uid("emp")).Error; err != nil {
		t.Fatal(err)
	}
	if r := post(t, o.Link, decision("withdraw", "for the holder"), true); r.Status != http.StatusOK {
		t.Errorf("POST by a deputy without the post: %s", r)
	}
}
