package workflows

// SignForTest signs a decision as the API does, for this package's own tests: package proof
// imports this one, so they cannot use it. The workflows_test package sets it, together with
// the decision verifier, to a test keyring (harness_test.go).
var SignForTest = func(req DecideRequest) DecideRequest { return req }
