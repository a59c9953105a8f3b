package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/persistence"
)

// liveLimits mirrors actors.DomainLimits (Go field names, no JSON tags): what the running
// switch returns from DomainLive.
type liveLimits struct {
	Domain            string
	Status            string
	ActiveCallLimit   int
	ExternalCallLimit int
	ActiveCalls       int
	ExternalCalls     int
	Customers         []liveCounters
}

type liveCounters struct {
	CustomerID    int64
	Name          string
	ClientPrefix  string
	CapacityLimit int
	ActiveCalls   int
}

// summaryLive serves a fixed live view per domain, or err.
type summaryLive struct {
	fakeLive
	mu    sync.Mutex
	views map[int64]any
	err   error
}

// set installs the view of a domain.
func (f *summaryLive) set(domainID int64, v any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.views[domainID] = v
}

func (f *summaryLive) DomainLive(_ context.Context, domainID int64) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	v, ok := f.views[domainID]
	if !ok {
		return nil, persistence.ErrNotFound
	}
	return v, nil
}

// summaryCall is an answered (talk >= 0) or unanswered call record.
func summaryCall(n int, domain, customer int64, start time.Time, talk int) persistence.CDR {
	c := persistence.CDR{UUID: fmt.Sprintf("s-%d-%d", domain, n), DomainID: domain, CustomerID: customer,
		Direction: persistence.DirectionOutbound, Start: start, End: start.Add(4 * time.Second)}
	if talk >= 0 {
		ans := start.Add(4 * time.Second)
		c.Answer, c.End = &ans, ans.Add(time.Duration(talk)*time.Second)
	}
	c.FillDurations()
	return c
}

type summaryFixture struct {
	e         *env
	live      *summaryLive
	fx        fixture
	otherCust int64
	theirs    fixture
	dom       string
	now       time.Time
}

func newSummaryFixture(t *testing.T) summaryFixture {
	live := &summaryLive{views: map[int64]any{}}
	e := newEnv(t, func(o *Options) { o.Live = live })
	sf := summaryFixture{e: e, live: live, fx: e.fixture("acme", 10001), theirs: e.fixture("theirs", 10002),
		now: time.Date(2026, 5, 20, 15, 0, 0, 0, time.UTC)}
	sf.otherCust = e.create(fmt.Sprintf("/admin/domain/%d/customer/", sf.fx.domainID), `{"name":"Other","client_prefix":"002","capacity_limit":7}`)
	sf.dom = fmt.Sprintf("/admin/domain/%d", sf.fx.domainID)
	e.srv.now = func() time.Time { return sf.now }
	d := sf.fx.domainID
	may19 := time.Date(2026, 5, 19, 8, 0, 0, 0, time.UTC)
	calls := []persistence.CDR{
		summaryCall(1, d, sf.fx.customerID, may19, 60),
		summaryCall(2, d, sf.fx.customerID, may19.Add(time.Hour), -1),
		summaryCall(3, d, sf.otherCust, may19, 45),
		summaryCall(4, d, sf.fx.customerID, time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), 120), // outside 30 days
		summaryCall(5, d, sf.fx.customerID, time.Date(2025, 4, 3, 0, 0, 0, 0, time.UTC), 30),  // outside 12 months
		summaryCall(6, sf.theirs.domainID, sf.theirs.customerID, may19, 600),
	}
	if err := e.store.AppendCDRs(calls); err != nil {
		t.Fatalf("append: %v", err)
	}
	live.set(d, liveLimits{Domain: "acme", Status: "active", ActiveCallLimit: 50, ExternalCallLimit: 20,
		ActiveCalls: 5, ExternalCalls: 2, Customers: []liveCounters{
			{CustomerID: sf.otherCust, Name: "Other", CapacityLimit: 7, ActiveCalls: 3},
			{CustomerID: sf.fx.customerID, Name: "Main", ActiveCalls: 2},
		}})
	return sf
}

