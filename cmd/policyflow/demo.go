package main

import (
	"context"

	"github.com/policyflow/policyflow/models"
)

// seedDemo fills an empty directory with the fictional town of Midori (みどり町, DEMO):
// one person for each role of §2, three systems and a few accounts. The residents department
// (住民部, its head the security officer) has two sections (課室, §2(4)): resident records
// (住民記録課), which owns the residents' registry, and insurance and pensions (保険年金課),
// which owns the national health insurance system; each has its head (the manager of its
// system) and staff. Every name is labelled as demo data; the addresses are under the
// reserved .example TLD. The dev admin token is not
// stored: the API holds it in memory (api.Server.DevToken), so no database accepts it later.
func seedDemo(ctx context.Context, store *models.Store) error {
	var n int64
	if err := store.DB.WithContext(ctx).Model(&models.Person{}).Count(&n).Error; err != nil || n > 0 {
		return err
	}
	sections := []models.Section{
		{ID: "residents-records", DepartmentID: "residents", NameJa: "【DEMO】住民記録課", NameEn: "[DEMO] Resident Records"},
		{ID: "residents-insurance", DepartmentID: "residents", NameJa: "【DEMO】保険年金課", NameEn: "[DEMO] Insurance and Pensions"},
	}
	for _, sec := range sections {
		if _, err := store.PutSection(ctx, sec); err != nil {
			return err
		}
	}
	person := func(id, name, email, dept, section, locale string, roles ...string) models.Person {
		p := models.Person{EmployeeID: id, Name: name, Email: email, DepartmentID: dept, SectionID: section, Locale: locale, Status: models.StatusEmployed}
		for _, r := range roles {
			p.Roles = append(p.Roles, models.PersonRole{EmployeeID: id, Role: r})
		}
		return p
	}
	// The security committee (§2(6)) has the CISO, the GISO and the department officers among
	// its members: its reports (an incident's at closure, the self-inspection's, the yearly
	// report's link) reach the demo's outbox.
	people := []models.Person{
		person("D0001", "【DEMO】山田 花子（副町長）", "ciso@midori-town.example", "mayor", "", "ja", "ciso", "committee"),
		person("D0002", "【DEMO】佐藤 一郎（総務部長）", "giso@midori-town.example", "general-affairs", "", "ja", "giso", "diso", "committee"),
		person("D0003", "【DEMO】鈴木 次郎（住民部長）", "diso.residents@midori-town.example", "residents", "", "ja", "diso", "committee"),
		person("D0004", "【DEMO】田中 三郎（情報政策係長）", "ism.it@midori-town.example", "general-affairs", "", "ja", "ism", "staff"),
		person("D0005", "[DEMO] Emily Takahashi (head of resident records)", "ism.residents@midori-town.example", "residents", "residents-records", "en", "ism", "staff"),
		person("D0006", "【DEMO】伊藤 健（住民記録課）", "staff.ito@midori-town.example", "residents", "residents-records", "ja", "staff"),
		person("D0007", "【DEMO】渡辺 直子（人事係）", "hr@midori-town.example", "general-affairs", "", "ja", "hr", "staff"),
		person("D0008", "【DEMO】小林 美咲（住民記録課）", "staff.kobayashi@midori-town.example", "residents", "residents-records", "ja", "staff"),
		person("D0009", "【DEMO】加藤 大輔（保険年金課長）", "ism.insurance@midori-town.example", "residents", "residents-insurance", "ja", "ism", "staff"),
		person("D0010", "【DEMO】吉田 真由美（保険年金課）", "staff.yoshida@midori-town.example", "residents", "residents-insurance", "ja", "staff"),
	}
	if _, err := store.PutPeople(ctx, people); err != nil {
		return err
	}
	systems := []models.System{
		{ID: "resident-registry", Name: "【DEMO】住民基本台帳システム", DepartmentID: "residents", SectionID: "residents-records", ISMEmployeeID: "D0005", Classification: 1},
		{ID: "national-insurance", Name: "【DEMO】国民健康保険システム", DepartmentID: "residents", SectionID: "residents-insurance", ISMEmployeeID: "D0009", Classification: 1},
		{ID: "groupware", Name: "【DEMO】グループウェア", DepartmentID: "general-affairs", ISMEmployeeID: "D0004", Classification: 2},
	}
	for _, s := range systems {
		if _, err := store.PutSystem(ctx, s); err != nil {
			return err
		}
	}
	holder := func(id string) *string { return &id }
	accounts := []models.Account{
		{SystemID: "resident-registry", AccountID: "ito.k", HolderEmployeeID: holder("D0006"), Status: "active"},
		{SystemID: "resident-registry", AccountID: "admin", Shared: true, Privileged: true, Status: "active"},
		{SystemID: "resident-registry", AccountID: "kobayashi.m", HolderEmployeeID: holder("D0008"), Status: "active"},
		{SystemID: "groupware", AccountID: "ito.k", HolderEmployeeID: holder("D0006"), Status: "active"},
		{SystemID: "national-insurance", AccountID: "yoshida.m", HolderEmployeeID: holder("D0010"), Status: "active"},
		{SystemID: "national-insurance", AccountID: "admin", Shared: true, Privileged: true, Status: "active"},
	}
	for _, a := range accounts {
		if _, err := store.PutAccount(ctx, a); err != nil {
			return err
		}
	}
	// For the offboarding demo: Ito knows the registry's shared admin password and holds a PC.
	if err := store.PutAccountAccess(ctx, models.AccountAccess{SystemID: "resident-registry", AccountID: "admin", EmployeeID: "D0006"}); err != nil {
		return err
	}
	if _, err := store.PutAsset(ctx, models.Asset{ID: "PC-0006", HolderEmployeeID: "D0006", Kind: "device", Description: "【DEMO】ノートPC", Status: models.AssetLent}); err != nil {
		return err
	}
	return nil
}
