package policy

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestVisible(t *testing.T) {
	vendorSteps := []string{"briefing_acknowledgement", "periodic_report", "certificate_renewal"}
	// The town's own judgement of a vendor and its internal notes.
	townInternal := []string{"selection_flags", "audit_status", "audit_summary", "certificate_number", "certificate_expiry",
		"classification", "assets", "requester", "department", "contact_email", SummaryKey}
	type tc struct {
		kind, step, key string
		want            bool
	}
	var tests []tc
	for _, step := range vendorSteps {
		for _, k := range townInternal {
			tests = append(tests, tc{"outsourcing_review", step, k, false})
		}
		for _, k := range []string{"vendor_name", "work", "contract_start", "contract_end"} {
			tests = append(tests, tc{"outsourcing_review", step, k, true})
		}
	}
	for _, step := range []string{"selection_review", "approval", "giso_decision"} {
		for _, k := range townInternal {
			tests = append(tests, tc{"outsourcing_review", step, k, true})
		}
	}
	tests = append(tests,
		tc{"outsourcing_review", "clause_review", "selection_flags", false},
		tc{"outsourcing_review", "clause_review", "audit_summary", false},
		tc{"outsourcing_review", "clause_review", "classification", true},
		tc{"outsourcing_review", "periodic_report", "subcontractors", true},
		tc{"outsourcing_review", "disposal_record", "contact_email", true},
		tc{"outsourcing_review", "disposal_record", "audit_summary", false},
		// HR's note reaches the officer who gets the lent assets back, and nobody else.
		tc{"offboarding", "confirm_assets", "note", true},
		tc{"offboarding", "disable_accounts", "note", false},
		tc{"offboarding", "rotate_credential", "note", false},
		tc{"offboarding", "secrecy_acknowledgement", "note", false},
		tc{"offboarding", "disable_accounts", "new_department", true},
		tc{"offboarding", "disable_accounts", "employee_id", true},
		// The exception's reason goes to the CISO, not to the restoration.
		tc{"exception", "ciso_review", "reason", true},
		tc{"exception", "restore_compliance", "reason", false},
		tc{"exception", "restore_compliance", "alternative", true},
		// A resident's contact details stay with the window; the description with the
		// steps that work from it.
		tc{"incident", "triage", "reporter_phone", true},
		tc{"incident", "ciso_instruction", "reporter_phone", false},
		tc{"incident", "ciso_instruction", "description", true},
		tc{"incident", "containment", "reporter_email", false},
		tc{"incident", "measure_1", "description", false},
		tc{"cloud_assessment", "ciso_approval", "rules", true},
		tc{"reconciliation", "reconcile_accounts", "unused_days", true},
		// Undeclared steps and kinds see nothing.
		tc{"outsourcing_review", "no_such_step", "work", false},
		tc{"no_such_kind", "approval", SummaryKey, false},
	)
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.step+"/"+tt.key, func(t *testing.T) {
			if got := Shows(tt.kind, tt.step, tt.key); got != tt.want {
				t.Errorf("Shows = %v, want %v", got, tt.want)
			}
			keys, ok := Visible(tt.kind, tt.step)
			if got := ok && slices.Contains(keys, tt.key); got != tt.want {
				t.Errorf("Visible = %v, %v: contains %s = %v, want %v", keys, ok, tt.key, got, tt.want)
			}
		})
	}
	if keys, ok := Visible("offboarding", "no_such_step"); ok || keys != nil {
		t.Errorf("an undeclared step: Visible = %v, %v; want nil, false", keys, ok)
	}
}

// TestVisibleReturnsACopy: a caller cannot widen the table by appending to its answer.
func TestVisibleReturnsACopy(t *testing.T) {
	keys, _ := Visible("outsourcing_review", "periodic_report")
	keys[0] = "audit_summary"
	_ = append(keys[:1], "selection_flags")
	if Shows("outsourcing_review", "periodic_report", "audit_summary") || Shows("outsourcing_review", "periodic_report", "selection_flags") {
		t.Fatal("changing Visible's answer changed the table")
	}
}

