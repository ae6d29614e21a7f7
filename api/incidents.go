package api

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/workflows"
)

// incidentBody is an incident reported from inside (§5.3(1)), as POST /incidents takes it.
type incidentBody struct {
	Reporter       string `json:"reporter"`
	Department     string `json:"department,omitempty"`
	System         string `json:"system,omitempty"`
	Category       string `json:"category"`
	Description    string `json:"description"`
	Classification int    `json:"classification"`
	DiscoveredAt   string `json:"discovered_at"`
}

// maxIncidentAge is how long before its report an incident may have been discovered: an
// older one is a typo more often than a report.
const maxIncidentAge = 366 * 24 * time.Hour

// clockSkew is how far in the future a discovery time may lie (clocks differ).
const clockSkew = 5 * time.Minute

// checkDiscovered parses an RFC 3339 discovery time and checks it is not in the future nor
// more than a year ago.
func (s *Server) checkDiscovered(f fieldErrors, v string, required bool) time.Time {
	if v == "" && !required {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		f.check(false, "discovered_at", "must be a time in RFC 3339 with offset, e.g. 2026-04-27T09:30:00+09:00")
		return time.Time{}
	}
	now := s.now()
	f.check(!t.After(now.Add(clockSkew)), "discovered_at", "must not be in the future")
	f.check(now.Sub(t) <= maxIncidentAge, "discovered_at", "must be within the last year")
	return t
}

func categoryNames() string {
	names := make([]string, 0, 9)
	for _, c := range policy.Categories() {
		names = append(names, string(c))
	}
	return strings.Join(names, ", ")
}

// startIncident validates a report from inside and starts the incident's process.
func (s *Server) startIncident(c echo.Context) error {
	var b incidentBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	st, err := s.checkIncident(c.Request().Context(), b)
	if err != nil {
		return err
	}
	return s.startProcess(c, st)
}

// checkIncident validates a report from inside (§5.3(1)), for the API and the staff pages
// alike, and says how to start the incident's process. The reporter must be employed; the
// department defaults to the reporter's; a named system must be registered.
func (s *Server) checkIncident(ctx context.Context, b incidentBody) (startSpec, error) {
	f := fieldErrors{}
	f.id("reporter", b.Reporter)
	f.check(b.Department == "" || validID(b.Department), "department", "is not a department ID")
	f.check(b.System == "" || validID(b.System), "system", "is not a system ID")
	_, err := policy.ParseCategory(b.Category)
	f.check(err == nil, "category", "must be one of "+categoryNames())
	f.text("description", b.Description, true, 4000)
	_, err = policy.ParseLevel(b.Classification)
	f.check(err == nil, "classification", "must be 1, 2 or 3 (§3(1))")
	discovered := s.checkDiscovered(f, b.DiscoveredAt, true)
	if err := f.err(); err != nil {
		return startSpec{}, err
	}
	reporter, err := s.Store.Person(ctx, b.Reporter)
	if errors.Is(err, models.ErrNotFound) {
		return startSpec{}, &Error{Status: 422, Code: "policy_violation", Message: "the reporter is not in the directory", Fields: map[string]string{"reporter": "unknown employee_id"}}
	} else if err != nil {
		return startSpec{}, s.storeErr(err)
	}
	if reporter.Status != models.StatusEmployed {
		return startSpec{}, &Error{Status: 422, Code: "policy_violation", Message: "the reporter is no longer employed", Fields: map[string]string{"reporter": "not employed"}}
	}
	var systems []string
	if b.System != "" {
		if _, err := s.Store.System(ctx, b.System); errors.Is(err, models.ErrNotFound) {
			return startSpec{}, &Error{Status: 422, Code: "policy_violation", Message: "the system is not registered", Fields: map[string]string{"system": "unknown system " + b.System}}
		} else if err != nil {
			return startSpec{}, s.storeErr(err)
		}
		systems = []string{b.System}
	}
	if b.Department == "" {
		b.Department = reporter.DepartmentID
	}
	received := s.now()
	report := activities.IncidentReport{
		Source: models.IncidentFromStaff, Reporter: b.Reporter, Department: b.Department, System: b.System,
		Category: b.Category, Description: strings.TrimSpace(b.Description), Classification: b.Classification,
		DiscoveredAt: discovered.UTC(), ReceivedAt: received.UTC(),
	}
	// The same report sent again under its idempotency key is a repeat: the receive time,
	// the server's, is not part of what identifies it.
	request := report
	request.ReceivedAt = time.Time{}
	cat := policy.Category(b.Category)
	summary := fmt.Sprintf("Incident: %s in %s, %s", strings.ToLower(cat.Title("en")), b.Department, orNone(systems))
	details := fmt.Sprintf("**Security incident** (§5.3(1), §7.3)\n\n- department: `%s`\n- reporter: `%s`\n- category: %s (%s)\n- system: %s\n- classification: level %d\n- discovered: %s\n- received: %s\n\nThe description is in the register (GET /api/v1/processes/{id}).",
		b.Department, b.Reporter, cat, cat.Title("ja"), orNone(systems), b.Classification,
		activities.FormatTime(discovered, s.Loc), activities.FormatTime(received, s.Loc))
	return startSpec{
		Kind: models.KindIncident, Department: b.Department, RequesterID: b.Reporter,
		Summary: summary, Details: details, Input: report, Request: request, Workflow: workflows.IncidentWorkflow,
		Args: func(h workflows.Header) any {
			return workflows.IncidentInput{Header: h, Source: models.IncidentFromStaff, ReporterID: b.Reporter, Category: cat,
				SystemIDs: systems, DiscoveredAt: discovered.UTC(), ReceivedAt: received.UTC()}
		},
	}, nil
}

