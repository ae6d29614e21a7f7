package activities

import (
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"
)

// Field kinds of a task's form.
const (
	// FieldSelect is one of a fixed set of options; its value reaches the workflow.
	FieldSelect = "select"
	// FieldDate is a YYYY-MM-DD date; its value reaches the workflow.
	FieldDate = "date"
	// FieldText and FieldTextarea are free text: kept in the register, never in history.
	FieldText     = "text"
	FieldTextarea = "textarea"
)

// Field is one input of a task's form, beside the choice buttons: a root-cause record, a
// clause checklist, an asset's return. Select and date values steer the workflow and travel
// with the decision; free text stays in the register.
type Field struct {
	Name     string
	Label    Text
	Kind     string
	Options  []Option
	Required bool
	// RequiredIf makes the field required when another field holds one of some values, e.g.
	// the reason for a clause marked not applicable (§8.1(2)), or for an account kept
	// (§6.2(1)2(イ)(ウ)). Free text checked this way is checked by the API, which sees it; the
	// workflow sees only selects and dates.
	RequiredIf *Condition `json:",omitempty"`
	// RequiredFor makes the field required with one choice of the task, and refused with the
	// others: the designee of a password change goes with "designate" (§6.2(1)3(イ)). See
	// CheckDecision.
	RequiredFor string `json:",omitempty"`
	// NotBefore is the earliest date a date field takes (YYYY-MM-DD), such as the day a task
	// opened for an improvement measure's due date (§9.1(2)).
	NotBefore string `json:",omitempty"`
	// Revises marks a field of a revision form (差戻し後の修正) that holds the request's field
	// of the same name: the page shows its current value, and a resubmission replaces it
	// in the register's next version of the request (models.ReviseRequest).
	Revises bool `json:",omitempty"`
	// EmptyClears, on a revising field, makes the form hold the field's whole value: a
	// resubmission that leaves it empty removes it from the request, as a vendor chosen
	// instead may hold no certificate or no corporate number. Without it an empty field keeps
	// the request's current value.
	EmptyClears bool `json:",omitempty"`
}

// Condition is a field's value among some values.
type Condition struct {
	Field  string
	Values []string
}

// Option is one value of a select field.
type Option struct {
	Value string
	Label Text
	// Forbids lists the choices this answer rules out: answering that the vendor's measures
	// do not fit the work forbids approving it (§8.1(1)1).
	Forbids []string `json:",omitempty"`
}

// MaxFieldLength is the longest free-text value a form takes, in characters.
const MaxFieldLength = 4000

// Steers reports whether the field's value is sent to the workflow.
func (f Field) Steers() bool { return f.Kind == FieldSelect || f.Kind == FieldDate }

// CheckValues validates a form's values against its fields: required ones present, options
// and dates valid, text within length, nothing unknown. It returns per-field messages.
func CheckValues(form []Field, values map[string]string) map[string]string {
	bad := map[string]string{}
	known := map[string]bool{}
	for _, f := range form {
		known[f.Name] = true
		v := values[f.Name]
		switch {
		case v == "" && f.Required:
			bad[f.Name] = "is required"
		case v == "" && f.RequiredIf != nil && slices.Contains(f.RequiredIf.Values, values[f.RequiredIf.Field]):
			bad[f.Name] = fmt.Sprintf("is required when %s is %s", f.RequiredIf.Field, values[f.RequiredIf.Field])
		case v == "":
		case !utf8.ValidString(v):
			bad[f.Name] = "must be valid UTF-8"
		case f.Kind == FieldSelect && !slices.ContainsFunc(f.Options, func(o Option) bool { return o.Value == v }):
			bad[f.Name] = "is not one of the options"
		case f.Kind == FieldDate:
			if _, err := time.Parse("2006-01-02", v); err != nil {
				bad[f.Name] = "must be a date YYYY-MM-DD"
			} else if f.NotBefore != "" && v < f.NotBefore {
				bad[f.Name] = "must be on or after " + f.NotBefore
			}
		case utf8.RuneCountInString(v) > MaxFieldLength:
			bad[f.Name] = fmt.Sprintf("must be at most %d characters", MaxFieldLength)
		}
	}
	// Sorted, so that this runs the same way in workflow code (the Update's validator).
	//workflowcheck:ignore
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if !known[k] {
			bad[k] = "is not a field of this form"
		}
	}
	return bad
}

// CheckChoice reports the answers of a form that rule out the choice made (Option.Forbids),
// per field. The API and the workflow's validator both apply it.
func CheckChoice(form []Field, choice string, values map[string]string) map[string]string {
	bad := map[string]string{}
	for _, f := range form {
		for _, o := range f.Options {
			if o.Value == values[f.Name] && slices.Contains(o.Forbids, choice) {
				bad[f.Name] = fmt.Sprintf("the answer %q rules out the decision %q", o.Value, choice)
			}
		}
	}
	return bad
}

// CheckDecision is CheckValues for a decision: besides the values, a field that goes with
// one choice (RequiredFor) is required with that choice and refused with any other. The API
// and the workflow's Update validator both call it, so the rule holds whichever checks first.
func CheckDecision(form []Field, choice string, values map[string]string) map[string]string {
	bad := CheckValues(form, values)
	for _, f := range form {
		switch {
		case f.RequiredFor == "" || bad[f.Name] != "":
		case choice == f.RequiredFor && values[f.Name] == "":
			bad[f.Name] = fmt.Sprintf("is required to %s", f.RequiredFor)
		case choice != f.RequiredFor && values[f.Name] != "":
			bad[f.Name] = fmt.Sprintf("goes only with %s", f.RequiredFor)
		}
	}
	return bad
}

// SteeringValues keeps the values that reach the workflow (selects and dates).
func SteeringValues(form []Field, values map[string]string) map[string]string {
	out := map[string]string{}
	for _, f := range form {
		if v, ok := values[f.Name]; ok && v != "" && f.Steers() {
			out[f.Name] = v
		}
	}
	return out
}
