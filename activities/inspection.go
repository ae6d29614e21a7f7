package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// NoticeInspectionReport is the self-inspection's compiled results and improvement measures,
// mailed to each member of the security committee (§9.1(2)).
const NoticeInspectionReport = "inspection_report"

// InspectionStart opens a self-inspection campaign (§9.1): its register row (a campaign the
// Temporal Schedule starts has none) and its population, frozen now.
type InspectionStart struct {
	ProcessID  string
	WorkflowID string
	FiscalYear int
	Occasion   string
}

// InspectionTargetRef is one target as a campaign's workflow sees it: IDs only.
type InspectionTargetRef struct {
	Kind       string
	TargetID   string
	Department string
	// Inspector held the inspecting post when the campaign started; InspectorRole is that
	// post's role: ism, diso, or giso for a target whose own post nobody held. DISO is the
	// department's security officer then (a late system manager's escalation goes to them).
	Inspector     string
	InspectorRole string
	DISO          string
	// Members are the department's employed people: who may own an improvement measure.
	Members []string
}

// InspectionSetup is what a campaign works from: its checklist and its targets. Skipped is
// set when the process ID is another workflow's: the fiscal year's campaign was started
// already (by the GISO through the API, before the Schedule's run).
type InspectionSetup struct {
	Skipped   bool
	Checklist policy.Checklist
	Targets   []InspectionTargetRef
}

// OpenInspection registers a campaign unless it is registered, and freezes its population:
// every system with its manager and every department with its security officer, as the
// directory has them now (§9.1(1)). Run again, it returns what was frozen the first time.
func (a *Activities) OpenInspection(ctx context.Context, s InspectionStart) (InspectionSetup, error) {
	var out InspectionSetup
	input, _ := json.Marshal(map[string]any{"fiscal_year": s.FiscalYear, "occasion": s.Occasion})
	err := a.Store.EnsureProcess(ctx, models.Process{ID: s.ProcessID, Kind: models.KindInspection, Status: "starting", Stage: "submitted",
		WorkflowID: s.WorkflowID, Input: string(input),
		Summary: fmt.Sprintf("Self-inspection of fiscal year %d (§9.1)", s.FiscalYear)})
	if err != nil {
		return out, fmt.Errorf("register inspection %s: %w", s.ProcessID, err)
	}
	proc, err := a.Store.Process(ctx, s.ProcessID)
	if err != nil {
		return out, fmt.Errorf("register inspection %s: %w", s.ProcessID, err)
	}
	if proc.WorkflowID != s.WorkflowID {
		out.Skipped = true
		return out, nil
	}
	c, err := a.Store.Inspection(ctx, s.ProcessID)
	switch {
	case errors.Is(err, models.ErrNotFound):
		out.Checklist = policy.DefaultChecklist()
		if a.Checklist != nil {
			out.Checklist = *a.Checklist
		}
		b, err := json.Marshal(out.Checklist)
		if err != nil {
			return out, err
		}
		population, err := a.Store.InspectionPopulation(ctx)
		if err != nil {
			return out, fmt.Errorf("inspection %s: read the directory: %w", s.ProcessID, err)
		}
		for i := range population {
			population[i].ProcessID = s.ProcessID
		}
		if _, err := a.Store.CreateInspection(ctx, models.InspectionCampaign{ProcessID: s.ProcessID, FiscalYear: s.FiscalYear,
			Occasion: s.Occasion, ChecklistVersion: out.Checklist.Version, Checklist: string(b), StartedAt: a.now().UTC()}, population); err != nil {
			return out, fmt.Errorf("inspection %s: store the campaign: %w", s.ProcessID, err)
		}
	case err != nil:
		return out, err
	default:
		if err := json.Unmarshal([]byte(c.Checklist), &out.Checklist); err != nil {
			return out, badInput("inspection %s: the stored checklist is not readable: %v", s.ProcessID, err)
		}
	}
	targets, err := a.Store.InspectionTargets(ctx, s.ProcessID)
	if err != nil {
		return out, err
	}
	members := map[string][]string{}
	diso := map[string]string{}
	for _, t := range targets {
		if t.Kind == policy.TargetDepartment && t.InspectorRole == string(policy.RoleDISO) {
			diso[t.DepartmentID] = t.InspectorID
		}
	}
	for _, t := range targets {
		if _, ok := members[t.DepartmentID]; !ok {
			if members[t.DepartmentID], err = a.Store.DepartmentMembers(ctx, t.DepartmentID); err != nil {
				return out, err
			}
		}
		ref := InspectionTargetRef{Kind: t.Kind, TargetID: t.TargetID, Department: t.DepartmentID, Inspector: t.InspectorID, InspectorRole: t.InspectorRole,
			DISO: diso[t.DepartmentID], Members: members[t.DepartmentID]}
		if ref.Inspector != "" && !slices.Contains(ref.Members, ref.Inspector) {
			ref.Members = append(slices.Clone(ref.Members), ref.Inspector)
			slices.Sort(ref.Members)
		}
		out.Targets = append(out.Targets, ref)
	}
	return out, nil
}

