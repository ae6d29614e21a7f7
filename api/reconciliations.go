package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/workflows"
)

// startReconciliation answers POST /reconciliations: HR (or an admin) runs the
// reconciliation of every active account against the roster now (§6.2(1)2(ウ)), besides
// the monthly Temporal Schedule.
func (s *Server) startReconciliation(c echo.Context) error {
	var b struct {
		UnusedDays int `json:"unused_days,omitempty"`
	}
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &b); err != nil {
			return err
		}
	}
	f := fieldErrors{}
	f.check(b.UnusedDays >= 0 && b.UnusedDays <= 3650, "unused_days", "must be 1-3650 days (0 or absent: the default, 90)")
	if err := f.err(); err != nil {
		return err
	}
	unused := time.Duration(b.UnusedDays) * 24 * time.Hour
	return s.startProcess(c, startSpec{
		Kind: models.KindReconciliation, Summary: "Reconciliation of every active account against the HR roster (§6.2(1)2(ウ))",
		Details: fmt.Sprintf("**Account reconciliation** (§6.2(1)2(ウ)), started through the API.\n\n- unused after: %d days (0: the default)", b.UnusedDays),
		Input:   b, Workflow: workflows.ReconciliationWorkflow,
		Args: func(h workflows.Header) any { return workflows.ReconciliationInput{Header: h, UnusedAfter: unused} },
	})
}

// putAccountUse answers PUT /systems/{system_id}/accounts/{account_id}/last-use: a system
// reports when an account was last used, for the reconciliation's "unused" finding.
func (s *Server) putAccountUse(c echo.Context) error {
	var b struct {
		LastUsedAt time.Time `json:"last_used_at"`
	}
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	f := fieldErrors{}
	f.check(!b.LastUsedAt.IsZero(), "last_used_at", "is required (RFC 3339)")
	f.check(!b.LastUsedAt.After(s.now().Add(time.Hour)), "last_used_at", "must not be in the future")
	if err := f.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	sysID, accID := c.Param("system_id"), c.Param("account_id")
	if _, err := s.Store.Account(ctx, sysID, accID); errors.Is(err, models.ErrNotFound) {
		return apiError("not_found", "no account "+accID+" on "+sysID)
	} else if err != nil {
		return s.storeErr(err)
	}
	if err := s.Store.PutAccountUse(ctx, models.AccountUse{SystemID: sysID, AccountID: accID, LastUsedAt: b.LastUsedAt.UTC()}); err != nil {
		return s.storeErr(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"system_id": sysID, "account_id": accID, "last_used_at": b.LastUsedAt.In(s.Loc)})
}
