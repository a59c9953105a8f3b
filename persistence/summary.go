package persistence

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Summary periods (seed 004: daily and monthly summaries, 24-hour UTC).
const (
	PeriodDaily   = "daily"
	PeriodMonthly = "monthly"
)

// SummaryRow is one customer's traffic in one UTC day or month, computed from the call records.
// Calls counts attempts (answered or not, rejected ones included), Minutes is the sum of
// billsec / 60, ASR is answered/calls in percent and ACD the mean billsec of answered calls in
// seconds; the three are rounded to two decimals. CustomerID 0 collects calls that have no
// customer (e.g. refused before one was known).
type SummaryRow struct {
	PeriodStart time.Time `json:"period_start"`
	CustomerID  int64     `json:"customer_id"`
	Customer    string    `json:"customer"`
	Calls       int64     `json:"calls"`
	Answered    int64     `json:"answered"`
	Minutes     float64   `json:"minutes"`
	ASR         float64   `json:"asr"`
	ACD         float64   `json:"acd"`
}

// PeriodStart returns the start (UTC) of the daily or monthly period that contains t.
func PeriodStart(period string, t time.Time) (time.Time, error) {
	t = t.UTC()
	switch period {
	case PeriodDaily:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
	case PeriodMonthly:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC), nil
	}
	return time.Time{}, fieldErr("period", "must be %q or %q", PeriodDaily, PeriodMonthly)
}

// NextPeriod returns the start of the period after the one starting at start.
func NextPeriod(period string, start time.Time) time.Time {
	if period == PeriodMonthly {
		return start.AddDate(0, 1, 0)
	}
	return start.AddDate(0, 0, 1)
}

// summaryKey groups call records.
type summaryKey struct {
	period   time.Time
	customer int64
}

type summaryAcc struct {
	calls, answered, billsec int64
}

// Summaries computes per-customer, per-period rows from the domain's call records (cdr/).
// The range is widened to whole periods: from is moved back to the start of its period and
// to forward to the next period boundary (zero to = no upper bound). Periods and customers
// without calls have no row. Rows are ordered by period_start, then customer_id. Inbound
// calls count for the customer of the DID, which the switch writes into CDR.CustomerID.
// A bad period or to before from is a *FieldError; an unknown domain wraps ErrNotFound.
func (s *Store) Summaries(domainID int64, period string, from, to time.Time) ([]SummaryRow, error) {
	if domainID <= 0 {
		return nil, fieldErr("domain_id", "must be > 0")
	}
	start, err := PeriodStart(period, from)
	if err != nil {
		return nil, err
	}
	if !to.IsZero() && to.Before(from) {
		return nil, fieldErr("to", "must not be before from")
	}
	end := time.Time{}
	if !to.IsZero() {
		end, _ = PeriodStart(period, to)
		if end.Before(to) {
			end = NextPeriod(period, end)
		}
	}
	if _, err := Get[*Domain](s, domainID); err != nil {
		return nil, fmt.Errorf("summaries of domain %d: %w", domainID, err)
	}
	customers, err := List[*Customer](s, domainID)
	if err != nil {
		return nil, fmt.Errorf("summaries of domain %d: %w", domainID, err)
	}
	names := make(map[int64]string, len(customers))
	for _, c := range customers {
		names[c.ID] = c.Name
	}
	acc := map[summaryKey]*summaryAcc{}
	err = s.db.View(func(txn *badger.Txn) error {
		p := prefixCDR + pad(domainID) + "/"
		return scanTimeRange(txn, p, start, end, "", math.MaxInt, func(k, v []byte) error {
			var c struct {
				CustomerID int64      `json:"customer_id"`
				Start      time.Time  `json:"start"`
				Answer     *time.Time `json:"answer"`
				Billsec    int64      `json:"billsec"`
			}
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("decode cdr %q: %w", k, err)
			}
			ps, _ := PeriodStart(period, c.Start)
			key := summaryKey{period: ps, customer: c.CustomerID}
			a := acc[key]
			if a == nil {
				a = &summaryAcc{}
				acc[key] = a
			}
			a.calls++
			if c.Answer != nil {
				a.answered++
				a.billsec += c.Billsec
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("summaries of domain %d: %w", domainID, err)
	}
	rows := make([]SummaryRow, 0, len(acc))
	for k, a := range acc {
		r := SummaryRow{PeriodStart: k.period, CustomerID: k.customer, Customer: names[k.customer],
			Calls: a.calls, Answered: a.answered, Minutes: round2(float64(a.billsec) / 60)}
		if a.calls > 0 {
			r.ASR = round2(float64(a.answered) * 100 / float64(a.calls))
		}
		if a.answered > 0 {
			r.ACD = round2(float64(a.billsec) / float64(a.answered))
		}
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].PeriodStart.Equal(rows[j].PeriodStart) {
			return rows[i].PeriodStart.Before(rows[j].PeriodStart)
		}
		return rows[i].CustomerID < rows[j].CustomerID
	})
	return rows, nil
}

// round2 rounds half away from zero to two decimals.
func round2(x float64) float64 { return math.Round(x*100) / 100 }
