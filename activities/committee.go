package activities

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// NoticeIncidentCommitteeReport is the report an incident closes with, mailed to each member
// of the security committee (情報セキュリティ委員会): what happened, the timeline of the
// reporting chain, the cause and the measures. It asks nothing: the committee uses it to
// revise the emergency response plan (§7.3(3)) and the policy (§2(6)1, §9.1(2)).
const NoticeIncidentCommitteeReport = "incident_committee_report"

// CommitteeReport asks for the report of a closing incident. The workflow passes only what
// the register does not hold: the severity its triage gave, how it ended and the plan's
// version; the rest (the report, the hops, the root-cause record) is read from the register,
// so that free text never travels through the workflow's history.
type CommitteeReport struct {
	ProcessID   string
	Severity    policy.Severity
	Outcome     string
	PlanVersion string
}

// CommitteeReported says whom the report was mailed to; no members means the committee has
// nobody in the directory, and the process's timeline says so.
type CommitteeReported struct {
	Members []string
}

// ReportToCommittee makes the report an incident closes with (the matters to report that
// the emergency response plan sets, §7.3(2)2), stores it with the incident, mails it to
// every employed member of the security committee (policy.RoleCommittee) in each member's
// language, and notes on the process's timeline whom it went to — or that the committee has
// no members, so that nobody was told. Sending it to the committee is a town setting: the
// policy makes the committee the body that revises the plan (§7.3(3)) and decides the
// important matters of security (§2(6)1). Each step is idempotent: a retry sends no mail twice.
func (a *Activities) ReportToCommittee(ctx context.Context, r CommitteeReport) (CommitteeReported, error) {
	var out CommitteeReported
	proc, err := a.Store.Process(ctx, r.ProcessID)
	if err != nil {
		return out, classify(fmt.Errorf("committee report %s: %w", r.ProcessID, err))
	}
	in, err := a.Store.Incident(ctx, r.ProcessID)
	if err != nil {
		return out, classify(fmt.Errorf("committee report %s: incident: %w", r.ProcessID, err))
	}
	hops, err := a.Store.IncidentHops(ctx, r.ProcessID)
	if err != nil {
		return out, fmt.Errorf("committee report %s: hops: %w", r.ProcessID, err)
	}
	values := map[string]map[string]string{}
	for _, step := range []string{"root_cause", "cause_department", "cause_system", "record"} {
		v, err := a.Store.LatestDecisionValues(ctx, r.ProcessID, step)
		if err != nil {
			return out, fmt.Errorf("committee report %s: %s: %w", r.ProcessID, step, err)
		}
		values[step] = v
	}
	report := CommitteeReportText(r, proc, in, hops, values, a.Loc)
	if in.CommitteeReportedAt == nil { // a retry keeps the first
		if err := a.Store.SetCommitteeReport(ctx, r.ProcessID, report.Ja+"\n\n"+report.En, a.now()); err != nil {
			return out, fmt.Errorf("committee report %s: store: %w", r.ProcessID, err)
		}
	}
	members, err := a.Store.RoleMembers(ctx, string(policy.RoleCommittee))
	if err != nil {
		return out, fmt.Errorf("committee report %s: members: %w", r.ProcessID, err)
	}
	if len(members) == 0 {
		note := "report to the security committee made and kept with the incident; the committee has no members in the directory (role committee): nobody was mailed"
		if err := a.Store.AddTimeline(ctx, r.ProcessID, r.ProcessID+"/committee_report", note, a.now()); err != nil {
			return out, classify(fmt.Errorf("committee report %s: timeline: %w", r.ProcessID, err))
		}
		return out, nil
	}
	for _, m := range members {
		if err := a.SendNotice(ctx, Notice{
			Key: r.ProcessID + "/committee_report/" + m.EmployeeID, ProcessID: r.ProcessID, RecipientID: m.EmployeeID,
			Kind: NoticeIncidentCommitteeReport, Params: map[string]string{"report_ja": report.Ja, "report_en": report.En},
		}); err != nil {
			return out, err
		}
		out.Members = append(out.Members, m.EmployeeID)
	}
	note := fmt.Sprintf("report to the security committee mailed to its %d members (%s) and kept with the incident", len(out.Members), strings.Join(out.Members, ", "))
	if err := a.Store.AddTimeline(ctx, r.ProcessID, r.ProcessID+"/committee_report", note, a.now()); err != nil {
		return out, classify(fmt.Errorf("committee report %s: timeline: %w", r.ProcessID, err))
	}
	return out, nil
}

