package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/api"
	"github.com/policyflow/policyflow/config"
	"github.com/policyflow/policyflow/models"
)

const tokenUsage = `usage:
  policyflow token create NAME SCOPE[,SCOPE...] [--expires 90d|YYYY-MM-DD]
  policyflow token list
  policyflow token revoke NAME`

// runToken manages API tokens:
//
//   - `token create NAME SCOPES [--expires 90d|2026-12-31]` prints a new token once; only its
//     hash is stored. Creating a token with an existing name replaces it. With --expires it
//     stops working after that many days, or at the end of that date (POLICYFLOW_TIMEZONE).
//   - `token list` shows each token's name, scopes, creation, expiry and revocation, never
//     its hash.
//   - `token revoke NAME` refuses the token from then on.
func runToken(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(tokenUsage)
	}
	var expires string
	rest := make([]string, 0, len(args))
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--expires" || a == "-expires":
			if i+1 == len(args) {
				return errors.New("--expires needs a number of days (90d) or a date (2026-12-31)")
			}
			i++
			expires = args[i]
		case strings.HasPrefix(a, "--expires="):
			expires = strings.TrimPrefix(a, "--expires=")
		default:
			rest = append(rest, a)
		}
	}
	cmd := args[0]
	switch {
	case cmd == "create" && len(rest) == 2:
	case (cmd == "list" && len(rest) == 0) || (cmd == "revoke" && len(rest) == 1):
		if expires != "" {
			return errors.New("--expires goes with token create only\n" + tokenUsage)
		}
	default:
		return errors.New(tokenUsage)
	}
	var scopes []string
	if cmd == "create" {
		scopes = strings.Split(rest[1], ",")
		for _, s := range scopes {
			if !slices.Contains(api.Scopes, s) {
				return fmt.Errorf("unknown scope %q (hr, officer, directory, auditor, admin)", s)
			}
		}
	}
	cfg, err := load(config.Migrate)
	if err != nil {
		return err
	}
	now := time.Now()
	var expiresAt *time.Time
	if expires != "" {
		at, err := parseExpiry(expires, now, cfg.Loc)
		if err != nil {
			return err
		}
		expiresAt = &at
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	switch cmd {
	case "list":
		tokens, err := store.Tokens(ctx)
		if err != nil {
			return err
		}
		return listTokens(out, tokens, now, cfg.Loc)
	case "revoke":
		t, err := store.RevokeToken(ctx, rest[0], now)
		if errors.Is(err, models.ErrNotFound) {
			return fmt.Errorf("no token is named %q (policyflow token list)", rest[0])
		} else if err != nil {
			return err
		}
		fmt.Fprintf(out, "token %q revoked at %s; it is refused from now on\n", t.Name, t.RevokedAt.In(cfg.Loc).Format(tokenTime))
		return nil
	}
	token, hash, err := activities.NewToken()
	if err != nil {
		return err
	}
	if err := store.PutToken(ctx, models.APIToken{Name: rest[0], Hash: hash, Scopes: strings.Join(scopes, ","), ExpiresAt: expiresAt}); err != nil {
		return err
	}
	fmt.Fprintln(out, token)
	return nil
}

// tokenTime is how `token list` shows a moment, in the town's zone.
const tokenTime = "2006-01-02 15:04 MST"

// parseExpiry reads --expires: a number of days from now ("90d"), or a date ("2026-12-31"),
// through the end of which the token works in loc. It must lie in the future.
func parseExpiry(s string, now time.Time, loc *time.Location) (time.Time, error) {
	var at time.Time
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || strconv.Itoa(n) != days {
			return at, fmt.Errorf("--expires %q: want a number of days such as 90d, or a date such as 2026-12-31", s)
		}
		return now.Add(time.Duration(n) * 24 * time.Hour).UTC(), nil
	}
	d, err := time.ParseInLocation("2006-01-02", s, loc)
	if err != nil {
		return at, fmt.Errorf("--expires %q: want a number of days such as 90d, or a date such as 2026-12-31", s)
	}
	at = d.AddDate(0, 0, 1).UTC() // the token works through the date given
	if !at.After(now) {
		return at, fmt.Errorf("--expires %s is in the past", s)
	}
	return at, nil
}

// listTokens writes one line per token: name, scopes, status, created, expires, revoked.
func listTokens(out io.Writer, tokens []models.APIToken, now time.Time, loc *time.Location) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tSCOPES\tSTATUS\tCREATED\tEXPIRES\tREVOKED")
	show := func(at *time.Time) string {
		if at == nil {
			return "-"
		}
		return at.In(loc).Format(tokenTime)
	}
	for _, t := range tokens {
		status := "active"
		switch {
		case t.RevokedAt != nil:
			status = "revoked"
		case !t.ActiveAt(now):
			status = "expired"
		}
		scopes := t.Scopes
		if scopes == "" {
			scopes = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, scopes, status, show(&t.CreatedAt), show(t.ExpiresAt), show(t.RevokedAt))
	}
	return w.Flush()
}
