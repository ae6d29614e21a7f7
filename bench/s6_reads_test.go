package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/policyflow/policyflow/models"
)

// readStats is one endpoint's latencies and failures in one load phase.
type readStats struct {
	lat    []time.Duration
	errors int
	sample string // the first error seen
}

// readLoad is scenario 6: 100 concurrent clients alternating GET /api/v1/processes/{id} and
// GET /api/v1/processes?… for 20 s, against the register as the earlier scenarios left it.
// The same load runs against other API servers on the same database (GORM's PrepareStmt and
// SkipDefaultTransaction; connection pools of other sizes), the configurations in turn,
// twice, so all see the same neighbours. Each phase records the CPU time of MariaDB and of
// this process and MariaDB's status counters per request.
func (s *system) readLoad(b *testing.B) *scenarioResult {
	res := &scenarioResult{}
	ctx := context.Background()
	// The register as the earlier scenarios left it, topped up to 10,000 processes with
	// rows written straight into it when scenarios were skipped.
	var count int64
	if err := s.store.DB.WithContext(ctx).Model(&models.Process{}).Count(&count).Error; err != nil {
		b.Fatalf("scenario 6: %v", err)
	}
	if want := int64(scaled(10000, 100)); count < want {
		progress("  topping the register up from %d to %d processes (rows written directly)", count, want)
		if err := s.seedRegister(ctx, int(want-count)); err != nil {
			b.Fatalf("scenario 6: seeding: %v", err)
		}
		if strings.HasPrefix(s.dbURL, "mysql://") {
			// 10,000 rows written in seconds leave InnoDB's statistics behind (it refreshes
			// them in the background), and the optimizer then sorts the whole table for the
			// unfiltered list instead of reading idx_process_list; a register that grew over
			// months has them up to date.
			if err := s.store.DB.WithContext(ctx).Exec("ANALYZE TABLE processes, tasks, decisions, notifications, process_events").Error; err != nil {
				b.Fatalf("scenario 6: analyze: %v", err)
			}
		}
		res.note("The register held %d processes after the earlier scenarios; %d more process rows (mixed kinds, statuses and ten departments, created over the past year, each with 1-5 tasks, their decisions, mails and timeline) were written directly to reach %d.", count, want-count, want)
	}
	var ids []string
	if err := s.store.DB.WithContext(ctx).Model(&models.Process{}).Pluck("id", &ids).Error; err != nil || len(ids) == 0 {
		b.Fatalf("scenario 6: no processes to read: %v", err)
	}
	var lists []string
	for _, lc := range listCases() {
		lists = append(lists, lc.Path)
	}
	res.note("The register: %s.", s.registerShape(ctx))
	plans := s.explainLists(ctx)
	res.note("Each list request alone, and the plan of its queries:\n\n%s", plans)
	progress("  list requests alone:\n%s", plans)
	if detail := s.explainDetail(ctx, ids); detail != "" {
		res.note("The queries of `GET /processes/{id}` (`models.ProcessDetail`) for a process with tasks, decisions and mails, and their plans:\n\n%s", detail)
		progress("  detail queries:\n%s", detail)
	}
	variants, closeAll, err := s.readVariants()
	if err != nil {
		b.Fatalf("scenario 6: %v", err)
	}
	defer closeAll()

	const clients = 100
	half := settings().ReadFor / 2
	progress("  %d processes in the register; %d clients, %v per phase, %d configurations in turn, twice", len(ids), clients, half, len(variants))

	// The service time with one client: what a request costs without queueing.
	one, oneCost := s.costed(ctx, func() [2]*readStats { return s.readPhase(s.url, ids, lists, 1, 3*time.Second, "") })
	progress("  1 client: detail %s; list %s\n    %s", pcts(one[0].lat), pcts(one[1].lat), oneCost)

	stats := make([][2]*readStats, len(variants))
	for v := range stats {
		stats[v] = [2]*readStats{{}, {}}
	}
	costs := make([][]phaseCost, len(variants))
	cpuProfile := filepath.Join(profileDir(), "s6-cpu.pprof")
	for round := range 2 {
		for v, vr := range variants {
			prof := ""
			if round == 0 && v == 0 {
				prof = cpuProfile
			}
			p, cost := s.costed(ctx, func() [2]*readStats { return s.readPhase(vr.url, ids, lists, clients, half, prof) })
			costs[v] = append(costs[v], cost)
			for i := range p {
				stats[v][i].lat = append(stats[v][i].lat, p[i].lat...)
				stats[v][i].errors += p[i].errors
				if stats[v][i].sample == "" {
					stats[v][i].sample = p[i].sample
				}
			}
			progress("  %s: detail %s; list %s; errors %d\n    %s", vr.name, pcts(p[0].lat), pcts(p[1].lat), p[0].errors+p[1].errors, cost)
		}
	}

	secs := (2 * half).Seconds()
	names := []string{"GET /api/v1/processes/{id}", "GET /api/v1/processes?…"}
	product := stats[0]
	for i, st := range product {
		p99 := percentile(st.lat, 99)
		res.add(fmt.Sprintf("%s, %d clients, %v", names[i], clients, 2*half), fmt.Sprintf("%s; %.0f req/s; %d errors", pcts(st.lat), float64(len(st.lat))/secs, st.errors),
			"p99 < 20 ms, 0 errors", verdict(p99 < 20*time.Millisecond && st.errors == 0))
		res.metric(fmt.Sprintf("s6_p99_ms_%d", i), float64(p99)/1e6)
	}
	for v := 1; v < len(variants); v++ {
		for i, st := range stats[v] {
			res.add(fmt.Sprintf("same, %s: %s", variants[v].name, strings.Fields(names[i])[1]), fmt.Sprintf("%s; %.0f req/s; %d errors", pcts(st.lat), float64(len(st.lat))/secs, st.errors), "", "")
		}
	}
	for i, st := range one {
		res.add(fmt.Sprintf("%s, 1 client, 3 s (service time)", names[i]), pcts(st.lat), "", "")
	}
	total := float64(len(product[0].lat)+len(product[1].lat)) / secs
	res.note("%d closed-loop clients (each sends its next request when the last is answered, no think time) alternate a process's detail (a random one of the %d processes in the register) and a list (%s, in turn). By Little's law the mean latency is clients ÷ throughput: %d ÷ %.0f req/s = %s, so with 100 clients on %d cores p99 under 20 ms needs well over 5,000 requests/s, that is a request served in less than 0.4 ms of CPU, the load generator's share included. The one-client figures are what a request costs without queueing.",
		clients, len(ids), strings.Join(lists, ", "), clients, total, ms(time.Duration(float64(clients)/total*float64(time.Second))), cores())
	for i, st := range product {
		if st.errors > 0 {
			res.note("Errors on %s: %d, e.g. %s", names[i], st.errors, st.sample)
		}
	}
	var lines []string
	for v, vr := range variants {
		lines = append(lines, fmt.Sprintf("- **%s** (%s): detail p50 %s, p99 %s; list p50 %s, p99 %s; %.0f requests/s in all.", vr.name, vr.what,
			ms(percentile(stats[v][0].lat, 50)), ms(percentile(stats[v][0].lat, 99)), ms(percentile(stats[v][1].lat, 50)), ms(percentile(stats[v][1].lat, 99)),
			float64(len(stats[v][0].lat)+len(stats[v][1].lat))/secs))
	}
	costLines := []string{"- product, 1 client: " + oneCost.String()}
	for v, vr := range variants {
		for i, c := range costs[v] {
			costLines = append(costLines, fmt.Sprintf("- %s, phase %d: %s", vr.name, i+1, c))
		}
	}
	res.note("What each phase cost (CPU time of MariaDB and of this process, and MariaDB's `SHOW GLOBAL STATUS` counters, divided by the requests answered):\n\n%s", strings.Join(costLines, "\n"))
	res.note("Database access tuning, each configuration behind its own API server on the same database with the same pool, the phases in turn (%v each, twice) so all see the same neighbours:\n\n%s", half, strings.Join(lines, "\n"))
	if top := pprofTop(cpuProfile); top != "" {
		res.note("CPU profile of the process (API, worker and load generator) during the first phase of the product configuration (`go tool pprof -top`, profile in %s):\n\n```\n%s\n```", profileDir(), top)
	}
	return res
}

