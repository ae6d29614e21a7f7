package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// Notice kinds of the cloud service assessment (§8.3).
const (
	// NoticeCloudDecided tells the requester how the assessment ended.
	NoticeCloudDecided = "cloud_decided"
	// NoticeCloudReassessment tells the department officer that the yearly reassessment of a
	// service in use starts (§9.1).
	NoticeCloudReassessment = "cloud_reassessment"
)

// CloudEvaluationRequest asks for the rules' evaluation of one assessment on one day.
type CloudEvaluationRequest struct {
	ProcessID string
	// Seq orders the process's evaluations and makes recording one idempotent.
	Seq        int
	FiscalYear int
	// AsOf is the day (YYYY-MM-DD, town's zone) the certifications are judged on.
	AsOf string
}

// OpenCloudService creates the cloud register's row of an assessment from its request.
func (a *Activities) OpenCloudService(ctx context.Context, processID string) error {
	if _, err := a.Store.OpenCloudService(ctx, processID); err != nil {
		return classify(fmt.Errorf("open cloud service %s: %w", processID, err))
	}
	return nil
}

// EvaluateCloudService applies the town's cloud rules (§8.3) to the service as the register
// holds it today, records the evaluation, and returns it: the workflow's history then holds
// exactly which rules said what, so the workflow stays deterministic however the rules file
// changes later.
func (a *Activities) EvaluateCloudService(ctx context.Context, req CloudEvaluationRequest) (policy.CloudEvaluation, error) {
	c, err := a.Store.CloudServiceByID(ctx, req.ProcessID)
	if err != nil {
		return policy.CloudEvaluation{}, classify(fmt.Errorf("evaluate cloud service %s: %w", req.ProcessID, err))
	}
	loc := a.Loc
	if loc == nil {
		loc = time.UTC
	}
	day, err := policy.ParseDate(req.AsOf, loc)
	if err != nil {
		return policy.CloudEvaluation{}, badInput("evaluate cloud service %s: day %q", req.ProcessID, req.AsOf)
	}
	rules := policy.DefaultCloudRules()
	if a.CloudRules != nil {
		rules = *a.CloudRules
	}
	e := policy.EvaluateCloud(rules, CloudFacts(c), day)
	b, err := json.Marshal(e)
	if err != nil {
		return e, err
	}
	err = a.Store.RecordCloudEvaluation(ctx, models.CloudEvaluation{
		ProcessID: req.ProcessID, Key: fmt.Sprintf("%s/%d", req.ProcessID, req.Seq), FiscalYear: req.FiscalYear,
		Outcome: string(e.Outcome), Evaluation: string(b), At: a.now(),
	})
	if err != nil {
		return e, classify(fmt.Errorf("record cloud evaluation of %s: %w", req.ProcessID, err))
	}
	return e, nil
}

// CloudFacts is what the rules look at in a register row.
func CloudFacts(c models.CloudService) policy.CloudService {
	s := policy.CloudService{
		Classification: c.Classification, GoverningLaw: c.GoverningLaw, Jurisdiction: c.Jurisdiction,
		StorageRegions: split(c.StorageRegions), ProcessingRegions: split(c.ProcessingRegions),
		HasExitPlan: strings.TrimSpace(c.ExitPlan) != "", SecurityDesignRef: c.SecurityDesignRef,
	}
	for _, x := range c.CertList() {
		s.Certifications = append(s.Certifications, policy.Certification{Kind: x.Kind, Reference: x.Reference, IssuedOn: x.IssuedOn, ValidUntil: x.ValidUntil})
	}
	return s
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// CloudStatus moves a service in the cloud register.
type CloudStatus struct {
	ProcessID string
	Status    string
	// NextReassessment is the day the next yearly reassessment starts (YYYY-MM-DD), if any.
	NextReassessment string
	// Approved marks the first approval's time.
	Approved bool
}

// SetCloudStatus records a service's status and its next reassessment date.
func (a *Activities) SetCloudStatus(ctx context.Context, s CloudStatus) error {
	var at *time.Time
	if s.Approved {
		now := a.now()
		at = &now
	}
	if err := a.Store.SetCloudStatus(ctx, s.ProcessID, s.Status, s.NextReassessment, at); err != nil {
		return classify(fmt.Errorf("set cloud service %s to %s: %w", s.ProcessID, s.Status, err))
	}
	return nil
}

// CertificateRenewal is a renewed certification, as given on the task that asked for it.
type CertificateRenewal struct {
	ProcessID  string
	Kind       string
	IssuedOn   string
	ValidUntil string
}

// RenewCloudCertificate puts a renewed certification in the register, replacing the old.
func (a *Activities) RenewCloudCertificate(ctx context.Context, r CertificateRenewal) error {
	if r.Kind == "" || r.IssuedOn == "" {
		return badInput("renew certificate of %s: kind and issued_on are required", r.ProcessID)
	}
	err := a.Store.RenewCloudCertificate(ctx, r.ProcessID, models.CloudCert{Kind: r.Kind, IssuedOn: r.IssuedOn, ValidUntil: r.ValidUntil, Reference: "renewed"})
	if err != nil {
		return classify(fmt.Errorf("renew certificate %s of %s: %w", r.Kind, r.ProcessID, err))
	}
	return nil
}
