package policy

import (
	"slices"
	"sort"
)

// Need to know: which fields of a request each step's reader sees on the task page and in
// the task's mails. The register (GET /api/v1/processes/{id}, auditor scope) keeps and shows
// the whole request; a link holder sees only what their step needs. Three rules shape the
// table:
//
//   - A vendor's contact (外部委託事業者, §5.1(3), §8.1) is outside the town: they see what
//     concerns their own reply (their company, the work, the contract's dates and report
//     interval), never the town's assessment of them (selection flags, audit summary, the
//     certificate details the town recorded) nor the town's classification of its data.
//   - Free text (an exception's reason, an incident's description, HR's note about a
//     leaver, a resident's contact details) reaches only the steps whose work needs it.
//   - Whoever decides sees what they must judge: the CISO, the GISO and the department
//     security officer reviewing a request see all of it.
//
// A step missing from the table shows nothing of the request but the process's kind and ID
// (it fails closed). A test parses the workflows' source and fails when a step is not
// declared here.

// SummaryKey stands in a view for the process's one-line summary (the register's summary,
// shown on task pages and in task mails). The summary is made of request fields (an
// outsourcing review's names the town's classification of the data), so a step shows it
// only when its view lists this key.
const SummaryKey = "summary"

// A View is what one step's reader sees of the request: the input keys of the register's
// record of the request (as GET /api/v1/processes/{id} shows it), and why.
type View struct {
	Keys []string
	// Why says in one line why the reader needs these and no more, citing the clause.
	Why string
}

// The request's keys, per kind of process, as the API records them.
var (
	exceptionKeys = []string{SummaryKey, "requester", "department", "emergency", "clauses", "alternative", "reason",
		"systems", "classification", "start_date", "end_date", "renews"}
	incidentKeys = []string{SummaryKey, "source", "reporter", "reporter_name", "reporter_email", "reporter_phone",
		"receipt_number", "category", "department", "system", "classification", "description", "discovered_at", "received_at"}
	// incidentInternal is the report without a resident's name and contact details.
	incidentInternal = []string{SummaryKey, "source", "reporter", "receipt_number", "category", "department", "system",
		"classification", "description", "discovered_at", "received_at"}
	// incidentHandling is what a step of the emergency response plan works from: where, what
	// and since when, with the staff reporter (whose device is often the evidence).
	incidentHandling = []string{SummaryKey, "source", "reporter", "category", "department", "system", "classification",
		"description", "discovered_at", "received_at"}
	// incidentMeasure is what a measure's owner needs beside the accepted root-cause record,
	// which the page shows on its own: not the report's free text.
	incidentMeasure = []string{SummaryKey, "category", "department", "system", "classification"}

	outsourcingKeys = []string{SummaryKey, "requester", "department", "vendor_name", "corporate_number", "other_identifier", "identifier_reason", "contact_name",
		"contact_email", "contact_locale", "work", "assets", "classification", "subcontracted", "subcontractors",
		"contract_start", "contract_end", "certificate_number", "certificate_expiry", "audit_status", "audit_summary",
		"report_interval_months", "selection_flags"}
	// outsourcingContract is the contract without the town's selection assessment (§8.1(1)):
	// what the clause check and the disposal record work from.
	outsourcingContract = []string{SummaryKey, "requester", "department", "vendor_name", "corporate_number", "other_identifier", "identifier_reason", "contact_name",
		"contact_email", "contact_locale", "work", "assets", "classification", "subcontracted", "subcontractors",
		"contract_start", "contract_end", "report_interval_months"}
	// vendorReply is what a vendor's contact sees: their company, the work and the dates.
	vendorReply = []string{"vendor_name", "work", "contract_start", "contract_end"}

	cloudKeys = []string{SummaryKey, "requester", "department", "service", "provider", "purpose", "classification",
		"storage_regions", "processing_regions", "governing_law", "jurisdiction", "court", "certifications", "exit_plan",
		"security_design_ref", "rules"}

	offboardingKeys = []string{SummaryKey, "employee_id", "reason", "effective_date", "new_department", "new_section", "note"}
	// inspectionKeys are a self-inspection campaign's (§9.1): its year, whether it is the
	// yearly one or an extra one, and why an extra one was started.
	inspectionKeys = []string{SummaryKey, "fiscal_year", "occasion", "reason"}

	// offboardingFacts is the offboarding without HR's free-text note.
	offboardingFacts = []string{SummaryKey, "employee_id", "reason", "effective_date", "new_department", "new_section"}
)

func with(keys []string, more ...string) []string {
	return append(slices.Clone(keys), more...)
}

