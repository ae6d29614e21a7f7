package workflows

// The conversions of the town's timings, for the workflows_test package's tests.
var (
	ExceptionTimingOf      = exceptionTiming
	OutsourcingTimingOf    = outsourcingTiming
	CloudTimingOf          = cloudTiming
	OffboardingTimingOf    = offboardingTiming
	ReconciliationTimingOf = reconciliationTiming
)

// IncidentTimingOf is the plan's deadlines as an incident runs them.
var IncidentTimingOf = incidentTiming
