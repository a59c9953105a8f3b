package admin

import (
	"encoding/csv"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/persistence"
)

// MaxCSVRows bounds one CSV export. A range holding more records visible to the caller is
// refused up front with 413 (reason "too_many_rows"); narrow from/to and export in parts.
const MaxCSVRows = 100000

// csvRowLimit is the bound in force (MaxCSVRows; tests lower it).
var csvRowLimit = MaxCSVRows

// csvPageSize is the page size used while streaming a CSV export.
const csvPageSize = maxPageLimit

// exportStatusTrailer is the HTTP trailer that ends every CSV export: "complete"; "truncated"
// when records written after the up-front count pushed the export past MaxCSVRows (it stops
// there); "failed" when the store failed after the 200 was sent (the body is then cut short).
const exportStatusTrailer = "X-Switchyard-Export-Status"

// incomingPage is the JSON response of GET /admin/domain/{id}/cdr/incoming.
type incomingPage struct {
	Items []persistence.IncomingTrunkCDR `json:"items"`
	Next  string                         `json:"next"`
}

// terminationPage is the JSON response of GET /admin/domain/{id}/cdr/termination.
type terminationPage struct {
	Items []persistence.TerminationCDR `json:"items"`
	Next  string                       `json:"next"`
}

// csvColumn is one CSV column: its header (the JSON member name) and how a record fills it.
type csvColumn[T any] struct {
	name  string
	value func(*T) string
}

// incomingColumns are the incoming trunk CDR columns: seed 001 order first, then the members
// Switchyard adds.
var incomingColumns = []csvColumn[persistence.IncomingTrunkCDR]{
	{"id", func(c *persistence.IncomingTrunkCDR) string { return csvText(c.ID) }},
	{"duration", func(c *persistence.IncomingTrunkCDR) string { return csvInt(c.Duration) }},
	{"src_name", func(c *persistence.IncomingTrunkCDR) string { return csvText(c.SrcName) }},
	{"src_number", func(c *persistence.IncomingTrunkCDR) string { return csvText(c.SrcNumber) }},
	{"dst_number", func(c *persistence.IncomingTrunkCDR) string { return csvText(c.DstNumber) }},
	{"did_number", func(c *persistence.IncomingTrunkCDR) string { return csvText(c.DIDNumber) }},
	{"lega_disconnect_code", func(c *persistence.IncomingTrunkCDR) string { return csvInt(int64(c.LegADisconnectCode)) }},
	{"lega_disconnect_reason", func(c *persistence.IncomingTrunkCDR) string { return csvText(c.LegADisconnectReason) }},
	{"incoming_trunk_id", func(c *persistence.IncomingTrunkCDR) string { return csvInt(c.IncomingTrunkID) }},
	{"time_start", func(c *persistence.IncomingTrunkCDR) string { return csvTime(&c.TimeStart) }},
	{"time_end", func(c *persistence.IncomingTrunkCDR) string { return csvTime(&c.TimeEnd) }},
	{"time_connect", func(c *persistence.IncomingTrunkCDR) string { return csvTime(c.TimeConnect) }},
	{"customer", func(c *persistence.IncomingTrunkCDR) string { return csvText(c.Customer) }},
	{"customer_id", func(c *persistence.IncomingTrunkCDR) string { return csvInt(c.CustomerID) }},
	{"domain_id", func(c *persistence.IncomingTrunkCDR) string { return csvInt(c.DomainID) }},
	{"global_tag", func(c *persistence.IncomingTrunkCDR) string { return csvText(c.GlobalTag) }},
	{"orig_call_id", func(c *persistence.IncomingTrunkCDR) string { return csvText(c.OrigCallID) }},
}

// terminationColumns are the termination CDR columns: seed 001 order first, then the members
// Switchyard adds.
var terminationColumns = []csvColumn[persistence.TerminationCDR]{
	{"id", func(c *persistence.TerminationCDR) string { return csvText(c.ID) }},
	{"time_start", func(c *persistence.TerminationCDR) string { return csvTime(&c.TimeStart) }},
	{"time_connect", func(c *persistence.TerminationCDR) string { return csvTime(c.TimeConnect) }},
	{"time_end", func(c *persistence.TerminationCDR) string { return csvTime(&c.TimeEnd) }},
	{"local_tag", func(c *persistence.TerminationCDR) string { return csvText(c.LocalTag) }},
	{"global_tag", func(c *persistence.TerminationCDR) string { return csvText(c.GlobalTag) }},
	{"duration", func(c *persistence.TerminationCDR) string { return csvInt(c.Duration) }},
	{"lega_disconnect_code", func(c *persistence.TerminationCDR) string { return csvInt(int64(c.LegADisconnectCode)) }},
	{"lega_disconnect_reason", func(c *persistence.TerminationCDR) string { return csvText(c.LegADisconnectReason) }},
	{"src_name_in", func(c *persistence.TerminationCDR) string { return csvText(c.SrcNameIn) }},
	{"src_number_in", func(c *persistence.TerminationCDR) string { return csvText(c.SrcNumberIn) }},
	{"dst_number_in", func(c *persistence.TerminationCDR) string { return csvText(c.DstNumberIn) }},
	{"orig_call_id", func(c *persistence.TerminationCDR) string { return csvText(c.OrigCallID) }},
	{"domain_id", func(c *persistence.TerminationCDR) string { return csvInt(c.DomainID) }},
	{"customer_id", func(c *persistence.TerminationCDR) string { return csvInt(c.CustomerID) }},
	{"customer", func(c *persistence.TerminationCDR) string { return csvText(c.Customer) }},
	{"src_number_out", func(c *persistence.TerminationCDR) string { return csvText(c.SrcNumberOut) }},
	{"dst_number_out", func(c *persistence.TerminationCDR) string { return csvText(c.DstNumberOut) }},
	{"gateway_id", func(c *persistence.TerminationCDR) string { return csvInt(c.GatewayID) }},
	{"route_id", func(c *persistence.TerminationCDR) string { return csvInt(c.RouteID) }},
}

