package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/policyflow/policyflow/models"
)

// sqlCapture is a GORM logger that keeps the SQL of each statement (values inlined).
type sqlCapture struct {
	logger.Interface
	mu  sync.Mutex
	sql []string
}

func (c *sqlCapture) LogMode(logger.LogLevel) logger.Interface { return c }

func (c *sqlCapture) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	s, _ := fc()
	c.mu.Lock()
	c.sql = append(c.sql, s)
	c.mu.Unlock()
}

// listCase is one list request of scenario 6 and the filter the API makes of it.
type listCase struct {
	Path   string
	Filter models.ProcessFilter
}

func listCases() []listCase {
	return []listCase{
		{"/api/v1/processes?limit=50", models.ProcessFilter{Limit: 50}},
		{"/api/v1/processes?kind=exception&limit=50", models.ProcessFilter{Kind: models.KindException, Limit: 50}},
		{"/api/v1/processes?kind=exception&status=pending&limit=50", models.ProcessFilter{Kind: models.KindException, Status: "pending", Limit: 50}},
		{"/api/v1/processes?department=" + deptID + "&limit=50", models.ProcessFilter{Department: deptID, Limit: 50}},
		{"/api/v1/processes?employee_id=" + disoID + "&limit=20", models.ProcessFilter{EmployeeID: disoID, Limit: 20}},
	}
}

// explainLists times each list request alone (one client, 20 requests) and, on MySQL or
// MariaDB, shows the plan of the query models.ListProcesses sends for it.
func (s *system) explainLists(ctx context.Context) string {
	var b strings.Builder
	for _, lc := range listCases() {
		var lat []time.Duration
		for range 20 {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+lc.Path, nil)
			req.Header.Set("Authorization", "Bearer "+s.tokens["auditor"])
			t := time.Now()
			if r, err := do(req); err == nil && r.Status == http.StatusOK {
				lat = append(lat, time.Since(t))
			}
		}
		fmt.Fprintf(&b, "- `%s`: one client, %s", lc.Path, pcts(lat))
		if !strings.HasPrefix(s.dbURL, "mysql://") {
			b.WriteString("\n")
			continue
		}
		capture := &sqlCapture{Interface: logger.Discard}
		st := &models.Store{DB: s.store.DB.Session(&gorm.Session{Logger: capture})}
		if _, err := st.ListProcesses(ctx, lc.Filter); err != nil || len(capture.sql) == 0 {
			b.WriteString("\n")
			continue
		}
		var plans []string
		for _, q := range capture.sql {
			plans = append(plans, explain(ctx, s.store, q))
		}
		fmt.Fprintf(&b, "; plan: %s\n", strings.Join(plans, " | "))
	}
	return b.String()
}

// explainDetail shows, on MySQL or MariaDB, each query models.ProcessDetail sends for a
// process of ids that has decisions, and its plan.
func (s *system) explainDetail(ctx context.Context, ids []string) string {
	if !strings.HasPrefix(s.dbURL, "mysql://") {
		return ""
	}
	var id string
	if err := s.store.DB.WithContext(ctx).Model(&models.Decision{}).Select("process_id").Order("id DESC").Limit(1).Scan(&id).Error; err != nil || id == "" {
		if len(ids) == 0 {
			return ""
		}
		id = ids[0]
	}
	capture := &sqlCapture{Interface: logger.Discard}
	st := &models.Store{DB: s.store.DB.Session(&gorm.Session{Logger: capture})}
	if _, err := st.ProcessDetail(ctx, id); err != nil {
		return "(ProcessDetail: " + err.Error() + ")"
	}
	var b strings.Builder
	for _, q := range capture.sql {
		fmt.Fprintf(&b, "- `%s`: %s\n", q, explain(ctx, s.store, q))
	}
	return b.String()
}

// explain summarises MySQL's EXPLAIN of a query: per table, the access type, the key, the
// rows examined and the extra notes (a filesort is the sign of a missing index).
func explain(ctx context.Context, store *models.Store, query string) string {
	rows, err := store.DB.WithContext(ctx).Raw("EXPLAIN " + query).Rows()
	if err != nil {
		return "(EXPLAIN failed: " + err.Error() + ")"
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var parts []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "(EXPLAIN: " + err.Error() + ")"
		}
		get := func(name string) string {
			for i, c := range cols {
				if strings.EqualFold(c, name) && vals[i].Valid {
					return vals[i].String
				}
			}
			return "-"
		}
		parts = append(parts, fmt.Sprintf("type `%s`, key `%s`, rows %s, %s", get("type"), get("key"), get("rows"), get("Extra")))
	}
	return strings.Join(parts, "; ")
}
