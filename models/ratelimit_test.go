package models_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/policyflow/policyflow/models"
)

// Counting is atomic on both databases: concurrent requests from one prefix each count once,
// windows and prefixes are apart, and old windows are forgotten.
func TestCountRate(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		w := time.Unix(1_800_000_000, 0).Truncate(time.Minute)
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.CountRate(ctx, "2001:db8:1:2::/64", w); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n, err := s.CountRate(ctx, "2001:db8:1:2::/64", w); err != nil || n != 21 {
			t.Errorf("after 20 concurrent counts: %d, %v; want 21", n, err)
		}
		if n, _ := s.CountRate(ctx, "2001:db8:1:2::/64", w.Add(time.Minute)); n != 1 {
			t.Errorf("the next window starts at %d", n)
		}
		if n, _ := s.CountRate(ctx, "*", w); n != 1 {
			t.Errorf("another prefix starts at %d", n)
		}
		if err := s.ForgetRates(ctx, w.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.CountRate(ctx, "2001:db8:1:2::/64", w); n != 1 {
			t.Errorf("a forgotten window counts on from %d", n)
		}
	})
}
