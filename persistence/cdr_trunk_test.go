package persistence

import (
	"encoding/base64"
	"fmt"
	"testing"
	"time"
)

var trunkBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// inCDR is an answered incoming trunk CDR of domain starting i minutes after trunkBase.
func inCDR(i int, domain, customer int64) IncomingTrunkCDR {
	start := trunkBase.Add(time.Duration(i) * time.Minute)
	conn := start.Add(3 * time.Second)
	return IncomingTrunkCDR{ID: fmt.Sprintf("in-%d-%03d", domain, i), DomainID: domain, CustomerID: customer,
		Customer: "Acme", IncomingTrunkID: 7, Duration: 20, SrcName: "Alice", SrcNumber: "+441000000001",
		DstNumber: "+442000000002", DIDNumber: "442000000002", LegADisconnectCode: 200, LegADisconnectReason: "BYE",
		TimeStart: start, TimeConnect: &conn, TimeEnd: conn.Add(20 * time.Second), GlobalTag: "g-1", OrigCallID: "a@b"}
}

// termCDR is an unanswered termination CDR of domain starting i minutes after trunkBase.
func termCDR(i int, domain, customer int64) TerminationCDR {
	start := trunkBase.Add(time.Duration(i) * time.Minute)
	return TerminationCDR{ID: fmt.Sprintf("term-%d-%03d", domain, i), DomainID: domain, CustomerID: customer,
		Customer: "Acme", TimeStart: start, TimeEnd: start.Add(5 * time.Second), LocalTag: "b-leg", GlobalTag: "g-2",
		LegADisconnectCode: 486, LegADisconnectReason: "Busy Here", SrcNameIn: "Bob", SrcNumberIn: "100",
		DstNumberIn: "0044123", SrcNumberOut: "+44100", DstNumberOut: "+44123", OrigCallID: "x@y", GatewayID: 3, RouteID: 4}
}

func TestAppendCDRBatchStoresAllViews(t *testing.T) {
	s := openTest(t, "")
	paris := time.FixedZone("CET", 3600)
	in := inCDR(0, 2, 5)
	in.TimeStart = in.TimeStart.In(paris)
	call := CDR{UUID: "call-1", DomainID: 2, CustomerID: 5, Direction: DirectionInbound, Start: trunkBase, End: trunkBase.Add(time.Minute)}
	call.FillDurations()
	if err := s.AppendCDRBatch(CDRBatch{Calls: []CDR{call}, Incoming: []IncomingTrunkCDR{in}, Termination: []TerminationCDR{termCDR(0, 2, 5)}}); err != nil {
		t.Fatalf("append: %v", err)
	}
	calls, _, err := s.ListCDRs(2, time.Time{}, time.Time{}, "", 10)
	if err != nil || len(calls) != 1 {
		t.Fatalf("calls: %v %v", calls, err)
	}
	ins, next, err := s.ListIncomingCDRs(2, time.Time{}, time.Time{}, "", 10)
	if err != nil || len(ins) != 1 || next != "" {
		t.Fatalf("incoming: %v %q %v", ins, next, err)
	}
	if ins[0].TimeStart.Location() != time.UTC || !ins[0].TimeStart.Equal(trunkBase) || ins[0].TimeConnect.Location() != time.UTC {
		t.Fatalf("incoming times not stored as UTC: %v %v", ins[0].TimeStart, ins[0].TimeConnect)
	}
	want := inCDR(0, 2, 5)
	if ins[0].SrcName != want.SrcName || ins[0].DIDNumber != want.DIDNumber || ins[0].IncomingTrunkID != 7 {
		t.Fatalf("incoming round trip: %+v", ins[0])
	}
	terms, _, err := s.ListTerminationCDRs(2, time.Time{}, time.Time{}, "", 10)
	if err != nil || len(terms) != 1 || terms[0].TimeConnect != nil || terms[0].RouteID != 4 {
		t.Fatalf("termination: %+v %v", terms, err)
	}
	if err := s.AppendCDRBatch(CDRBatch{}); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
}

