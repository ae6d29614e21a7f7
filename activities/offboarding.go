package activities

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// Notice kinds of the offboarding (§5.1(1)8, §6.2(1)2–3) and the reconciliation
// (§6.2(1)2(ウ)).
const (
	// NoticeOffboardingStarted tells the leaver's department security officer that an
	// offboarding was started and when it takes effect.
	NoticeOffboardingStarted = "offboarding_started"
	// NoticeAssetMissing reports an asset that was not returned to the GISO at once: it is
	// a security incident.
	NoticeAssetMissing = "asset_missing"
	// NoticeOffboardingReport is the closing report to HR and the GISO, with every
	// account's and asset's disposition.
	NoticeOffboardingReport = "offboarding_report"
	// NoticeDesigneeApproved tells the GISO, the security officer of the system's department
	// and the system's manager that the CISO approved a designee to change a privileged
	// password (§6.2(1)3(ウ) 「CISOは、代行者を認めた場合、速やかに統括情報セキュリティ責任者、
	// 情報セキュリティ責任者及び情報システム管理者に通知しなければならない」). No link: it asks
	// nothing.
	NoticeDesigneeApproved = "designee_approved"
	// NoticeReconciliationSummary is the reconciliation's summary to the GISO and HR.
	NoticeReconciliationSummary = "reconciliation_summary"
)

// OffboardingFactsRequest asks for what an offboarding must deal with.
type OffboardingFactsRequest struct {
	EmployeeID       string
	FormerDepartment string
}

// SystemFacts names a system's owning department and manager.
type SystemFacts struct {
	ID         string
	Department string
	// Section is the section (課室) of Department that owns the system, or "".
	Section string
	ISM     string
	// ISMVendor is true when the system's manager is a vendor's person (policy.RoleVendor),
	// whichever department the directory lists them in: they never change its privileged
	// passwords (§6.2(1)3(エ)).
	ISMVendor bool
}

// AssetRef is a lent asset by ID and kind; its description stays in the database.
type AssetRef struct {
	ID   string
	Kind string
}

// OffboardingFacts is the directory's answer for one leaver: IDs and flags only.
type OffboardingFacts struct {
	Accounts []policy.AccountFacts
	Systems  []SystemFacts
	Assets   []AssetRef
	// Candidates are the members of each department that owns one of the systems, who
	// might rotate a credential (policy.ChooseRotator decides).
	Candidates map[string][]policy.Candidate
	// SectionCandidates are the members of each section (課室) that owns one of the systems,
	// by section: a designee for such a system is named among them (policy.CanDesignate,
	// §6.1(1)). Facts read before sections counted for designations have none.
	SectionCandidates map[string][]policy.Candidate
	GISO              string
	DISO              string
	HR                string
}

// candidates are the directory's people as the policy sees them when choosing who changes a
// password.
func candidates(members []models.Person) []policy.Candidate {
	cs := make([]policy.Candidate, 0, len(members))
	for _, m := range members {
		c := policy.Candidate{EmployeeID: m.EmployeeID, DepartmentID: m.DepartmentID, SectionID: m.SectionID, Employed: m.Status == models.StatusEmployed}
		for _, r := range m.RoleNames() {
			c.Roles = append(c.Roles, policy.Role(r))
		}
		cs = append(cs, c)
	}
	return cs
}

// maxCandidates bounds how many members of a section are considered for a rotation.
const maxCandidates = 50

