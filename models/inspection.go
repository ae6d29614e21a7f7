package models

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// KindInspection is the process kind of a self-inspection campaign (自己点検, §9.1).
const KindInspection = "inspection"

// Status values of an inspection target and of an improvement measure.
const (
	InspectionOpen      = "open"
	InspectionInspected = "inspected"
	InspectionOverdue   = "overdue"
	MeasureOpen         = "open"
	MeasureDone         = "done"
	MeasureOverdue      = "overdue"
)

// InspectionCampaign is one self-inspection campaign (§9.1): the yearly one of a fiscal year,
// or an extra one (「必要に応じて」). The checklist is copied in when it starts, so a change of
// the town's checklist applies to the campaigns started after it (migration step 10).
type InspectionCampaign struct {
	ProcessID        string `gorm:"primaryKey;size:64"`
	FiscalYear       int    `gorm:"not null;index"`
	Occasion         string `gorm:"size:16;not null"`
	ChecklistVersion string `gorm:"size:100"`
	// Checklist is the JSON of the policy.Checklist the campaign asks.
	Checklist  string `gorm:"type:text"`
	StartedAt  time.Time
	CompiledAt *time.Time
	// ReportedTo is how many members of the security committee the compiled results were
	// mailed to (§9.1(2)); zero with CompiledAt set means there was nobody to mail, which the
	// process's timeline says too.
	ReportedTo int `gorm:"not null;default:0"`
}

// InspectionTarget is one system or department a campaign inspects, frozen when it starts:
// who held the inspecting post then, and how the inspection went.
type InspectionTarget struct {
	ProcessID    string `gorm:"primaryKey;size:64"`
	Kind         string `gorm:"primaryKey;size:16"`
	TargetID     string `gorm:"primaryKey;size:64"`
	DepartmentID string `gorm:"size:64;index"`
	// InspectorRole is the post that inspects (ism for a system, diso for a department);
	// InspectorID who held it when the campaign started ("" if nobody did).
	InspectorRole string `gorm:"size:16;not null"`
	InspectorID   string `gorm:"size:64"`
	Status        string `gorm:"size:16;not null"`
	TaskID        string `gorm:"size:191"`
	InspectedBy   string `gorm:"size:64"`
	InspectedAt   *time.Time
}

// InspectionAnswer is the answer to one checklist item for one target, with its improvement
// measure when the item is not or partly kept.
type InspectionAnswer struct {
	ProcessID     string `gorm:"primaryKey;size:64"`
	TargetKind    string `gorm:"primaryKey;size:16"`
	TargetID      string `gorm:"primaryKey;size:64"`
	ItemID        string `gorm:"primaryKey;size:48"`
	Clause        string `gorm:"size:64"`
	Answer        string `gorm:"size:16;not null"`
	Comment       string `gorm:"type:text"`
	MeasureWhat   string `gorm:"type:text"`
	MeasureOwner  string `gorm:"size:64;index"`
	MeasureDue    string `gorm:"size:10"`
	MeasureStatus string `gorm:"size:16"`
	MeasureTaskID string `gorm:"size:191"`
	MeasureDoneAt *time.Time
	MeasureResult string `gorm:"type:text"`
}

// inspectionTables is step 10: the self-inspection's campaigns, targets and answers.
// Re-runnable.
func inspectionTables(tx *gorm.DB) error {
	return tx.AutoMigrate(&InspectionCampaign{}, &InspectionTarget{}, &InspectionAnswer{})
}

// CreateInspection stores a campaign and its frozen population, unless it is stored already;
// either way it returns the campaign's targets as stored.
func (s *Store) CreateInspection(ctx context.Context, c InspectionCampaign, targets []InspectionTarget) ([]InspectionTarget, error) {
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&InspectionCampaign{}).Where("process_id = ?", c.ProcessID).Count(&n).Error; err != nil || n > 0 {
			return err
		}
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		if len(targets) == 0 {
			return nil
		}
		return tx.CreateInBatches(targets, 200).Error
	})
	// Two attempts at once: the one that lost finds the winner's population.
	if err != nil && !errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, err
	}
	return s.InspectionTargets(ctx, c.ProcessID)
}

// Inspection returns a campaign.
func (s *Store) Inspection(ctx context.Context, processID string) (InspectionCampaign, error) {
	var c InspectionCampaign
	err := s.DB.WithContext(ctx).First(&c, "process_id = ?", processID).Error
	return c, notFound(err)
}

// InspectionTargets returns a campaign's targets: systems, then departments, by ID.
func (s *Store) InspectionTargets(ctx context.Context, processID string) ([]InspectionTarget, error) {
	var ts []InspectionTarget
	err := s.DB.WithContext(ctx).Where("process_id = ?", processID).Order("kind DESC, target_id").Find(&ts).Error
	return ts, err
}

