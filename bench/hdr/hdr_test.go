package hdr

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
)

func TestIndexBoundsRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 255, 256, 257, 511, 512, 1000, 12345, 1 << 30, MaxValue} {
		i := index(v)
		lo, hi := bounds(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d with bounds [%d, %d]", v, i, lo, hi)
		}
		if v >= 256 && float64(hi-lo+1)/float64(lo) > 1.0/128+1e-9 {
			t.Fatalf("bucket %d [%d, %d] wider than 1/128 of its lower bound", i, lo, hi)
		}
	}
	// buckets are contiguous
	for i := 1; i < index(1<<20); i++ {
		_, prevHi := bounds(i - 1)
		lo, _ := bounds(i)
		if lo != prevHi+1 {
			t.Fatalf("gap between bucket %d (hi %d) and %d (lo %d)", i-1, prevHi, i, lo)
		}
	}
}

func TestQuantiles(t *testing.T) {
	tests := []struct {
		name   string
		values []int64
		q      float64
		want   int64
		tol    float64 // relative
	}{
		{name: "single value", values: []int64{42}, q: 0.5, want: 42},
		{name: "exact small range median", values: seq(1, 100), q: 0.5, want: 50},
		{name: "exact small range p99", values: seq(1, 100), q: 0.99, want: 99},
		{name: "max is exact", values: []int64{1, 2, 3, 1_000_003}, q: 1, want: 1_000_003},
		{name: "q0 is the min", values: []int64{700, 900, 1100}, q: 0, want: 700, tol: 1.0 / 128},
		{name: "large values within 1/128", values: seq(10_000, 20_000), q: 0.9, want: 19_000, tol: 1.0 / 128},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			for _, v := range tc.values {
				if err := h.Record(v); err != nil {
					t.Fatal(err)
				}
			}
			got, err := h.Quantile(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := math.Abs(float64(got-tc.want)) / float64(tc.want); diff > tc.tol {
				t.Fatalf("quantile %v = %d, want %d (±%.3f)", tc.q, got, tc.want, tc.tol)
			}
		})
	}
}

func TestAgainstSortedReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	vals := make([]int64, 50_000)
	for i := range vals {
		vals[i] = int64(r.ExpFloat64() * 5000)
		if err := h.Record(vals[i]); err != nil {
			t.Fatal(err)
		}
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		ref := vals[int(math.Ceil(q*float64(len(vals))))-1]
		got := h.MustQuantile(q)
		if got < ref || float64(got-ref) > float64(ref)/128+1 {
			t.Fatalf("q%v: got %d, reference %d", q, got, ref)
		}
	}
	if h.Max() != vals[len(vals)-1] || h.Min() != vals[0] {
		t.Fatalf("min/max %d/%d, want %d/%d", h.Min(), h.Max(), vals[0], vals[len(vals)-1])
	}
}

func TestBadInput(t *testing.T) {
	var h Histogram
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{name: "negative value", run: func() error { return h.Record(-1) }, want: ErrNegative},
		{name: "too large", run: func() error { return h.Record(MaxValue + 1) }, want: ErrTooLarge},
		{name: "quantile above 1", run: func() error { _, err := h.Quantile(1.5); return err }},
		{name: "quantile below 0", run: func() error { _, err := h.Quantile(-0.1); return err }},
		{name: "quantile NaN", run: func() error { _, err := h.Quantile(math.NaN()); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil {
				t.Fatal("want an error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
	if h.Count() != 0 {
		t.Fatalf("refused values were counted: %d", h.Count())
	}
	if v := h.MustQuantile(0.5); v != 0 {
		t.Fatalf("empty histogram quantile %d, want 0", v)
	}
}

func TestMerge(t *testing.T) {
	var a, b, all Histogram
	for v := int64(0); v < 5000; v++ {
		target := &a
		if v%3 == 0 {
			target = &b
		}
		_ = target.Record(v * 7)
		_ = all.Record(v * 7)
	}
	a.Merge(&b)
	a.Merge(nil)
	a.Merge(&Histogram{})
	if a.Count() != all.Count() || a.Max() != all.Max() || a.Min() != all.Min() || a.Mean() != all.Mean() {
		t.Fatalf("merged count/min/max/mean %d/%d/%d/%v, want %d/%d/%d/%v",
			a.Count(), a.Min(), a.Max(), a.Mean(), all.Count(), all.Min(), all.Max(), all.Mean())
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		if a.MustQuantile(q) != all.MustQuantile(q) {
			t.Fatalf("q%v: merged %d, direct %d", q, a.MustQuantile(q), all.MustQuantile(q))
		}
	}
}

func TestRecorderIntervals(t *testing.T) {
	var r Recorder
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int64(0); i < 1000; i++ {
				_ = r.Record(i)
			}
		}()
	}
	wg.Wait()
	if got := r.Interval().Count(); got != 4000 {
		t.Fatalf("first interval %d values, want 4000", got)
	}
	_ = r.Record(5)
	if got := r.Interval().Count(); got != 1 {
		t.Fatalf("second interval %d values, want 1", got)
	}
	if got := r.Total().Count(); got != 4001 {
		t.Fatalf("total %d values, want 4001", got)
	}
	if err := r.Record(-3); err == nil {
		t.Fatal("recorder accepted a negative value")
	}
}

func BenchmarkRecord(b *testing.B) {
	var h Histogram
	for i := 0; b.Loop(); i++ {
		_ = h.Record(int64(i & 0xfffff))
	}
}

func seq(from, to int64) []int64 {
	out := make([]int64, 0, to-from+1)
	for v := from; v <= to; v++ {
		out = append(out, v)
	}
	return out
}
