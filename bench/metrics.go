package bench

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/bench/hdr"
)

// metrics are the run-wide counters and histograms (microseconds), shared by every goroutine.
type metrics struct {
	attempted  atomic.Int64 // calls or REGISTERs started
	answered   atomic.Int64
	completed  atomic.Int64
	failed     atomic.Int64
	up         atomic.Int64 // calls up now
	maxUp      atomic.Int64
	regOK      atomic.Int64
	regTried   atomic.Int64
	lastRegOK  atomic.Int64 // UnixNano of the latest 200 to a REGISTER
	events     atomic.Int64 // ESL events received, all subscribers
	chanEvs    atomic.Int64
	injected   atomic.Int64
	lastAnswer atomic.Int64 // UnixNano of the latest 200 to an INVITE

	setup   hdr.Recorder
	ringing hdr.Recorder
	reg     hdr.Recorder
	lag     hdr.Recorder

	mu       sync.Mutex
	failures map[string]int64
}

func newMetrics() *metrics { return &metrics{failures: map[string]int64{}} }

func (m *metrics) fail(key string) {
	m.failed.Add(1)
	m.mu.Lock()
	m.failures[key]++
	m.mu.Unlock()
}

func (m *metrics) failuresByCode() map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int64, len(m.failures))
	for k, v := range m.failures {
		out[k] = v
	}
	return out
}

func (m *metrics) callUp() {
	storeMax(&m.maxUp, m.up.Add(1))
}

func (m *metrics) callDown() { m.up.Add(-1) }

// storeMax raises a to v if v is larger.
func storeMax(a *atomic.Int64, v int64) {
	for {
		cur := a.Load()
		if v <= cur || a.CompareAndSwap(cur, v) {
			return
		}
	}
}

// answerRate is answered calls per second from start to the last answer (0 when none): the
// throughput the switch sustained, which falls below the launch rate once setups queue.
func answerRate(answered int64, start time.Time, lastAnswerNano int64) float64 {
	if answered == 0 || lastAnswerNano == 0 {
		return 0
	}
	secs := time.Unix(0, lastAnswerNano).Sub(start).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(answered) / secs
}

// recordCall folds one call's outcome into m (and into step, when not nil).
func (m *metrics) recordCall(r callResult, step *stepStats) {
	if r.answered {
		at := r.startedAt.Add(r.setup).UnixNano()
		storeMax(&m.lastAnswer, at)
		if step != nil {
			step.answered.Add(1)
			storeMax(&step.lastAnswer, at)
		}
		m.answered.Add(1)
		_ = m.setup.Record(r.setup.Microseconds())
		if step != nil {
			_ = step.setup.Record(r.setup.Microseconds())
		}
	}
	if r.ringing > 0 {
		_ = m.ringing.Record(r.ringing.Microseconds())
	}
	if r.completed {
		m.completed.Add(1)
	}
	if r.failure != "" {
		m.fail(r.failure)
		if step != nil {
			step.failed.Add(1)
		}
	}
}

// stepStats are one ramp step's own counters.
type stepStats struct {
	target   float64
	launched atomic.Int64
	failed   atomic.Int64
	answered atomic.Int64
	// lastAnswer is the UnixNano of the step's latest answer.
	lastAnswer atomic.Int64
	setup      hdr.Recorder
	wg         sync.WaitGroup
}

// sortedKeys returns the keys of a failure map, largest count first.
func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