// readPhase runs n clients against base for d (after a 1 s warm-up that is not counted) and
// returns the detail and list statistics. With prof, it records a CPU profile meanwhile.
func (s *system) readPhase(base string, ids, lists []string, n int, d time.Duration, prof string) [2]*readStats {
	warm := time.Now().Add(time.Second)
	end := warm.Add(d)
	var mu sync.Mutex
	out := [2]*readStats{{}, {}}
	var wg sync.WaitGroup
	profiling := false
	for c := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), uint64(time.Now().UnixNano())))
			var local [2]readStats
			for i := 0; ; i++ {
				now := time.Now()
				if now.After(end) {
					break
				}
				kind := (i + c) % 2
				path := "/api/v1/processes/" + ids[rng.IntN(len(ids))]
				if kind == 1 {
					path = lists[rng.IntN(len(lists))]
				}
				req, _ := http.NewRequest(http.MethodGet, base+path, nil)
				req.Header.Set("Authorization", "Bearer "+s.tokens["auditor"])
				t := time.Now()
				r, err := do(req)
				took := time.Since(t)
				if t.Before(warm) {
					continue
				}
				local[kind].lat = append(local[kind].lat, took)
				if err != nil || r.Status != http.StatusOK {
					local[kind].errors++
					if local[kind].sample == "" {
						local[kind].sample = fmt.Sprintf("%s: %v %s", path, err, r)
					}
				}
			}
			mu.Lock()
			for k := range out {
				out[k].lat = append(out[k].lat, local[k].lat...)
				out[k].errors += local[k].errors
				if out[k].sample == "" {
					out[k].sample = local[k].sample
				}
			}
			mu.Unlock()
		}()
	}
	if prof != "" {
		time.Sleep(time.Until(warm))
		if f, err := os.Create(prof); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				profiling = true
			}
			defer f.Close()
		}
	}
	wg.Wait()
	if profiling {
		pprof.StopCPUProfile()
	}
	return out
}

