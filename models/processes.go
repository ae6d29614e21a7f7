package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// ErrDuplicate is returned when a row with the same unique key exists.
var ErrDuplicate = errors.New("duplicate")

// CreateProcess inserts a new process; ErrDuplicate if its idempotency key is taken.
func (s *Store) CreateProcess(ctx context.Context, p *Process) error {
	err := s.DB.WithContext(ctx).Create(p).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return ErrDuplicate
	}
	return err
}

// DeleteProcess removes a process whose workflow could not be started.
func (s *Store) DeleteProcess(ctx context.Context, id string) error {
	return s.DB.WithContext(ctx).Where("id = ? AND status = ?", id, "starting").Delete(&Process{}).Error
}

// ProcessByIdempotencyKey finds the process a start request with this key created.
func (s *Store) ProcessByIdempotencyKey(ctx context.Context, key string) (Process, error) {
	var p Process
	err := s.DB.WithContext(ctx).Where("idempotency_key = ?", key).First(&p).Error
	return p, notFound(err)
}

// SetCancelReason records why and by whom a process is being cancelled.
func (s *Store) SetCancelReason(ctx context.Context, id, reason, by string) error {
	return s.DB.WithContext(ctx).Model(&Process{}).Where("id = ?", id).
		Updates(map[string]any{"cancel_reason": reason, "cancelled_by": by}).Error
}

// ProcessFilter selects processes for a list, newest first, after a cursor.
type ProcessFilter struct {
	Kind, Status, Department, EmployeeID string
	From, To                             time.Time
	AfterCreated                         time.Time
	AfterID                              string
	Limit                                int
}

// ListProcesses returns one page of processes, newest first. Each filter has an index ending
// in created_at, id (migration step 2), so a page is read in order, not sorted. The filter by
// employee_id (the person the process is about, or who asked for it) is an OR of two
// columns, which no single index serves: it is two ordered reads, one per column, each of at
// most a page, merged here.
func (s *Store) ListProcesses(ctx context.Context, f ProcessFilter) ([]Process, error) {
	if f.EmployeeID == "" {
		return s.listPage(ctx, f, "")
	}
	byEmployee, err := s.listPage(ctx, f, "employee_id")
	if err != nil {
		return nil, err
	}
	byRequester, err := s.listPage(ctx, f, "requester_id")
	if err != nil {
		return nil, err
	}
	return mergePages(byEmployee, byRequester, f.Limit), nil
}