// InspectionAnswers returns a campaign's answers, by target and item.
func (s *Store) InspectionAnswers(ctx context.Context, processID string) ([]InspectionAnswer, error) {
	var as []InspectionAnswer
	err := s.DB.WithContext(ctx).Where("process_id = ?", processID).Order("target_kind DESC, target_id, item_id").Find(&as).Error
	return as, err
}

// SaveInspectionAnswers records one target's inspection: its answers (replacing any
// recorded before, so a retry is harmless) and the target as inspected by whom and when.
func (s *Store) SaveInspectionAnswers(ctx context.Context, t InspectionTarget, answers []InspectionAnswer) error {
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("process_id = ? AND target_kind = ? AND target_id = ?", t.ProcessID, t.Kind, t.TargetID).
			Delete(&InspectionAnswer{}).Error; err != nil {
			return err
		}
		if len(answers) > 0 {
			if err := tx.Create(&answers).Error; err != nil {
				return err
			}
		}
		return tx.Model(&InspectionTarget{}).Where("process_id = ? AND kind = ? AND target_id = ?", t.ProcessID, t.Kind, t.TargetID).
			Updates(map[string]any{"status": InspectionInspected, "task_id": t.TaskID, "inspected_by": t.InspectedBy, "inspected_at": t.InspectedAt}).Error
	})
}

// SetInspectionTargetStatus sets a target's status (overdue when nobody inspected in time).
func (s *Store) SetInspectionTargetStatus(ctx context.Context, processID, kind, targetID, status, taskID string) error {
	return s.DB.WithContext(ctx).Model(&InspectionTarget{}).Where("process_id = ? AND kind = ? AND target_id = ?", processID, kind, targetID).
		Updates(map[string]any{"status": status, "task_id": taskID}).Error
}

// SetMeasureStatus records how an improvement measure stands: its task, and done (with when
// and the owner's result) or overdue.
func (s *Store) SetMeasureStatus(ctx context.Context, a InspectionAnswer) error {
	return s.DB.WithContext(ctx).Model(&InspectionAnswer{}).
		Where("process_id = ? AND target_kind = ? AND target_id = ? AND item_id = ?", a.ProcessID, a.TargetKind, a.TargetID, a.ItemID).
		Updates(map[string]any{"measure_status": a.MeasureStatus, "measure_task_id": a.MeasureTaskID,
			"measure_done_at": a.MeasureDoneAt, "measure_result": a.MeasureResult}).Error
}

// MarkInspectionCompiled records that a campaign's results were compiled and mailed to n
// members of the security committee.
func (s *Store) MarkInspectionCompiled(ctx context.Context, processID string, at time.Time, n int) error {
	return s.DB.WithContext(ctx).Model(&InspectionCampaign{}).Where("process_id = ?", processID).
		Updates(map[string]any{"compiled_at": at, "reported_to": n}).Error
}

// InspectionResultRow is one answer of a fiscal year's self-inspections, as a register or a
// report lists it (§9.1(2)).
type InspectionResultRow struct {
	Campaign      string
	FiscalYear    int
	TargetKind    string
	TargetID      string
	DepartmentID  string
	ItemID        string
	Clause        string
	Answer        string
	Comment       string
	MeasureWhat   string
	MeasureOwner  string
	MeasureDue    string
	MeasureStatus string
}

// InspectionResults visits every answer of the fiscal year's campaigns, by campaign, target
// and item, in pages of 500, so that a register of any size streams.
func (s *Store) InspectionResults(ctx context.Context, fiscalYear int, fn func(InspectionResultRow) error) error {
	var campaigns []InspectionCampaign
	if err := s.DB.WithContext(ctx).Where("fiscal_year = ?", fiscalYear).Order("process_id").Find(&campaigns).Error; err != nil {
		return err
	}
	for _, c := range campaigns {
		dept := map[string]string{}
		ts, err := s.InspectionTargets(ctx, c.ProcessID)
		if err != nil {
			return err
		}
		for _, t := range ts {
			dept[t.Kind+"/"+t.TargetID] = t.DepartmentID
		}
		var after InspectionAnswer
		for {
			var page []InspectionAnswer
			q := s.DB.WithContext(ctx).Where("process_id = ?", c.ProcessID)
			if after.ItemID != "" {
				q = q.Where("(target_kind < ?) OR (target_kind = ? AND target_id > ?) OR (target_kind = ? AND target_id = ? AND item_id > ?)",
					after.TargetKind, after.TargetKind, after.TargetID, after.TargetKind, after.TargetID, after.ItemID)
			}
			if err := q.Order("target_kind DESC, target_id, item_id").Limit(500).Find(&page).Error; err != nil {
				return err
			}
			for _, a := range page {
				if err := fn(InspectionResultRow{Campaign: c.ProcessID, FiscalYear: c.FiscalYear, TargetKind: a.TargetKind, TargetID: a.TargetID,
					DepartmentID: dept[a.TargetKind+"/"+a.TargetID], ItemID: a.ItemID, Clause: a.Clause, Answer: a.Answer, Comment: a.Comment,
					MeasureWhat: a.MeasureWhat, MeasureOwner: a.MeasureOwner, MeasureDue: a.MeasureDue, MeasureStatus: a.MeasureStatus}); err != nil {
					return err
				}
			}
			if len(page) < 500 {
				break
			}
			after = page[len(page)-1]
		}
	}
	return nil
}