// ItemRef is a checklist item by ID and clause.
type ItemRef struct {
	ID     string
	Clause string
}

// InspectionRecord asks to record one target's inspection from the decision on its task.
type InspectionRecord struct {
	ProcessID, Kind, TargetID string
	TaskID, DeciderID         string
	DecidedAt                 time.Time
	Items                     []ItemRef
}

// RecordInspection stores a target's answers as decided on its task: the answers and the
// improvement measures (free text included) come from the register's record of the decision.
func (a *Activities) RecordInspection(ctx context.Context, r InspectionRecord) error {
	_, v, err := a.Store.DecisionValues(ctx, r.TaskID)
	if err != nil {
		return classify(fmt.Errorf("inspection %s: decision on %s: %w", r.ProcessID, r.TaskID, err))
	}
	answers := make([]models.InspectionAnswer, 0, len(r.Items))
	for _, it := range r.Items {
		ans := models.InspectionAnswer{ProcessID: r.ProcessID, TargetKind: r.Kind, TargetID: r.TargetID, ItemID: it.ID,
			Clause: it.Clause, Answer: v["answer:"+it.ID], Comment: v["comment:"+it.ID]}
		if policy.NeedsMeasure(ans.Answer) {
			ans.MeasureWhat, ans.MeasureOwner, ans.MeasureDue = v["measure:"+it.ID], v["owner:"+it.ID], v["due:"+it.ID]
			ans.MeasureStatus = models.MeasureOpen
		}
		answers = append(answers, ans)
	}
	at := r.DecidedAt.UTC()
	return a.Store.SaveInspectionAnswers(ctx, models.InspectionTarget{ProcessID: r.ProcessID, Kind: r.Kind, TargetID: r.TargetID,
		TaskID: r.TaskID, InspectedBy: r.DeciderID, InspectedAt: &at}, answers)
}

// InspectionTargetStatus sets a target's status: overdue when nobody inspected it in time.
type InspectionTargetStatus struct {
	ProcessID, Kind, TargetID, Status, TaskID string
}

// SetInspectionTargetStatus records a target's status.
func (a *Activities) SetInspectionTargetStatus(ctx context.Context, s InspectionTargetStatus) error {
	return a.Store.SetInspectionTargetStatus(ctx, s.ProcessID, s.Kind, s.TargetID, s.Status, s.TaskID)
}

// MeasureUpdate records how an improvement measure stands: done (its result is read from the
// decision on its task) or overdue.
type MeasureUpdate struct {
	ProcessID, Kind, TargetID, ItemID string
	Status, TaskID                    string
	At                                time.Time
}

// RecordMeasure stores a measure's status.
func (a *Activities) RecordMeasure(ctx context.Context, m MeasureUpdate) error {
	ans := models.InspectionAnswer{ProcessID: m.ProcessID, TargetKind: m.Kind, TargetID: m.TargetID, ItemID: m.ItemID,
		MeasureStatus: m.Status, MeasureTaskID: m.TaskID}
	if m.Status == models.MeasureDone {
		at := m.At.UTC()
		ans.MeasureDoneAt = &at
		if _, v, err := a.Store.DecisionValues(ctx, m.TaskID); err == nil {
			ans.MeasureResult = v["result"]
		} else if !errors.Is(err, models.ErrNotFound) {
			return err
		}
	}
	return a.Store.SetMeasureStatus(ctx, ans)
}

// Rounds of a campaign's report to the committee: the results and the measures planned, once
// every target is inspected; how the measures ended, once every measure has.
const (
	ReportResults  = "results"
	ReportMeasures = "measures"
)

// InspectionReport asks to compile a campaign's results and mail them to the committee.
type InspectionReport struct {
	ProcessID string
	Round     string
}

// ReportInspection compiles a campaign's results and improvement measures and mails them to
// every member of the security committee (§9.1(2)), each once and in their language. It
// returns how many members it mailed; with none in the directory nothing is mailed, and the
// campaign's timeline says so.
func (a *Activities) ReportInspection(ctx context.Context, r InspectionReport) (int, error) {
	c, err := a.Store.Inspection(ctx, r.ProcessID)
	if err != nil {
		return 0, classify(fmt.Errorf("inspection %s: %w", r.ProcessID, err))
	}
	members, err := a.Store.RoleMembers(ctx, string(policy.RoleCommittee))
	if err != nil {
		return 0, fmt.Errorf("inspection %s: members of the security committee: %w", r.ProcessID, err)
	}
	if _, ok := roundNames[r.Round]; !ok {
		return 0, badInput("inspection %s: unknown round %q", r.ProcessID, r.Round)
	}
	if len(members) == 0 {
		if err := a.Store.AddTimeline(ctx, r.ProcessID, r.ProcessID+"/report/"+r.Round+"/nobody",
			"the results were compiled, but the directory names no member of the security committee (role committee): nothing was mailed (§9.1(2))", a.now()); err != nil {
			return 0, err
		}
		return 0, a.Store.MarkInspectionCompiled(ctx, r.ProcessID, a.now().UTC(), 0)
	}
	targets, err := a.Store.InspectionTargets(ctx, r.ProcessID)
	if err != nil {
		return 0, err
	}
	answers, err := a.Store.InspectionAnswers(ctx, r.ProcessID)
	if err != nil {
		return 0, err
	}
	for _, m := range members {
		lang := localeOf(m)
		err := a.SendNotice(ctx, Notice{Key: r.ProcessID + "/report/" + r.Round + "/" + m.EmployeeID, ProcessID: r.ProcessID, RecipientID: m.EmployeeID,
			Kind: NoticeInspectionReport, Params: map[string]string{"fiscal_year": strconv.Itoa(c.FiscalYear),
				"round": roundNames[r.Round].In(lang), "report": InspectionReportText(lang, targets, answers)}})
		if err != nil {
			return 0, err
		}
	}
	return len(members), a.Store.MarkInspectionCompiled(ctx, r.ProcessID, a.now().UTC(), len(members))
}

