package admin

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/persistence"
)

var cdrBase = time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)

// trunkFixture is a domain with two customers and carrier CDRs, plus a second domain.
type trunkFixture struct {
	fx           fixture
	otherCust    int64
	theirs       fixture
	dom          string
	incoming     []persistence.IncomingTrunkCDR
	terminations []persistence.TerminationCDR
}

// jsonFieldNames lists the JSON member names of a struct type in declaration order.
func jsonFieldNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

func newTrunkFixture(e *env) trunkFixture {
	e.t.Helper()
	tf := trunkFixture{fx: e.fixture("acme", 10001), theirs: e.fixture("theirs", 10002)}
	tf.otherCust = e.create(fmt.Sprintf("/admin/domain/%d/customer/", tf.fx.domainID), `{"name":"Other","client_prefix":"002"}`)
	tf.dom = fmt.Sprintf("/admin/domain/%d", tf.fx.domainID)
	names := []string{`Alice "the caller", Ltd`, "=HYPERLINK(\"http://evil\")", "multi\nline", ""}
	var b persistence.CDRBatch
	for i := 0; i < 12; i++ {
		cust, name := tf.fx.customerID, "Main"
		if i%3 == 2 {
			cust, name = tf.otherCust, "Other"
		}
		start := cdrBase.Add(time.Duration(i) * time.Minute)
		in := persistence.IncomingTrunkCDR{ID: fmt.Sprintf("in-%02d", i), DomainID: tf.fx.domainID, CustomerID: cust,
			Customer: name, IncomingTrunkID: 4, SrcName: names[i%len(names)], SrcNumber: "+441000000001",
			DstNumber: "+442000000002", DIDNumber: "442000000002", TimeStart: start, TimeEnd: start.Add(30 * time.Second),
			LegADisconnectCode: 487, LegADisconnectReason: "Request Terminated", OrigCallID: fmt.Sprintf("a%d@carrier", i)}
		term := persistence.TerminationCDR{ID: fmt.Sprintf("term-%02d", i), DomainID: tf.fx.domainID, CustomerID: cust,
			Customer: name, TimeStart: start, TimeEnd: start.Add(30 * time.Second), LocalTag: "b-" + fmt.Sprint(i),
			GlobalTag: "g-" + fmt.Sprint(i), SrcNameIn: names[i%len(names)], SrcNumberIn: "100", DstNumberIn: "0044123",
			SrcNumberOut: "+44100", DstNumberOut: "+44123", OrigCallID: fmt.Sprintf("x%d@pbx", i), GatewayID: 1, RouteID: 2}
		if i%2 == 0 {
			conn := start.Add(10 * time.Second)
			in.TimeConnect, in.Duration, in.LegADisconnectCode, in.LegADisconnectReason = &conn, 20, 200, "BYE"
			term.TimeConnect, term.Duration, term.LegADisconnectCode, term.LegADisconnectReason = &conn, 20, 200, "OK"
		}
		b.Incoming = append(b.Incoming, in)
		b.Termination = append(b.Termination, term)
	}
	for i := 0; i < 2; i++ {
		start := cdrBase.Add(time.Duration(i) * time.Minute)
		b.Incoming = append(b.Incoming, persistence.IncomingTrunkCDR{ID: fmt.Sprintf("theirs-in-%d", i),
			DomainID: tf.theirs.domainID, CustomerID: tf.theirs.customerID, TimeStart: start, TimeEnd: start})
		b.Termination = append(b.Termination, persistence.TerminationCDR{ID: fmt.Sprintf("theirs-term-%d", i),
			DomainID: tf.theirs.domainID, CustomerID: tf.theirs.customerID, TimeStart: start, TimeEnd: start})
	}
	if err := e.store.AppendCDRBatch(b); err != nil {
		e.t.Fatalf("append cdrs: %v", err)
	}
	tf.incoming, tf.terminations = b.Incoming[:12], b.Termination[:12]
	return tf
}

// getRaw sends GET with token and extra headers and returns the response with its trailers read.
func getRaw(t *testing.T, e *env, path, token string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.base+path, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return res, body
}