// listPage reads one page of f; with person, only the processes whose column person is
// f.EmployeeID.
func (s *Store) listPage(ctx context.Context, f ProcessFilter, person string) ([]Process, error) {
	q := s.DB.WithContext(ctx).Model(&Process{}).Omit("input")
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Department != "" {
		q = q.Where("department_id = ?", f.Department)
	}
	if person != "" {
		q = q.Where(person+" = ?", f.EmployeeID)
	}
	if !f.From.IsZero() {
		q = q.Where("created_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("created_at < ?", f.To.UTC())
	}
	if f.AfterID != "" {
		q = q.Where("created_at < ? OR (created_at = ? AND id < ?)", f.AfterCreated.UTC(), f.AfterCreated.UTC(), f.AfterID)
	}
	var ps []Process
	err := q.Order("created_at DESC, id DESC").Limit(f.Limit).Find(&ps).Error
	return ps, err
}

// mergePages merges two pages ordered newest first (created_at, then id, descending) into
// one of at most limit, each process once.
func mergePages(a, b []Process, limit int) []Process {
	out := make([]Process, 0, min(len(a)+len(b), limit))
	seen := make(map[string]bool, len(a)+len(b))
	after := func(x, y Process) bool { // x comes first
		return x.CreatedAt.After(y.CreatedAt) || x.CreatedAt.Equal(y.CreatedAt) && x.ID > y.ID
	}
	for (len(a) > 0 || len(b) > 0) && len(out) < limit {
		var next Process
		if len(b) == 0 || len(a) > 0 && after(a[0], b[0]) {
			next, a = a[0], a[1:]
		} else {
			next, b = b[0], b[1:]
		}
		if !seen[next.ID] {
			seen[next.ID] = true
			out = append(out, next)
		}
	}
	return out
}

// ProcessDetail is everything the register holds on one process.
type ProcessDetail struct {
	Process       Process
	Tasks         []Task
	Decisions     []Decision
	Notifications []Notification
	Events        []ProcessEvent
	// Versions are the request's versions when it was returned and revised (migration 8).
	Versions []RequestVersion
	// Names maps the employee IDs of deciders to their names.
	Names map[string]string
}

// ProcessDetail loads a process with its tasks, decisions, mails and timeline.
func (s *Store) ProcessDetail(ctx context.Context, id string) (ProcessDetail, error) {
	var d ProcessDetail
	var err error
	if d.Process, err = s.Process(ctx, id); err != nil {
		return d, err
	}
	db := s.DB.WithContext(ctx)
	if err := db.Where("process_id = ?", id).Order("created_at, id").Find(&d.Tasks).Error; err != nil {
		return d, err
	}
	if err := db.Where("process_id = ?", id).Order("decided_at, id").Find(&d.Decisions).Error; err != nil {
		return d, err
	}
	if err := db.Where("process_id = ?", id).Order("id").Find(&d.Notifications).Error; err != nil {
		return d, err
	}
	if err := db.Where("process_id = ?", id).Order("id").Find(&d.Events).Error; err != nil {
		return d, err
	}
	if err := db.Where("process_id = ?", id).Order("version").Find(&d.Versions).Error; err != nil {
		return d, err
	}
	ids := make([]string, 0, len(d.Decisions)+len(d.Versions))
	for _, x := range d.Decisions {
		ids = append(ids, x.DeciderID)
	}
	for _, v := range d.Versions {
		ids = append(ids, v.ByID)
	}
	d.Names = map[string]string{}
	if len(ids) > 0 {
		people, err := s.Recipients(ctx, ids)
		if err != nil {
			return d, err
		}
		for id, p := range people {
			d.Names[id] = p.Name
		}
	}
	return d, nil
}

// TaskLinkByHash finds the link with this token hash, its task and process.
func (s *Store) TaskLinkByHash(ctx context.Context, hash string) (TaskLink, Task, Process, error) {
	var l TaskLink
	if err := s.DB.WithContext(ctx).First(&l, "token_hash = ?", hash).Error; err != nil {
		return l, Task{}, Process{}, notFound(err)
	}
	t, p, err := s.TaskWithProcess(ctx, l.TaskID)
	return l, t, p, err
}

// DecisionOn returns the decision recorded on a task.
func (s *Store) DecisionOn(ctx context.Context, taskID string) (Decision, error) {
	var d Decision
	err := s.DB.WithContext(ctx).First(&d, "task_id = ?", taskID).Error
	return d, notFound(err)
}

// SaveDecisionRequest stores a decision POST before it goes to the workflow.
func (s *Store) SaveDecisionRequest(ctx context.Context, r DecisionRequest) error {
	// One INSERT is atomic by itself: without GORM's default transaction around it, it is one
	// round trip instead of three.
	return s.DB.WithContext(ctx).Session(&gorm.Session{SkipDefaultTransaction: true}).Create(&r).Error
}

// DecisionRequestByID returns a stored decision request.
func (s *Store) DecisionRequestByID(ctx context.Context, id string) (DecisionRequest, error) {
	var r DecisionRequest
	err := s.DB.WithContext(ctx).First(&r, "request_id = ?", id).Error
	return r, notFound(err)
}

// MarkUnanswered records that a decision request was answered "try again later".
func (s *Store) MarkUnanswered(ctx context.Context, id string) error {
	return s.DB.WithContext(ctx).Model(&DecisionRequest{}).Where("request_id = ?", id).Update("unanswered", true).Error
}

// UnansweredRequests counts a person's requests for a choice on a task that were answered
// "try again later" (503).
func (s *Store) UnansweredRequests(ctx context.Context, taskID, personID, choice string) (int64, error) {
	var n int64
	err := s.DB.WithContext(ctx).Model(&DecisionRequest{}).
		Where("task_id = ? AND decider_id = ? AND choice = ? AND unanswered = ?", taskID, personID, choice, true).Count(&n).Error
	return n, err
}

// AnswerRequests records that a person's retried decision on a task was answered.
func (s *Store) AnswerRequests(ctx context.Context, taskID, personID string) error {
	return s.DB.WithContext(ctx).Model(&DecisionRequest{}).Where("task_id = ? AND decider_id = ?", taskID, personID).
		Update("unanswered", false).Error
}
