package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

// startInspection answers POST /inspections: the GISO's office (officer scope) starts the
// fiscal year's self-inspection campaign before the Schedule does, or an extra one when
// needed (§9.1(1) 「毎年度及び必要に応じて」). The year's campaign is INS-FY<year>, once: a
// second is a conflict (409). An extra one is INS-FY<year>-2, -3… and needs a reason.
func (s *Server) startInspection(c echo.Context) error {
	var b struct {
		FiscalYear int    `json:"fiscal_year,omitempty"`
		Extra      bool   `json:"extra,omitempty"`
		Reason     string `json:"reason,omitempty"`
	}
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &b); err != nil {
			return err
		}
	}
	current := policy.FiscalYear(s.now().In(s.Loc))
	f := fieldErrors{}
	f.check(b.FiscalYear == 0 || b.FiscalYear == current, "fiscal_year", fmt.Sprintf("must be the current fiscal year, %d (or absent)", current))
	b.Reason = strings.TrimSpace(b.Reason)
	f.check(!b.Extra || b.Reason != "", "reason", "is required for an extra inspection: why it is needed (§9.1(1) 必要に応じて)")
	f.check(b.Extra || b.Reason == "", "reason", "goes only with extra: true")
	f.text("reason", b.Reason, false, 1000)
	if err := f.err(); err != nil {
		return err
	}
	b.FiscalYear = current
	occasion, id := workflows.OccasionYearly, workflows.InspectionID(current, 1)
	if b.Extra {
		n, err := s.Store.ExtraInspections(c.Request().Context(), id)
		if err != nil {
			return s.storeErr(err)
		}
		occasion, id = workflows.OccasionExtra, workflows.InspectionID(current, n+2)
	}
	input := map[string]any{"fiscal_year": current, "occasion": occasion}
	if b.Reason != "" {
		input["reason"] = b.Reason
	}
	return s.startProcess(c, startSpec{
		ID: id, Kind: models.KindInspection,
		Summary: fmt.Sprintf("Self-inspection of fiscal year %d (%s, §9.1)", current, occasion),
		Details: fmt.Sprintf("**Self-inspection** (自己点検, §9.1) of fiscal year %d, %s, started through the API.", current, occasion),
		Input:   input, Workflow: workflows.InspectionWorkflow,
		Args: func(h workflows.Header) any {
			return workflows.InspectionInput{Header: h, FiscalYear: current, Occasion: occasion}
		},
	})
}

type inspectionTarget struct {
	Kind          string             `json:"kind"`
	TargetID      string             `json:"target_id"`
	Department    string             `json:"department"`
	InspectorRole string             `json:"inspector_role"`
	InspectorID   string             `json:"inspector_id"`
	Status        string             `json:"status"`
	TaskID        string             `json:"task_id,omitempty"`
	InspectedBy   string             `json:"inspected_by,omitempty"`
	InspectedAt   *time.Time         `json:"inspected_at,omitempty"`
	Answers       []inspectionAnswer `json:"answers"`
}

type inspectionAnswer struct {
	ItemID  string             `json:"item_id"`
	Clause  string             `json:"clause"`
	Answer  string             `json:"answer"`
	Comment string             `json:"comment,omitempty"`
	Measure *inspectionMeasure `json:"measure,omitempty"`
}

type inspectionMeasure struct {
	What   string     `json:"what"`
	Owner  string     `json:"owner"`
	Due    string     `json:"due"`
	Status string     `json:"status"`
	TaskID string     `json:"task_id,omitempty"`
	DoneAt *time.Time `json:"done_at,omitempty"`
	Result string     `json:"result,omitempty"`
}

