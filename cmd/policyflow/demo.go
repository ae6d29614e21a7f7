package main

import (
	"context"

	"github.com/policyflow/policyflow/models"
)

// seedDemo fills an empty directory with the fictional town of Midori (みどり町, DEMO):
// one person for each role of §2, two systems and a few accounts. Every name is labelled as
// demo data; the addresses are under the reserved .example TLD. The dev admin token is not
// stored: the API holds it in memory (api.Server.DevToken), so no database accepts it later.
func seedDemo(ctx context.Context, store *models.Store) error {
	var n int64
	if err := store.DB.WithContext(ctx).Model(&models.Person{}).Count(&n).Error; err != nil || n > 0 {
		return err
	}
	person := func(id, name, email, dept, locale string, roles ...string) models.Person {
		p := models.Person{EmployeeID: id, Name: name, Email: email, DepartmentID: dept, Locale: locale, Status: models.StatusEmployed}
		for _, r := range roles {
			p.Roles = append(p.Roles, models.PersonRole{EmployeeID: id, Role: r})
		}
		return p
	}
	people := []models.Person{
		person("D0001", "【DEMO】山田 花子（副町長）", "ciso@midori-town.example", "mayor", "ja", "ciso"),
		person("D0002", "【DEMO】佐藤 一郎（総務部長）", "giso@midori-town.example", "general-affairs", "ja", "giso", "diso"),
		person("D0003", "【DEMO】鈴木 次郎（住民課長）", "diso.residents@midori-town.example", "residents", "ja", "diso"),
		person("D0004", "【DEMO】田中 三郎（情報政策係長）", "ism.it@midori-town.example", "general-affairs", "ja", "ism", "staff"),
		person("D0005", "[DEMO] Emily Takahashi (residents systems)", "ism.residents@midori-town.example", "residents", "en", "ism", "staff"),
		person("D0006", "【DEMO】伊藤 健（住民課）", "staff.ito@midori-town.example", "residents", "ja", "staff"),
		person("D0007", "【DEMO】渡辺 直子（人事係）", "hr@midori-town.example", "general-affairs", "ja", "hr", "staff"),
	}
	if _, err := store.PutPeople(ctx, people); err != nil {
		return err
	}
	systems := []models.System{
		{ID: "resident-registry", Name: "【DEMO】住民基本台帳システム", DepartmentID: "residents", ISMEmployeeID: "D0005", Classification: 1},
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
		{SystemID: "groupware", AccountID: "ito.k", HolderEmployeeID: holder("D0006"), Status: "active"},
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