func TestAppendCDRBatchRejectsWholeBatch(t *testing.T) {
	cases := []struct {
		name  string
		mut   func(*CDRBatch)
		field string
	}{
		{"bad call", func(b *CDRBatch) { b.Calls[0].Direction = "sideways" }, "calls[0].direction"},
		{"incoming id", func(b *CDRBatch) { b.Incoming[1].ID = "bad id!" }, "incoming[1].id"},
		{"incoming negative domain", func(b *CDRBatch) { b.Incoming[0].DomainID = -1 }, "incoming[0].domain_id"},
		{"incoming zero start", func(b *CDRBatch) { b.Incoming[0].TimeStart = time.Time{} }, "incoming[0].time_start"},
		{"incoming end before start", func(b *CDRBatch) { b.Incoming[1].TimeEnd = trunkBase.Add(-time.Hour) }, "incoming[1].time_end"},
		{"incoming connect after end", func(b *CDRBatch) {
			late := b.Incoming[0].TimeEnd.Add(time.Second)
			b.Incoming[0].TimeConnect = &late
		}, "incoming[0].time_connect"},
		{"incoming negative duration", func(b *CDRBatch) { b.Incoming[0].Duration = -1 }, "incoming[0].duration"},
		{"termination bad code", func(b *CDRBatch) { b.Termination[0].LegADisconnectCode = 99 }, "termination[0].lega_disconnect_code"},
		{"termination connect before start", func(b *CDRBatch) {
			early := trunkBase.Add(-time.Minute)
			b.Termination[0].TimeConnect = &early
		}, "termination[0].time_connect"},
		{"termination empty id", func(b *CDRBatch) { b.Termination[0].ID = "" }, "termination[0].id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, "")
			before := checksum(t, s)
			call := CDR{UUID: "call-1", DomainID: 2, Direction: DirectionInbound, Start: trunkBase, End: trunkBase}
			b := CDRBatch{Calls: []CDR{call}, Incoming: []IncomingTrunkCDR{inCDR(0, 2, 5), inCDR(1, 2, 5)},
				Termination: []TerminationCDR{termCDR(0, 2, 5)}}
			tc.mut(&b)
			wantField(t, s.AppendCDRBatch(b), tc.field, "")
			if after := checksum(t, s); after != before {
				t.Fatal("a rejected batch changed the store")
			}
		})
	}
}

func TestListTrunkCDRsPaging(t *testing.T) {
	s := openTest(t, "")
	var b CDRBatch
	for i := 0; i < 25; i++ {
		b.Incoming = append(b.Incoming, inCDR(i, 2, 5))
		b.Termination = append(b.Termination, termCDR(i, 2, 5))
	}
	b.Incoming = append(b.Incoming, inCDR(3, 3, 9))
	b.Termination = append(b.Termination, termCDR(3, 3, 9))
	if err := s.AppendCDRBatch(b); err != nil {
		t.Fatalf("append: %v", err)
	}
	from, to := trunkBase.Add(5*time.Minute), trunkBase.Add(20*time.Minute)

	t.Run("incoming pages in time order", func(t *testing.T) {
		var got []IncomingTrunkCDR
		cursor, pages := "", 0
		for {
			page, next, err := s.ListIncomingCDRs(2, from, to, cursor, 4)
			if err != nil {
				t.Fatalf("page %d: %v", pages, err)
			}
			got = append(got, page...)
			pages++
			if next == "" {
				break
			}
			cursor = next
		}
		if len(got) != 15 || pages != 4 || got[0].ID != "in-2-005" || got[14].ID != "in-2-019" {
			t.Fatalf("got %d in %d pages", len(got), pages)
		}
		for i := 1; i < len(got); i++ {
			if !got[i].TimeStart.After(got[i-1].TimeStart) {
				t.Fatalf("record %d out of order", i)
			}
		}
	})
	t.Run("termination pages in time order", func(t *testing.T) {
		first, next, err := s.ListTerminationCDRs(2, from, to, "", 10)
		if err != nil || len(first) != 10 || next == "" {
			t.Fatalf("first page: %d %q %v", len(first), next, err)
		}
		rest, next2, err := s.ListTerminationCDRs(2, from, to, next, 10)
		if err != nil || len(rest) != 5 || next2 != "" || rest[4].ID != "term-2-019" {
			t.Fatalf("second page: %d %q %v", len(rest), next2, err)
		}
	})
	t.Run("domain scoping", func(t *testing.T) {
		other, _, err := s.ListIncomingCDRs(3, time.Time{}, time.Time{}, "", 100)
		if err != nil || len(other) != 1 || other[0].DomainID != 3 {
			t.Fatalf("domain 3: %+v %v", other, err)
		}
		none, next, err := s.ListTerminationCDRs(4, time.Time{}, time.Time{}, "", 100)
		if err != nil || len(none) != 0 || none == nil || next != "" {
			t.Fatalf("empty domain: %v %q %v", none, next, err)
		}
	})
	t.Run("every domain by domain then time", func(t *testing.T) {
		first, next, err := s.ListIncomingCDRs(0, time.Time{}, time.Time{}, "", 25)
		if err != nil || len(first) != 25 || next == "" {
			t.Fatalf("first: %d %q %v", len(first), next, err)
		}
		rest, next, err := s.ListIncomingCDRs(0, time.Time{}, time.Time{}, next, 25)
		if err != nil || len(rest) != 1 || rest[0].DomainID != 3 || next != "" {
			t.Fatalf("rest: %+v %q %v", rest, next, err)
		}
	})
	t.Run("default and capped limit", func(t *testing.T) {
		page, _, err := s.ListTerminationCDRs(0, time.Time{}, time.Time{}, "", 0)
		if err != nil || len(page) != 26 {
			t.Fatalf("limit 0: %d %v", len(page), err)
		}
	})

	_, inNext, _ := s.ListIncomingCDRs(2, time.Time{}, time.Time{}, "", 1)
	otherNext := base64.RawURLEncoding.EncodeToString([]byte(prefixTerminationCDR + pad(3) + "/" + pad(nanos(trunkBase)) + "/x"))
	bad := []struct {
		name   string
		list   func() error
		field  string
		reason string
	}{
		{"garbage cursor", func() error {
			_, _, err := s.ListIncomingCDRs(2, time.Time{}, time.Time{}, "!!not base64", 10)
			return err
		}, "cursor", "invalid cursor"},
		{"call-record cursor", func() error {
			c := base64.RawURLEncoding.EncodeToString([]byte("cdr/" + pad(2) + "/x"))
			_, _, err := s.ListIncomingCDRs(2, time.Time{}, time.Time{}, c, 10)
			return err
		}, "cursor", "invalid cursor"},
		{"incoming cursor on termination", func() error {
			_, _, err := s.ListTerminationCDRs(2, time.Time{}, time.Time{}, inNext, 10)
			return err
		}, "cursor", "invalid cursor"},
		{"cursor of another domain", func() error {
			_, _, err := s.ListTerminationCDRs(2, time.Time{}, time.Time{}, otherNext, 10)
			return err
		}, "cursor", "invalid cursor"},
		{"negative domain", func() error {
			_, _, err := s.ListIncomingCDRs(-1, time.Time{}, time.Time{}, "", 10)
			return err
		}, "domain_id", ""},
		{"negative domain count", func() error {
			_, err := s.CountTerminationCDRs(-1, time.Time{}, time.Time{}, 0, 10)
			return err
		}, "domain_id", ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) { wantField(t, tc.list(), tc.field, tc.reason) })
	}
}

