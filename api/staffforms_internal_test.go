package api

import (
	"testing"

	"github.com/policyflow/policyflow/models"
)

// What the API says of the requester (mayRequest) is shown on the staff form next to the
// requester, in the person's language, not only at the top: a department security officer
// may not file the cloud assessment they would assess (§8.3).
func TestRequesterErrorNextToTheField(t *testing.T) {
	officer := models.Person{EmployeeID: "E1", Name: "山田", Roles: []models.PersonRole{{Role: "diso"}}}
	err := mayRequest(models.KindCloudAssessment, officer, "§8.3")
	e, ok := err.(*Error)
	if !ok || e.Status != 422 || e.Code != "policy_violation" || e.Fields["requester"] == "" {
		t.Fatalf("a department security officer filing a cloud assessment: %v", err)
	}
	for lang, want := range map[string]string{
		"ja": "情報セキュリティ責任者（diso）は、この申請を審査する立場のため申請できません（§8.1(1)、§8.3）。担当の職員が申請してください。",
		"en": "holds diso, who decides it",
	} {
		fields := []formField{requesterField(officer, lang), {Name: "service"}}
		if other := fieldMessages(fields, e.Fields, lang); other != "" {
			t.Errorf("%s: the requester's error is not beside the field: %q", lang, other)
		}
		if fields[0].Error != want {
			t.Errorf("%s: requester error %q, want %q", lang, fields[0].Error, want)
		}
	}
	for _, roles := range [][]string{nil, {"staff"}, {"ism", "hr"}} {
		p := models.Person{EmployeeID: "E2"}
		for _, r := range roles {
			p.Roles = append(p.Roles, models.PersonRole{Role: r})
		}
		for _, kind := range []string{models.KindCloudAssessment, models.KindOutsourcingReview} {
			if err := mayRequest(kind, p, "x"); err != nil {
				t.Errorf("%v may not file %s: %v", roles, kind, err)
			}
		}
	}
}
