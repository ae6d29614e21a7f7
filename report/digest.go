package report

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/policyflow/policyflow/models"
	"github.com/policyflow/policyflow/policy"
)

// Digest is the monthly digest for the CISO and the GISO: what is late, what ends or lapses
// soon, and who is away. It is read from the register at the moment it is made.
type Digest struct {
	// Month is the month it is for, YYYY-MM in the town's zone.
	Month string
	// Overdue are the open tasks past their deadline, by department and then person.
	Overdue []OverdueGroup
	// Ending are the exceptions in effect whose period ends within DueWindowDays (§7.4).
	Ending []Due
	// Certificates are vendors' ISMS certificates (§8.1) and cloud services' certifications
	// (§8.3(5)) lapsing within DueWindowDays; Reviews are cloud reassessments (§9.1) and
	// outsourcing contracts ending within it.
	Certificates, Reviews []Due
	// Absences are the registered absences in force or starting within DueWindowDays.
	Absences []AbsenceLine
}

// OverdueGroup is one person's overdue tasks in one department.
type OverdueGroup struct {
	Department, PersonID, Name string
	Tasks                      []OverdueTask
}

// OverdueTask is one overdue task.
type OverdueTask struct {
	ProcessID, TitleJa, TitleEn string
	DueAt                       time.Time
	DaysOver                    int
}

// Due is a date coming due.
type Due struct{ Date, ID, What string }

// AbsenceLine is one registered absence.
type AbsenceLine struct {
	PersonID, Name, DeputyID string
	From, To                 time.Time
}

// Empty reports whether the digest has nothing to say.
func (d Digest) Empty() bool {
	return len(d.Overdue)+len(d.Ending)+len(d.Certificates)+len(d.Reviews)+len(d.Absences) == 0
}

// digestLimit bounds each list of the digest: a mail, not a register.
const digestLimit = 500

// BuildDigest reads the digest of the month that now falls in.
func BuildDigest(ctx context.Context, s *models.Store, now time.Time, loc *time.Location) (Digest, error) {
	now = now.In(loc)
	d := Digest{Month: now.Format("2006-01")}
	today := now.Format(policy.DateLayout)
	horizon := now.AddDate(0, 0, DueWindowDays).Format(policy.DateLayout)
	within := func(date string) bool { return date != "" && date >= today && date <= horizon }

	tasks, err := s.OverdueTasks(ctx, now, digestLimit)
	if err != nil {
		return d, fmt.Errorf("digest: overdue tasks: %w", err)
	}
	var pids, people []string
	for _, t := range tasks {
		pids, people = append(pids, t.ProcessID), append(people, t.AssigneeID)
	}
	procs, err := s.ProcessesByID(ctx, pids)
	if err != nil {
		return d, fmt.Errorf("digest: processes: %w", err)
	}
	absences, err := s.AbsencesBetween(ctx, now, now.AddDate(0, 0, DueWindowDays), digestLimit)
	if err != nil {
		return d, fmt.Errorf("digest: absences: %w", err)
	}
	for _, a := range absences {
		people = append(people, a.EmployeeID)
	}
	names, err := s.People(ctx, people)
	if err != nil {
		return d, fmt.Errorf("digest: people: %w", err)
	}
	groups := map[[2]string]*OverdueGroup{}
	for _, t := range tasks {
		dept := procs[t.ProcessID].DepartmentID
		k := [2]string{dept, t.AssigneeID}
		g := groups[k]
		if g == nil {
			g = &OverdueGroup{Department: dept, PersonID: t.AssigneeID, Name: names[t.AssigneeID].Name}
			groups[k] = g
		}
		g.Tasks = append(g.Tasks, OverdueTask{ProcessID: t.ProcessID, TitleJa: t.TitleJa, TitleEn: t.TitleEn,
			DueAt: t.DueAt, DaysOver: int(now.Sub(t.DueAt).Hours() / 24)})
	}
	for _, g := range groups {
		d.Overdue = append(d.Overdue, *g)
	}
	sort.Slice(d.Overdue, func(i, j int) bool {
		a, b := d.Overdue[i], d.Overdue[j]
		return a.Department < b.Department || a.Department == b.Department && a.PersonID < b.PersonID
	})

	exceptions, err := s.ProcessesInStatus(ctx, models.KindException, "in_effect", 10*digestLimit)
	if err != nil {
		return d, fmt.Errorf("digest: exceptions: %w", err)
	}
	for _, p := range exceptions {
		r := decodeException(p)
		if within(r.In.EndDate) {
			d.Ending = append(d.Ending, Due{r.In.EndDate, p.ID, "§" + strings.Join(r.In.Clauses, ", §") + " " + strings.Join(r.In.Systems, ", ")})
		}
	}
	err = s.EachOutsourcingReview(ctx, DefaultBatch, func(rs []models.OutsourcingReview) error {
		for _, r := range rs {
			if r.ContractEnd < today {
				continue
			}
			if within(r.CertExpiry) {
				d.Certificates = append(d.Certificates, Due{r.CertExpiry, r.ProcessID, "ISMS " + r.VendorName})
			}
			if within(r.ContractEnd) {
				d.Reviews = append(d.Reviews, Due{r.ContractEnd, r.ProcessID, r.VendorName})
			}
		}
		return nil
	})
	if err != nil {
		return d, fmt.Errorf("digest: vendors: %w", err)
	}
	err = s.EachCloudService(ctx, DefaultBatch, func(cs []models.CloudService) error {
		for _, c := range cs {
			if !slices.Contains([]string{models.CloudApproved, models.CloudReassessing}, c.Status) {
				continue
			}
			for _, cert := range c.CertList() {
				if within(cert.ValidUntil) {
					d.Certificates = append(d.Certificates, Due{cert.ValidUntil, c.ProcessID, cert.Kind + " " + c.Service})
				}
			}
			if within(c.NextReassessment) {
				d.Reviews = append(d.Reviews, Due{c.NextReassessment, c.ProcessID, c.Service})
			}
		}
		return nil
	})
	if err != nil {
		return d, fmt.Errorf("digest: cloud services: %w", err)
	}
	for _, list := range [][]Due{d.Ending, d.Certificates, d.Reviews} {
		sort.Slice(list, func(i, j int) bool {
			return list[i].Date < list[j].Date || list[i].Date == list[j].Date && list[i].ID < list[j].ID
		})
	}
	for _, a := range absences {
		d.Absences = append(d.Absences, AbsenceLine{PersonID: a.EmployeeID, Name: names[a.EmployeeID].Name, DeputyID: a.DeputyID, From: a.From, To: a.To})
	}
	return d, nil
}