func TestCountTrunkCDRs(t *testing.T) {
	s := openTest(t, "")
	var b CDRBatch
	for i := 0; i < 10; i++ {
		cust := int64(5)
		if i%2 == 1 {
			cust = 6
		}
		b.Incoming = append(b.Incoming, inCDR(i, 2, cust))
		b.Termination = append(b.Termination, termCDR(i, 2, cust))
	}
	b.Incoming = append(b.Incoming, inCDR(0, 3, 5))
	if err := s.AppendCDRBatch(b); err != nil {
		t.Fatalf("append: %v", err)
	}
	cases := []struct {
		name     string
		count    func(domain int64, from, to time.Time, customer int64, max int) (int, error)
		domain   int64
		from, to time.Time
		customer int64
		max      int
		want     int
	}{
		{"incoming all", s.CountIncomingCDRs, 2, time.Time{}, time.Time{}, 0, 0, 10},
		{"incoming every domain", s.CountIncomingCDRs, 0, time.Time{}, time.Time{}, 0, 0, 11},
		{"incoming capped at max+1", s.CountIncomingCDRs, 2, time.Time{}, time.Time{}, 0, 3, 4},
		{"incoming one customer", s.CountIncomingCDRs, 2, time.Time{}, time.Time{}, 6, 0, 5},
		{"customer capped", s.CountIncomingCDRs, 2, time.Time{}, time.Time{}, 6, 2, 3},
		{"termination range", s.CountTerminationCDRs, 2, trunkBase.Add(2 * time.Minute), trunkBase.Add(6 * time.Minute), 0, 0, 4},
		{"termination other domain", s.CountTerminationCDRs, 3, time.Time{}, time.Time{}, 0, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := tc.count(tc.domain, tc.from, tc.to, tc.customer, tc.max)
			if err != nil || n != tc.want {
				t.Fatalf("count = %d, %v; want %d", n, err, tc.want)
			}
		})
	}
}
