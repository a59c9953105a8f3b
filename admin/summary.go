package admin

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/persistence"
)

// Summary periods accepted by GET /admin/domain/{id}/summary.
const (
	periodLive    = "live"
	periodDaily   = persistence.PeriodDaily
	periodMonthly = persistence.PeriodMonthly
)

// Default windows and the longest ranges a summary request may cover.
const (
	defaultDailyDays     = 30
	defaultMonthlyMonths = 12
	maxDailyDays         = 366
	maxMonthlyMonths     = 120
)

// Scopes of a live summary row.
const (
	liveScopeDomain   = "domain"
	liveScopeCustomer = "customer"
)

// liveRow is one row of the live summary: the domain total (scope "domain", customer_id 0,
// customer = the domain name, capacity_limit = the domain's active_call_limit, plus the
// external-call counters) or one customer (scope "customer"). Limits of 0 mean unlimited.
type liveRow struct {
	Scope             string `json:"scope"`
	CustomerID        int64  `json:"customer_id"`
	Customer          string `json:"customer"`
	ActiveCalls       int    `json:"active_calls"`
	CapacityLimit     int    `json:"capacity_limit"`
	ExternalCalls     *int   `json:"external_calls,omitempty"`
	ExternalCallLimit *int   `json:"external_call_limit,omitempty"`
}

// liveView is the part of the running switch's live view the summary needs. The switch
// returns actors.DomainLimits (Go field names, no JSON tags); liveView is decoded from its
// JSON after the member names are normalised (lower case, underscores dropped), so both
// "ActiveCalls" and "active_calls" spellings are read.
type liveView struct {
	Domain            string `json:"domain"`
	ActiveCallLimit   int    `json:"activecalllimit"`
	ExternalCallLimit int    `json:"externalcalllimit"`
	ActiveCalls       int    `json:"activecalls"`
	ExternalCalls     int    `json:"externalcalls"`
	Customers         []struct {
		CustomerID    int64  `json:"customerid"`
		Name          string `json:"name"`
		CapacityLimit int    `json:"capacitylimit"`
		ActiveCalls   int    `json:"activecalls"`
	} `json:"customers"`
}

// decodeLiveView reads a LiveSwitch.DomainLive value through JSON.
func decodeLiveView(v any) (liveView, error) {
	var out liveView
	b, err := json.Marshal(v)
	if err != nil {
		return out, fmt.Errorf("encode live view: %w", err)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return out, fmt.Errorf("decode live view: %w", err)
	}
	if _, ok := generic.(map[string]any); !ok {
		return out, fmt.Errorf("decode live view: want an object, got %s", b)
	}
	if b, err = json.Marshal(normaliseKeys(generic)); err != nil {
		return out, fmt.Errorf("encode live view: %w", err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("decode live view: %w", err)
	}
	return out, nil
}

// normaliseKeys lower-cases object member names and drops underscores, recursively.
func normaliseKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[strings.ToLower(strings.ReplaceAll(k, "_", ""))] = normaliseKeys(val)
		}
		return m
	case []any:
		for i := range x {
			x[i] = normaliseKeys(x[i])
		}
		return x
	}
	return v
}

// summaryCSVHeader is the header row of a daily/monthly CSV export (SummaryRow's members).
var summaryCSVHeader = []string{"period_start", "customer_id", "customer", "calls", "answered", "minutes", "asr", "acd"}

