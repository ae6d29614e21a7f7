package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// OpenTaskWorkflowsOf is OpenTaskWorkflows for many people at once (a roster import): for
// each person with an open task assigned or escalated to them, or held for them by a deputy,
// the workflow IDs of those processes, sorted, without repeats. People without one are left
// out.
func (s *Store) OpenTaskWorkflowsOf(ctx context.Context, personIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	for chunk := range chunks(personIDs, 300) {
		var rows []Task
		err := s.DB.WithContext(ctx).Model(&Task{}).Select("workflow_id", "assignee_id", "escalated_to_id", "on_behalf_of").
			Where("status = ? AND (assignee_id IN ? OR escalated_to_id IN ? OR on_behalf_of IN ?)", TaskOpen, chunk, chunk, chunk).
			Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("open tasks of %d people: %w", len(chunk), err)
		}
		wanted := map[string]bool{}
		for _, id := range chunk {
			wanted[id] = true
		}
		for _, t := range rows {
			for _, who := range []string{t.AssigneeID, t.EscalatedToID, t.OnBehalfOf} {
				if who != "" && wanted[who] {
					out[who] = append(out[who], t.WorkflowID)
				}
			}
		}
	}
	for id, wfs := range out {
		slices.Sort(wfs)
		out[id] = slices.Compact(wfs)
	}
	return out, nil
}

// LeaverPosts is what ends for a leaver when their offboarding is over (issue 12): the
// employment status they now have, the department they now belong to (empty: unchanged),
// and the roles they no longer hold: those in EndRoles, or every one with AllRoles.
type LeaverPosts struct {
	ProcessID  string
	EmployeeID string
	Status     string
	Department string
	// Section, when set, is the section (課室) they now belong to ("": none).
	Section  *string
	EndRoles []string
	// AllRoles ends every role the person holds.
	AllRoles bool
	At       time.Time
}

// EndLeaverPosts applies LeaverPosts to the directory and writes a timeline entry on the
// offboarding, in one transaction, once: a repeat (an activity retry) finds the entry and
// changes nothing. It returns the timeline's note. A person no longer in the directory has
// nothing to end; the note says so.
func (s *Store) EndLeaverPosts(ctx context.Context, l LeaverPosts) (string, error) {
	key := l.ProcessID + "/leaver-posts"
	var note string
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var done ProcessEvent
		if err := tx.First(&done, "`key` = ?", key).Error; err == nil {
			note = done.Note
			return nil
		} else if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		var proc Process
		if err := tx.First(&proc, "id = ?", l.ProcessID).Error; err != nil {
			return fmt.Errorf("process %s: %w", l.ProcessID, notFound(err))
		}
		var p Person
		err := tx.Preload("Roles").First(&p, "employee_id = ?", l.EmployeeID).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			note = "the directory has no " + l.EmployeeID + ": no post to end"
		case err != nil:
			return err
		default:
			var ended []string
			for _, r := range p.RoleNames() {
				if l.AllRoles || slices.Contains(l.EndRoles, r) {
					ended = append(ended, r)
				}
			}
			slices.Sort(ended)
			if len(ended) > 0 {
				if err := tx.Where("employee_id = ? AND role IN ?", l.EmployeeID, ended).Delete(&PersonRole{}).Error; err != nil {
					return err
				}
			}
			updates := map[string]any{"status": l.Status, "updated_at": l.At}
			dept := p.DepartmentID
			if l.Department != "" {
				if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&Department{ID: l.Department}).Error; err != nil {
					return err
				}
				updates["department_id"], dept = l.Department, l.Department
			}
			where := dept
			if l.Section != nil {
				updates["section_id"] = *l.Section
				if *l.Section != "" {
					where = dept + " (section " + *l.Section + ")"
				}
			}
			if err := tx.Model(&Person{}).Where("employee_id = ?", l.EmployeeID).Updates(updates).Error; err != nil {
				return err
			}
			roles := "no role ended"
			if len(ended) > 0 {
				roles = "roles ended: " + strings.Join(ended, ", ")
			}
			note = fmt.Sprintf("the directory: %s is now %s in %s; %s", l.EmployeeID, l.Status, where, roles)
		}
		return tx.Create(&ProcessEvent{ProcessID: l.ProcessID, Key: key, Status: proc.Status, Stage: proc.Stage, Note: note, At: l.At}).Error
	})
	if err != nil {
		return "", fmt.Errorf("end the posts of %s: %w", l.EmployeeID, err)
	}
	return note, nil
}
