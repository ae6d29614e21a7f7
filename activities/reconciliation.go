package activities

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// ReconciliationStart names a reconciliation's process and workflow.
type ReconciliationStart struct {
	ProcessID  string
	WorkflowID string
}

// OpenReconciliation creates the reconciliation's register row unless the API did: a run
// started by the Temporal Schedule has none.
func (a *Activities) OpenReconciliation(ctx context.Context, s ReconciliationStart) error {
	err := a.Store.EnsureProcess(ctx, models.Process{ID: s.ProcessID, Kind: models.KindReconciliation, Status: "starting", Stage: "submitted",
		WorkflowID: s.WorkflowID, Summary: "Reconciliation of every active account against the HR roster (§6.2(1)2(ウ))"})
	if err != nil {
		return fmt.Errorf("register reconciliation %s: %w", s.ProcessID, err)
	}
	return nil
}

// FindingsRequest asks for the findings of a reconciliation, as of At.
type FindingsRequest struct {
	ProcessID   string
	UnusedAfter time.Duration
	At          time.Time
}

// FindingRef is one finding by IDs.
type FindingRef struct {
	SystemID  string
	AccountID string
	Kind      string
}

// ManagerFindings are the findings on the systems one manager runs.
type ManagerFindings struct {
	ISM      string
	Findings []FindingRef
}

// Findings is the reconciliation's result: per system manager, and who gets the summary.
type Findings struct {
	Managers []ManagerFindings
	Checked  int
	GISO     string
	HR       string
}

// FindReconciliationFindings compares every active account with the roster (policy.Reconcile),
// stores the findings and groups them by system manager.
func (a *Activities) FindReconciliationFindings(ctx context.Context, req FindingsRequest) (Findings, error) {
	var f Findings
	byISM := map[string][]FindingRef{}
	var rows []models.ReconciliationFinding
	loc := a.Loc
	if loc == nil {
		loc = time.UTC
	}
	asOf := req.At.In(loc).Format("2006-01-02")
	err := a.Store.ActiveAccounts(ctx, asOf, func(page []models.ReconciledAccount) error {
		for _, acc := range page {
			f.Checked++
			facts := policy.ReconciledAccount{Shared: acc.Shared, HolderKnown: acc.HolderKnown, HolderEmployed: acc.HolderEmployed,
				SystemDepartment: acc.SystemDepartment, HolderDepartment: acc.HolderDepartment, HolderLeft: acc.HolderLeft,
				SystemSection: acc.SystemSection, HolderSection: acc.HolderSection, HolderLeftSections: acc.HolderLeftSections}
			if acc.LastUsed != nil {
				facts.LastUsed = *acc.LastUsed
			}
			kind := policy.Reconcile(facts, req.At, req.UnusedAfter)
			if kind == "" {
				continue
			}
			holder := ""
			if acc.HolderEmployeeID != nil {
				holder = *acc.HolderEmployeeID
			}
			byISM[acc.ISMID] = append(byISM[acc.ISMID], FindingRef{SystemID: acc.SystemID, AccountID: acc.AccountID, Kind: kind})
			rows = append(rows, models.ReconciliationFinding{ProcessID: req.ProcessID, SystemID: acc.SystemID, AccountID: acc.AccountID,
				Kind: kind, ISMID: acc.ISMID, Holder: holder})
		}
		return nil
	})
	if err != nil {
		return f, fmt.Errorf("reconcile accounts: %w", err)
	}
	if err := a.Store.SaveFindings(ctx, rows); err != nil {
		return f, fmt.Errorf("store findings: %w", err)
	}
	for _, ism := range sortedKeys(byISM) {
		f.Managers = append(f.Managers, ManagerFindings{ISM: ism, Findings: byISM[ism]})
	}
	if f.GISO, err = a.Store.RoleHolder(ctx, "giso", ""); err != nil {
		return f, fmt.Errorf("find the GISO: %w", err)
	}
	if f.HR, err = a.Store.RoleHolder(ctx, "hr", ""); err != nil && !isNotFound(err) {
		return f, fmt.Errorf("find HR: %w", err)
	}
	return f, nil
}

// FindingDecisions are one manager's decisions on their findings.
type FindingDecisions struct {
	ProcessID string
	TaskID    string
	By        string
	At        time.Time
	Decisions []models.FindingDecision
}

// ApplyFindingDecisions records the decisions and disables the accounts to disable.
func (a *Activities) ApplyFindingDecisions(ctx context.Context, d FindingDecisions) error {
	if err := a.Store.DecideFindings(ctx, d.ProcessID, d.TaskID, d.By, d.At, d.Decisions); err != nil {
		return classify(fmt.Errorf("decisions of %s: %w", d.TaskID, err))
	}
	return nil
}

var findingNames = map[string]Text{
	policy.FindingNotEmployed:      {Ja: "退職・出向済みの職員のID", En: "holder no longer employed"},
	policy.FindingUnknownHolder:    {Ja: "名簿にない利用者のID", En: "holder not in the roster"},
	policy.FindingUnused:           {Ja: "長期間未使用のID", En: "not used past the threshold"},
	policy.FindingFormerDepartment: {Ja: "異動前の所属のシステムに残るID", En: "holder transferred out of the system's department"},
	policy.FindingFormerSection:    {Ja: "異動前の課室のシステムに残るID", En: "holder transferred out of the system's section"},
}

// SendReconciliationNotice sends the reconciliation's summary with the findings and their
// decisions filled in from the register.
func (a *Activities) SendReconciliationNotice(ctx context.Context, n Notice) error {
	if sent, err := a.Store.NotificationSent(ctx, n.Key); err != nil || sent {
		return err
	}
	recipient, err := a.Store.Person(ctx, n.RecipientID)
	if err != nil {
		return classify(fmt.Errorf("notice %s: recipient: %w", n.Key, err))
	}
	lang := localeOf(recipient)
	fs, err := a.Store.Findings(ctx, n.ProcessID)
	if err != nil {
		return fmt.Errorf("findings of %s: %w", n.ProcessID, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", Text{Ja: "照合したアカウント数", En: "accounts checked"}.In(lang), n.Params["checked"])
	fmt.Fprintf(&b, "%s: %d\n\n", Text{Ja: "指摘件数", En: "findings"}.In(lang), len(fs))
	for _, f := range fs {
		fmt.Fprintf(&b, "- %s / %s (%s): %s", f.SystemID, f.AccountID, findingNames[f.Kind].In(lang), outcomeNames[f.Decision].In(lang))
		if f.ByID != "" {
			fmt.Fprintf(&b, " (%s)", f.ByID)
		}
		b.WriteString("\n")
	}
	n.Params = map[string]string{"report": b.String()}
	return a.SendNotice(ctx, n)
}