// readCSV parses a CSV export back and checks its framing.
func readCSV(t *testing.T, res *http.Response, body []byte) [][]string {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("parse csv: %v\n%s", err, body)
	}
	return recs
}

func TestTrunkCDRJSON(t *testing.T) {
	e := newEnv(t)
	tf := newTrunkFixture(e)
	for _, view := range []string{"incoming", "termination"} {
		t.Run(view+" pages in time order", func(t *testing.T) {
			e := e.with(t)
			var ids []string
			cursor := ""
			for pages := 0; ; pages++ {
				var page struct {
					Items []map[string]any `json:"items"`
					Next  string           `json:"next"`
				}
				e.op("GET", fmt.Sprintf("%s/cdr/%s?limit=5&cursor=%s", tf.dom, view, cursor), "", http.StatusOK).json(t, &page)
				for _, it := range page.Items {
					ids = append(ids, it["id"].(string))
					if it["domain_id"].(float64) != float64(tf.fx.domainID) {
						t.Fatalf("foreign record %v", it)
					}
				}
				if page.Next == "" {
					if pages != 2 {
						t.Fatalf("%d pages", pages+1)
					}
					break
				}
				cursor = page.Next
			}
			if len(ids) != 12 || !slices.IsSorted(ids) {
				t.Fatalf("ids %v", ids)
			}
		})
	}
	t.Run("time range", func(t *testing.T) {
		e := e.with(t)
		from, to := cdrBase.Add(2*time.Minute).Format(time.RFC3339), cdrBase.Add(5*time.Minute).Format(time.RFC3339)
		var page incomingPage
		e.op("GET", fmt.Sprintf("%s/cdr/incoming?from=%s&to=%s", tf.dom, from, to), "", http.StatusOK).json(t, &page)
		if len(page.Items) != 3 || page.Items[0].ID != "in-02" || page.Items[0].TimeConnect == nil || page.Items[1].TimeConnect != nil {
			t.Fatalf("range page %+v", page)
		}
	})
	t.Run("null time_connect in JSON", func(t *testing.T) {
		e := e.with(t)
		r := e.op("GET", tf.dom+"/cdr/termination?limit=2", "", http.StatusOK)
		if !bytes.Contains(r.body, []byte(`"time_connect":null`)) {
			t.Fatalf("no null time_connect: %s", r.body)
		}
	})
	t.Run("accept prefers json", func(t *testing.T) {
		e := e.with(t)
		r := e.do("GET", tf.dom+"/cdr/incoming", e.opToken, "", "Accept: application/json, text/csv;q=0.5")
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("%d %s", r.status, r.header.Get("Content-Type"))
		}
	})
}