// publicReportBody is a resident's report through the public window (§5.3(2)4). Contact
// details are optional: a resident may report anonymously.
type publicReportBody struct {
	Name         string `json:"name,omitempty"`
	Email        string `json:"email,omitempty"`
	Phone        string `json:"phone,omitempty"`
	Category     string `json:"category"`
	Description  string `json:"description"`
	DiscoveredAt string `json:"discovered_at,omitempty"`
}

// Limits of the public window: its body size and how often one address may report
// (ratelimit.go).
const (
	// PublicReportMaxBody is the largest report the public window reads (413 beyond).
	PublicReportMaxBody = 16 << 10
	// PublicReportBurst requests may come from one address prefix (an IPv6 /64, an IPv4
	// address) in each window of PublicReportEvery; more are answered 429 until the
	// window ends.
	PublicReportBurst = 5
	PublicReportEvery = time.Minute
	// DefaultPublicReportCeiling is how many requests the window takes from all addresses
	// together in one PublicReportEvery when the town sets no other ceiling
	// (POLICYFLOW_PUBLIC_REPORTS_PER_MINUTE).
	DefaultPublicReportCeiling = 60
)

// receiptAnswer is all the public window says back: a receipt number and when it was
// received. Nothing internal (no process or workflow ID).
type receiptAnswer struct {
	ReceiptNumber string    `json:"receipt_number"`
	ReceivedAt    time.Time `json:"received_at"`
	Message       string    `json:"message"`
}

func validPhone(v string) bool {
	if len(v) > 32 {
		return false
	}
	digits := 0
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' || r == '-' || r == ' ' || r == '(' || r == ')':
		default:
			return false
		}
	}
	return digits >= 6
}

