package offboarding

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/policyflow/policyflow/models"
)

// itemWorkers is how many items of a batch are started at a time (the register's and
// Temporal's round trips overlap; more would only queue on the two cores).
const itemWorkers = 8

// RunItems starts the items of a bulk batch, itemWorkers at a time, each with exactly the
// checks and start of one offboarding (Start), and records each one's result in the
// register: started, existing (it repeats one that exists) or rejected with the error.
//
// An outage (the register or Temporal unreachable) is handled as the caller says. With
// keepPending (the batch workflow's activity, which Temporal retries) the item stays pending
// and RunItems returns the first outage once the others are settled: the retry takes up the
// pending items again, and since a start is idempotent on (employee_id, effective_date), an
// item whose start went through but whose result could not be recorded is found as existing,
// never started twice. Without it (a batch answered in the request, which cannot wait) the
// item is recorded as rejected with code unavailable, and HR resends it.
//
// done, when not nil, is called after each recorded item (the activity heartbeats there).
func (s *Starter) RunItems(ctx context.Context, items []models.OffboardingBatchItem, keepPending bool, done func()) error {
	work := make(chan models.OffboardingBatchItem)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		outage error
	)
	for range min(itemWorkers, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				err := s.runItem(ctx, it, keepPending)
				mu.Lock()
				if err != nil && outage == nil {
					outage = err
				}
				mu.Unlock()
				if err == nil && done != nil {
					done()
				}
			}
		}()
	}
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		work <- it
	}
	close(work)
	wg.Wait()
	if outage == nil {
		outage = ctx.Err()
	}
	return outage
}

// runItem starts one item and records its result; it returns an outage it did not record.
func (s *Starter) runItem(ctx context.Context, it models.OffboardingBatchItem, keepPending bool) error {
	var b Body
	var r Started
	var err error
	dec := json.NewDecoder(strings.NewReader(it.Body))
	dec.DisallowUnknownFields()
	if derr := dec.Decode(&b); derr != nil {
		err = reject(400, "bad_request", "malformed item: "+DescribeJSONError(derr), nil)
	} else {
		ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
		r, err = s.Start(ictx, b)
		cancel()
	}
	var rej *Rejection
	switch {
	case errors.As(err, &rej):
		it.Result, it.ErrorCode, it.ErrorMessage = models.ItemRejected, rej.Code, truncate(rej.Message, 500)
		if len(rej.Fields) > 0 {
			f, _ := json.Marshal(rej.Fields)
			it.ErrorFields = string(f)
		}
	case err != nil && keepPending:
		return err
	case err != nil:
		s.Log.Warn("bulk item not started", "batch", it.BatchID, "seq", it.Seq, "err", err)
		it.Result, it.ErrorCode = models.ItemRejected, "unavailable"
		it.ErrorMessage = "a service policyflow depends on is unreachable; try again later"
	case !r.Created:
		it.Result, it.ProcessID = models.ItemExisting, r.ID
	default:
		it.Result, it.ProcessID = models.ItemStarted, r.ID
	}
	// The result is recorded even when the caller has gone (the start happened).
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.Store.SetBatchItem(rctx, it); err != nil {
		s.Log.Error("record batch item", "batch", it.BatchID, "seq", it.Seq, "err", err)
		if keepPending {
			return err
		}
	}
	return nil
}

// truncate cuts s to at most n bytes, on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
