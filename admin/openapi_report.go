package admin

import (
	"reflect"

	"github.com/switchyard/switchyard/persistence"
)

// Response descriptions (route.respDoc) of the report routes, resolved by reportRespSchema.
const (
	respIncomingPage    = "incoming_page"
	respTerminationPage = "termination_page"
	respSummary         = "summary"
)

// reportComponentName names the report response types in the OpenAPI document.
func reportComponentName(t reflect.Type) (string, bool) {
	switch t {
	case reflect.TypeFor[incomingPage]():
		return "IncomingTrunkCDRPage", true
	case reflect.TypeFor[terminationPage]():
		return "TerminationCDRPage", true
	case reflect.TypeFor[liveRow]():
		return "LiveSummaryRow", true
	}
	return "", false
}

// reportRespSchema is the JSON success schema of a report route, or nil for other routes.
func reportRespSchema(b *schemaBuilder, rt route) map[string]any {
	switch rt.respDoc {
	case respIncomingPage:
		return b.schema(reflect.TypeFor[incomingPage]())
	case respTerminationPage:
		return b.schema(reflect.TypeFor[terminationPage]())
	case respSummary:
		return map[string]any{
			"description": "period=daily|monthly: SummaryRow items ordered by period_start then customer_id; period=live: LiveSummaryRow items (domain total first, not shown to customer tokens)",
			"oneOf": []any{
				map[string]any{"type": "array", "items": b.schema(reflect.TypeFor[persistence.SummaryRow]())},
				map[string]any{"type": "array", "items": b.schema(reflect.TypeFor[liveRow]())},
			},
		}
	}
	return nil
}

// addCSVContent documents the text/csv alternative of the report routes that export CSV.
func addCSVContent(rt route, resp map[string]any) {
	switch rt.respDoc {
	case respIncomingPage, respTerminationPage, respSummary:
	default:
		return
	}
	content, _ := resp["content"].(map[string]any)
	if content == nil {
		return
	}
	content["text/csv"] = map[string]any{"schema": map[string]any{"type": "string",
		"description": "RFC 4180 CSV with CRLF line ends: a header row of the JSON member names, then one row per record; times RFC 3339 UTC, empty for null"}}
}