// reportIncident takes a resident's report (§5.3(2)4): strictly validated, answered with a
// receipt number only. The report goes to the GISO's office for triage.
func (s *Server) reportIncident(c echo.Context) error {
	var b publicReportBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	f := fieldErrors{}
	f.text("name", b.Name, false, 100)
	if b.Email != "" {
		f.email("email", b.Email)
	}
	f.check(b.Phone == "" || validPhone(b.Phone), "phone", "must be a telephone number (digits, spaces, +, -, parentheses)")
	_, err := policy.ParseCategory(b.Category)
	f.check(err == nil, "category", "must be one of "+categoryNames())
	f.text("description", b.Description, true, 4000)
	discovered := s.checkDiscovered(f, b.DiscoveredAt, false)
	if err := f.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	received := s.now()
	if discovered.IsZero() {
		discovered = received
	}
	// The GISO's office receives residents' reports.
	department := ""
	if giso, err := s.Store.RoleHolder(ctx, string(policy.RoleGISO), ""); err == nil {
		if p, err := s.Store.Person(ctx, giso); err == nil {
			department = p.DepartmentID
		}
	} else if !errors.Is(err, models.ErrNotFound) {
		return s.storeErr(err)
	}
	rb := make([]byte, 5)
	_, _ = rand.Read(rb)
	receipt := "R-" + received.In(s.Loc).Format("20060102") + "-" + base32.StdEncoding.EncodeToString(rb)
	report := activities.IncidentReport{
		Source: models.IncidentFromResident, ReporterName: strings.TrimSpace(b.Name), ReporterEmail: b.Email, ReporterPhone: b.Phone,
		Department: department, Category: b.Category, Description: strings.TrimSpace(b.Description),
		DiscoveredAt: discovered.UTC(), ReceivedAt: received.UTC(), ReceiptNumber: receipt,
	}
	input, err := json.Marshal(report)
	if err != nil {
		return err
	}
	cat := policy.Category(b.Category)
	id := s.newProcessID(models.KindIncident)
	summary := fmt.Sprintf("Incident reported by a resident: %s", strings.ToLower(cat.Title("en")))
	p := models.Process{ID: id, Kind: models.KindIncident, Status: "starting", Stage: "submitted", WorkflowID: id,
		DepartmentID: department, Summary: summary, Input: string(input)}
	if err := s.Store.CreateProcess(ctx, &p); err != nil {
		return s.storeErr(err)
	}
	details := fmt.Sprintf("**Security incident reported by a resident** (§5.3(2)4)\n\n- category: %s (%s)\n- received: %s\n- triage: the GISO's office (`%s`)\n\nThe report and the resident's contact details are in the register.",
		cat, cat.Title("ja"), activities.FormatTime(received, s.Loc), orDash(department))
	_, err = s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueue, StaticSummary: summary, StaticDetails: details,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.ProcessKind.ValueSet(models.KindIncident), workflows.ProcessStage.ValueSet("submitted"),
			workflows.Department.ValueSet(department)),
	}, workflows.IncidentWorkflow, workflows.IncidentInput{
		Header: workflows.Header{ProcessID: id, Kind: models.KindIncident, Department: department, TimeZone: s.TimeZone},
		Source: models.IncidentFromResident, Category: cat, DiscoveredAt: discovered.UTC(), ReceivedAt: received.UTC(),
	})
	if err != nil {
		s.Log.Warn("start workflow failed", "process", id, "err", err)
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if derr := s.Store.DeleteProcess(cleanup, id); derr != nil {
			s.Log.Error("remove unstarted process", "process", id, "err", derr)
		}
		return errUnavailable
	}
	return c.JSON(http.StatusAccepted, receiptAnswer{ReceiptNumber: receipt, ReceivedAt: received.In(s.Loc),
		Message: "ご報告を受け付けました。受付番号をお控えください。 / Your report was received. Please keep the receipt number."})
}

// emergencyContactBody is an entry of the emergency contact list (§7.3(2)1), as
// PUT /emergency-contacts/{id} takes and answers it.
type emergencyContactBody struct {
	ID           string   `json:"id,omitempty"`
	Name         string   `json:"name"`
	Organization string   `json:"organization,omitempty"`
	Phone        string   `json:"phone,omitempty"`
	Email        string   `json:"email,omitempty"`
	Categories   []string `json:"categories,omitempty"`
	Notes        string   `json:"notes,omitempty"`
	Priority     int      `json:"priority"`
}

// putEmergencyContact creates or replaces an entry of the contact list that the incident's
// contact step asks its handler to reach.
func (s *Server) putEmergencyContact(c echo.Context) error {
	var b emergencyContactBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	id := c.Param("id")
	f := fieldErrors{}
	f.id("id", id)
	f.check(b.ID == "" || b.ID == id, "id", "must match the URL")
	f.text("name", b.Name, true, 200)
	f.text("organization", b.Organization, false, 200)
	f.text("notes", b.Notes, false, 1000)
	f.check(b.Phone != "" || b.Email != "", "phone", "a phone number or an email address is required")
	f.check(b.Phone == "" || validPhone(b.Phone), "phone", "must be a telephone number (digits, spaces, +, -, parentheses)")
	if b.Email != "" {
		f.email("email", b.Email)
	}
	f.check(b.Priority >= 0 && b.Priority <= 1000, "priority", "must be 0-1000")
	for _, cat := range b.Categories {
		_, err := policy.ParseCategory(cat)
		f.check(err == nil, "categories", fmt.Sprintf("%q is not a category (%s)", cat, categoryNames()))
	}
	if err := f.err(); err != nil {
		return err
	}
	created, err := s.Store.PutEmergencyContact(c.Request().Context(), models.EmergencyContact{
		ID: id, Name: strings.TrimSpace(b.Name), Organization: strings.TrimSpace(b.Organization), Phone: b.Phone, Email: b.Email,
		Categories: models.JoinList(b.Categories), Notes: strings.TrimSpace(b.Notes), Priority: b.Priority,
	})
	if err != nil {
		return s.storeErr(err)
	}
	b.ID = id
	return c.JSON(map[bool]int{true: http.StatusCreated, false: http.StatusOK}[created], b)
}