func TestTrunkCDRCSV(t *testing.T) {
	e := newEnv(t)
	tf := newTrunkFixture(e)
	cases := []struct {
		name    string
		path    string
		hdr     []string
		typ     reflect.Type
		seed    []string
		records int
	}{
		{"incoming by format", tf.dom + "/cdr/incoming?format=csv", nil, reflect.TypeFor[persistence.IncomingTrunkCDR](),
			[]string{"id", "duration", "src_name", "src_number", "dst_number", "did_number", "lega_disconnect_code",
				"lega_disconnect_reason", "incoming_trunk_id", "time_start", "time_end", "time_connect", "customer"}, 12},
		{"termination by accept", tf.dom + "/cdr/termination", []string{"Accept: text/csv"}, reflect.TypeFor[persistence.TerminationCDR](),
			[]string{"id", "time_start", "time_connect", "time_end", "local_tag", "global_tag", "duration", "lega_disconnect_code",
				"lega_disconnect_reason", "src_name_in", "src_number_in", "dst_number_in", "orig_call_id"}, 12},
		{"range", tf.dom + "/cdr/incoming?format=csv&from=" + cdrBase.Add(10*time.Minute).Format(time.RFC3339), nil,
			reflect.TypeFor[persistence.IncomingTrunkCDR](), nil, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := getRaw(t, e, tc.path, e.opToken, tc.hdr...)
			recs := readCSV(t, res, body)
			if got := res.Trailer.Get(exportStatusTrailer); got != "complete" {
				t.Fatalf("trailer %q", got)
			}
			if !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") {
				t.Fatalf("Content-Disposition %q", res.Header.Get("Content-Disposition"))
			}
			header := recs[0]
			if tc.seed != nil && !slices.Equal(header[:len(tc.seed)], tc.seed) {
				t.Fatalf("header does not start in seed order: %v", header)
			}
			want := jsonFieldNames(tc.typ)
			got := slices.Clone(header)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("header %v, JSON members %v", got, want)
			}
			if len(recs)-1 != tc.records {
				t.Fatalf("%d rows, want %d", len(recs)-1, tc.records)
			}
		})
	}
	t.Run("values round trip", func(t *testing.T) {
		res, body := getRaw(t, e, tf.dom+"/cdr/incoming?format=csv", e.opToken)
		recs := readCSV(t, res, body)
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		for i, row := range recs[1:] {
			want := tf.incoming[i]
			if row[col["id"]] != want.ID || row[col["src_number"]] != want.SrcNumber || row[col["customer_id"]] != fmt.Sprint(want.CustomerID) {
				t.Fatalf("row %d = %v", i, row)
			}
			ts, err := time.Parse(time.RFC3339, row[col["time_start"]])
			if err != nil || !ts.Equal(want.TimeStart) || !strings.HasSuffix(row[col["time_start"]], "Z") {
				t.Fatalf("row %d time_start %q: %v", i, row[col["time_start"]], err)
			}
			if want.TimeConnect == nil && row[col["time_connect"]] != "" {
				t.Fatalf("row %d: null time_connect as %q", i, row[col["time_connect"]])
			}
			if want.TimeConnect != nil && row[col["time_connect"]] != want.TimeConnect.Format(time.RFC3339) {
				t.Fatalf("row %d: time_connect %q", i, row[col["time_connect"]])
			}
			if name := row[col["src_name"]]; name != csvText(want.SrcName) {
				t.Fatalf("row %d src_name %q, want %q", i, name, want.SrcName)
			}
		}
		if recs[2][col["src_name"]] != `'=HYPERLINK("http://evil")` {
			t.Fatalf("formula not neutralised: %q", recs[2][col["src_name"]])
		}
		if recs[1][col["src_name"]] != `Alice "the caller", Ltd` || recs[3][col["src_name"]] != "multi\nline" {
			t.Fatalf("quoting lost: %q %q", recs[1][col["src_name"]], recs[3][col["src_name"]])
		}
		if !bytes.Contains(body, []byte("\r\n")) {
			t.Fatal("rows not CRLF-terminated")
		}
	})
	t.Run("over the row bound", func(t *testing.T) {
		old := csvRowLimit
		csvRowLimit = 5
		t.Cleanup(func() { csvRowLimit = old })
		e := e.with(t)
		p := wantProblem(t, e.do("GET", tf.dom+"/cdr/termination?format=csv", e.opToken, ""), http.StatusRequestEntityTooLarge, codeTooLarge, "to")
		if p.Reason != "too_many_rows" {
			t.Fatalf("reason %q", p.Reason)
		}
		// A narrower range fits.
		res, body := getRaw(t, e, tf.dom+"/cdr/termination?format=csv&to="+cdrBase.Add(5*time.Minute).Format(time.RFC3339), e.opToken)
		if recs := readCSV(t, res, body); len(recs) != 6 {
			t.Fatalf("%d lines", len(recs))
		}
	})
}

