package report_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/policyflow/policyflow/internal/testenv"
	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
	"github.com/policyflow/policyflow/report"
)

// TestMain starts MariaDB only when benchmarks run: the tests use SQLite and start nothing.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run())
	}
	os.Exit(testenv.Main(m, testenv.NeedMariaDB))
}

// databases runs a benchmark on a fresh SQLite and a fresh MariaDB register.
func databases(b *testing.B, f func(b *testing.B, s *models.Store)) {
	for _, name := range []string{"sqlite", "mariadb"} {
		b.Run(name, func(b *testing.B) {
			if name == "sqlite" {
				f(b, open(b))
				return
			}
			s, err := models.Open("mysql://" + testenv.MariaDB(b))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			if err := s.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			f(b, s)
		})
	}
}

// seedScale fills a register with n processes of fiscal year 2026: half exceptions, a
// quarter incidents (four hops each), a fifth offboardings (three accounts each), the rest
// vendors and cloud services. With exceptionsOnly every process is an exception.
func seedScale(b *testing.B, s *models.Store, n int, exceptionsOnly bool) {
	seedRange(b, s, 0, n, exceptionsOnly)
	if !exceptionsOnly {
		seedInspectionScale(b, s, 120, 30)
	}
}

// seedInspectionScale adds the year's self-inspection (§9.1) of a large town: systems and
// departments, each answering the default checklist, one item in seven not kept with its
// measure (open, done or overdue in turn), one in eleven not applicable.
func seedInspectionScale(b *testing.B, s *models.Store, systems, depts int) {
	b.Helper()
	const id = "INS-FY2026"
	checklist := policy.DefaultChecklist()
	if err := s.DB.Create(&models.Process{ID: id, Kind: models.KindInspection, Status: "completed", Stage: "closed", WorkflowID: id,
		DepartmentID: "soumu", CreatedAt: jst("2026-10-01 09:00")}).Error; err != nil {
		b.Fatal(err)
	}
	var targets []models.InspectionTarget
	var answers []models.InspectionAnswer
	add := func(kind, target, dept string) {
		targets = append(targets, models.InspectionTarget{ProcessID: id, Kind: kind, TargetID: target, DepartmentID: dept,
			InspectorRole: "ism", InspectorID: "I-" + target, Status: models.InspectionInspected})
		for _, it := range checklist.For(kind) {
			a := models.InspectionAnswer{ProcessID: id, TargetKind: kind, TargetID: target, ItemID: it.ID, Clause: it.Clause, Answer: policy.AnswerCompliant}
			switch n := len(answers); {
			case n%7 == 0:
				a.Answer, a.Comment, a.MeasureWhat, a.MeasureOwner, a.MeasureDue = policy.AnswerNot, "未実施", "手順を定めて実施する", "U-"+target, "2026-12-25"
				a.MeasureStatus = []string{models.MeasureOpen, models.MeasureDone, models.MeasureOverdue}[n%3]
			case n%11 == 0:
				a.Answer, a.Comment = policy.AnswerNotApplicable, "該当なし"
			}
			answers = append(answers, a)
		}
	}
	for i := range depts {
		add(policy.TargetDepartment, fmt.Sprintf("dept-%02d", i), fmt.Sprintf("dept-%02d", i))
	}
	for i := range systems {
		add(policy.TargetSystem, fmt.Sprintf("sys-%03d", i), fmt.Sprintf("dept-%02d", i%depts))
	}
	if _, err := s.CreateInspection(context.Background(), models.InspectionCampaign{ProcessID: id, FiscalYear: 2026, Occasion: "yearly"}, targets); err != nil {
		b.Fatal(err)
	}
	if err := s.DB.CreateInBatches(answers, 500).Error; err != nil {
		b.Fatal(err)
	}
}

// seedScaleFrom adds the exceptions from to n (IDs P-from … P-(n-1)).
func seedScaleFrom(b *testing.B, s *models.Store, from, n int) { seedRange(b, s, from, n, true) }