func (s *Server) summary(w http.ResponseWriter, r *http.Request, p principal) {
	domainID, err := pathID(r, "domain_id")
	q := r.URL.Query()
	period := q.Get("period")
	if period == "" {
		period = periodDaily
	}
	if err == nil && period != periodLive && period != periodDaily && period != periodMonthly {
		err = errParam("period", fmt.Sprintf("period %q must be live, daily or monthly", period))
	}
	var asCSV bool
	if err == nil {
		asCSV, err = wantCSV(r)
	}
	if err == nil && period == periodLive {
		switch {
		case asCSV:
			err = errParam("format", "the live summary is JSON only")
		case q.Get("from") != "":
			err = errParam("from", "from does not apply to the live summary")
		case q.Get("to") != "":
			err = errParam("to", "to does not apply to the live summary")
		}
	}
	var from, to time.Time
	if err == nil && period != periodLive {
		from, to, err = s.summaryRange(r, period)
	}
	if err == nil {
		err = s.access(p, domainID, false)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	if period == periodLive {
		s.liveSummary(w, r, p, domainID)
		return
	}
	rows, err := s.store.Summaries(domainID, period, from, to)
	if err != nil {
		s.fail(w, storeParamErr(err))
		return
	}
	if p.Role == RoleCustomer {
		mine := rows[:0]
		for _, row := range rows {
			if row.CustomerID == p.CustomerID {
				mine = append(mine, row)
			}
		}
		rows = mine
	}
	if !asCSV {
		writeJSON(w, http.StatusOK, rows)
		return
	}
	s.writeSummaryCSV(w, domainID, period, rows)
}

// summaryRange reads from/to for a daily or monthly summary. Without either, the window is
// the last 30 UTC days (12 months) up to the end of the current day (month); with one of them
// it is 30 days (12 months) from from or up to to. Longer ranges than 366 days (120 months)
// are refused.
func (s *Server) summaryRange(r *http.Request, period string) (from, to time.Time, err error) {
	step := func(t time.Time, n int) time.Time {
		if period == periodMonthly {
			return t.AddDate(0, n, 0)
		}
		return t.AddDate(0, 0, n)
	}
	window := defaultDailyDays
	if period == periodMonthly {
		window = defaultMonthlyMonths
	}
	q := r.URL.Query()
	if from, err = timeParam(r, "from", time.Time{}); err != nil {
		return
	}
	if to, err = timeParam(r, "to", time.Time{}); err != nil {
		return
	}
	switch {
	case q.Get("from") == "" && q.Get("to") == "":
		cur, _ := persistence.PeriodStart(period, s.now())
		to = persistence.NextPeriod(period, cur)
		from = step(to, -window)
	case q.Get("to") == "":
		to = step(from, window)
	case q.Get("from") == "":
		from = step(to, -window)
	}
	if to.Before(from) {
		return from, to, errParam("to", "to is before from")
	}
	limit, unit := maxDailyDays, "days"
	if period == periodMonthly {
		limit, unit = maxMonthlyMonths, "months"
	}
	if step(from, limit).Before(to) {
		return from, to, errParam("to", fmt.Sprintf("a %s summary covers at most %d %s", period, limit, unit))
	}
	return from, to, nil
}

// liveSummary answers period=live from the running switch, merged over the domain's stored
// customers (a customer the live view does not list shows 0 active calls). Customer tokens get
// only their own row; the domain total row is for operators and domain admins.
func (s *Server) liveSummary(w http.ResponseWriter, r *http.Request, p principal, domainID int64) {
	if s.live == nil {
		s.fail(w, &apiError{status: http.StatusServiceUnavailable, code: codeUnavailable, reason: "no_live_switch",
			detail: "the live switch is not attached"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), liveTimeout)
	defer cancel()
	raw, err := s.live.DomainLive(ctx, domainID)
	var lv liveView
	if err == nil {
		lv, err = decodeLiveView(raw)
	}
	if err != nil {
		if errors.Is(err, persistence.ErrNotFound) {
			s.fail(w, err)
			return
		}
		s.log.Error().Err(err).Int64("domain_id", domainID).Msg("live summary failed")
		s.fail(w, &apiError{status: http.StatusServiceUnavailable, code: codeUnavailable, reason: "live_failed",
			detail: "the live switch could not answer"})
		return
	}
	customers, err := persistence.List[*persistence.Customer](s.store, domainID)
	if err != nil {
		s.fail(w, fmt.Errorf("list customers of domain %d: %w", domainID, err))
		return
	}
	byID := map[int64]*liveRow{}
	for _, c := range customers {
		byID[c.ID] = &liveRow{Scope: liveScopeCustomer, CustomerID: c.ID, Customer: c.Name, CapacityLimit: c.CapacityLimit}
	}
	for _, c := range lv.Customers {
		byID[c.CustomerID] = &liveRow{Scope: liveScopeCustomer, CustomerID: c.CustomerID, Customer: c.Name,
			CapacityLimit: c.CapacityLimit, ActiveCalls: c.ActiveCalls}
	}
	rows := make([]liveRow, 0, len(byID)+1)
	if p.Role != RoleCustomer {
		ext, extLimit := lv.ExternalCalls, lv.ExternalCallLimit
		rows = append(rows, liveRow{Scope: liveScopeDomain, Customer: lv.Domain, ActiveCalls: lv.ActiveCalls,
			CapacityLimit: lv.ActiveCallLimit, ExternalCalls: &ext, ExternalCallLimit: &extLimit})
	}
	ids := make([]int64, 0, len(byID))
	for id := range byID {
		if p.Role != RoleCustomer || id == p.CustomerID {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		rows = append(rows, *byID[id])
	}
	writeJSON(w, http.StatusOK, rows)
}

// writeSummaryCSV sends daily/monthly rows as CSV (times RFC 3339 UTC, decimals with two places).
func (s *Server) writeSummaryCSV(w http.ResponseWriter, domainID int64, period string, rows []persistence.SummaryRow) {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="domain-%d-%s-summary.csv"`, domainID, period))
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	dec := func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
	_ = cw.Write(summaryCSVHeader)
	for _, row := range rows {
		_ = cw.Write([]string{csvTime(&row.PeriodStart), csvInt(row.CustomerID), csvText(row.Customer),
			csvInt(row.Calls), csvInt(row.Answered), dec(row.Minutes), dec(row.ASR), dec(row.ACD)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		s.log.Error().Err(err).Int64("domain_id", domainID).Msg("summary CSV write failed")
	}
}
