package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

var (
	countryCode = regexp.MustCompile(`^[A-Z]{2}$`)
	certKind    = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
)

// mayRequest refuses a requester whom the rules do not let file a request of kind
// (policy.MayStart, which the staff pages apply too): one holding the post that decides it
// (policy.ReviewedBy), or one holding none of the posts that may ask (policy.RequesterRoles).
// The error names the requester field; why cites the rule.
func mayRequest(kind string, requester models.Person, why string) error {
	if policy.MayStart(kind, requester.RoleNames()) {
		return nil
	}
	if r, ok := policy.ReviewedBy(kind); ok && requester.HasRole(string(r)) {
		return &Error{Status: 422, Code: "policy_violation",
			Message: fmt.Sprintf("the requester holds %s, the post that decides this request (%s); nobody decides their own request: the member of staff in charge files it", r, why),
			Fields:  map[string]string{"requester": "holds " + string(r) + ", who decides it"}}
	}
	var names []string
	for _, r := range policy.RequesterRoles(kind) {
		names = append(names, string(r))
	}
	return &Error{Status: 422, Code: "policy_violation", Message: "the requester holds none of the posts that may file this request (" + why + ")",
		Fields: map[string]string{"requester": "holds neither " + strings.Join(names, " nor ")}}
}

// startCloudAssessment validates a cloud service assessment (§8.3) and starts its process.
func (s *Server) startCloudAssessment(c echo.Context) error {
	var b models.CloudRequest
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	st, err := s.checkCloud(c.Request().Context(), b)
	if err != nil {
		return err
	}
	return s.startProcess(c, st)
}