// readVariant is an API server over the register with one way of reaching the database.
type readVariant struct {
	name, what, url string
}

// tunedStore opens the register like models.Open (a pool of the same size), with GORM
// options set by gormCfg and, on MySQL/MariaDB, the driver's interpolateParams set to
// interpolate.
func (s *system) tunedStore(interpolate bool, gormCfg func(*gorm.Config)) (*models.Store, func(), error) {
	return s.tunedStorePool(interpolate, s.productPool(), gormCfg)
}

// tunedStorePool is tunedStore with a pool of pool connections, all kept idle.
func (s *system) tunedStorePool(interpolate bool, pool int, gormCfg func(*gorm.Config)) (*models.Store, func(), error) {
	cfg := &gorm.Config{Logger: logger.Discard, TranslateError: true, NowFunc: func() time.Time { return time.Now().UTC() }}
	if gormCfg != nil {
		gormCfg(cfg)
	}
	var dialector gorm.Dialector
	mysqlDB := strings.HasPrefix(s.dbURL, "mysql://")
	if mysqlDB {
		d, err := models.MySQLDSN(s.dbURL)
		if err != nil {
			return nil, nil, err
		}
		c, err := mysqldriver.ParseDSN(d)
		if err != nil {
			return nil, nil, err
		}
		c.InterpolateParams = interpolate
		dialector = mysql.Open(c.FormatDSN())
	} else {
		dialector = sqlite.Open(strings.TrimPrefix(s.dbURL, "sqlite://") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)")
	}
	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, nil, err
	}
	if mysqlDB {
		sqlDB.SetMaxOpenConns(pool)
		sqlDB.SetMaxIdleConns(pool)
		sqlDB.SetConnMaxLifetime(5 * time.Minute)
	} else {
		sqlDB.SetMaxOpenConns(1)
	}
	return &models.Store{DB: db}, func() { _ = sqlDB.Close() }, nil
}

