package models

import (
	"context"
	"errors"
	"fmt"
)

// Post scopes: a department's security officer (diso) is the post of one department, a
// system's manager (ism) the post of one system; the CISO's and GISO's posts are town-wide.

// HoldsPost reports whether the person is employed and holds the post: the role, and for a
// department's security officer the department (scope), for a system's manager the system
// (scope, whose manager the directory names). An empty role is no post: only employment counts.
func (s *Store) HoldsPost(ctx context.Context, personID, role, scope string) (bool, error) {
	p, err := s.Person(ctx, personID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil || p.Status != StatusEmployed {
		return false, err
	}
	switch role {
	case "":
		return true, nil
	case "ism":
		if scope == "" {
			return p.HasRole(role), nil
		}
		sys, err := s.System(ctx, scope)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		return err == nil && sys.ISMEmployeeID == personID, err
	case "diso":
		return p.HasRole(role) && (scope == "" || p.DepartmentID == scope), nil
	default:
		return p.HasRole(role), nil
	}
}

// PostHolder returns the employed holder of a post: the role's holder (in the department, for a
// diso), or for a system's manager the manager the directory names for the system (scope), if
// employed. ErrNotFound when the post is vacant.
func (s *Store) PostHolder(ctx context.Context, role, scope string) (string, error) {
	if role != "ism" || scope == "" {
		return s.RoleHolder(ctx, role, scope)
	}
	sys, err := s.System(ctx, scope)
	if err != nil {
		return "", err
	}
	if ok, err := s.HoldsPost(ctx, sys.ISMEmployeeID, role, scope); err != nil || !ok {
		return "", errors.Join(err, fmt.Errorf("system %s has no employed manager: %w", scope, ErrNotFound))
	}
	return sys.ISMEmployeeID, nil
}

// OpenTaskWorkflows returns the workflow IDs of the processes with an open task assigned or
// escalated to the person, sorted, without repeats: the processes to tell when the directory
// changes for them (workflows.SignalReassess).
func (s *Store) OpenTaskWorkflows(ctx context.Context, personID string) ([]string, error) {
	var ids []string
	err := s.DB.WithContext(ctx).Model(&Task{}).
		Where("status = ? AND (assignee_id = ? OR escalated_to_id = ? OR on_behalf_of = ?)", TaskOpen, personID, personID, personID).
		Distinct().Order("workflow_id").Pluck("workflow_id", &ids).Error
	return ids, err
}

// UndeliverablePeople lists the people whose address the mail server refused for good,
// most recent first (at most 1,000: a list for HR and IT to work through).
func (s *Store) UndeliverablePeople(ctx context.Context) ([]Person, error) {
	var ps []Person
	err := s.DB.WithContext(ctx).Preload("Roles").Where("undeliverable_at IS NOT NULL").
		Order("undeliverable_at DESC").Order("employee_id").Limit(1000).Find(&ps).Error
	return ps, err
}
