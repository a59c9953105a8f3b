package persistence

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// sumCDR is a call record of customer starting at start, answered after ring seconds and
// lasting talk seconds, or unanswered when talk < 0.
func sumCDR(n int, domain, customer int64, dir string, start time.Time, talk int) CDR {
	c := CDR{UUID: fmt.Sprintf("sum-%d-%03d", domain, n), DomainID: domain, CustomerID: customer, Direction: dir,
		Start: start, End: start.Add(5 * time.Second)}
	if talk >= 0 {
		ans := start.Add(5 * time.Second)
		c.Answer = &ans
		c.End = ans.Add(time.Duration(talk) * time.Second)
	}
	c.FillDurations()
	return c
}

func TestSummaries(t *testing.T) {
	s := openTest(t, "")
	d, acme := fixture(t, s, "acme.example", "00001")
	beta := mustCreate(t, s, &Customer{DomainID: d.ID, Name: "Beta", ClientPrefix: "002"})
	d2, other := fixture(t, s, "other.example", "00002")

	day1 := time.Date(2026, 1, 31, 23, 59, 0, 0, time.UTC)
	day2 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	day3 := time.Date(2026, 2, 14, 10, 0, 0, 0, time.UTC)
	calls := []CDR{
		sumCDR(1, d.ID, acme.ID, DirectionInternal, day1, 90),                     // answered 90 s
		sumCDR(2, d.ID, acme.ID, DirectionOutbound, day1.Add(30*time.Second), 30), // answered 30 s
		sumCDR(3, d.ID, acme.ID, DirectionOutbound, day1.Add(40*time.Second), -1), // unanswered
		sumCDR(4, d.ID, beta.ID, DirectionInbound, day2, 61),                      // DID of Beta
		sumCDR(5, d.ID, 0, DirectionInternal, day2.Add(time.Hour), -1),            // refused, no customer
		sumCDR(6, d.ID, acme.ID, DirectionInbound, day3, 10),
		sumCDR(7, d.ID, acme.ID, DirectionInternal, day3.Add(time.Minute), -1),
		sumCDR(8, d.ID, acme.ID, DirectionInternal, day3.Add(2*time.Minute), -1),
		sumCDR(9, d2.ID, other.ID, DirectionInternal, day2, 600), // another domain
	}
	if err := s.AppendCDRs(calls); err != nil {
		t.Fatalf("append: %v", err)
	}
	row := func(p time.Time, c *Customer, calls, answered int64, minutes, asr, acd float64) SummaryRow {
		r := SummaryRow{PeriodStart: p, Calls: calls, Answered: answered, Minutes: minutes, ASR: asr, ACD: acd}
		if c != nil {
			r.CustomerID, r.Customer = c.ID, c.Name
		}
		return r
	}
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	feb := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		period   string
		from, to time.Time
		want     []SummaryRow
	}{
		{"daily", PeriodDaily, jan, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), []SummaryRow{
			row(time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), acme, 3, 2, 2, 66.67, 60),
			row(day2, nil, 1, 0, 0, 0, 0),
			row(day2, beta, 1, 1, 1.02, 100, 61),
			row(time.Date(2026, 2, 14, 0, 0, 0, 0, time.UTC), acme, 3, 1, 0.17, 33.33, 10),
		}},
		{"monthly", PeriodMonthly, jan, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), []SummaryRow{
			row(jan, acme, 3, 2, 2, 66.67, 60),
			row(feb, nil, 1, 0, 0, 0, 0),
			row(feb, acme, 3, 1, 0.17, 33.33, 10),
			row(feb, beta, 1, 1, 1.02, 100, 61),
		}},
		{"range widened to whole days", PeriodDaily, day1.Add(50 * time.Second), day2.Add(time.Minute), []SummaryRow{
			row(time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), acme, 3, 2, 2, 66.67, 60),
			row(day2, nil, 1, 0, 0, 0, 0),
			row(day2, beta, 1, 1, 1.02, 100, 61),
		}},
		{"to on a boundary is exclusive", PeriodMonthly, jan, feb, []SummaryRow{
			row(jan, acme, 3, 2, 2, 66.67, 60),
		}},
		{"no upper bound", PeriodMonthly, feb, time.Time{}, []SummaryRow{
			row(feb, nil, 1, 0, 0, 0, 0),
			row(feb, acme, 3, 1, 0.17, 33.33, 10),
			row(feb, beta, 1, 1, 1.02, 100, 61),
		}},
		{"empty range", PeriodDaily, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), []SummaryRow{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Summaries(d.ID, tc.period, tc.from, tc.to)
			if err != nil {
				t.Fatalf("summaries: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}

	t.Run("customer names follow renames", func(t *testing.T) {
		beta.Name = "Beta Ltd"
		if _, err := Update(s, beta, op); err != nil {
			t.Fatalf("rename: %v", err)
		}
		got, err := s.Summaries(d.ID, PeriodDaily, day2, day2.Add(time.Hour))
		if err != nil || len(got) != 2 || got[1].Customer != "Beta Ltd" {
			t.Fatalf("got %+v, %v", got, err)
		}
	})

	bad := []struct {
		name     string
		domain   int64
		period   string
		from, to time.Time
		field    string
	}{
		{"live is not stored", d.ID, "live", jan, feb, "period"},
		{"empty period", d.ID, "", jan, feb, "period"},
		{"weekly", d.ID, "weekly", jan, feb, "period"},
		{"to before from", d.ID, PeriodDaily, feb, jan, "to"},
		{"domain zero", 0, PeriodDaily, jan, feb, "domain_id"},
		{"negative domain", -4, PeriodDaily, jan, feb, "domain_id"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Summaries(tc.domain, tc.period, tc.from, tc.to)
			wantField(t, err, tc.field, "")
		})
	}
	t.Run("unknown domain", func(t *testing.T) {
		_, err := s.Summaries(999, PeriodDaily, jan, feb)
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("want ErrNotFound, got %v", err)
		}
	})
}

func TestPeriodStart(t *testing.T) {
	zone := time.FixedZone("UTC+5", 5*3600)
	cases := []struct {
		name   string
		period string
		in     time.Time
		want   time.Time
	}{
		{"daily in UTC", PeriodDaily, time.Date(2026, 2, 1, 0, 30, 0, 0, zone), time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"monthly in UTC", PeriodMonthly, time.Date(2026, 3, 1, 2, 0, 0, 0, zone), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PeriodStart(tc.period, tc.in)
			if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if got := NextPeriod(PeriodMonthly, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("next month %v", got)
	}
	if _, err := PeriodStart("hourly", time.Now()); err == nil {
		t.Fatal("hourly accepted")
	}
}

func BenchmarkSummariesDaily(b *testing.B) {
	s, err := Open(Options{Dir: b.TempDir(), Small: true, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	d, err := Create(s, newDomain("bench.example", "00009"), op)
	if err != nil {
		b.Fatal(err)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for chunk := 0; chunk < 10; chunk++ {
		var batch []CDR
		for i := chunk * 500; i < (chunk+1)*500; i++ {
			batch = append(batch, sumCDR(i, d.ID, int64(i%10), DirectionInternal, base.Add(time.Duration(i)*time.Minute), i%3-1))
		}
		if err := s.AppendCDRs(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Summaries(d.ID, PeriodDaily, base, base.AddDate(0, 1, 0)); err != nil {
			b.Fatal(err)
		}
	}
}