// Text writes the digest as a mail in the reader's language: the subject and the body.
func (d Digest) Text(lang string, loc *time.Location, greeting string) (subject, body string) {
	t := func(ja, en string) string {
		if lang == "en" {
			return en
		}
		return ja
	}
	var b strings.Builder
	subject = t("【月次報告】情報セキュリティ運用の状況 "+d.Month, "[Monthly digest] Information security processes, "+d.Month)
	fmt.Fprintf(&b, "%s\n\n%s\n", greeting, t(
		fmt.Sprintf("%s の月次報告です。期限を過ぎた手続、%d日以内に期限が来るもの、登録された不在をお知らせします。", d.Month, DueWindowDays),
		fmt.Sprintf("This is the digest for %s: steps past their deadline, what comes due within %d days, and registered absences.", d.Month, DueWindowDays)))
	section := func(title string, n int) {
		fmt.Fprintf(&b, "\n■ %s (%d)\n", title, n)
		if n == 0 {
			b.WriteString(t("  なし\n", "  none\n"))
		}
	}
	n := 0
	for _, g := range d.Overdue {
		n += len(g.Tasks)
	}
	section(t("期限を過ぎた手続（部局・担当者別）", "Overdue steps, by department and person"), n)
	dept := "\x00"
	for _, g := range d.Overdue {
		if g.Department != dept {
			dept = g.Department
			fmt.Fprintf(&b, "  [%s]\n", orDash(dept))
		}
		fmt.Fprintf(&b, "    %s (%s)\n", orDash(g.Name), g.PersonID)
		for _, x := range g.Tasks {
			fmt.Fprintf(&b, "      - %s %s: %s %s (%s)\n", x.ProcessID, t(x.TitleJa, x.TitleEn), t("期限", "due"),
				x.DueAt.In(loc).Format("2006-01-02 15:04"), t(fmt.Sprintf("%d日超過", x.DaysOver), fmt.Sprintf("%d days over", x.DaysOver)))
		}
	}
	dues := func(title string, list []Due) {
		section(title, len(list))
		for _, x := range list {
			fmt.Fprintf(&b, "  - %s %s %s\n", x.Date, x.ID, x.What)
		}
	}
	dues(t("終了が近い例外措置（§7.4）", "Exceptions ending (§7.4)"), d.Ending)
	dues(t("有効期限が近い認証（§8.1、§8.3(5)）", "Certificates lapsing (§8.1, §8.3(5))"), d.Certificates)
	dues(t("近づいている再評価・契約終了（§9.1、§8.1）", "Reassessments and contract ends coming due (§9.1, §8.1)"), d.Reviews)
	section(t("登録された不在", "Registered absences"), len(d.Absences))
	for _, a := range d.Absences {
		deputy := ""
		if a.DeputyID != "" {
			deputy = t("　代理：", "; deputy: ") + a.DeputyID
		}
		fmt.Fprintf(&b, "  - %s (%s): %s – %s%s\n", orDash(a.Name), a.PersonID, a.From.In(loc).Format("2006-01-02 15:04"), a.To.In(loc).Format("2006-01-02 15:04"), deputy)
	}
	b.WriteString("\n--\npolicyflow\n")
	return subject, b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