// CommitteeReportText writes the report of a closing incident in Japanese and English:
// what happened (category, severity, department, system, summary), the timeline of the
// reporting chain with the minutes since discovery (since receipt when the discovery time
// is not known), the cause as the root-cause record and the department's and system's
// parts give it, and the measures with their owners and whether each was done. values are
// the latest form values of the steps root_cause, cause_department, cause_system and
// record, nil where there is none.
func CommitteeReportText(r CommitteeReport, proc models.Process, in models.Incident, hops []models.IncidentHop, values map[string]map[string]string, loc *time.Location) Text {
	var ja, en strings.Builder
	line := func(j, e string) {
		ja.WriteString(j + "\n")
		en.WriteString(e + "\n")
	}
	or := func(s, ja, en string) (string, string) {
		if strings.TrimSpace(s) == "" {
			return ja, en
		}
		return s, s
	}
	cat := policy.Category(in.Category)
	line("1. 事案の概要", "1. What happened")
	line("  分類："+cat.Title("ja"), "  Category: "+cat.Title("en"))
	line("  重大度："+r.Severity.Title("ja"), "  Severity: "+r.Severity.Title("en"))
	dj, de := or(in.DepartmentID, "（なし）", "(none)")
	line("  所管部局："+dj, "  Department: "+de)
	sj, se := or(in.SystemID, "（なし）", "(none)")
	line("  情報システム："+sj, "  System: "+se)
	mj, me := or(proc.Summary, "（なし）", "(none)")
	line("  概要："+mj, "  Summary: "+me)
	base, baseJa, baseEn := in.DiscoveredAt, "発見", "discovery"
	if base.IsZero() {
		base, baseJa, baseEn = in.ReceivedAt, "受付", "receipt"
	}
	if !in.DiscoveredAt.IsZero() {
		line("  発見："+FormatTime(in.DiscoveredAt, loc), "  Discovered: "+FormatTime(in.DiscoveredAt, loc))
	}
	line("  受付："+FormatTime(in.ReceivedAt, loc), "  Received: "+FormatTime(in.ReceivedAt, loc))
	line("  結果："+r.Outcome, "  Outcome: "+r.Outcome)
	if r.PlanVersion != "" {
		line("  緊急時対応計画の版："+r.PlanVersion, "  Emergency response plan version: "+r.PlanVersion)
	}

	line("", "")
	line(fmt.Sprintf("2. 経過（%sからの経過分）", baseJa), fmt.Sprintf("2. Timeline (minutes since %s)", baseEn))
	for _, h := range hops {
		min := int(h.At.Sub(base) / time.Minute)
		who := ""
		if h.ActorID != "" {
			who = " (" + h.ActorID + ")"
		}
		what := fmt.Sprintf("%s  %s%s", FormatTime(h.At, loc), h.Hop, who)
		if h.Note != "" {
			what += ": " + h.Note
		}
		line(fmt.Sprintf("  %+6d分  %s", min, what), fmt.Sprintf("  %+6d min  %s", min, what))
	}

	line("", "")
	line("3. 原因", "3. Cause")
	rc := values["root_cause"]
	cj, ce := or(rc["cause"], "（原因究明の記録なし）", "(no root-cause record)")
	line("  "+cj, "  "+ce)
	if v := values["cause_department"]["cause"]; v != "" {
		line("  所管部局の所見："+v, "  The department's findings: "+v)
	}
	if v := values["cause_system"]["cause"]; v != "" {
		line("  情報システム管理者の所見："+v, "  The system manager's findings: "+v)
	}
	if v := values["record"]["cause"]; v != "" {
		line("  対応記録の原因："+v, "  Cause in the response record: "+v)
	}

	line("", "")
	line("4. 対応措置と再発防止策", "4. Measures")
	if v := values["record"]["actions"]; v != "" {
		line("  対応内容："+v, "  What was done: "+v)
	}
	done := map[string]bool{}
	for _, h := range hops {
		done[h.Hop] = true
	}
	// The workflow numbers the measures it tracks in the order of their owners.
	n, listed := 0, false
	for i := 1; i <= 3; i++ {
		m, owner := rc[fmt.Sprintf("measure_%d", i)], rc[fmt.Sprintf("owner_%d", i)]
		listed = listed || m != "" || owner != ""
		if owner == "" {
			if m != "" {
				line(fmt.Sprintf("  %d. %s（担当なし）", i, m), fmt.Sprintf("  %d. %s (no owner)", i, m))
			}
			continue
		}
		n++
		sj, se := "未完了", "not done"
		if done[fmt.Sprintf("measure_%d_done", n)] {
			sj, se = "完了", "done"
		}
		line(fmt.Sprintf("  %d. %s（担当 %s）：%s", i, m, owner, sj), fmt.Sprintf("  %d. %s (owner %s): %s", i, m, owner, se))
	}
	if !listed {
		line("  （再発防止策なし）", "  (no recurrence-prevention measure)")
	}
	return Text{Ja: ja.String(), En: en.String()}
}
