package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/policyflow/policyflow/policy"
)

// changeTimings is the workflow.GetVersion change under which a process that its starter
// gave no timing (every process the API, the bulk batch, the reconciliation Schedule or
// another process starts) copies the town's deadlines and periods when it starts
// (policy.Timings: POLICYFLOW_TIMINGS, or the embedded policy/timings.json), runs under that
// copy to its end, and carries it into the runs it continues as new; its timeline names the
// version (issue 14). A changed file, or a changed default in the code, applies to processes
// started after it only. Processes started before the change replay as they ran: on the
// Default*Timing of the code.
const changeTimings = "timings-copy"

// timingsCopy is a process's copy of the town's timings while it is being taken.
type timingsCopy struct {
	// f is the copy being taken; nil when none is (a timing was given, or legacy).
	f workflow.Future
	// legacy is set for a process started before changeTimings with no timing given.
	legacy bool
}

// copyTimings starts taking the copy of the town's timings when the starter gave none. It
// does not wait for it, so that a workflow registers its Update handlers before it does
// (see begin); timingOf waits. continued is set on a run continued as new: one that carries
// no timing was continued from a process started before changeTimings, and keeps running on
// the code's defaults as that process did.
func (p *process) copyTimings(ctx workflow.Context, given, continued bool) timingsCopy {
	switch {
	case given:
		return timingsCopy{}
	case continued:
		return timingsCopy{legacy: true}
	}
	if workflow.GetVersion(ctx, changeTimings, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return timingsCopy{legacy: true}
	}
	return timingsCopy{f: p.exec(ctx, "Copy the town's deadlines and periods (POLICYFLOW_TIMINGS) for "+p.kind, acts.CurrentTimings, p.kind)}
}

// timingOf returns the timing the process runs under and whether it is the town's copy: the
// copy c took, converted by part; before changeTimings, legacy; or the timing given.
func timingOf[T any](ctx workflow.Context, p *process, c timingsCopy, given, legacy T, part func(policy.Timings) T) (T, bool, error) {
	switch {
	case c.legacy:
		return legacy, false, nil
	case c.f == nil:
		return given, false, nil
	}
	var t policy.Timings
	if err := c.f.Get(ctx, &t); err != nil {
		return given, false, err
	}
	if err := p.note(ctx, p.id+"/timings", fmt.Sprintf("runs under the town's deadlines and periods version %q, copied at its start (POLICYFLOW_TIMINGS)", t.Version)); err != nil {
		return given, false, err
	}
	return part(t), true, nil
}

// deadline is a timings file's period as the task engine counts it.
func deadline(p policy.Period) Deadline {
	return Deadline{BusinessDays: p.BusinessDays, Clock: time.Duration(p.Clock)}
}

func durations(ds []policy.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = time.Duration(d)
	}
	return out
}

// exceptionTiming is the exception's part of the town's timings.
func exceptionTiming(t policy.Timings) ExceptionTiming {
	e := t.Exception
	return ExceptionTiming{
		Review: deadline(e.Review), ReviewGrace: deadline(e.ReviewGrace),
		Revision: deadline(e.Revision), RevisionGrace: deadline(e.RevisionGrace),
		Ratify: deadline(e.Ratify), RatifyGrace: deadline(e.RatifyGrace),
		Restore: deadline(e.Restore), RestoreGrace: deadline(e.RestoreGrace),
		RemindBefore:   durations(e.RemindBefore),
		RenewalNotice:  time.Duration(e.RenewalNotice),
		KeepUnratified: e.Unratified == policy.UnratifiedInEffect,
	}
}

// outsourcingTiming is the outsourcing contract's part of the town's timings.
func outsourcingTiming(t policy.Timings) OutsourcingTiming {
	o := t.Outsourcing
	return OutsourcingTiming{
		Selection: deadline(o.Selection), SelectionGrace: deadline(o.SelectionGrace),
		Review: deadline(o.Review), ReviewGrace: deadline(o.ReviewGrace),
		Revision: deadline(o.Revision), RevisionGrace: deadline(o.RevisionGrace),
		GISO:     deadline(o.GISO),
		Approval: deadline(o.Approval), ApprovalGrace: deadline(o.ApprovalGrace),
		Briefing: deadline(o.Briefing), BriefingGrace: deadline(o.BriefingGrace),
		Report: deadline(o.Report), ReportGrace: deadline(o.ReportGrace),
		Renewal: deadline(o.Renewal), RenewalGrace: deadline(o.RenewalGrace),
		Disposal: deadline(o.Disposal), DisposalGrace: deadline(o.DisposalGrace),
		RemindBefore:  durations(o.RemindBefore),
		MaxRounds:     o.MaxRounds,
		CertNotice:    time.Duration(o.CertNotice),
		ReportsPerRun: o.ReportsPerRun,
	}
}

// cloudTiming is the cloud service's part of the town's timings.
func cloudTiming(t policy.Timings) CloudTiming {
	c := t.Cloud
	return CloudTiming{
		Assess: deadline(c.Assess), AssessGrace: deadline(c.AssessGrace),
		Approve: deadline(c.Approve), ApproveGrace: deadline(c.ApproveGrace),
		Renew: deadline(c.Renew), RenewGrace: deadline(c.RenewGrace),
		Exit: deadline(c.Exit), ExitGrace: deadline(c.ExitGrace),
		RemindBefore:  durations(c.RemindBefore),
		RenewalNotice: time.Duration(c.RenewalNotice),
	}
}

// offboardingTiming is the offboarding's part of the town's timings.
func offboardingTiming(t policy.Timings) OffboardingTiming {
	o := t.Offboarding
	return OffboardingTiming{
		Disable: deadline(o.Disable), DisableGrace: deadline(o.DisableGrace),
		Rotate: deadline(o.Rotate), RotateGrace: deadline(o.RotateGrace),
		Assets: deadline(o.Assets), AssetsGrace: deadline(o.AssetsGrace),
		Secrecy:      deadline(o.Secrecy),
		RemindBefore: durations(o.RemindBefore),
		Rounds:       o.Rounds,
	}
}

// reconciliationTiming is the reconciliation's part of the town's timings.
func reconciliationTiming(t policy.Timings) ReconciliationTiming {
	r := t.Reconciliation
	return ReconciliationTiming{
		Review: deadline(r.Review), ReviewGrace: deadline(r.ReviewGrace),
		RemindBefore: durations(r.RemindBefore),
	}
}