// DepartmentInspection is one department's part of a fiscal year's self-inspections: its
// answers counted by answer, its targets not inspected in time, and its measures not yet done.
type DepartmentInspection struct {
	DepartmentID string
	Answers      map[string]int
	Targets      int
	Overdue      int
	OpenMeasures int
	// Measures counts its improvement measures by status: open, done, overdue.
	Measures map[string]int
}

// InspectionSummary is a fiscal year's self-inspections in numbers, per department (sorted).
type InspectionSummary struct {
	FiscalYear  int
	Campaigns   []string
	Departments []DepartmentInspection
}

// InspectionSummary counts a fiscal year's self-inspections per department, for the
// committee's review (§9.1(2)(3)).
func (s *Store) InspectionSummary(ctx context.Context, fiscalYear int) (InspectionSummary, error) {
	out := InspectionSummary{FiscalYear: fiscalYear}
	if err := s.DB.WithContext(ctx).Model(&InspectionCampaign{}).Where("fiscal_year = ?", fiscalYear).
		Order("process_id").Pluck("process_id", &out.Campaigns).Error; err != nil {
		return out, err
	}
	if len(out.Campaigns) == 0 {
		return out, nil
	}
	byDept := map[string]*DepartmentInspection{}
	get := func(d string) *DepartmentInspection {
		if byDept[d] == nil {
			byDept[d] = &DepartmentInspection{DepartmentID: d, Answers: map[string]int{}, Measures: map[string]int{}}
		}
		return byDept[d]
	}
	var ts []InspectionTarget
	if err := s.DB.WithContext(ctx).Where("process_id IN ?", out.Campaigns).Find(&ts).Error; err != nil {
		return out, err
	}
	for _, t := range ts {
		d := get(t.DepartmentID)
		d.Targets++
		if t.Status == InspectionOverdue {
			d.Overdue++
		}
	}
	err := s.InspectionResults(ctx, fiscalYear, func(r InspectionResultRow) error {
		d := get(r.DepartmentID)
		d.Answers[r.Answer]++
		if r.MeasureWhat != "" && r.MeasureStatus != MeasureDone {
			d.OpenMeasures++
		}
		if r.MeasureWhat != "" || r.MeasureOwner != "" {
			st := r.MeasureStatus
			if st == "" {
				st = MeasureOpen
			}
			d.Measures[st]++
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	for _, d := range byDept {
		out.Departments = append(out.Departments, *d)
	}
	sortDepartments(out.Departments)
	return out, nil
}

func sortDepartments(ds []DepartmentInspection) {
	slices.SortFunc(ds, func(a, b DepartmentInspection) int { return strings.Compare(a.DepartmentID, b.DepartmentID) })
}

// InspectionPopulation reads every system with its manager and every department with its
// security officer, as the directory has them now (§9.1(1)). A system without an employed
// manager, or a department without an officer, is the GISO's to inspect (§9.1(1)1 names the
// GISO among the inspectors), so that no target waits for a post nobody holds.
func (s *Store) InspectionPopulation(ctx context.Context) ([]InspectionTarget, error) {
	giso, err := s.RoleHolder(ctx, "giso", "")
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	orGISO := func(t InspectionTarget) InspectionTarget {
		if t.InspectorID == "" {
			t.InspectorRole, t.InspectorID = "giso", giso
		}
		return t
	}
	var systems []System
	if err := s.DB.WithContext(ctx).Order("id").Find(&systems).Error; err != nil {
		return nil, err
	}
	var out []InspectionTarget
	for _, x := range systems {
		ism, err := s.PostHolder(ctx, "ism", x.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		out = append(out, orGISO(InspectionTarget{Kind: "system", TargetID: x.ID, DepartmentID: x.DepartmentID,
			InspectorRole: "ism", InspectorID: ism, Status: InspectionOpen}))
	}
	var depts []Department
	if err := s.DB.WithContext(ctx).Order("id").Find(&depts).Error; err != nil {
		return nil, err
	}
	for _, d := range depts {
		diso, err := s.RoleHolder(ctx, "diso", d.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		out = append(out, orGISO(InspectionTarget{Kind: "department", TargetID: d.ID, DepartmentID: d.ID,
			InspectorRole: "diso", InspectorID: diso, Status: InspectionOpen}))
	}
	return out, nil
}

// ExtraInspections counts the extra campaigns registered for a fiscal year (INS-FY<year>-n).
func (s *Store) ExtraInspections(ctx context.Context, processIDPrefix string) (int, error) {
	var n int64
	err := s.DB.WithContext(ctx).Model(&Process{}).Where("kind = ? AND id LIKE ?", KindInspection, processIDPrefix+"-%").Count(&n).Error
	return int(n), err
}
