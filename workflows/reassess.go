package workflows

// SignalReassess tells a process that the directory changed for a person who holds one of its
// open tasks (issue 12): their roles, department or employment changed, or an absence of theirs
// started. The process resolves the task's post again; if someone else should now decide, the
// task is handed over (the new person gets a link of their own, the old links stop working) and
// the register says so. A signal about a person with no open task in the process does nothing,
// so senders may signal generously.
const SignalReassess = "reassess"

// Reassess is SignalReassess's argument. Why is a short reason code for the record
// ("directory", "absence", "offboarding"), never free text.
type Reassess struct {
	PersonID string
	Why      string
}