var roundNames = map[string]Text{
	ReportResults:  {Ja: "点検結果と改善策", En: "results and improvement measures"},
	ReportMeasures: {Ja: "改善策の実施状況（最終）", En: "how the improvement measures ended (final)"},
}

var answerNames = map[string]Text{
	policy.AnswerCompliant:     {Ja: "適合", En: "compliant"},
	policy.AnswerPartly:        {Ja: "一部適合", En: "partly"},
	policy.AnswerNot:           {Ja: "不適合", En: "not compliant"},
	policy.AnswerNotApplicable: {Ja: "該当なし", En: "not applicable"},
}

var statusNames = map[string]Text{
	models.InspectionOpen:      {Ja: "未実施", En: "not done"},
	models.InspectionInspected: {Ja: "実施済み", En: "inspected"},
	models.InspectionOverdue:   {Ja: "期限内に未実施", En: "not done in time"},
	models.MeasureDone:         {Ja: "完了", En: "done"},
}

// InspectionReportText is the compiled results in one language: each target with its
// inspector, status and answers counted, then every improvement measure with its owner, due
// date and status.
func InspectionReportText(lang string, targets []models.InspectionTarget, answers []models.InspectionAnswer) string {
	var b strings.Builder
	count := map[string]map[string]int{}
	for _, x := range answers {
		k := x.TargetKind + "/" + x.TargetID
		if count[k] == nil {
			count[k] = map[string]int{}
		}
		count[k][x.Answer]++
	}
	kinds := map[string]Text{policy.TargetSystem: {Ja: "システム", En: "system"}, policy.TargetDepartment: {Ja: "部局", En: "department"}}
	fmt.Fprintf(&b, "%s\n", Text{Ja: "■ 点検対象と結果", En: "Targets and results"}.In(lang))
	for _, t := range targets {
		fmt.Fprintf(&b, "- %s %s (%s %s, %s): %s", kinds[t.Kind].In(lang), t.TargetID, Text{Ja: "所管", En: "department"}.In(lang),
			t.DepartmentID, orDash(t.InspectedBy, t.InspectorID), statusNames[t.Status].In(lang))
		if c := count[t.Kind+"/"+t.TargetID]; len(c) > 0 {
			var parts []string
			for _, a := range policy.Answers {
				if c[a] > 0 {
					parts = append(parts, fmt.Sprintf("%s %d", answerNames[a].In(lang), c[a]))
				}
			}
			fmt.Fprintf(&b, " — %s", strings.Join(parts, ", "))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n%s\n", Text{Ja: "■ 改善策", En: "Improvement measures"}.In(lang))
	n := 0
	for _, x := range answers {
		if x.MeasureWhat == "" && x.MeasureOwner == "" {
			continue
		}
		n++
		status := statusNames[x.MeasureStatus].In(lang)
		if x.MeasureStatus == models.MeasureOpen {
			status = Text{Ja: "実施中", En: "open"}.In(lang)
		} else if x.MeasureStatus == models.MeasureOverdue {
			status = Text{Ja: "期限超過", En: "overdue"}.In(lang)
		}
		fmt.Fprintf(&b, "- %s / %s %s (%s): %s\n  %s: %s, %s: %s, %s: %s\n", x.TargetID, x.ItemID, x.Clause, answerNames[x.Answer].In(lang),
			x.MeasureWhat, Text{Ja: "担当", En: "owner"}.In(lang), x.MeasureOwner, Text{Ja: "期限", En: "due"}.In(lang), x.MeasureDue,
			Text{Ja: "状況", En: "status"}.In(lang), status)
	}
	if n == 0 {
		fmt.Fprintf(&b, "%s\n", Text{Ja: "なし", En: "none"}.In(lang))
	}
	return b.String()
}

func orDash(a, b string) string {
	switch {
	case a != "":
		return a
	case b != "":
		return b
	}
	return "-"
}