func TestTrunkCDRScopes(t *testing.T) {
	e := newEnv(t)
	tf := newTrunkFixture(e)
	admin := e.token(RoleDomainAdmin, tf.fx.domainID, 0)
	cust := e.token(RoleCustomer, tf.fx.domainID, tf.otherCust)
	for _, view := range []string{"incoming", "termination"} {
		t.Run(view+" domain admin sees the domain", func(t *testing.T) {
			e := e.with(t)
			var page struct {
				Items []map[string]any `json:"items"`
			}
			e.do("GET", tf.dom+"/cdr/"+view, admin, "").json(t, &page)
			if len(page.Items) != 12 {
				t.Fatalf("%d items", len(page.Items))
			}
		})
		t.Run(view+" customer sees own rows only", func(t *testing.T) {
			e := e.with(t)
			var page struct {
				Items []map[string]any `json:"items"`
			}
			r := e.do("GET", tf.dom+"/cdr/"+view, cust, "")
			r.json(t, &page)
			if r.status != http.StatusOK || len(page.Items) != 4 {
				t.Fatalf("%d: %d items", r.status, len(page.Items))
			}
			for _, it := range page.Items {
				if int64(it["customer_id"].(float64)) != tf.otherCust {
					t.Fatalf("foreign customer row %v", it)
				}
			}
			res, body := getRaw(t, e, tf.dom+"/cdr/"+view+"?format=csv", cust)
			recs := readCSV(t, res, body)
			if len(recs) != 5 {
				t.Fatalf("customer CSV has %d lines", len(recs))
			}
		})
		t.Run(view+" other domain refused", func(t *testing.T) {
			e := e.with(t)
			other := fmt.Sprintf("/admin/domain/%d/cdr/%s", tf.theirs.domainID, view)
			wantProblem(t, e.do("GET", other, admin, ""), http.StatusForbidden, codeForbidden, "domain_id")
			wantProblem(t, e.do("GET", other+"?format=csv", cust, ""), http.StatusForbidden, codeForbidden, "domain_id")
			wantProblem(t, e.do("GET", "/admin/domain/999/cdr/"+view, e.opToken, ""), http.StatusNotFound, codeNotFound, "")
			wantProblem(t, e.do("GET", tf.dom+"/cdr/"+view, "", ""), http.StatusUnauthorized, codeUnauthorized, "")
		})
	}
}

func TestTrunkCDRBadParams(t *testing.T) {
	e := newEnv(t)
	tf := newTrunkFixture(e)
	var page incomingPage
	e.op("GET", tf.dom+"/cdr/incoming?limit=1", "", http.StatusOK).json(t, &page)
	cases := []struct {
		name  string
		path  string
		field string
	}{
		{"format", "/cdr/incoming?format=xml", "format"},
		{"from", "/cdr/incoming?from=yesterday", "from"},
		{"to", "/cdr/termination?to=2026-13-01", "to"},
		{"to before from", "/cdr/incoming?from=2026-04-02T00:00:00Z&to=2026-04-01T00:00:00Z", "to"},
		{"limit zero", "/cdr/incoming?limit=0", "limit"},
		{"limit too big", "/cdr/termination?limit=1001", "limit"},
		{"garbage cursor", "/cdr/incoming?cursor=%25%25", "cursor"},
		{"incoming cursor on termination", "/cdr/termination?cursor=" + page.Next, "cursor"},
		{"cursor with csv", "/cdr/incoming?format=csv&cursor=" + page.Next, "cursor"},
		{"limit with csv", "/cdr/termination?format=csv&limit=10", "limit"},
		{"bad csv range", "/cdr/termination?format=csv&from=x", "from"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, e.with(t).do("GET", tf.dom+tc.path, e.opToken, ""), http.StatusBadRequest, codeBadParam, tc.field)
		})
	}
	t.Run("bad domain id", func(t *testing.T) {
		wantProblem(t, e.with(t).do("GET", "/admin/domain/x/cdr/incoming", e.opToken, ""), http.StatusBadRequest, codeBadParam, "domain_id")
	})
}