func seedRange(b *testing.B, s *models.Store, from, n int, exceptionsOnly bool) {
	b.Helper()
	base := jst("2026-04-01 09:00")
	var ps []models.Process
	var incidents []models.Incident
	var hops []models.IncidentHop
	var offs []models.Offboarding
	var items []models.OffboardingItem
	var vendors []models.OutsourcingReview
	var clouds []models.CloudService
	input, _ := json.Marshal(map[string]any{"requester": "D1", "clauses": []string{"6.2(1)"}, "systems": []string{"juki"}, "classification": 2,
		"start_date": "2026-05-01", "end_date": "2027-03-31", "alternative": "保守作業は共有IDで行い、操作ログを毎日確認する", "reason": "保守業者の作業に個別IDを発行できないため"})
	for i := from; i < n; i++ {
		at := base.Add(time.Duration(i) * 30 * time.Minute)
		id := fmt.Sprintf("P-%06d", i)
		kind := models.KindException
		switch r := i % 20; {
		case exceptionsOnly || r < 10:
		case r < 15:
			kind = models.KindIncident
			incidents = append(incidents, models.Incident{ProcessID: id, Source: "staff", Category: "malware", DiscoveredAt: at, ReceivedAt: at.Add(5 * time.Minute)})
			for j, h := range []string{"received", "triaged", "root_cause_reported", "closed"} {
				note := ""
				if h == "triaged" {
					note = "severity medium, plan false, CISO asked false"
				}
				hops = append(hops, models.IncidentHop{Key: id + "/" + h, ProcessID: id, Hop: h, Note: note, At: at.Add(time.Duration(j+1) * time.Hour)})
			}
		case r < 19:
			kind = models.KindOffboarding
			offs = append(offs, models.Offboarding{ProcessID: id, EmployeeID: "L" + id, EffectiveDate: at.Format("2006-01-02"), OriginalDate: at.Format("2006-01-02"), Reason: "retirement"})
			for j := range 3 {
				done := at.Add(time.Duration(24*(j+1)) * time.Hour)
				items = append(items, models.OffboardingItem{ProcessID: id, Key: fmt.Sprintf("a%d", j), Kind: models.ItemAccount, Action: "disable", Outcome: "disabled", At: &done})
			}
		case i%40 < 20:
			kind = models.KindOutsourcingReview
			vendors = append(vendors, models.OutsourcingReview{ProcessID: id, DepartmentID: "soumu", RequesterID: "D1", VendorName: "Vendor " + id, ContactID: "ext:" + id,
				ContractStart: "2026-04-01", ContractEnd: "2027-03-31", CertExpiry: "2027-01-31", AuditStatus: "none", ReportIntervalMonths: 3, Classification: 2})
		default:
			kind = models.KindCloudAssessment
			clouds = append(clouds, models.CloudService{ProcessID: id, Service: "Cloud " + id, Provider: "P", Classification: 2, Status: models.CloudApproved, NextReassessment: "2027-04-01"})
		}
		p := models.Process{ID: id, Kind: kind, Status: "completed", Stage: "done", WorkflowID: id, DepartmentID: "soumu", CreatedAt: at}
		if kind == models.KindException {
			p.Input = string(input)
		}
		ps = append(ps, p)
	}
	for _, rows := range []any{ps, incidents, hops, offs, items, vendors, clouds} {
		if reflectLen(rows) == 0 {
			continue
		}
		if err := s.DB.CreateInBatches(rows, 500).Error; err != nil {
			b.Fatal(err)
		}
	}
}

// peakHeap samples the heap in use while f runs and returns its peak above the start.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	start := m.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	if peak.Load() < start {
		return 0
	}
	return peak.Load() - start
}

// BenchmarkFiscalYearReport10k builds and renders the committee's report over 10,000
// processes and the year's self-inspection (BENCHMARKS.md, "The registers and the
// committee's report"). `make bench` runs it.
func BenchmarkFiscalYearReport10k(b *testing.B) {
	databases(b, func(b *testing.B, s *models.Store) {
		seedScale(b, s, 10000, false)
		q := report.Query{Store: s, FiscalYear: 2026, Lang: "ja", Loc: tokyo, Now: jst("2027-04-10 10:00")}
		var peak uint64
		b.ResetTimer()
		for b.Loop() {
			peak = max(peak, peakHeap(func() {
				p, err := report.FiscalYearReport(context.Background(), q, report.Sections())
				if err != nil {
					b.Fatal(err)
				}
				if err := report.Render(io.Discard, p); err != nil {
					b.Fatal(err)
				}
			}))
		}
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	})
}

// BenchmarkExceptionCSV streams the exception register of 10,000 and of 40,000 processes as
// CSV: the peak heap stays the same, since rows are read a page at a time.
func BenchmarkExceptionCSV(b *testing.B) {
	databases(b, func(b *testing.B, s *models.Store) {
		seeded := 0
		for _, n := range []int{10000, 40000} {
			b.Run(fmt.Sprint(n), func(b *testing.B) {
				if seeded != n {
					// The same register grows from 10,000 to 40,000 rows.
					seedScaleFrom(b, s, seeded, n)
					seeded = n
				}
				var peak uint64
				var size int64
				b.ResetTimer()
				for b.Loop() {
					peak = max(peak, peakHeap(func() {
						w := &countingWriter{}
						if err := report.ExceptionRegister.WriteCSV(context.Background(), s, w, report.Format{Loc: tokyo}, report.DefaultBatch, nil); err != nil {
							b.Fatal(err)
						}
						size = w.n
					}))
				}
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(float64(size)/(1<<20), "csv-MiB")
			})
		}
	})
}

// BenchmarkInspectionCSV streams the register 自己点検結果 (inspections.csv) of the year's
// self-inspection of 120 systems and 30 departments (one row per target and item), in the
// register of 10,000 processes.
func BenchmarkInspectionCSV(b *testing.B) {
	databases(b, func(b *testing.B, s *models.Store) {
		seedScale(b, s, 10000, false)
		var peak uint64
		var size int64
		b.ResetTimer()
		for b.Loop() {
			peak = max(peak, peakHeap(func() {
				w := &countingWriter{}
				if err := report.InspectionRegister.WriteCSV(context.Background(), s, w, report.Format{Loc: tokyo, FiscalYear: 2026}, report.DefaultBatch, nil); err != nil {
					b.Fatal(err)
				}
				size = w.n
			}))
		}
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(size)/(1<<10), "csv-KiB")
	})
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func reflectLen(v any) int { return reflect.ValueOf(v).Len() }
