package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// Notice kinds of the incident process.
const (
	// NoticeIncidentReported tells the GISO and the system's manager that an incident was
	// reported to the department security officer (§5.3(1)2, §5.3(2)2).
	NoticeIncidentReported = "incident_reported"
	// NoticeIncidentClosed tells the GISO that an incident was closed, and how.
	NoticeIncidentClosed = "incident_closed"
	// NoticeIncidentTriaged tells the CISO, at triage, of an incident the emergency response
	// plan applies to, with its severity (§2(3)5, §2(2)8): the CISO hears of it at once, not
	// only at the root-cause review.
	NoticeIncidentTriaged = "incident_triaged"
)

// IncidentReport is an incident as the API keeps it in the process's register entry (its
// input). The workflow never sees it: only the process ID travels, and RegisterIncident
// copies the report into the incident's own record.
type IncidentReport struct {
	Source         string    `json:"source"`
	Reporter       string    `json:"reporter,omitempty"`
	ReporterName   string    `json:"reporter_name,omitempty"`
	ReporterEmail  string    `json:"reporter_email,omitempty"`
	ReporterPhone  string    `json:"reporter_phone,omitempty"`
	Department     string    `json:"department"`
	System         string    `json:"system,omitempty"`
	Category       string    `json:"category"`
	Description    string    `json:"description"`
	Classification int       `json:"classification,omitempty"`
	DiscoveredAt   time.Time `json:"discovered_at"`
	ReceivedAt     time.Time `json:"received_at"`
	ReceiptNumber  string    `json:"receipt_number,omitempty"`
}

// IncidentRef names an incident's process and what the workflow knows of it.
type IncidentRef struct {
	ProcessID  string
	Department string
	Category   string
	// Resident asks for the departments a resident's report may be passed on to.
	Resident bool
}

// IncidentSetup is what an incident's workflow needs from the directory: who may be named
// as handlers of the plan's steps, and which entries of the emergency contact list apply.
type IncidentSetup struct {
	// Members are the employee IDs of the department's employed people.
	Members []string
	// Contacts are the IDs of the emergency contact list's entries that apply.
	Contacts []string
	// Departments are those with a security officer, for a resident's report that the
	// GISO's office passes on to the department concerned (§5.3(2)1–2).
	Departments []string
}

// RegisterIncident copies the report kept with the process into the incident's record,
// once, and returns what the workflow needs from the directory.
func (a *Activities) RegisterIncident(ctx context.Context, ref IncidentRef) (IncidentSetup, error) {
	var out IncidentSetup
	proc, err := a.Store.Process(ctx, ref.ProcessID)
	if err != nil {
		return out, classify(fmt.Errorf("register incident %s: %w", ref.ProcessID, err))
	}
	var r IncidentReport
	if err := json.Unmarshal([]byte(proc.Input), &r); err != nil {
		return out, badInput("register incident %s: the stored report is not readable: %v", ref.ProcessID, err)
	}
	in := models.Incident{
		ProcessID: proc.ID, Source: r.Source, ReporterID: r.Reporter, ReporterName: r.ReporterName,
		ReporterEmail: r.ReporterEmail, ReporterPhone: r.ReporterPhone, DepartmentID: r.Department,
		SystemID: r.System, Category: r.Category, Description: r.Description, Classification: r.Classification,
		DiscoveredAt: r.DiscoveredAt, ReceivedAt: r.ReceivedAt,
	}
	if r.ReceiptNumber != "" {
		in.ReceiptNumber = &r.ReceiptNumber
	}
	if err := a.Store.CreateIncident(ctx, in); err != nil {
		return out, fmt.Errorf("register incident %s: %w", ref.ProcessID, err)
	}
	if out.Members, err = a.Store.DepartmentMembers(ctx, ref.Department); err != nil {
		return out, fmt.Errorf("members of %s: %w", ref.Department, err)
	}
	if ref.Resident {
		if out.Departments, err = a.Store.OfficerDepartments(ctx); err != nil {
			return out, fmt.Errorf("departments with a security officer: %w", err)
		}
	}
	contacts, err := a.Store.EmergencyContacts(ctx, ref.Category)
	if err != nil {
		return out, fmt.Errorf("emergency contacts: %w", err)
	}
	for _, c := range contacts {
		out.Contacts = append(out.Contacts, c.ID)
	}
	return out, nil
}

// IncidentHop is one hop of an incident's reporting chain as the workflow saw it, in
// workflow time. Seq makes recording it idempotent.
type IncidentHop struct {
	ProcessID string
	Seq       int
	Hop       string
	ActorID   string
	Note      string
	At        time.Time
}

