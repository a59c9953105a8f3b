// Package hdr is a small HDR-style histogram: log-linear buckets with a bounded relative error
// (1/128), exact count, min, max and sum, quantiles, and merging. Values are non-negative
// integers in any unit the caller chooses (the bench harness records microseconds).
package hdr

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync"
)

const (
	subBits  = 7
	subCount = 1 << subBits // sub-buckets per power of two: relative error ≤ 1/128
	// MaxValue is the largest value a histogram tracks; larger values are refused.
	MaxValue = int64(1)<<50 - 1
)

// ErrNegative is returned when a negative value is recorded.
var ErrNegative = errors.New("hdr: negative value")

// ErrTooLarge is returned when a value above MaxValue is recorded.
var ErrTooLarge = errors.New("hdr: value above MaxValue")

// Histogram counts values in log-linear buckets. The zero value is empty and ready to use.
// A Histogram is not safe for concurrent use; wrap it in a Recorder for that.
type Histogram struct {
	counts []uint64 // grown on demand up to the highest bucket used
	count  uint64
	min    int64
	max    int64
	sum    float64
}

// index returns the bucket of v (0 ≤ v ≤ MaxValue).
func index(v int64) int {
	if v < 2*subCount {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - (subBits + 1)
	return (shift+1)*subCount + int(v>>uint(shift)) - subCount
}

// bounds returns the lowest and highest value that fall in bucket i.
func bounds(i int) (lo, hi int64) {
	if i < 2*subCount {
		return int64(i), int64(i)
	}
	shift := uint(i/subCount - 1)
	sub := int64(i%subCount + subCount)
	return sub << shift, (sub+1)<<shift - 1
}

// Record adds one value.
func (h *Histogram) Record(v int64) error {
	return h.RecordN(v, 1)
}

// RecordN adds the value n times.
func (h *Histogram) RecordN(v int64, n uint64) error {
	if v < 0 {
		return fmt.Errorf("%w: %d", ErrNegative, v)
	}
	if v > MaxValue {
		return fmt.Errorf("%w: %d", ErrTooLarge, v)
	}
	if n == 0 {
		return nil
	}
	i := index(v)
	if i >= len(h.counts) {
		grown := make([]uint64, i+1, max(i+1, 2*len(h.counts)))
		copy(grown, h.counts)
		h.counts = grown
	}
	h.counts[i] += n
	if h.count == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.count += n
	h.sum += float64(v) * float64(n)
	return nil
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.count }

// Min is the smallest recorded value (0 when empty).
func (h *Histogram) Min() int64 { return h.min }

// Max is the largest recorded value, exact (0 when empty).
func (h *Histogram) Max() int64 { return h.max }

// Mean is the arithmetic mean of the recorded values (0 when empty).
func (h *Histogram) Mean() float64 {
	if h.count == 0 {
		return 0
	}
	return h.sum / float64(h.count)
}

// Quantile returns the value at quantile q (0 ≤ q ≤ 1): the highest value equivalent to the
// bucket holding the ceil(q·count)-th smallest value, clamped to [Min, Max]. It is 0 when the
// histogram is empty and an error when q is outside [0, 1] or NaN.
func (h *Histogram) Quantile(q float64) (int64, error) {
	if math.IsNaN(q) || q < 0 || q > 1 {
		return 0, fmt.Errorf("hdr: quantile %v outside [0, 1]", q)
	}
	if h.count == 0 {
		return 0, nil
	}
	rank := uint64(math.Ceil(q * float64(h.count)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bounds(i)
			return min(max(hi, h.min), h.max), nil
		}
	}
	return h.max, nil
}

// MustQuantile is Quantile for the constant, valid quantiles the harness reports; an invalid q
// yields 0.
func (h *Histogram) MustQuantile(q float64) int64 {
	v, err := h.Quantile(q)
	if err != nil {
		return 0
	}
	return v
}

// Merge adds every value of o into h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.count == 0 {
		return
	}
	if len(o.counts) > len(h.counts) {
		grown := make([]uint64, len(o.counts))
		copy(grown, h.counts)
		h.counts = grown
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.count == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.count += o.count
	h.sum += o.sum
}

// Reset empties the histogram, keeping its storage.
func (h *Histogram) Reset() {
	clear(h.counts)
	h.count, h.min, h.max, h.sum = 0, 0, 0, 0
}

// Clone returns an independent copy.
func (h *Histogram) Clone() *Histogram {
	c := *h
	c.counts = append([]uint64(nil), h.counts...)
	return &c
}

// Recorder is a Histogram safe for concurrent use that also keeps an interval histogram, so a
// sampler can read "the last second" while the total keeps growing.
type Recorder struct {
	mu       sync.Mutex
	total    Histogram
	interval Histogram
}

// Record adds v to the total and to the current interval.
func (r *Recorder) Record(v int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.total.Record(v); err != nil {
		return err
	}
	return r.interval.Record(v)
}

// Interval returns the values recorded since the previous call and starts a new interval.
func (r *Recorder) Interval() *Histogram {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.interval.Clone()
	r.interval.Reset()
	return out
}

// Total returns a copy of every value recorded so far.
func (r *Recorder) Total() *Histogram {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total.Clone()
}