func csvInt(n int64) string { return strconv.FormatInt(n, 10) }

// csvTime is RFC 3339 in UTC, or empty for a null time.
func csvTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// csvText neutralises spreadsheet formulas in caller-controlled text (a CNAM such as
// "=HYPERLINK(...)"): a cell starting with = @ TAB or CR, or with + or - not followed by a
// plain number, gets a leading apostrophe. Phone numbers such as "+441234" and "-5" stay as they are.
func csvText(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
		return "'" + s
	case '+', '-':
		for _, r := range s[1:] {
			if (r < '0' || r > '9') && r != ' ' && r != '*' && r != '#' && r != '.' {
				return "'" + s
			}
		}
	}
	return s
}

func columnNames[T any](cols []csvColumn[T]) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// wantCSV decides the response format: the format parameter (json|csv) wins, else an
// Accept header that ranks text/csv above application/json selects CSV.
func wantCSV(r *http.Request) (bool, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
	default:
		return false, errParam("format", fmt.Sprintf("format %q must be json or csv", f))
	}
	csvQ, jsonQ := -1.0, -1.0
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		switch mt {
		case "text/csv":
			csvQ = max(csvQ, q)
		case "application/json":
			jsonQ = max(jsonQ, q)
		}
	}
	return csvQ > 0 && csvQ > jsonQ, nil
}

// trunkView describes one carrier-side CDR listing.
type trunkView[T any] struct {
	name     string // file name part: "incoming" or "termination"
	list     func(domainID int64, from, to time.Time, cursor string, limit int) ([]T, string, error)
	count    func(domainID int64, from, to time.Time, customerID int64, max int) (int, error)
	columns  []csvColumn[T]
	customer func(*T) int64
	page     func(items []T, next string) any
}

func (s *Server) incomingView() trunkView[persistence.IncomingTrunkCDR] {
	return trunkView[persistence.IncomingTrunkCDR]{name: "incoming", list: s.store.ListIncomingCDRs,
		count: s.store.CountIncomingCDRs, columns: incomingColumns,
		customer: func(c *persistence.IncomingTrunkCDR) int64 { return c.CustomerID },
		page: func(items []persistence.IncomingTrunkCDR, next string) any {
			return incomingPage{Items: items, Next: next}
		}}
}

func (s *Server) terminationView() trunkView[persistence.TerminationCDR] {
	return trunkView[persistence.TerminationCDR]{name: "termination", list: s.store.ListTerminationCDRs,
		count: s.store.CountTerminationCDRs, columns: terminationColumns,
		customer: func(c *persistence.TerminationCDR) int64 { return c.CustomerID },
		page: func(items []persistence.TerminationCDR, next string) any {
			return terminationPage{Items: items, Next: next}
		}}
}

func (s *Server) listIncomingCDRs(w http.ResponseWriter, r *http.Request, p principal) {
	serveTrunkCDRs(s, s.incomingView(), w, r, p)
}

func (s *Server) listTerminationCDRs(w http.ResponseWriter, r *http.Request, p principal) {
	serveTrunkCDRs(s, s.terminationView(), w, r, p)
}

// registerReportRoutes adds the carrier-side CDR views and the summaries.
func (s *Server) registerReportRoutes() {
	s.handle(route{method: http.MethodGet, path: "/admin/domain/{domain_id}/cdr/incoming",
		summary: "Page through a domain's incoming trunk CDRs (seed 001), or export the range as CSV (format=csv or Accept: text/csv)",
		schema:  reflect.TypeFor[persistence.IncomingTrunkCDR](), query: []string{"from", "to", "cursor", "limit", "format"},
		status: http.StatusOK, respDoc: respIncomingPage, handler: s.authed(s.listIncomingCDRs)})
	s.handle(route{method: http.MethodGet, path: "/admin/domain/{domain_id}/cdr/termination",
		summary: "Page through a domain's termination CDRs (seed 001), or export the range as CSV (format=csv or Accept: text/csv)",
		schema:  reflect.TypeFor[persistence.TerminationCDR](), query: []string{"from", "to", "cursor", "limit", "format"},
		status: http.StatusOK, respDoc: respTerminationPage, handler: s.authed(s.listTerminationCDRs)})
	s.handle(route{method: http.MethodGet, path: "/admin/domain/{domain_id}/summary",
		summary: "Per-customer call summaries, 24-hour UTC: live (active calls), daily or monthly (calls, answered, minutes, ASR, ACD); CSV for daily/monthly",
		query:   []string{"period", "from", "to", "format"}, status: http.StatusOK, respDoc: respSummary,
		handler: s.authed(s.summary)})
}