var views = map[string]map[string]View{
	"exception": {
		"ciso_review": {exceptionKeys,
			"the CISO permits or refuses the whole request, its reason included (§7.4(1))"},
		"ciso_ratification": {exceptionKeys,
			"the CISO ratifies or revokes an emergency exception taken without permission, on the whole request (§7.4(2))"},
		"requester_revision": {exceptionKeys,
			"the requester revises their own request (§7.4(1))"},
		"restore_compliance": {[]string{SummaryKey, "requester", "department", "emergency", "clauses", "alternative", "systems", "start_date", "end_date"},
			"the requester and the systems' managers undo the measure taken instead of the clauses departed from; the reason argued for it is not needed (§7.4)"},
	},
	"incident": {
		"triage": {incidentKeys,
			"the officer judges severity and the plan from the whole report and follows a resident's report up through its window (§5.3(1)2, §5.3(2))"},
		"record": {incidentKeys,
			"the officer who triaged records what was done, a reply to a resident included (§5.3(1), §5.3(2))"},
		"ciso_instruction": {incidentInternal,
			"the CISO instructs on the whole report (§5.3(1)3); a resident's contact details stay with the window that received them (§5.3(2)4)"},
		StepContact: {incidentHandling,
			"the handler tells those on the emergency contact list what happened (§7.3(2)1)"},
		StepEvidence: {incidentHandling,
			"evidence is preserved where the incident happened: the system, the reporter's device, the times (§7.3(1))"},
		StepContainment: {incidentHandling,
			"the damage is contained where the incident happened (§7.3(1), §6.4(3)7)"},
		StepDisconnection: {incidentHandling,
			"the reporter takes the device off the network at once, before any triage (§6.4(3)7)"},
		StepDisconnectionCheck: {incidentHandling,
			"the system's manager confirms the device is off the network at once (§6.4(3)7)"},
		StepRecovery: {with(incidentMeasure, "description"),
			"the system is recovered from what happened to it (§7.3(1))"},
		"root_cause": {incidentKeys,
			"the GISO investigates the cause with the department and may need to ask the reporter (§5.3(3)1)"},
		"cause_department": {incidentInternal,
			"the department's security officer gives the department's part of the cause to the GISO (§5.3(3)1)"},
		"cause_system": {incidentHandling,
			"the system's manager gives the system's part of the cause to the GISO (§5.3(3)1)"},
		"root_cause_review": {incidentInternal,
			"the CISO checks the root-cause record against the report and orders the measures (§5.3(3)2)"},
		"measure_1": {incidentMeasure, "the owner carries out one measure of the accepted record, which the page shows (§5.3(3)2)"},
		"measure_2": {incidentMeasure, "the owner carries out one measure of the accepted record, which the page shows (§5.3(3)2)"},
		"measure_3": {incidentMeasure, "the owner carries out one measure of the accepted record, which the page shows (§5.3(3)2)"},
	},
	"outsourcing_review": {
		"selection_review": {outsourcingKeys,
			"the department security officer selects the vendor from its certification and audits (§8.1(1))"},
		"clause_review": {outsourcingContract,
			"the reviewer checks the draft contract for the requirements of §8.1(2); the selection assessment is not theirs"},
		"giso_decision": {outsourcingKeys,
			"the GISO decides on a contract whose clauses stay incomplete, on the whole request (§8.1)"},
		"requester_revision": {outsourcingKeys,
			"the requester revises their own request (§8.1(2))"},
		"selection_revision": {outsourcingKeys,
			"the requester revises the selection the officer returned, on their own request (§8.1(1)1)"},
		"approval": {outsourcingKeys,
			"the department security officer approves the contract on the whole request (§8.1)"},
		"briefing_acknowledgement": {with(vendorReply, "report_interval_months"),
			"the vendor's contact acknowledges the briefing on what they must keep (§5.1(3)); they see their own contract, not the town's assessment of them"},
		"periodic_report": {with(vendorReply, "report_interval_months", "subcontracted", "subcontractors"),
			"the vendor reports on the period, subcontracting changes included (§8.1(2) 定期報告, 再委託); not the town's assessment of them"},
		"subcontracting_approval": {outsourcingKeys,
			"the department security officer approves new subcontracting a report declares, on the whole request (§8.1(2) 再委託, §5.1(3))"},
		"subcontractor_briefing_acknowledgement": {with(vendorReply, "report_interval_months"),
			"the new subcontractor's contact acknowledges the briefing (§5.1(3) 再委託を受ける事業者も含めて); they see the contract's work and dates, not the town's assessment"},
		"briefing_followup": {outsourcingContract,
			"the department security officer briefs directly a vendor or subcontractor whose mailed briefing was not acknowledged (§5.1(3))"},
		"certificate_renewal": {vendorReply,
			"the vendor sends their renewed certificate (§8.1(1)2); the certificate details the town recorded are the town's"},
		"disposal_permission": {outsourcingContract,
			"the department security officer permits the disposal of the town's information before it happens (§3(2)9(ウ))"},
		"disposal_record": {outsourcingContract,
			"the requester records the return or disposal of the information the vendor held, chasing the vendor's contact (§3(2)9, §8.1(2))"},
	},
	"cloud_assessment": {
		"diso_assessment": {cloudKeys,
			"the department security officer assesses the five criteria on the whole request and the rules' outcome (§8.3)"},
		"denial_review": {cloudKeys,
			"the department security officer judges a service the rules deny, on the whole request and the rules' verdict: refuse, or send it to the CISO (§8.3)"},
		"ciso_referral": {cloudKeys,
			"the CISO decides on a service the rules deny, sent by the department security officer, on the whole request and the rules' verdict (§8.3)"},
		"ciso_approval": {cloudKeys,
			"the CISO approves the use on the whole request, as the town's rules ask (cloud_rules.json; §8.3)"},
		"certificate_renewal": {cloudKeys,
			"the department security officer records the renewed certification against the service as assessed (§8.3(5))"},
		"exit_confirmation": {cloudKeys,
			"the department security officer confirms the exit plan ran: the data, where it was and the plan (§8.3(3))"},
	},
	"offboarding": {
		"disable_accounts": {offboardingFacts,
			"the system's manager disables the leaver's IDs as of the date; a transfer keeps the new department's (§6.2(1)2, §6.1(1)); HR's note is not needed"},
		"rotate_credential": {[]string{SummaryKey, "employee_id", "effective_date"},
			"the system's manager or the GISO changes a password the leaver knew (§6.2(1)3(イ)(エ)); who left and when is all it needs"},
		"approve_rotation_designee": {[]string{SummaryKey, "employee_id", "effective_date"},
			"the CISO approves the person the system's manager named to change a privileged password (§6.2(1)3(イ)); who left and when is all it needs"},
		"review_transfer_access": {offboardingFacts,
			"on a transfer, the manager of another department's system decides whether the leaver still needs their ID there (§6.1(1), §6.2(1)2(イ)); HR's note is not needed"},
		"confirm_assets": {offboardingKeys,
			"the department security officer gets back what the leaver was lent (§5.1(1)8): HR's note (where the leaver can be reached, leave, arrangements) serves this step"},
		"secrecy_acknowledgement": {[]string{SummaryKey, "employee_id", "reason", "effective_date"},
			"the leaver acknowledges the lasting duty of secrecy (§5.1(1)8); HR's note about them is HR's"},
	},
	"reconciliation": {
		"reconcile_accounts": {[]string{SummaryKey, "unused_days"},
			"the system's manager decides the findings on their system (§6.2(1)2(ウ)); the page lists them"},
	},
	"inspection": {
		"inspect_system": {inspectionKeys,
			"the system's manager inspects their system against the checklist the page lists (§9.1(1)1)"},
		"inspect_department": {inspectionKeys,
			"the department's security officer inspects the department's measures against the checklist the page lists (§9.1(1)2)"},
		"improvement_measure": {inspectionKeys,
			"the owner carries out the improvement measure the page names (§9.1(2))"},
	},
}

// Visible returns the input keys that the reader of step in a process of kind sees, and
// whether the step is declared. The key SummaryKey stands for the process's summary. An
// undeclared step sees nothing of the request (ok is false, keys nil): pages and mails show
// only the process's kind and ID.
func Visible(kind, step string) (keys []string, ok bool) {
	v, ok := views[kind][step]
	if !ok {
		return nil, false
	}
	return slices.Clone(v.Keys), true
}

// Shows reports whether the reader of step sees key. Undeclared steps see nothing.
func Shows(kind, step, key string) bool {
	return slices.Contains(views[kind][step].Keys, key)
}

// ViewOf returns the declared view of a step, with its reason.
func ViewOf(kind, step string) (View, bool) {
	v, ok := views[kind][step]
	v.Keys = slices.Clone(v.Keys)
	return v, ok
}

// DeclaredSteps returns, per kind of process, the steps the table declares, sorted.
func DeclaredSteps() map[string][]string {
	out := make(map[string][]string, len(views))
	for kind, steps := range views {
		names := make([]string, 0, len(steps))
		for s := range steps {
			names = append(names, s)
		}
		sort.Strings(names)
		out[kind] = names
	}
	return out
}