// getInspection answers GET /inspections/{id}: a campaign with its population as frozen at
// the start (who inspects what), each target's answers and each improvement measure.
func (s *Server) getInspection(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	p, err := s.Store.Process(ctx, id)
	if errors.Is(err, models.ErrNotFound) || err == nil && p.Kind != models.KindInspection {
		return apiError("not_found", "no self-inspection "+id)
	} else if err != nil {
		return s.storeErr(err)
	}
	out := map[string]any{"id": p.ID, "status": p.Status, "stage": p.Stage, "workflow_id": p.WorkflowID}
	camp, err := s.Store.Inspection(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		// The workflow freezes the population in its first step.
		out["population_frozen"] = false
		out["targets"] = []inspectionTarget{}
		return c.JSON(http.StatusOK, out)
	} else if err != nil {
		return s.storeErr(err)
	}
	ts, err := s.Store.InspectionTargets(ctx, id)
	if err != nil {
		return s.storeErr(err)
	}
	as, err := s.Store.InspectionAnswers(ctx, id)
	if err != nil {
		return s.storeErr(err)
	}
	byTarget := map[string][]inspectionAnswer{}
	for _, a := range as {
		x := inspectionAnswer{ItemID: a.ItemID, Clause: a.Clause, Answer: a.Answer, Comment: a.Comment}
		if a.MeasureStatus != "" {
			x.Measure = &inspectionMeasure{What: a.MeasureWhat, Owner: a.MeasureOwner, Due: a.MeasureDue, Status: a.MeasureStatus,
				TaskID: a.MeasureTaskID, Result: a.MeasureResult}
			if a.MeasureDoneAt != nil {
				t := a.MeasureDoneAt.In(s.Loc)
				x.Measure.DoneAt = &t
			}
		}
		k := a.TargetKind + "/" + a.TargetID
		byTarget[k] = append(byTarget[k], x)
	}
	targets := make([]inspectionTarget, 0, len(ts))
	for _, t := range ts {
		x := inspectionTarget{Kind: t.Kind, TargetID: t.TargetID, Department: t.DepartmentID, InspectorRole: t.InspectorRole,
			InspectorID: t.InspectorID, Status: t.Status, TaskID: t.TaskID, InspectedBy: t.InspectedBy, Answers: byTarget[t.Kind+"/"+t.TargetID]}
		if x.Answers == nil {
			x.Answers = []inspectionAnswer{}
		}
		if t.InspectedAt != nil {
			at := t.InspectedAt.In(s.Loc)
			x.InspectedAt = &at
		}
		targets = append(targets, x)
	}
	out["population_frozen"] = true
	out["fiscal_year"] = camp.FiscalYear
	out["occasion"] = camp.Occasion
	out["checklist_version"] = camp.ChecklistVersion
	out["started_at"] = camp.StartedAt.In(s.Loc)
	if camp.CompiledAt != nil {
		out["compiled_at"] = camp.CompiledAt.In(s.Loc)
		out["reported_to"] = camp.ReportedTo
	}
	out["targets"] = targets
	return c.JSON(http.StatusOK, out)
}

// inspectionDetails shows an improvement measure's owner what the inspector asked of them
// (§9.1(2)): the measures on the task's target that they own and that are still open, with
// the item's clause and the due date. The measure is free text, so it is read from the
// register, never from the workflow's history.
func (s *Server) inspectionDetails(t models.Task, p models.Process, lang string) []labelled {
	parts := strings.Split(t.ID, "/")
	if p.Kind != models.KindInspection || t.Step != "improvement_measure" || len(parts) != 5 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	as, err := s.Store.InspectionAnswers(ctx, p.ID)
	if err != nil {
		return nil
	}
	owner := t.AssigneeID
	if t.OnBehalfOf != "" {
		owner = t.OnBehalfOf
	}
	var out []labelled
	for _, a := range as {
		if a.TargetKind != parts[1] || a.TargetID != parts[2] || a.MeasureOwner != owner || a.MeasureStatus != models.MeasureOpen {
			continue
		}
		out = append(out, labelled{
			Label: fmt.Sprintf(pick(lang, "改善策（%s %s、期限 %s）", "Improvement measure (%s %s, due %s)"), a.ItemID, a.Clause, a.MeasureDue),
			Value: a.MeasureWhat,
		})
	}
	return out
}