// OffboardingFacts reads the leaver's accounts (held, and shared or privileged ones whose
// password they knew), lent assets, the systems' managers (and whether each is a vendor's)
// and sections, the members of the systems' departments and sections, and who holds the
// GISO, DISO and HR roles.
func (a *Activities) OffboardingFacts(ctx context.Context, req OffboardingFactsRequest) (OffboardingFacts, error) {
	var f OffboardingFacts
	accounts, err := a.Store.LeaverAccounts(ctx, req.EmployeeID)
	if err != nil {
		return f, fmt.Errorf("accounts of %s: %w", req.EmployeeID, err)
	}
	systems := map[string]SystemFacts{}
	for _, acc := range accounts {
		f.Accounts = append(f.Accounts, policy.AccountFacts{
			SystemID: acc.SystemID, AccountID: acc.AccountID, SystemDepartment: acc.SystemDeptID, SystemSection: acc.SystemSectionID,
			Held: !acc.Known, Known: acc.Known, Shared: acc.Shared, Privileged: acc.Privileged, Active: acc.Status == "active",
		})
		systems[acc.SystemID] = SystemFacts{ID: acc.SystemID, Department: acc.SystemDeptID, Section: acc.SystemSectionID, ISM: acc.ISMID}
	}
	f.Candidates = map[string][]policy.Candidate{}
	f.SectionCandidates = map[string][]policy.Candidate{}
	for _, id := range sortedKeys(systems) {
		s := systems[id]
		if s.ISM != "" {
			switch ism, err := a.Store.Person(ctx, s.ISM); {
			case err == nil:
				s.ISMVendor = ism.HasRole(string(policy.RoleVendor))
			case !isNotFound(err):
				return f, fmt.Errorf("manager of %s: %w", s.ID, err)
			}
		}
		f.Systems = append(f.Systems, s)
		if _, done := f.Candidates[s.Department]; !done && s.Department != "" {
			members, err := a.Store.DepartmentPeople(ctx, s.Department, maxCandidates)
			if err != nil {
				return f, fmt.Errorf("members of %s: %w", s.Department, err)
			}
			f.Candidates[s.Department] = candidates(members)
		}
		if _, done := f.SectionCandidates[s.Section]; !done && s.Section != "" {
			members, err := a.Store.SectionPeople(ctx, s.Section, maxCandidates)
			if err != nil {
				return f, fmt.Errorf("members of section %s: %w", s.Section, err)
			}
			f.SectionCandidates[s.Section] = candidates(members)
		}
	}
	assets, err := a.Store.LentAssets(ctx, req.EmployeeID)
	if err != nil {
		return f, fmt.Errorf("assets of %s: %w", req.EmployeeID, err)
	}
	for _, x := range assets {
		f.Assets = append(f.Assets, AssetRef{ID: x.ID, Kind: x.Kind})
	}
	if f.GISO, err = a.Store.RoleHolder(ctx, "giso", ""); err != nil {
		return f, fmt.Errorf("find the GISO: %w", err)
	}
	if f.DISO, err = a.Store.RoleHolder(ctx, "diso", req.FormerDepartment); err != nil && !isNotFound(err) {
		return f, fmt.Errorf("find the security officer of %s: %w", req.FormerDepartment, err)
	}
	if f.HR, err = a.Store.RoleHolder(ctx, "hr", ""); err != nil && !isNotFound(err) {
		return f, fmt.Errorf("find HR: %w", err)
	}
	return f, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// AccountKey is the offboarding item key of an account.
func AccountKey(systemID, accountID string) string { return "account:" + systemID + "/" + accountID }

// AssetKey is the offboarding item key of an asset.
func AssetKey(assetID string) string { return "asset:" + assetID }

// OffboardingSnapshot is what an offboarding accounts for, decided at its start.
type OffboardingSnapshot struct {
	ProcessID string
	Accounts  []policy.AccountAction
	Assets    []AssetRef
}

// RecordOffboardingSnapshot stores the snapshot in the register, once.
func (a *Activities) RecordOffboardingSnapshot(ctx context.Context, s OffboardingSnapshot) error {
	items := make([]models.OffboardingItem, 0, len(s.Accounts)+len(s.Assets))
	for _, acc := range s.Accounts {
		items = append(items, models.OffboardingItem{ProcessID: s.ProcessID, Key: AccountKey(acc.SystemID, acc.AccountID),
			Kind: models.ItemAccount, SystemID: acc.SystemID, AccountID: acc.AccountID, Action: acc.Action})
	}
	for _, x := range s.Assets {
		items = append(items, models.OffboardingItem{ProcessID: s.ProcessID, Key: AssetKey(x.ID), Kind: models.ItemAsset, AssetID: x.ID, Action: "return"})
	}
	if err := a.Store.SaveOffboardingItems(ctx, items); err != nil {
		return fmt.Errorf("snapshot of %s: %w", s.ProcessID, err)
	}
	return nil
}

// OutcomeRecord is what one person confirmed on one task of an offboarding.
type OutcomeRecord struct {
	ProcessID string
	TaskID    string
	By        string
	At        time.Time
	Outcomes  []models.Outcome
}

// RecordOffboardingOutcomes writes the confirmed outcomes: items, account statuses (with who
// and when), asset statuses.
func (a *Activities) RecordOffboardingOutcomes(ctx context.Context, r OutcomeRecord) error {
	if err := a.Store.RecordOutcomes(ctx, r.ProcessID, r.TaskID, r.By, r.At, r.Outcomes); err != nil {
		return classify(fmt.Errorf("outcomes of %s: %w", r.TaskID, err))
	}
	return nil
}

// DateMove is HR's new effective date for an offboarding.
type DateMove struct {
	ProcessID     string
	EffectiveDate string
	Late          bool
}

// MoveOffboardingDate records the new effective date in the register.
func (a *Activities) MoveOffboardingDate(ctx context.Context, m DateMove) error {
	return a.Store.MoveOffboardingDate(ctx, m.ProcessID, m.EffectiveDate, m.Late)
}

// MarkOffboardingLate records that the work started after the effective date.
func (a *Activities) MarkOffboardingLate(ctx context.Context, processID string) error {
	return a.Store.MarkOffboardingLate(ctx, processID)
}

// CloseOffboarding frees the employee for a later offboarding once this one has ended.
func (a *Activities) CloseOffboarding(ctx context.Context, processID string) error {
	return a.Store.CloseOffboarding(ctx, processID)
}

// SendOffboardingNotice sends an offboarding notice with the details that stay out of
// history filled in from the database: the leaver's name, a missing asset's description,
// the per-account and per-asset report.
func (a *Activities) SendOffboardingNotice(ctx context.Context, n Notice) error {
	if sent, err := a.Store.NotificationSent(ctx, n.Key); err != nil || sent {
		return err
	}
	recipient, err := a.Store.Person(ctx, n.RecipientID)
	if err != nil {
		return classify(fmt.Errorf("notice %s: recipient: %w", n.Key, err))
	}
	lang := localeOf(recipient)
	params := map[string]string{}
	for k, v := range n.Params {
		params[k] = v
	}
	for _, k := range []string{"reason", "outcome", "secrecy"} {
		if t, ok := outcomeNames[params[k]]; ok && params[k] != "" {
			params[k] = t.In(lang)
		}
	}
	if id := params["employee_id"]; id != "" {
		params["employee"] = id
		if p, err := a.Store.Person(ctx, id); err == nil {
			params["employee"] = p.Name + " (" + id + ")"
		}
	}
	if id := params["asset_id"]; id != "" {
		var as models.Asset
		if err := a.Store.DB.WithContext(ctx).First(&as, "id = ?", id).Error; err == nil {
			params["asset"] = fmt.Sprintf("%s %s (%s)", kindName(as.Kind, lang), as.Description, as.ID)
		} else {
			params["asset"] = id
		}
	}
	if n.Kind == NoticeOffboardingReport {
		report, err := a.offboardingReport(ctx, n.ProcessID, lang)
		if err != nil {
			return err
		}
		params["report"] = report
	}
	n.Params = params
	return a.SendNotice(ctx, n)
}

var outcomeNames = map[string]Text{
	"":         {Ja: "未確認", En: "not confirmed"},
	"disabled": {Ja: "無効化済み", En: "disabled"},
	"deleted":  {Ja: "削除済み", En: "deleted"},
	"rotated":  {Ja: "パスワード変更済み", En: "password changed"},
	"returned": {Ja: "返却済み", En: "returned"},
	"missing":  {Ja: "未返却（紛失）", En: "missing"},
	"disable":  {Ja: "無効化または削除", En: "disable or delete"},
	"keep":     {Ja: "継続利用", En: "keep"},
	"rotate":   {Ja: "パスワード変更", En: "change the password"},
	"return":   {Ja: "返却", En: "return"},
	"review":   {Ja: "異動後の要否確認", En: "review after the transfer"},
	"kept":     {Ja: "業務上必要として維持（理由は記録）", En: "kept as still needed (reason recorded)"},
	// Reasons, outcomes and the secrecy acknowledgement, as the notices' parameters carry them.
	"retirement":     {Ja: "退職", En: "retirement"},
	"transfer":       {Ja: "異動", En: "transfer"},
	"secondment":     {Ja: "出向", En: "secondment"},
	"completed":      {Ja: "完了", En: "completed"},
	"incomplete":     {Ja: "未完了の項目あり", En: "incomplete"},
	"acknowledged":   {Ja: "確認済み", En: "acknowledged"},
	"unacknowledged": {Ja: "期限までに確認なし", En: "not acknowledged in time"},
}

var assetKindNames = map[string]Text{
	"device":   {Ja: "端末", En: "device"},
	"media":    {Ja: "記録媒体", En: "media"},
	"id_card":  {Ja: "職員証", En: "ID card"},
	"document": {Ja: "文書", En: "document"},
}

func kindName(kind, lang string) string {
	if t, ok := assetKindNames[kind]; ok {
		return t.In(lang)
	}
	return kind
}

// offboardingReport lists each account's and asset's disposition, one line each.
func (a *Activities) offboardingReport(ctx context.Context, processID, lang string) (string, error) {
	items, err := a.Store.OffboardingItems(ctx, processID)
	if err != nil {
		return "", fmt.Errorf("report of %s: %w", processID, err)
	}
	if len(items) == 0 {
		return Text{Ja: "（対象のアカウント・貸与物はありません）", En: "(no accounts or lent assets)"}.In(lang), nil
	}
	var b strings.Builder
	for _, it := range items {
		what := ""
		switch it.Kind {
		case models.ItemAccount:
			what = fmt.Sprintf("%s %s / %s", Text{Ja: "アカウント", En: "account"}.In(lang), it.SystemID, it.AccountID)
		default:
			what = fmt.Sprintf("%s %s", Text{Ja: "貸与物", En: "asset"}.In(lang), it.AssetID)
		}
		fmt.Fprintf(&b, "- %s [%s]: %s", what, outcomeNames[it.Action].In(lang), outcomeNames[it.Outcome].In(lang))
		if it.ByID != "" && it.At != nil {
			fmt.Fprintf(&b, " (%s, %s)", it.ByID, FormatTime(*it.At, a.Loc))
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

func isNotFound(err error) bool { return errors.Is(err, models.ErrNotFound) }

// LeaverPostsRequest asks to end a leaver's posts once their offboarding is over.
type LeaverPostsRequest struct {
	ProcessID     string
	EmployeeID    string
	Reason        policy.LeaveReason
	NewDepartment string
	// NewSection is the section (課室) a transferred person joins ("": none known);
	// WithinDepartment marks a transfer between two sections of one department
	// (policy.SectionTransfer), which ends only the old section's post.
	NewSection       string
	WithinDepartment bool
}

// EndLeaverPosts ends the posts a leaver no longer holds (policy.PostsAfterLeaving): it sets
// their employment status, moves a transferred person to the new department HR gave, removes
// the roles that end, and notes it in the offboarding's timeline, once. It returns the note.
func (a *Activities) EndLeaverPosts(ctx context.Context, req LeaverPostsRequest) (string, error) {
	if req.ProcessID == "" || req.EmployeeID == "" {
		return "", badInput("end leaver posts: process and employee are required")
	}
	status, ended, all := policy.PostsAfterLeaving(req.Reason)
	if req.Reason == policy.Transfer && req.WithinDepartment {
		status, ended = policy.PostsAfterSectionTransfer()
	}
	l := models.LeaverPosts{ProcessID: req.ProcessID, EmployeeID: req.EmployeeID, Status: status, AllRoles: all, At: a.now()}
	for _, r := range ended {
		l.EndRoles = append(l.EndRoles, string(r))
	}
	if req.Reason == policy.Transfer {
		// A transfer leaves the old section: the person is in the new one HR gave, or in
		// none the directory knows.
		l.Department, l.Section = req.NewDepartment, &req.NewSection
	}
	note, err := a.Store.EndLeaverPosts(ctx, l)
	if err != nil {
		return "", classify(fmt.Errorf("offboarding %s: %w", req.ProcessID, err))
	}
	return note, nil
}

// DesigneeApproval is the CISO's approval of a designee to change the password of a
// privileged or shared ID in the system manager's (or the GISO's) place (§6.2(1)3(イ)).
type DesigneeApproval struct {
	ProcessID string
	// TaskID is the CISO's approval task; the notices' keys derive from it.
	TaskID           string
	SystemID         string
	AccountID        string
	SystemDepartment string
	Designee         string
	NamedBy          string
	ApprovedBy       string
}

// SendDesigneeNotices sends the CISO's notice of an approved designee, promptly, to the
// holders of the three posts §6.2(1)3(ウ) names, as they stand now: the GISO, the security
// officer of the department that owns the system, and the system's manager; a person holding
// two of them is told once, a vacant post is skipped. It returns who was told, as "post
// (employee ID)", for the timeline. Each notice is sent once (its key), so a retry sends only
// those not yet sent.
func (a *Activities) SendDesigneeNotices(ctx context.Context, d DesigneeApproval) ([]string, error) {
	if d.ProcessID == "" || d.TaskID == "" || d.Designee == "" {
		return nil, badInput("designee notices: process, task and designee are required")
	}
	designee := d.Designee
	if p, err := a.Store.Person(ctx, d.Designee); err == nil {
		designee = p.Name + " (" + d.Designee + ")"
	}
	posts := []struct {
		post policy.Post
		name string
	}{
		{policy.Post{Role: policy.RoleGISO}, "the GISO"},
		{policy.Post{Role: policy.RoleDISO, Scope: d.SystemDepartment}, "the security officer of " + d.SystemDepartment},
		{policy.Post{Role: policy.RoleISM, Scope: d.SystemID}, "the manager of " + d.SystemID},
	}
	var told []string
	sent := map[string]bool{}
	for _, x := range posts {
		if x.post.Role == policy.RoleDISO && x.post.Scope == "" {
			continue
		}
		who, err := a.postHolder(ctx, x.post)
		if isNotFound(err) {
			told = append(told, x.name+" (vacant)")
			continue
		} else if err != nil {
			return nil, fmt.Errorf("designee notice: %s: %w", x.name, err)
		}
		told = append(told, x.name+" ("+who+")")
		if sent[who] {
			continue
		}
		sent[who] = true
		if err := a.SendNotice(ctx, Notice{
			Key: d.TaskID + "/designee-notice/" + who, ProcessID: d.ProcessID, RecipientID: who, Kind: NoticeDesigneeApproved,
			Params: map[string]string{"designee": designee, "system_id": d.SystemID, "account_id": d.AccountID,
				"named_by": d.NamedBy, "approved_by": d.ApprovedBy},
		}); err != nil {
			return nil, err
		}
	}
	return told, nil
}
