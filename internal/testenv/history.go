package testenv

import (
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
)

// LocalActivityType is the activity type a history event records as a local activity (the
// Go SDK's "LocalActivity" marker, whose "data" detail names it), or "" for any other event.
func LocalActivityType(e *historypb.HistoryEvent) string {
	a := e.GetMarkerRecordedEventAttributes()
	if a.GetMarkerName() != "LocalActivity" {
		return ""
	}
	var data struct{ ActivityType string }
	if p := a.GetDetails()["data"].GetPayloads(); len(p) > 0 {
		_ = converter.GetDefaultDataConverter().FromPayload(p[0], &data)
	}
	return data.ActivityType
}
