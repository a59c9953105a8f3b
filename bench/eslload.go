package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/esl"
	"github.com/switchyard/switchyard/esl/client"
)

// eslSubscribe connects k ESL subscribers to every event and counts what they receive.
// Closing stop (or closing the clients, which closes Events()) ends the counting goroutines.
func (r *runner) eslSubscribe(ctx context.Context, k int, stop <-chan struct{}) ([]*client.Client, *sync.WaitGroup, error) {
	var subs []*client.Client
	var wg sync.WaitGroup
	for i := 0; i < k; i++ {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		c, err := client.Dial(dctx, client.Options{Addr: r.sw.ESL, Password: r.cfg.ESLPassword, Events: []string{"ALL"},
			EventBuffer: 1 << 16})
		cancel()
		if err != nil {
			for _, s := range subs {
				_ = s.Close()
			}
			return nil, nil, fmt.Errorf("esl subscriber %d: %w", i, err)
		}
		subs = append(subs, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case ev, ok := <-c.Events():
					if !ok {
						return // the client was closed
					}
					r.countEvent(ev)
				case <-stop:
					return
				}
			}
		}()
	}
	return subs, &wg, nil
}

// countEvent records one received event and its delivery lag (now − Event-Date-Timestamp).
func (r *runner) countEvent(ev *esl.Event) {
	now := time.Now().UnixMicro()
	r.m.events.Add(1)
	if strings.HasPrefix(ev.Name(), "CHANNEL_") {
		r.m.chanEvs.Add(1)
	}
	if ts, err := strconv.ParseInt(ev.Get("Event-Date-Timestamp"), 10, 64); err == nil {
		_ = r.m.lag.Record(max(now-ts, 0))
	}
}

// injectSessions is how many ESL sessions share the synthetic load (one session's commands are
// answered in order, so a single session caps the injection rate).
const injectSessions = 4

// inject publishes CUSTOM bench::load events with sendevent at rate until ctx ends, spread over
// injectSessions sessions.
func (r *runner) inject(ctx context.Context, rate float64) error {
	errs := make(chan error, injectSessions)
	for i := 0; i < injectSessions; i++ {
		go func() { errs <- r.injectOne(ctx, rate/injectSessions) }()
	}
	var first error
	for i := 0; i < injectSessions; i++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// injectOne is one injecting session, 64 commands in flight.
func (r *runner) injectOne(ctx context.Context, rate float64) error {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, err := client.Dial(dctx, client.Options{Addr: r.sw.ESL, Password: r.cfg.ESLPassword})
	cancel()
	if err != nil {
		return fmt.Errorf("esl injector: %w", err)
	}
	defer c.Close()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	headers := []esl.Header{{Name: "Event-Subclass", Value: "bench::load"}}
	pace(ctx, rate, 0, 0, func(int) {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := c.Command(cctx, "sendevent CUSTOM", headers, nil); err == nil {
				r.m.injected.Add(1)
			}
		}()
	})
	wg.Wait()
	return nil
}

func (r *runner) runESL(ctx context.Context) (func(*Report), error) {
	if err := r.registerAll(ctx); err != nil {
		return nil, err
	}
	stopSubs := make(chan struct{})
	subs, subWG, err := r.eslSubscribe(ctx, r.cfg.Subscribers, stopSubs)
	if err != nil {
		return nil, err
	}
	ps := r.pairs()
	s := r.startSampler(r.cfg.Duration + r.cfg.Hold)
	start := time.Now()
	rates := func(*Report) {}
	ictx, stopInject := context.WithTimeout(ctx, r.cfg.Duration)
	defer stopInject()
	injectErr := make(chan error, 1)
	go func() {
		if r.cfg.Inject > 0 {
			injectErr <- r.inject(ictx, r.cfg.Inject)
			return
		}
		injectErr <- nil
	}()
	var wg sync.WaitGroup
	n, el := r.load(ctx, r.cfg.Rate, r.cfg.Duration, 0, nil, &wg, func(i int) (*uaNode, callSpec) {
		return r.switchCall(ps, i, holdFor(r.cfg.Hold))
	}, nil)
	wg.Wait()
	rates = r.callRates(start, n, el)
	ierr := <-injectErr
	r.awaitQuiet(ctx)
	window := time.Since(start)
	var dropped uint64
	for _, c := range subs {
		dropped += c.Dropped()
		_ = c.Close()
	}
	close(stopSubs)
	subWG.Wait()
	s.finish()
	if ierr != nil {
		return nil, ierr
	}
	return func(rep *Report) {
		rates(rep)
		got := r.m.events.Load()
		st := &ESLStats{Subscribers: len(subs), EventsReceived: got, ChannelEvents: r.m.chanEvs.Load(),
			EventsPerSec: round(float64(got)/window.Seconds(), 1), InjectRate: r.cfg.Inject, Injected: r.m.injected.Load(),
			Dropped: dropped, Lag: latencyOf(r.m.lag.Total()), MeasuredWindowSecond: round(window.Seconds(), 2)}
		st.EventsPerSecPerSub = round(st.EventsPerSec/float64(len(subs)), 1)
		rep.ESL = st
	}, ctx.Err()
}

// awaitQuiet waits (at most 10 s) until no ESL event arrived for 300 ms: the tail of the
// channel events of the last calls.
func (r *runner) awaitQuiet(ctx context.Context) {
	deadline := time.Now().Add(10 * time.Second)
	last := r.m.events.Load()
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
		cur := r.m.events.Load()
		if cur == last {
			return
		}
		last = cur
	}
}
