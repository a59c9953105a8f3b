package bench

import (
	"context"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// holdFor returns a hold function that waits d (or until ctx ends).
func holdFor(d time.Duration) func(context.Context) {
	return func(ctx context.Context) {
		if d <= 0 {
			return
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

// pair is a caller and the callee it dials.
type pair struct{ from, to benchAccount }

// pairs splits every domain's accounts into caller/callee pairs (1000→1001, 1002→1003, …).
func (r *runner) pairs() []pair {
	var out []pair
	for _, t := range r.tenants {
		for j := 0; j+1 < len(t.Accounts); j += 2 {
			out = append(out, pair{from: t.Accounts[j], to: t.Accounts[j+1]})
		}
	}
	return out
}

// switchCall returns the i-th call through the switch.
func (r *runner) switchCall(ps []pair, i int, hold func(context.Context)) (*uaNode, callSpec) {
	p := ps[i%len(ps)]
	return r.nodeOf(p.from), callSpec{from: p.from, fromHost: p.from.Domain, hold: hold, timeout: 32 * time.Second,
		ruri: sip.Uri{Scheme: "sip", User: p.to.User, Host: r.sipHost, Port: r.sipPort}}
}

// load places calls at rate for dur (or until limit calls), at most cfg.Concurrency in flight.
// Each call's outcome goes to r.m and to step (when not nil). wg tracks the calls.
func (r *runner) load(ctx context.Context, rate float64, dur time.Duration, limit int, step *stepStats,
	wg *sync.WaitGroup, next func(i int) (*uaNode, callSpec), onSettled func()) (int, time.Duration) {
	sem := make(chan struct{}, r.cfg.Concurrency)
	return pace(ctx, rate, dur, limit, func(i int) {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		node, spec := next(i)
		r.m.attempted.Add(1)
		if step != nil {
			step.launched.Add(1)
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			settled := false
			settle := func() {
				if !settled && onSettled != nil {
					settled = true
					onSettled()
				}
			}
			res := node.call(ctx, spec, func() { r.m.callUp(); settle() }, r.m.callDown)
			settle()
			r.m.recordCall(res, step)
		}()
	})
}

func (r *runner) runCalls(ctx context.Context) (func(*Report), error) {
	if err := r.registerAll(ctx); err != nil {
		return nil, err
	}
	ps := r.pairs()
	s := r.startSampler(r.cfg.Duration + r.cfg.Hold)
	var wg sync.WaitGroup
	start := time.Now()
	n, el := r.load(ctx, r.cfg.Rate, r.cfg.Duration, 0, nil, &wg, func(i int) (*uaNode, callSpec) {
		return r.switchCall(ps, i, holdFor(r.cfg.Hold))
	}, nil)
	wg.Wait()
	s.finish()
	return r.callRates(start, n, el), ctx.Err()
}

// callRates sets target/launch/achieved rates: achieved is answers per second up to the last
// answer, so queued setups show as a shortfall even when every call eventually succeeds.
func (r *runner) callRates(start time.Time, launched int, el time.Duration) func(*Report) {
	return func(rep *Report) {
		rep.LaunchRate = round(float64(launched)/el.Seconds(), 1)
		rep.AchievedRate = round(answerRate(r.m.answered.Load(), start, r.m.lastAnswer.Load()), 1)
	}
}

func (r *runner) runCeiling(ctx context.Context) (func(*Report), error) {
	half := len(r.nodes) / 2
	s := r.startSampler(r.cfg.Duration + r.cfg.Hold)
	var wg sync.WaitGroup
	start := time.Now()
	n, el := r.load(ctx, r.cfg.Rate, r.cfg.Duration, 0, nil, &wg, func(i int) (*uaNode, callSpec) {
		caller, callee := r.nodes[i%half], r.nodes[half+(i/half)%half]
		acct := benchAccount{Identity: "caller" + strconv.Itoa(i%100), Domain: "bench.invalid"}
		return caller, callSpec{from: acct, fromHost: acct.Domain, hold: holdFor(r.cfg.Hold), timeout: 32 * time.Second,
			ruri: sip.Uri{Scheme: "sip", User: "callee", Host: callee.ip, Port: callee.port}}
	}, nil)
	wg.Wait()
	s.finish()
	rates := r.callRates(start, n, el)
	return func(rep *Report) {
		rates(rep)
		rep.Notes = append(rep.Notes, "ceiling: harness UAC → harness UAS directly, no switch and no digest round")
	}, ctx.Err()
}

func (r *runner) runRegister(ctx context.Context) (func(*Report), error) {
	accts := r.accounts()
	s := r.startSampler(r.cfg.Duration)
	sem := make(chan struct{}, r.cfg.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	n, el := pace(ctx, r.cfg.Rate, r.cfg.Duration, 0, func(i int) {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		a := accts[i%len(accts)]
		r.m.regTried.Add(1)
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			rctx, cancel := context.WithTimeout(ctx, 32*time.Second)
			defer cancel()
			code, lat, err := r.nodeOf(a).register(rctx, a, r.sipHost, r.sipPort)
			switch {
			case err != nil && rctx.Err() != nil:
				r.m.fail("timeout")
			case err != nil:
				r.m.fail("transaction")
			case code == 200:
				storeMax(&r.m.lastRegOK, time.Now().UnixNano())
				r.m.regOK.Add(1)
				_ = r.m.reg.Record(lat.Microseconds())
			default:
				r.m.fail(strconv.Itoa(code))
			}
		}()
	})
	wg.Wait()
	s.finish()
	return func(rep *Report) {
		ok := r.m.regOK.Load()
		rep.LaunchRate = round(float64(n)/el.Seconds(), 1)
		rep.AchievedRate = round(answerRate(ok, start, r.m.lastRegOK.Load()), 1)
		rep.Register = &RegisterStats{Attempted: r.m.regTried.Load(), Succeeded: ok, Failed: r.m.failed.Load(),
			Latency: latencyOf(r.m.reg.Total())}
		rep.Calls = CallStats{}
		rep.Notes = append(rep.Notes, "register: achieved_rate is REGISTERs answered 200 per second up to the last answer; each is two transactions (401 challenge, then 200)")
	}, ctx.Err()
}

func (r *runner) runRamp(ctx context.Context) (func(*Report), error) {
	if err := r.registerAll(ctx); err != nil {
		return nil, err
	}
	ps := r.pairs()
	s := r.startSampler(r.cfg.Duration)
	deadline := time.Now().Add(r.cfg.Duration)
	stats := &RampStats{MaxFailureRatio: r.cfg.RampMaxFailures, MaxSetupP99: float64(r.cfg.RampMaxP99.Microseconds()) / 1000}
	var target atomic.Uint64
	target.Store(math.Float64bits(r.cfg.Rate))
	r.target = func() float64 { return math.Float64frombits(target.Load()) }
	for rate := r.cfg.Rate; ctx.Err() == nil; rate += r.cfg.RampStep {
		stepDur := min(r.cfg.RampStepTime, time.Until(deadline))
		if stepDur < r.cfg.RampStepTime/2 && len(stats.Steps) > 0 {
			break
		}
		target.Store(math.Float64bits(rate))
		st := &stepStats{target: rate}
		stepStart := time.Now()
		n, el := r.load(ctx, rate, stepDur, 0, st, &st.wg, func(i int) (*uaNode, callSpec) {
			return r.switchCall(ps, i, holdFor(r.cfg.Hold))
		}, nil)
		st.wg.Wait()
		step := RampStep{TargetRate: rate, LaunchRate: round(float64(n)/el.Seconds(), 1),
			AchievedRate: round(answerRate(st.answered.Load(), stepStart, st.lastAnswer.Load()), 1), Attempted: st.launched.Load(),
			Failed: st.failed.Load(), SetupP99: float64(st.setup.Total().MustQuantile(0.99)) / 1000}
		if step.Attempted > 0 {
			step.FailureRatio = round(float64(step.Failed)/float64(step.Attempted), 4)
		}
		step.Clean = step.Attempted > 0 && step.FailureRatio <= r.cfg.RampMaxFailures && step.AchievedRate >= 0.95*rate &&
			(r.cfg.RampMaxP99 == 0 || step.SetupP99 <= float64(r.cfg.RampMaxP99.Microseconds())/1000)
		stats.Steps = append(stats.Steps, step)
		if !step.Clean {
			break
		}
		stats.HighestCleanRate = rate
		if !time.Now().Before(deadline) {
			break
		}
	}
	s.finish()
	return func(rep *Report) {
		rep.Ramp = stats
		rep.AchievedRate = stats.HighestCleanRate
		rep.TargetRate = r.cfg.Rate
		if len(stats.Steps) > 0 {
			rep.TargetRate = stats.Steps[len(stats.Steps)-1].TargetRate
		}
		rep.Notes = append(rep.Notes, "ramp: achieved_rate is the highest clean step (failure ratio ≤ max, setup p99 ≤ max-p99 when set, and answers/s ≥ 95% of the step's target)")
	}, ctx.Err()
}

func (r *runner) runSoak(ctx context.Context) (func(*Report), error) {
	if err := r.registerAll(ctx); err != nil {
		return nil, err
	}
	c := r.cfg.Concurrency
	ps := r.pairs()
	var base *procSample
	if r.sw != nil && r.sw.PID > 0 {
		if b, err := sampleProc(r.sw.PID); err == nil {
			base = &b
		}
	}
	ramp := time.Duration(float64(c) / r.cfg.Rate * float64(time.Second))
	s := r.startSampler(2*ramp + r.cfg.Duration)
	release := make(chan struct{})
	var settled sync.WaitGroup
	settled.Add(c)
	hold := func(i int) func(context.Context) {
		return func(ctx context.Context) {
			select {
			case <-release:
			case <-ctx.Done():
				return
			}
			// hang up at the launch rate: call i leaves i/rate after the release.
			holdFor(time.Duration(float64(i) / r.cfg.Rate * float64(time.Second)))(ctx)
		}
	}
	var wg sync.WaitGroup
	r.cfg.Concurrency = c + 1 // the in-flight cap must not stop the launch short of c
	n, _ := r.load(ctx, r.cfg.Rate, 0, c, nil, &wg, func(i int) (*uaNode, callSpec) {
		return r.switchCall(ps, i, hold(i))
	}, settled.Done)
	for i := n; i < c; i++ { // launch cut short by ctx
		settled.Done()
	}
	settledCh := make(chan struct{})
	go func() { settled.Wait(); close(settledCh) }()
	select {
	case <-settledCh:
	case <-ctx.Done():
	}
	plateauStart := time.Now()
	holdFor(r.cfg.Duration)(ctx)
	reached := r.m.up.Load()
	var plateau *procSample
	if base != nil && !r.sw.Exited() {
		if p, err := sampleProc(r.sw.PID); err == nil {
			plateau = &p
		}
	}
	plateauSecs := time.Since(plateauStart).Seconds()
	close(release)
	wg.Wait()
	s.finish()
	return func(rep *Report) {
		rep.TargetRate = r.cfg.Rate
		rep.AchievedRate = round(float64(n)/max(ramp.Seconds(), 1e-3), 1)
		st := &SoakStats{TargetConcurrent: c, ReachedConcurrent: reached, PlateauSeconds: round(plateauSecs, 1)}
		if base != nil && plateau != nil {
			st.RSSBaseBytes, st.RSSPlateauBytes = base.RSS, plateau.RSS
			if reached > 0 {
				st.RSSPerCallBytes = round(float64(plateau.RSS-base.RSS)/float64(reached), 1)
			}
		}
		rep.Soak = st
		rep.Notes = append(rep.Notes, "soak: achieved_rate is launches per second of the planned ramp; rss_per_call = (RSS at the plateau's end − RSS after registration) / calls up")
	}, ctx.Err()
}
