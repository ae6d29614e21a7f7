package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// RateWindow counts the requests to the residents' public reporting window from one client
// address prefix (an IPv6 /64, an IPv4 address) in one window of time, or from every
// address at once under the prefix "*". The counts live in the database so that several API
// processes behind one load balancer share one limit; a window's rows are deleted soon
// after it ends, so the table holds a few minutes of traffic at most.
type RateWindow struct {
	Prefix string `gorm:"primaryKey;size:64"`
	// Start is the window's start in Unix seconds.
	Start int64 `gorm:"column:window_start;primaryKey;autoIncrement:false;index:idx_rate_window_start"`
	Count int   `gorm:"column:hits;not null"`
}

// CountRate adds one request from prefix to the window starting at start and returns the
// window's count with it. Two processes counting at once both see at least their own
// request, so a limit is never exceeded; at worst one of them is refused a moment early.
func (s *Store) CountRate(ctx context.Context, prefix string, start time.Time) (int, error) {
	w := RateWindow{Prefix: prefix, Start: start.Unix(), Count: 1}
	db := s.DB.WithContext(ctx)
	if err := db.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "prefix"}, {Name: "window_start"}},
		DoUpdates: clause.Assignments(map[string]any{"hits": gorm.Expr("hits + 1")}),
	}).Create(&w).Error; err != nil {
		return 0, fmt.Errorf("count request from %s: %w", prefix, err)
	}
	var n int
	if err := db.Model(&RateWindow{}).Where("prefix = ? AND window_start = ?", prefix, w.Start).Select("hits").Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("read count of %s: %w", prefix, err)
	}
	return n, nil
}

// ForgetRates deletes the windows that started before before.
func (s *Store) ForgetRates(ctx context.Context, before time.Time) error {
	if err := s.DB.WithContext(ctx).Where("window_start < ?", before.Unix()).Delete(&RateWindow{}).Error; err != nil {
		return fmt.Errorf("forget rate windows: %w", err)
	}
	return nil
}

// rateWindows is migration step 6: the shared counters of the public reporting window.
// Re-runnable.
func rateWindows(tx *gorm.DB) error {
	if tx.Migrator().HasTable(&RateWindow{}) {
		return nil
	}
	return tx.Migrator().CreateTable(&RateWindow{})
}