// productInterpolates reports whether models.Open sets the driver's interpolateParams.
func (s *system) productInterpolates() bool {
	d, err := models.MySQLDSN(s.dbURL)
	if err != nil {
		return false
	}
	c, err := mysqldriver.ParseDSN(d)
	return err == nil && c.InterpolateParams
}

// productPool is the size of the product's connection pool (models.Open's).
func (s *system) productPool() int {
	sqlDB, err := s.store.DB.DB()
	if err != nil {
		return 0
	}
	return sqlDB.Stats().MaxOpenConnections
}

// readVariants are the product's API server and more over the same database: GORM's
// PrepareStmt with SkipDefaultTransaction, and, on MySQL/MariaDB, the driver's client-side
// interpolation of parameters off (the driver's default: every query with arguments is a
// prepare, an execute and a close on the server) and connection pools of other sizes.
func (s *system) readVariants() ([]readVariant, func(), error) {
	pool := s.productPool()
	out := []readVariant{{name: "product", what: "models.Open as it is", url: s.url}}
	if strings.HasPrefix(s.dbURL, "mysql://") {
		out[0].what += fmt.Sprintf(" (interpolateParams=%v, pool of %d)", s.productInterpolates(), pool)
	}
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	add := func(name, what string, interpolate bool, pool int, gormCfg func(*gorm.Config)) error {
		st, closeStore, err := s.tunedStorePool(interpolate, pool, gormCfg)
		if err != nil {
			return err
		}
		srv := httptest.NewServer(s.newAPI(st).Handler())
		closers = append(closers, func() { srv.Close(); closeStore() })
		out = append(out, readVariant{name: name, what: what, url: srv.URL})
		return nil
	}
	prepare := func(c *gorm.Config) { c.PrepareStmt, c.SkipDefaultTransaction = true, true }
	if !strings.HasPrefix(s.dbURL, "mysql://") {
		err := add("GORM PrepareStmt + SkipDefaultTransaction", "gorm.Config{PrepareStmt: true, SkipDefaultTransaction: true}", false, pool, prepare)
		return out, closeAll, err
	}
	interpolate := s.productInterpolates()
	type variant struct {
		name, what  string
		interpolate bool
		pool        int
		cfg         func(*gorm.Config)
	}
	vs := []variant{
		{"GORM PrepareStmt + SkipDefaultTransaction", "gorm.Config{PrepareStmt: true, SkipDefaultTransaction: true}, interpolateParams=false", false, pool, prepare},
	}
	if !interpolate {
		vs = append(vs, variant{"client-side interpolation", "interpolateParams=true: one round trip per query, nothing prepared", true, pool, nil})
	}
	for _, n := range []int{4, 8, 20} {
		if n != pool {
			vs = append(vs, variant{fmt.Sprintf("pool of %d", n), fmt.Sprintf("the product's settings with a pool of %d connections", n), interpolate, n, nil})
		}
	}
	for _, v := range vs {
		if err := add(v.name, v.what, v.interpolate, v.pool, v.cfg); err != nil {
			return out, closeAll, err
		}
	}
	return out, closeAll, nil
}