// checkCloud validates a cloud service assessment (§8.3), for the API and the staff pages
// alike, and says how to start its process. Malformed fields are 400. A requester who is
// not an employee in the directory, or a department security officer (who assesses it:
// policy.MayStart), or a department without a security officer to assess the service, is
// 422. What the rules make of the service (a missing exit plan, data
// abroad, stale certifications) is not refused here: the workflow records the rules'
// outcome and reasons in the register.
func (s *Server) checkCloud(ctx context.Context, b models.CloudRequest) (startSpec, error) {
	f := fieldErrors{}
	f.id("requester", b.Requester)
	f.check(b.Department == "" || validID(b.Department), "department", "is not a department ID")
	f.text("service", b.Service, true, 200)
	f.text("provider", b.Provider, true, 200)
	f.text("purpose", b.Purpose, true, 4000)
	_, err := policy.ParseLevel(b.Classification)
	f.check(err == nil, "classification", "must be 1, 2 or 3 (§3(1)): the highest classification of the data entrusted")
	for name, list := range map[string][]string{"storage_regions": b.StorageRegions, "processing_regions": b.ProcessingRegions} {
		f.check(len(list) >= 1 && len(list) <= 20, name, "name 1-20 countries as ISO 3166-1 alpha-2 codes, e.g. JP")
		for _, r := range list {
			f.check(countryCode.MatchString(r), name, fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 code such as JP", r))
		}
	}
	f.check(countryCode.MatchString(b.GoverningLaw), "governing_law", "must be the country of the contract's governing law, e.g. JP")
	f.check(countryCode.MatchString(b.Jurisdiction), "jurisdiction", "must be the country of the contract's courts, e.g. JP")
	f.text("court", b.Court, false, 200)
	f.check(len(b.Certifications) <= 20, "certifications", "at most 20")
	today := s.now().In(s.Loc).Format(policy.DateLayout)
	for i, x := range b.Certifications {
		key := fmt.Sprintf("certifications[%d]", i)
		f.check(certKind.MatchString(x.Kind), key+".kind", "must be a kind such as ismap, iso27001, iso27017, iso27018, soc2_type2")
		_, err := policy.ParseDate(x.IssuedOn, s.Loc)
		f.check(err == nil, key+".issued_on", "must be a date YYYY-MM-DD (a report's date for SOC 2)")
		f.check(err != nil || x.IssuedOn <= today, key+".issued_on", "must not be in the future")
		if x.ValidUntil != "" {
			_, err := policy.ParseDate(x.ValidUntil, s.Loc)
			f.check(err == nil && x.ValidUntil > x.IssuedOn, key+".valid_until", "must be a date YYYY-MM-DD after issued_on")
		}
		f.text(key+".reference", x.Reference, false, 200)
	}
	f.text("exit_plan", b.ExitPlan, false, 4000)
	f.text("security_design_ref", b.SecurityDesignRef, false, 500)
	if err := f.err(); err != nil {
		return startSpec{}, err
	}
	requester, err := s.Store.Person(ctx, b.Requester)
	if errors.Is(err, models.ErrNotFound) {
		return startSpec{}, &Error{Status: 422, Code: "policy_violation", Message: "the requester is not in the directory", Fields: map[string]string{"requester": "unknown employee_id"}}
	} else if err != nil {
		return startSpec{}, s.storeErr(err)
	}
	if requester.Status != models.StatusEmployed {
		return startSpec{}, &Error{Status: 422, Code: "policy_violation", Message: "the requester is no longer employed", Fields: map[string]string{"requester": "not employed"}}
	}
	if err := mayRequest(models.KindCloudAssessment, requester, "§8.3: the department security officer judges the service"); err != nil {
		return startSpec{}, err
	}
	if b.Department == "" {
		b.Department = requester.DepartmentID
	}
	if _, err := s.Store.RoleHolder(ctx, string(policy.RoleDISO), b.Department); errors.Is(err, models.ErrNotFound) {
		return startSpec{}, &Error{Status: 422, Code: "policy_violation", Message: "the department has no security officer (diso) to judge the use of the service (§8.3)",
			Fields: map[string]string{"department": "no diso in " + b.Department}}
	} else if err != nil {
		return startSpec{}, s.storeErr(err)
	}
	b.Service, b.Provider = strings.TrimSpace(b.Service), strings.TrimSpace(b.Provider)
	summary := fmt.Sprintf("Cloud service assessment: level %d data, stored in %s, processed in %s", b.Classification,
		strings.Join(b.StorageRegions, ", "), strings.Join(b.ProcessingRegions, ", "))
	kinds := make([]string, 0, len(b.Certifications))
	for _, x := range b.Certifications {
		kinds = append(kinds, x.Kind)
	}
	details := fmt.Sprintf("**Cloud service assessment** (クラウドサービスの利用, §8.3)\n\n- department: `%s`\n- requester: `%s`\n- classification: level %d\n- stored in: %s; processed in: %s\n- governing law: %s; courts: %s\n- certifications: %s\n- exit plan (§8.3(3)): %t\n- security design (§8.3(4)): %t\n\nThe service, provider, purpose, exit plan and the rules' reasons are in the register (GET /api/v1/processes/{id}).",
		b.Department, b.Requester, b.Classification, strings.Join(b.StorageRegions, ", "), strings.Join(b.ProcessingRegions, ", "),
		b.GoverningLaw, b.Jurisdiction, orDash(strings.Join(kinds, ", ")), strings.TrimSpace(b.ExitPlan) != "", strings.TrimSpace(b.SecurityDesignRef) != "")
	return startSpec{
		Kind: models.KindCloudAssessment, Department: b.Department, RequesterID: b.Requester,
		Summary: summary, Details: details, Input: b, Workflow: workflows.CloudWorkflow,
		Args: func(h workflows.Header) any {
			return workflows.CloudInput{Header: h, RequesterID: b.Requester}
		},
	}, nil
}

// terminateCloudService ends the use of an approved cloud service: the reason goes to the
// register, the request to the workflow (an Update), which runs the exit plan (§8.3(3)).
func (s *Server) terminateCloudService(c echo.Context) error {
	p, reason, err := s.runningWithReason(c, models.KindCloudAssessment)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	by := callerOf(c).Name
	if err := s.update(ctx, p.WorkflowID, "terminate", workflows.UpdateTerminateCloud, workflows.TerminateRequest{By: by}); err != nil {
		var app *temporal.ApplicationError
		if errors.As(err, &app) {
			switch app.Type() {
			case "NotInUse":
				return apiError("conflict", "the service is not in use: it is being assessed or reassessed, or has ended; cancel an assessment instead")
			case "AlreadyTerminating":
				return apiError("conflict", "the service is already being ended")
			}
		}
		return s.temporalErr(err, "terminate "+p.ID)
	}
	if err := s.Store.SetCloudTermination(ctx, p.ID, reason, by); err != nil {
		return s.storeErr(err)
	}
	return c.JSON(http.StatusAccepted, map[string]string{"id": p.ID, "status": "exiting",
		"message": "the exit plan runs: the department security officer confirms that the data was migrated and deleted"})
}

// listCloudServices answers GET /cloud-services: the register of cloud services with their
// status and next reassessment date (§9.1).
func (s *Server) listCloudServices(c echo.Context) error {
	status := c.QueryParam("status")
	if status != "" && !contains([]string{models.CloudAssessing, models.CloudApproved, models.CloudDenied, models.CloudRejected,
		models.CloudExiting, models.CloudTerminated, models.CloudReassessing}, status) {
		return invalid(fieldErrors{"status": "is not a status of the cloud register"})
	}
	list, err := s.Store.ListCloudServices(c.Request().Context(), status)
	if err != nil {
		return s.storeErr(err)
	}
	items := make([]map[string]any, 0, len(list))
	for _, x := range list {
		items = append(items, map[string]any{
			"process_id": x.ProcessID, "department": x.DepartmentID, "service": x.Service, "provider": x.Provider,
			"classification": x.Classification, "status": x.Status, "outcome": x.Outcome, "fiscal_year": x.FiscalYear,
			"next_reassessment": x.NextReassessment, "approved_at": s.local(x.ApprovedAt), "certifications": x.CertList(),
		})
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// verdictLabels name the rules' verdicts for the officer, who judges (§8.3).
var verdictLabels = map[string][2]string{
	string(policy.CloudAllowed):     {"可", "allowed"},
	string(policy.CloudConditional): {"条件付き", "conditional"},
	string(policy.CloudDenied):      {"不可", "denied"},
}

// cloudRulesText writes the rules' evaluation (the register's "rules") for a task page:
// the verdict, then each finding with what it cites (a clause of §8.3, or the town's rule
// that asks for the CISO's approval), in the reader's language.
func cloudRulesText(v any, lang string) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	outcome, _ := m["outcome"].(string)
	verdict := outcome
	if l, ok := verdictLabels[outcome]; ok {
		verdict = pick(lang, l[0]+"（"+outcome+"）", l[1])
	}
	lines := []string{fmt.Sprintf("%s %s (%s %v, %s)", pick(lang, "規則の判定：", "Rules' verdict:"), verdict,
		pick(lang, "評価日", "as of"), m["as_of"], m["rules_version"])}
	for _, key := range []string{"findings", "ciso_reasons"} {
		list, _ := m[key].([]any)
		for _, x := range list {
			f, _ := x.(map[string]any)
			cite := fmt.Sprintf("§%v", f["clause"])
			if rule, _ := f["rule"].(string); rule != "" {
				cite = pick(lang, "町の規則 ", "town rule ") + policy.RulesFile + ": " + rule
			}
			lines = append(lines, fmt.Sprintf("%s %v: %v", cite, f["result"], f[lang]))
		}
	}
	return strings.Join(lines, "\n"), true
}

// cloudDetails adds to the CISO's page of a case the department security officer sent
// (ciso_referral) the officer's reason, which the register keeps with their decision.
func (s *Server) cloudDetails(t models.Task, p models.Process, lang string) []labelled {
	if p.Kind != models.KindCloudAssessment || t.Step != "ciso_referral" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	vals, err := s.Store.LatestDecisionValues(ctx, p.ID, "denial_review")
	if err != nil || vals["reason"] == "" {
		return nil
	}
	return []labelled{{Label: pick(lang, "情報セキュリティ責任者の理由", "The department security officer's reason"), Value: vals["reason"]}}
}

// cloudCertsText lists certifications one a line.
func cloudCertsText(v any) (string, bool) {
	list, ok := v.([]any)
	if !ok {
		return "", false
	}
	var lines []string
	for _, x := range list {
		c, _ := x.(map[string]any)
		line := fmt.Sprintf("%v %v", c["kind"], c["issued_on"])
		if u, ok := c["valid_until"].(string); ok && u != "" {
			line += " – " + u
		}
		if r, ok := c["reference"].(string); ok && r != "" {
			line += " (" + r + ")"
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n"), true
}