// storeParamErr turns a store *FieldError about a query parameter (cursor) into a 400.
func storeParamErr(err error) error {
	var fe *persistence.FieldError
	if errors.As(err, &fe) {
		return errParam(fe.Field, fe.Reason)
	}
	return err
}

// serveTrunkCDRs answers a page of JSON or the whole range as CSV; customer tokens see only
// their customer's records (JSON pages may then hold fewer than limit items).
func serveTrunkCDRs[T any](s *Server, v trunkView[T], w http.ResponseWriter, r *http.Request, p principal) {
	domainID, err := pathID(r, "domain_id")
	var asCSV bool
	if err == nil {
		asCSV, err = wantCSV(r)
	}
	var from, to time.Time
	if err == nil {
		from, to, err = timeRange(r)
	}
	limit := defaultPageLimit
	if err == nil && !asCSV {
		limit, err = limitParam(r)
	}
	if err == nil && asCSV {
		for _, name := range []string{"cursor", "limit"} {
			if r.URL.Query().Get(name) != "" {
				err = errParam(name, name+" does not apply to a CSV export, which covers the whole from/to range")
				break
			}
		}
	}
	if err == nil {
		err = s.access(p, domainID, false)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	var onlyCustomer int64
	if p.Role == RoleCustomer {
		onlyCustomer = p.CustomerID
	}
	if asCSV {
		exportCSV(s, v, w, domainID, from, to, onlyCustomer)
		return
	}
	page, next, err := v.list(domainID, from, to, r.URL.Query().Get("cursor"), limit)
	if err != nil {
		s.fail(w, storeParamErr(err))
		return
	}
	items := make([]T, 0, len(page))
	for i := range page {
		if onlyCustomer == 0 || v.customer(&page[i]) == onlyCustomer {
			items = append(items, page[i])
		}
	}
	writeJSON(w, http.StatusOK, v.page(items, next))
}

// exportCSV streams every record of the range, page by page, after checking the MaxCSVRows
// bound. Rows appear in time order, one per record, after a header row.
func exportCSV[T any](s *Server, v trunkView[T], w http.ResponseWriter, domainID int64, from, to time.Time, onlyCustomer int64) {
	n, err := v.count(domainID, from, to, onlyCustomer, csvRowLimit)
	if err == nil && n > csvRowLimit {
		err = &apiError{status: http.StatusRequestEntityTooLarge, code: codeTooLarge, field: "to", reason: "too_many_rows",
			detail: fmt.Sprintf("the range holds more than %d records; narrow from/to and export in parts", csvRowLimit)}
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="domain-%d-%s-cdr.csv"`, domainID, v.name))
	h.Set("Trailer", exportStatusTrailer)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	status := "complete"
	truncated, err := writeTrunkRows(v, cw, domainID, from, to, onlyCustomer)
	if truncated {
		status = "truncated"
	}
	if err != nil {
		status = "failed"
		s.log.Error().Err(err).Int64("domain_id", domainID).Str("view", v.name).Msg("CSV export failed after the header was sent")
	}
	h.Set(exportStatusTrailer, status)
}

// writeTrunkRows writes the header and the rows; truncated reports that MaxCSVRows was hit.
func writeTrunkRows[T any](v trunkView[T], cw *csv.Writer, domainID int64, from, to time.Time, onlyCustomer int64) (truncated bool, err error) {
	if err := cw.Write(columnNames(v.columns)); err != nil {
		return false, fmt.Errorf("write csv header: %w", err)
	}
	row := make([]string, len(v.columns))
	rows, cursor := 0, ""
	for {
		page, next, err := v.list(domainID, from, to, cursor, csvPageSize)
		if err != nil {
			return false, fmt.Errorf("read %s cdrs for export: %w", v.name, err)
		}
		for i := range page {
			if onlyCustomer != 0 && v.customer(&page[i]) != onlyCustomer {
				continue
			}
			if rows == csvRowLimit {
				cw.Flush()
				return true, cw.Error()
			}
			for c, col := range v.columns {
				row[c] = col.value(&page[i])
			}
			if err := cw.Write(row); err != nil {
				return false, fmt.Errorf("write csv row: %w", err)
			}
			rows++
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return false, fmt.Errorf("flush csv: %w", err)
		}
		if next == "" {
			return false, nil
		}
		cursor = next
	}
}