// RecordIncidentHop stores a hop of the reporting chain with its time.
func (a *Activities) RecordIncidentHop(ctx context.Context, h IncidentHop) error {
	if h.ProcessID == "" || h.Hop == "" {
		return badInput("record incident hop: process and hop are required")
	}
	err := a.Store.RecordIncidentHop(ctx, models.IncidentHop{
		Key: fmt.Sprintf("%s/%d", h.ProcessID, h.Seq), ProcessID: h.ProcessID, Hop: h.Hop,
		ActorID: h.ActorID, Note: h.Note, At: h.At.UTC(),
	})
	if err != nil {
		return fmt.Errorf("record hop %s of %s: %w", h.Hop, h.ProcessID, err)
	}
	return nil
}

// IncidentFiling is an incident that another process reports: its register entry, made
// before the incident's workflow starts as a child of that process.
type IncidentFiling struct {
	ProcessID   string
	Department  string
	Summary     string
	Report      IncidentReport
	RequesterID string
	EmployeeID  string
	// DetailsFrom names a decided task whose form's incident_details (free text, never in
	// history) are added to the description: a vendor's periodic report (§5.3(1)).
	DetailsFrom string
}

// FileIncident registers an incident reported by another process (a lent asset missing at
// an offboarding, §5.1(1)8), once however often it is retried.
func (a *Activities) FileIncident(ctx context.Context, f IncidentFiling) error {
	if f.DetailsFrom != "" {
		_, values, err := a.Store.DecisionValues(ctx, f.DetailsFrom)
		if err != nil {
			return classify(fmt.Errorf("file incident %s: details from %s: %w", f.ProcessID, f.DetailsFrom, err))
		}
		if d := values["incident_details"]; d != "" {
			f.Report.Description += "\n\n" + d
		}
	}
	input, err := json.Marshal(f.Report)
	if err != nil {
		return badInput("file incident %s: %v", f.ProcessID, err)
	}
	p := models.Process{ID: f.ProcessID, Kind: models.KindIncident, Status: "starting", Stage: "submitted",
		WorkflowID: f.ProcessID, DepartmentID: f.Department, RequesterID: f.RequesterID, EmployeeID: f.EmployeeID,
		Summary: f.Summary, Input: string(input)}
	if err := a.Store.CreateProcess(ctx, &p); err != nil && !errors.Is(err, models.ErrDuplicate) {
		return fmt.Errorf("file incident %s: %w", f.ProcessID, err)
	}
	return nil
}

// CurrentTimings returns the version and the part of the town's deadlines and periods that a
// process of kind runs under (POLICYFLOW_TIMINGS). A process copies it when it starts, so its
// deadlines are in its history, and a changed file applies to processes started after it.
func (a *Activities) CurrentTimings(_ context.Context, kind string) (policy.Timings, error) {
	t := policy.DefaultTimings()
	if a.Timings != nil {
		t = *a.Timings
	}
	return t.ForKind(kind), nil
}

// CurrentIncidentPlan returns the town's emergency response plan (§7.3). An incident copies it
// when it starts, so the plan it runs under is in its history, and a revised plan applies
// to incidents started after it. processID names the incident asking, for the logs.
func (a *Activities) CurrentIncidentPlan(_ context.Context, processID string) (policy.IncidentPlan, error) {
	if a.IncidentPlan != nil {
		return *a.IncidentPlan, nil
	}
	return policy.DefaultIncidentPlan(), nil
}

// IncidentMove passes an incident on to another department.
type IncidentMove struct {
	ProcessID  string
	Department string
}

// MoveIncident makes the department concerned the department of a resident's report once
// the GISO's office has passed it on (§5.3(2)1–2): the process's and the incident's record,
// with a line on the timeline saying from which department. Repeating it changes nothing.
func (a *Activities) MoveIncident(ctx context.Context, m IncidentMove) error {
	if m.ProcessID == "" || !models.ValidID(m.Department) {
		return badInput("move incident %s: a process and a department are required", m.ProcessID)
	}
	before, err := a.Store.MoveIncident(ctx, m.ProcessID, m.Department)
	if err != nil {
		return classify(fmt.Errorf("move incident %s to %s: %w", m.ProcessID, m.Department, err))
	}
	if before == m.Department {
		return nil
	}
	note := fmt.Sprintf("§5.3(2)1–2: passed on to the department concerned; the department is now %s (was %s)", m.Department, before)
	if err := a.Store.AddTimeline(ctx, m.ProcessID, m.ProcessID+"/department/"+m.Department, note, a.now()); err != nil {
		return classify(fmt.Errorf("move incident %s: timeline: %w", m.ProcessID, err))
	}
	return nil
}
