package api

import (
	"testing"

	"github.com/policyflow/policyflow/models"
)

// What the API says of the requester (mayRequest: "holds neither diso nor ism") is shown on
// the staff form next to the requester, in the person's language, not only at the top.
func TestRequesterErrorNextToTheField(t *testing.T) {
	p := models.Person{EmployeeID: "E1", Name: "山田"}
	err := mayRequest(models.KindCloudAssessment, models.Person{EmployeeID: "E1", Roles: []models.PersonRole{{Role: "staff"}}}, "a cloud service assessment")
	e, ok := err.(*Error)
	if !ok || e.Status != 422 || e.Code != "policy_violation" || e.Fields["requester"] == "" {
		t.Fatalf("a requester holding neither diso nor ism: %v", err)
	}
	for lang, want := range map[string]string{
		"ja": "この申請ができるのは、情報セキュリティ責任者（diso）又は情報システム管理者（ism）の職にある方です。",
		"en": "holds neither diso nor ism",
	} {
		fields := []formField{requesterField(p, lang), {Name: "service"}}
		if other := fieldMessages(fields, e.Fields, lang); other != "" {
			t.Errorf("%s: the requester's error is not beside the field: %q", lang, other)
		}
		if fields[0].Error != want {
			t.Errorf("%s: requester error %q, want %q", lang, fields[0].Error, want)
		}
	}
	if err := mayRequest(models.KindCloudAssessment, models.Person{Roles: []models.PersonRole{{Role: "diso"}}}, "x"); err != nil {
		t.Errorf("a department security officer is refused: %v", err)
	}
}