// seedRegister writes n processes straight into the register, each with what a real one
// carries to GET /processes/{id}: tasks (1-5), the decisions on those decided, the mails
// (a task mail per task, reminders on some, a notice on some) and the timeline (a stage per
// task and the start). Requesters rotate among the bench directory's people and made-up
// employee IDs, so the list by employee_id matches hundreds of processes, as after the
// earlier scenarios.
func (s *system) seedRegister(ctx context.Context, n int) error {
	kinds := []string{models.KindException, models.KindIncident, models.KindCloudAssessment, models.KindOutsourcingReview, models.KindOffboarding}
	statuses := []string{"pending", "closed", "in_effect", "completed", "cancelled"}
	people := []string{staffID, disoID, ismID, reviewerID, cisoID, gisoID}
	run := time.Now().UnixNano() % 1e9
	var (
		procs     []models.Process
		tasks     []models.Task
		decisions []models.Decision
		mails     []models.Notification
		events    []models.ProcessEvent
	)
	db := s.store.DB.WithContext(ctx).Session(&gorm.Session{CreateBatchSize: 500})
	flush := func() error {
		for _, r := range []struct {
			n    int
			rows any
		}{{len(procs), &procs}, {len(tasks), &tasks}, {len(decisions), &decisions}, {len(mails), &mails}, {len(events), &events}} {
			if r.n == 0 {
				continue
			}
			if err := db.Create(r.rows).Error; err != nil {
				return err
			}
		}
		procs, tasks, decisions, mails, events = procs[:0], tasks[:0], decisions[:0], mails[:0], events[:0]
		return nil
	}
	for i := range n {
		id := fmt.Sprintf("SEED-%d-%06d", run, i)
		dept := deptID
		if i%10 > 0 {
			dept = fmt.Sprintf("dept-%d", i%10)
		}
		requester := fmt.Sprintf("E%05d", i%2000)
		if i%7 < len(people) {
			requester = people[i%7]
		}
		kind := kinds[i%len(kinds)]
		employee := ""
		if kind == models.KindOffboarding {
			employee = fmt.Sprintf("E%05d", (i*7)%2000)
		}
		status := statuses[(i/5)%len(statuses)]
		open := status == "pending" || status == "in_effect"
		at := time.Now().Add(-time.Duration(i%365)*24*time.Hour - time.Duration(i)*time.Second).UTC()
		input := fmt.Sprintf(`{"requester_id":%q,"department_id":%q,"system_id":%q,"reason":"seeded: a request of about the size a person writes, with a reason in a sentence or two","starts_on":"2026-04-01","ends_on":"2026-09-30","measures":["measure one","measure two"]}`, requester, dept, systemID)
		procs = append(procs, models.Process{ID: id, Kind: kind, Status: status, Stage: "seeded",
			WorkflowID: id, DepartmentID: dept, RequesterID: requester, EmployeeID: employee, Summary: "seeded process " + id, Input: input,
			RequestHash: "seed", CreatedAt: at, UpdatedAt: at})
		events = append(events, models.ProcessEvent{ProcessID: id, Key: id + "/start", Status: "pending", Stage: "submitted", Note: "started", At: at})
		nt := 1 + i%5
		for j := range nt {
			tid := fmt.Sprintf("%s/task-%d", id, j)
			assignee := people[(i+j)%len(people)]
			created := at.Add(time.Duration(j) * time.Hour)
			t := models.Task{ID: tid, ProcessID: id, WorkflowID: id, Step: fmt.Sprintf("step_%d", j), TitleJa: "承認してください", TitleEn: "Please approve",
				AssigneeID: assignee, Choices: "approve,reject", Status: models.TaskDecided, DueAt: created.Add(72 * time.Hour), ExpiresAt: created.Add(240 * time.Hour), CreatedAt: created}
			if open && j == nt-1 {
				t.Status = models.TaskOpen
			} else {
				closed := created.Add(30 * time.Minute)
				t.ClosedAt = &closed
				decisions = append(decisions, models.Decision{TaskID: tid, ProcessID: id, Step: t.Step, Choice: "approve", DeciderID: assignee,
					Comment: "looks fine", ClientIP: "192.0.2.10", UserAgent: "Mozilla/5.0 (seeded)", Values: "{}", DecidedAt: closed})
			}
			tasks = append(tasks, t)
			sent := created.Add(time.Second)
			mails = append(mails, models.Notification{Key: tid + "/mail", ProcessID: id, TaskID: tid, Kind: "task", RecipientID: assignee,
				To: strings.ToLower(assignee) + "@bench.example", Subject: "[policyflow] Please approve " + id, Status: models.NotificationSent, Attempts: 1, CreatedAt: created, SentAt: &sent})
			if (i+j)%3 == 0 {
				rem := created.Add(48 * time.Hour)
				mails = append(mails, models.Notification{Key: tid + "/reminder-1", ProcessID: id, TaskID: tid, Kind: "reminder", RecipientID: assignee,
					To: strings.ToLower(assignee) + "@bench.example", Subject: "[policyflow] Reminder " + id, Status: models.NotificationSent, Attempts: 1, CreatedAt: rem, SentAt: &rem})
			}
			events = append(events, models.ProcessEvent{ProcessID: id, Key: tid + "/stage", Status: status, Stage: t.Step, Note: "step " + t.Step, At: created})
		}
		if i%2 == 0 {
			mails = append(mails, models.Notification{Key: id + "/notice", ProcessID: id, Kind: "notice", RecipientID: gisoID,
				To: strings.ToLower(gisoID) + "@bench.example", Subject: "[policyflow] Notice " + id, Status: models.NotificationSent, Attempts: 1, CreatedAt: at})
		}
		if len(procs) == 500 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// registerShape counts the register's processes by kind, status and department.
func (s *system) registerShape(ctx context.Context) string {
	var parts []string
	for _, col := range []string{"kind", "status", "department_id"} {
		var rows []struct {
			V string
			N int
		}
		_ = s.store.DB.WithContext(ctx).Model(&models.Process{}).Select(col + " AS v, COUNT(*) AS n").Group(col).Order("n DESC").Limit(4).Scan(&rows).Error
		var xs []string
		for _, r := range rows {
			xs = append(xs, fmt.Sprintf("%s %d", r.V, r.N))
		}
		parts = append(parts, "by "+col+" (largest): "+strings.Join(xs, ", "))
	}
	return strings.Join(parts, "; ")
}

// statusCounters are the MariaDB status variables that say where a read's work goes: the
// statements, rows read through indexes and by full scans, sorts, temporary tables and new
// connections (a pool that closes idle connections under load reconnects) and reads that
// missed the buffer pool (went to disk).
var statusCounters = []string{"Questions", "Handler_read_key", "Handler_read_next", "Handler_read_prev",
	"Handler_read_rnd_next", "Sort_rows", "Sort_scan", "Sort_range", "Created_tmp_tables", "Select_scan", "Connections", "Threads_created", "Innodb_buffer_pool_reads"}

// dbStatus reads statusCounters (nil on SQLite).
func (s *system) dbStatus(ctx context.Context) map[string]float64 {
	if !strings.HasPrefix(s.dbURL, "mysql://") {
		return nil
	}
	var rows []struct {
		VariableName string `gorm:"column:Variable_name"`
		Value        string `gorm:"column:Value"`
	}
	if err := s.store.DB.WithContext(ctx).Raw("SHOW GLOBAL STATUS WHERE Variable_name IN ?", statusCounters).Scan(&rows).Error; err != nil {
		return nil
	}
	out := map[string]float64{}
	for _, r := range rows {
		var v float64
		_, _ = fmt.Sscan(r.Value, &v)
		out[r.VariableName] = v
	}
	return out
}

// phaseCost is what one load phase cost the database and this process, per request.
type phaseCost struct {
	requests       int
	dbCPU, selfCPU float64 // seconds
	before, after  map[string]float64
}

// costed runs a load phase and accounts its CPU and the database's status counters.
func (s *system) costed(ctx context.Context, phase func() [2]*readStats) ([2]*readStats, phaseCost) {
	c := phaseCost{before: s.dbStatus(ctx)}
	db0, self0 := cpuSeconds(s.pids.db), cpuSeconds(0)
	out := phase()
	c.dbCPU, c.selfCPU = cpuSeconds(s.pids.db)-db0, cpuSeconds(0)-self0
	c.after = s.dbStatus(ctx)
	c.requests = len(out[0].lat) + len(out[1].lat)
	return out, c
}

// String gives the CPU and the counters per request (the warm-up second's requests are not
// counted in requests but are in the CPU, so the figures are a little high).
func (c phaseCost) String() string {
	if c.requests == 0 {
		return "no requests"
	}
	n := float64(c.requests)
	out := fmt.Sprintf("CPU per request: MariaDB %.2f ms, this process %.2f ms", c.dbCPU/n*1000, c.selfCPU/n*1000)
	if c.before == nil || c.after == nil {
		return out
	}
	var xs []string
	for _, k := range statusCounters {
		xs = append(xs, fmt.Sprintf("%s %.1f", k, (c.after[k]-c.before[k])/n))
	}
	return out + "; MariaDB status per request: " + strings.Join(xs, ", ")
}