func TestSummaryDailyMonthly(t *testing.T) {
	sf := newSummaryFixture(t)
	e := sf.e
	may19 := time.Date(2026, 5, 19, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		path string
		want []persistence.SummaryRow
	}{
		{"daily default is the last 30 days", "/summary", []persistence.SummaryRow{
			{PeriodStart: may19, CustomerID: sf.fx.customerID, Customer: "Main", Calls: 2, Answered: 1, Minutes: 1, ASR: 50, ACD: 60},
			{PeriodStart: may19, CustomerID: sf.otherCust, Customer: "Other", Calls: 1, Answered: 1, Minutes: 0.75, ASR: 100, ACD: 45},
		}},
		{"monthly default is the last 12 months", "/summary?period=monthly", []persistence.SummaryRow{
			{PeriodStart: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), CustomerID: sf.fx.customerID, Customer: "Main", Calls: 1, Answered: 1, Minutes: 2, ASR: 100, ACD: 120},
			{PeriodStart: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), CustomerID: sf.fx.customerID, Customer: "Main", Calls: 2, Answered: 1, Minutes: 1, ASR: 50, ACD: 60},
			{PeriodStart: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), CustomerID: sf.otherCust, Customer: "Other", Calls: 1, Answered: 1, Minutes: 0.75, ASR: 100, ACD: 45},
		}},
		{"explicit from", "/summary?period=monthly&from=2025-04-01T00:00:00Z&to=2025-05-01T00:00:00Z", []persistence.SummaryRow{
			{PeriodStart: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), CustomerID: sf.fx.customerID, Customer: "Main", Calls: 1, Answered: 1, Minutes: 0.5, ASR: 100, ACD: 30},
		}},
		{"to only: 30 days back", "/summary?period=daily&to=2026-03-04T00:00:00Z", []persistence.SummaryRow{
			{PeriodStart: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), CustomerID: sf.fx.customerID, Customer: "Main", Calls: 1, Answered: 1, Minutes: 2, ASR: 100, ACD: 120},
		}},
		{"from only: 30 days on", "/summary?from=2026-05-20T00:00:00Z", []persistence.SummaryRow{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			var got []persistence.SummaryRow
			e.op("GET", sf.dom+tc.path, "", http.StatusOK).json(t, &got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	t.Run("snake_case members", func(t *testing.T) {
		e := e.with(t)
		var got []map[string]any
		e.op("GET", sf.dom+"/summary", "", http.StatusOK).json(t, &got)
		for _, k := range []string{"period_start", "customer_id", "customer", "calls", "answered", "minutes", "asr", "acd"} {
			if _, ok := got[0][k]; !ok {
				t.Fatalf("no %s in %v", k, got[0])
			}
		}
	})
	t.Run("csv parse-back", func(t *testing.T) {
		res, body := getRaw(t, e, sf.dom+"/summary?period=monthly&format=csv", e.opToken)
		recs := readCSV(t, res, body)
		want := [][]string{
			summaryCSVHeader,
			{"2026-03-01T00:00:00Z", fmt.Sprint(sf.fx.customerID), "Main", "1", "1", "2.00", "100.00", "120.00"},
			{"2026-05-01T00:00:00Z", fmt.Sprint(sf.fx.customerID), "Main", "2", "1", "1.00", "50.00", "60.00"},
			{"2026-05-01T00:00:00Z", fmt.Sprint(sf.otherCust), "Other", "1", "1", "0.75", "100.00", "45.00"},
		}
		if !slices.EqualFunc(recs, want, slices.Equal) {
			t.Fatalf("csv %q", recs)
		}
	})
	t.Run("csv by accept", func(t *testing.T) {
		res, body := getRaw(t, e, sf.dom+"/summary?period=daily", e.opToken, "Accept: text/csv")
		if recs := readCSV(t, res, body); len(recs) != 3 {
			t.Fatalf("csv %q", recs)
		}
	})
}

func TestSummaryLive(t *testing.T) {
	sf := newSummaryFixture(t)
	e := sf.e
	t.Run("operator gets domain total then customers", func(t *testing.T) {
		e := e.with(t)
		var rows []liveRow
		e.op("GET", sf.dom+"/summary?period=live", "", http.StatusOK).json(t, &rows)
		ext, extLimit := 2, 20
		want := []liveRow{
			{Scope: liveScopeDomain, Customer: "acme", ActiveCalls: 5, CapacityLimit: 50, ExternalCalls: &ext, ExternalCallLimit: &extLimit},
			{Scope: liveScopeCustomer, CustomerID: sf.fx.customerID, Customer: "Main", ActiveCalls: 2},
			{Scope: liveScopeCustomer, CustomerID: sf.otherCust, Customer: "Other", ActiveCalls: 3, CapacityLimit: 7},
		}
		if len(rows) != len(want) || *rows[0].ExternalCalls != 2 || *rows[0].ExternalCallLimit != 20 {
			t.Fatalf("rows %+v", rows)
		}
		rows[0].ExternalCalls, rows[0].ExternalCallLimit = want[0].ExternalCalls, want[0].ExternalCallLimit
		if !slices.Equal(rows, want) {
			t.Fatalf("got  %+v\nwant %+v", rows, want)
		}
	})
	t.Run("store customers missing from the live view show zero", func(t *testing.T) {
		e := e.with(t)
		id := e.create(sf.dom+"/customer/", `{"name":"New","client_prefix":"003","capacity_limit":2}`)
		var rows []map[string]any
		e.op("GET", sf.dom+"/summary?period=live", "", http.StatusOK).json(t, &rows)
		last := rows[len(rows)-1]
		if int64(last["customer_id"].(float64)) != id || last["active_calls"].(float64) != 0 || last["capacity_limit"].(float64) != 2 {
			t.Fatalf("new customer row %v", last)
		}
	})
	t.Run("snake_case live view is read too", func(t *testing.T) {
		e := e.with(t)
		sf.live.set(sf.theirs.domainID, map[string]any{"domain": "theirs", "active_calls": 4, "active_call_limit": 9,
			"customers": []map[string]any{{"customer_id": sf.theirs.customerID, "name": "Main", "active_calls": 4}}})
		var rows []liveRow
		e.op("GET", fmt.Sprintf("/admin/domain/%d/summary?period=live", sf.theirs.domainID), "", http.StatusOK).json(t, &rows)
		if len(rows) != 2 || rows[0].ActiveCalls != 4 || rows[0].CapacityLimit != 9 || rows[1].ActiveCalls != 4 {
			t.Fatalf("rows %+v", rows)
		}
	})
}

func TestSummaryLiveFailures(t *testing.T) {
	cases := []struct {
		name   string
		view   any
		err    error
		status int
		code   string
	}{
		{"switch error", nil, errors.New("actor gone"), http.StatusServiceUnavailable, codeUnavailable},
		{"unknown to the switch", nil, persistence.ErrNotFound, http.StatusNotFound, codeNotFound},
		{"not an object", []int{1, 2}, nil, http.StatusServiceUnavailable, codeUnavailable},
		{"wrong member type", map[string]any{"active_calls": "many"}, nil, http.StatusServiceUnavailable, codeUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sf := newSummaryFixture(t)
			sf.live.mu.Lock()
			sf.live.err = tc.err
			sf.live.mu.Unlock()
			if tc.view != nil {
				sf.live.set(sf.fx.domainID, tc.view)
			}
			wantProblem(t, sf.e.with(t).do("GET", sf.dom+"/summary?period=live", sf.e.opToken, ""), tc.status, tc.code, "")
		})
	}
	t.Run("no live switch", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.Live = nil })
		d := e.domain("solo", 10009)
		wantProblem(t, e.do("GET", fmt.Sprintf("/admin/domain/%d/summary?period=live", d), e.opToken, ""), http.StatusServiceUnavailable, codeUnavailable, "")
	})
}