// incidentHop is one hop of the reporting chain in GET /incidents/{id}.
type incidentHop struct {
	Hop   string    `json:"hop"`
	Actor string    `json:"actor_id,omitempty"`
	Note  string    `json:"note,omitempty"`
	At    time.Time `json:"at"`
	// SinceDiscovery and SinceReceived say how promptly the hop happened, in minutes.
	SinceDiscovery float64 `json:"minutes_since_discovery"`
	SinceReceived  float64 `json:"minutes_since_received"`
}

// getIncident answers an incident's record with every hop of its reporting chain and how
// long after discovery and receipt each happened.
func (s *Server) getIncident(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	in, err := s.Store.Incident(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return apiError("not_found", "no incident "+id)
	} else if err != nil {
		return s.storeErr(err)
	}
	hs, err := s.Store.IncidentHops(ctx, id)
	if err != nil {
		return s.storeErr(err)
	}
	hops := make([]incidentHop, 0, len(hs))
	for _, h := range hs {
		hops = append(hops, incidentHop{Hop: h.Hop, Actor: h.ActorID, Note: h.Note, At: h.At.In(s.Loc),
			SinceDiscovery: math.Round(h.At.Sub(in.DiscoveredAt).Minutes()*10) / 10,
			SinceReceived:  math.Round(h.At.Sub(in.ReceivedAt).Minutes()*10) / 10})
	}
	var reported *time.Time
	if in.CommitteeReportedAt != nil {
		v := in.CommitteeReportedAt.In(s.Loc)
		reported = &v
	}
	receipt := ""
	if in.ReceiptNumber != nil {
		receipt = *in.ReceiptNumber
	}
	return c.JSON(http.StatusOK, map[string]any{
		"process_id": in.ProcessID, "source": in.Source, "reporter_id": in.ReporterID, "reporter_name": in.ReporterName,
		"reporter_email": in.ReporterEmail, "reporter_phone": in.ReporterPhone, "department": in.DepartmentID,
		"system": in.SystemID, "category": in.Category, "description": in.Description, "classification": in.Classification,
		"discovered_at": in.DiscoveredAt.In(s.Loc), "received_at": in.ReceivedAt.In(s.Loc), "receipt_number": receipt,
		"hops": hops, "committee_report": in.CommitteeReport, "committee_reported_at": reported,
	})
}

// incidentDetails adds to an incident's task page what the step needs that the report does
// not hold: the emergency contact list for the contact step, the root-cause record for its
// review and the measures.
func (s *Server) incidentDetails(t models.Task, p models.Process, lang string) []labelled {
	if p.Kind != models.KindIncident {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var out []labelled
	switch {
	case t.Step == policy.StepContact:
		in, err := s.Store.Incident(ctx, p.ID)
		if err != nil {
			return nil
		}
		contacts, err := s.Store.EmergencyContacts(ctx, in.Category)
		if err != nil {
			return nil
		}
		for _, ec := range contacts {
			v := strings.TrimSpace(strings.Join([]string{ec.Name, ec.Organization, ec.Phone, ec.Email, ec.Notes}, " / "))
			out = append(out, labelled{Label: pick(lang, "緊急連絡先 ", "Emergency contact ") + ec.ID, Value: v})
		}
	case t.Step == policy.StepContainment:
		// §6.4(3)7: what the first hour's confirmations say, so that containment builds on it.
		hs, err := s.Store.IncidentHops(ctx, p.ID)
		if err != nil {
			return nil
		}
		for _, h := range hs {
			if h.Hop == policy.StepDisconnection+"_confirmed" || h.Hop == policy.StepDisconnectionCheck+"_confirmed" {
				out = append(out, labelled{Label: pick(lang, "切り離しの確認（§6.4(3)7）", "Disconnection confirmed (§6.4(3)7)"),
					Value: fmt.Sprintf("%s, %s: %s", h.ActorID, h.At.In(s.Loc).Format("2006-01-02 15:04 MST"), h.Note)})
			}
		}
	case t.Step == "root_cause_review" || strings.HasPrefix(t.Step, "measure_"):
		vals, err := s.Store.LatestDecisionValues(ctx, p.ID, "root_cause")
		if err != nil || vals == nil {
			return nil
		}
		out = append(out, labelled{Label: pick(lang, "原因", "Cause"), Value: vals["cause"]})
		for i := 1; i <= workflows.MaxMeasures; i++ {
			if m := vals[fmt.Sprintf("measure_%d", i)]; m != "" {
				out = append(out, labelled{Label: fmt.Sprintf(pick(lang, "再発防止策 %d（担当 %s）", "Measure %d (owner %s)"), i, vals[fmt.Sprintf("owner_%d", i)]), Value: m})
			}
		}
	}
	return out
}