func TestCSVText(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"plain", "Alice", "Alice"},
		{"e164", "+441234567890", "+441234567890"},
		{"negative number", "-5", "-5"},
		{"formula", "=1+2", "'=1+2"},
		{"at", "@SUM(A1)", "'@SUM(A1)"},
		{"plus formula", "+A1*2", "'+A1*2"},
		{"minus formula", "-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"},
		{"tab", "\tx", "'\tx"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := csvText(tc.in); got != tc.want {
				t.Fatalf("csvText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestWantCSV(t *testing.T) {
	cases := []struct {
		name, query, accept string
		want                bool
		bad                 bool
	}{
		{"default json", "", "", false, false},
		{"format csv", "format=csv", "application/json", true, false},
		{"format json beats accept", "format=json", "text/csv", false, false},
		{"accept csv", "", "text/csv", true, false},
		{"accept csv with charset", "", "text/csv; charset=utf-8", true, false},
		{"json ranked higher", "", "text/csv;q=0.4, application/json", false, false},
		{"csv ranked higher", "", "application/json;q=0.5, text/csv", true, false},
		{"csv refused", "", "text/csv;q=0", false, false},
		{"wildcard", "", "*/*", false, false},
		{"bad format", "format=pdf", "", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/x?"+tc.query, nil)
			if tc.accept != "" {
				r.Header.Set("Accept", tc.accept)
			}
			got, err := wantCSV(r)
			if (err != nil) != tc.bad || got != tc.want {
				t.Fatalf("wantCSV = %v, %v", got, err)
			}
		})
	}
}

// fakeView is a trunkView over canned pages.
func fakeView(n int, failAfter int) trunkView[persistence.TerminationCDR] {
	return trunkView[persistence.TerminationCDR]{name: "termination", columns: terminationColumns,
		customer: func(c *persistence.TerminationCDR) int64 { return c.CustomerID },
		list: func(_ int64, _, _ time.Time, cursor string, _ int) ([]persistence.TerminationCDR, string, error) {
			if cursor != "" && failAfter >= 0 {
				return nil, "", errors.New("disk on fire")
			}
			var out []persistence.TerminationCDR
			for i := 0; i < n; i++ {
				out = append(out, persistence.TerminationCDR{ID: fmt.Sprintf("t%d", i), CustomerID: 1, TimeStart: cdrBase, TimeEnd: cdrBase})
			}
			if cursor == "" && failAfter >= 0 {
				return out, "more", nil
			}
			return out, "", nil
		}}
}

func TestWriteTrunkRows(t *testing.T) {
	old := csvRowLimit
	csvRowLimit = 3
	t.Cleanup(func() { csvRowLimit = old })
	cases := []struct {
		name          string
		view          trunkView[persistence.TerminationCDR]
		wantRows      int
		wantTruncated bool
		wantErr       bool
	}{
		{"within bound", fakeView(2, -1), 2, false, false},
		{"bound reached during the stream", fakeView(5, -1), 3, true, false},
		{"store fails on a later page", fakeView(1, 0), 1, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			cw := csv.NewWriter(&buf)
			truncated, err := writeTrunkRows(tc.view, cw, 1, time.Time{}, time.Time{}, 0)
			if truncated != tc.wantTruncated || (err != nil) != tc.wantErr {
				t.Fatalf("truncated %v, err %v", truncated, err)
			}
			recs, perr := csv.NewReader(&buf).ReadAll()
			if perr != nil || len(recs)-1 != tc.wantRows {
				t.Fatalf("%d rows (%v)", len(recs)-1, perr)
			}
		})
	}
}

func TestOpenAPIDocumentsReports(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]any `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	e.op("GET", "/admin/openapi.json", "", http.StatusOK).json(t, &doc)
	for _, p := range []string{"/admin/domain/{domain_id}/cdr/incoming", "/admin/domain/{domain_id}/cdr/termination", "/admin/domain/{domain_id}/summary"} {
		t.Run(p, func(t *testing.T) {
			c := doc.Paths[p]["get"].Responses["200"].Content
			if c["application/json"] == nil || c["text/csv"] == nil {
				t.Fatalf("content %v", c)
			}
		})
	}
	for _, name := range []string{"IncomingTrunkCDRPage", "TerminationCDRPage", "IncomingTrunkCDR", "TerminationCDR", "SummaryRow", "LiveSummaryRow"} {
		t.Run("schema "+name, func(t *testing.T) {
			if doc.Components.Schemas[name] == nil {
				t.Fatalf("no schema %s", name)
			}
		})
	}
}