// TestViewsAreWellFormed: each view names only keys its kind's request has, and says why,
// citing a clause.
func TestViewsAreWellFormed(t *testing.T) {
	all := map[string][]string{
		"exception": exceptionKeys, "incident": incidentKeys, "outsourcing_review": outsourcingKeys,
		"cloud_assessment": cloudKeys, "offboarding": offboardingKeys, "reconciliation": {SummaryKey, "unused_days"},
		"inspection": inspectionKeys,
	}
	for kind, steps := range views {
		keys, ok := all[kind]
		if !ok {
			t.Errorf("kind %q: not a kind of process", kind)
		}
		for step, v := range steps {
			if !strings.Contains(v.Why, "§") {
				t.Errorf("%s/%s: the reason %q cites no clause", kind, step, v.Why)
			}
			for _, k := range v.Keys {
				if !slices.Contains(keys, k) {
					t.Errorf("%s/%s: %q is not a key of the %s request", kind, step, k, kind)
				}
			}
		}
	}
}

// workflowKinds names the process that each workflow file runs.
var workflowKinds = map[string]string{
	"exception.go":      "exception",
	"incident.go":       "incident",
	"outsourcing.go":    "outsourcing_review",
	"cloud.go":          "cloud_assessment",
	"offboarding.go":    "offboarding",
	"reconciliation.go": "reconciliation",
	"inspection.go":     "inspection",
}

// TestEveryWorkflowStepIsDeclared reads the workflows' source: every Step literal's Name
// must be declared for its process, and every declared step must exist. A Name that is not a
// string literal must be one of the expressions below, whose values the test knows; a new
// one fails until it is added here and to the table.
func TestEveryWorkflowStepIsDeclared(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join("..", "workflows", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflow sources: %v", err)
	}
	var planNames []string
	for _, s := range PlanSteps() {
		planNames = append(planNames, s.Name)
	}
	maxMeasures := 0
	found := map[string][]string{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		if n, ok := intConst(f, "MaxMeasures"); ok {
			maxMeasures = n
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok || !isStepType(lit.Type) {
				return true
			}
			for _, e := range lit.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok || fmt.Sprint(kv.Key) != "Name" {
					continue
				}
				kind, ok := workflowKinds[name]
				if !ok {
					t.Errorf("%s: a Step in a file that runs no known process: add it to workflowKinds", fset.Position(kv.Pos()))
					continue
				}
				expr := source(fset, kv.Value)
				if s, ok := kv.Value.(*ast.BasicLit); ok && s.Kind == token.STRING {
					v, _ := strconv.Unquote(s.Value)
					found[kind] = append(found[kind], v)
					continue
				}
				switch {
				case name == "incident.go" && expr == "s.Name": // planStep: the plan's steps
					found[kind] = append(found[kind], planNames...)
				case name == "incident.go" && expr == `fmt.Sprintf("measure_%d", n)`:
					found[kind] = append(found[kind], "measure_%d") // expanded below
				default:
					t.Errorf("%s: step name %s is not a string literal: say here what it yields, and declare it in needtoknow.go",
						fset.Position(kv.Pos()), expr)
				}
			}
			return true
		})
	}
	if maxMeasures == 0 {
		t.Fatal("workflows.MaxMeasures not found")
	}
	for kind, names := range found {
		if i := slices.Index(names, "measure_%d"); i >= 0 {
			names = slices.Delete(names, i, i+1)
			for n := 1; n <= maxMeasures; n++ {
				names = append(names, fmt.Sprintf("measure_%d", n))
			}
			found[kind] = names
		}
	}
	for kind := range workflowKinds {
		if len(found[workflowKinds[kind]]) == 0 {
			t.Errorf("no steps found for %s: has the Step type changed? The test must find them", kind)
		}
	}
	for kind, names := range found {
		for _, step := range names {
			if _, ok := Visible(kind, step); !ok {
				t.Errorf("%s step %q is not declared in policy/needtoknow.go: its page would show nothing of the request", kind, step)
			}
		}
	}
	for kind, steps := range DeclaredSteps() {
		for _, step := range steps {
			if !slices.Contains(found[kind], step) {
				t.Errorf("%s step %q is declared but no workflow asks it", kind, step)
			}
		}
	}
}

func isStepType(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name == "Step"
	case *ast.SelectorExpr:
		return x.Sel.Name == "Step"
	}
	return false
}

func source(fset *token.FileSet, e ast.Expr) string {
	var b strings.Builder
	_ = printer.Fprint(&b, fset, e)
	return b.String()
}

// intConst finds the integer constant name declared in f.
func intConst(f *ast.File, name string) (int, bool) {
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if id.Name != name || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.INT {
					n, err := strconv.Atoi(lit.Value)
					return n, err == nil
				}
			}
		}
	}
	return 0, false
}