func TestSummaryScopes(t *testing.T) {
	sf := newSummaryFixture(t)
	e := sf.e
	admin := e.token(RoleDomainAdmin, sf.fx.domainID, 0)
	cust := e.token(RoleCustomer, sf.fx.domainID, sf.otherCust)
	t.Run("domain admin", func(t *testing.T) {
		e := e.with(t)
		var rows []persistence.SummaryRow
		r := e.do("GET", sf.dom+"/summary", admin, "")
		r.json(t, &rows)
		if r.status != http.StatusOK || len(rows) != 2 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("customer sees own daily rows", func(t *testing.T) {
		e := e.with(t)
		var rows []persistence.SummaryRow
		e.do("GET", sf.dom+"/summary?period=monthly", cust, "").json(t, &rows)
		if len(rows) != 1 || rows[0].CustomerID != sf.otherCust {
			t.Fatalf("rows %+v", rows)
		}
		res, body := getRaw(t, e, sf.dom+"/summary?format=csv", cust)
		recs := readCSV(t, res, body)
		if len(recs) != 2 || recs[1][1] != fmt.Sprint(sf.otherCust) {
			t.Fatalf("csv %q", recs)
		}
	})
	t.Run("customer sees own live row only", func(t *testing.T) {
		e := e.with(t)
		var rows []liveRow
		e.do("GET", sf.dom+"/summary?period=live", cust, "").json(t, &rows)
		if len(rows) != 1 || rows[0].CustomerID != sf.otherCust || rows[0].ActiveCalls != 3 || rows[0].Scope != liveScopeCustomer {
			t.Fatalf("rows %+v", rows)
		}
	})
	t.Run("other domain refused", func(t *testing.T) {
		e := e.with(t)
		other := fmt.Sprintf("/admin/domain/%d/summary", sf.theirs.domainID)
		for _, q := range []string{"", "?period=live", "?period=monthly&format=csv"} {
			wantProblem(t, e.do("GET", other+q, admin, ""), http.StatusForbidden, codeForbidden, "domain_id")
			wantProblem(t, e.do("GET", other+q, cust, ""), http.StatusForbidden, codeForbidden, "domain_id")
		}
		wantProblem(t, e.do("GET", "/admin/domain/999/summary", e.opToken, ""), http.StatusNotFound, codeNotFound, "")
	})
}

func TestSummaryBadParams(t *testing.T) {
	sf := newSummaryFixture(t)
	cases := []struct {
		name  string
		query string
		field string
	}{
		{"unknown period", "?period=weekly", "period"},
		{"bad format", "?format=xlsx", "format"},
		{"live as csv", "?period=live&format=csv", "format"},
		{"live with from", "?period=live&from=2026-01-01T00:00:00Z", "from"},
		{"live with to", "?period=live&to=2026-01-01T00:00:00Z", "to"},
		{"bad from", "?from=01/02/2026", "from"},
		{"bad to", "?period=monthly&to=soon", "to"},
		{"to before from", "?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to"},
		{"daily range too long", "?from=2025-01-01T00:00:00Z&to=2026-02-01T00:00:00Z", "to"},
		{"monthly range too long", "?period=monthly&from=2010-01-01T00:00:00Z&to=2026-02-01T00:00:00Z", "to"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := wantProblem(t, sf.e.with(t).do("GET", sf.dom+"/summary"+tc.query, sf.e.opToken, ""), http.StatusBadRequest, codeBadParam, tc.field)
			if p.Reason == "" {
				t.Fatalf("no reason: %+v", p)
			}
		})
	}
	t.Run("year of days fits", func(t *testing.T) {
		sf.e.with(t).op("GET", sf.dom+"/summary?from=2025-05-20T00:00:00Z&to=2026-05-20T00:00:00Z", "", http.StatusOK)
	})
}

func TestDecodeLiveView(t *testing.T) {
	cases := []struct {
		name    string
		in      any
		want    int
		wantErr bool
	}{
		{"go field names", liveLimits{ActiveCalls: 3}, 3, false},
		{"pointer", &liveLimits{ActiveCalls: 4}, 4, false},
		{"snake case", map[string]any{"active_calls": 5}, 5, false},
		{"null", nil, 0, true},
		{"string", "busy", 0, true},
		{"unencodable", map[string]any{"x": make(chan int)}, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeLiveView(tc.in)
			if (err != nil) != tc.wantErr || got.ActiveCalls != tc.want {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
	t.Run("csv header covers SummaryRow", func(t *testing.T) {
		if want := jsonFieldNames(reflect.TypeFor[persistence.SummaryRow]()); !slices.Equal(summaryCSVHeader, want) {
			t.Fatalf("header %v, members %v", summaryCSVHeader, want)
		}
	})
}
