package bench

import (
	"fmt"
	"math"
	"os"
	"time"
)

// sampler records one timeline point a second and draws the progress line.
type sampler struct {
	r     *runner
	total time.Duration // expected length of the measured phase (for "remaining")
	stop  chan struct{}
	done  chan struct{}
}

// startSampler begins the measured phase: the timeline's t=0 and the first process sample.
func (r *runner) startSampler(total time.Duration) *sampler {
	r.measureStart = time.Now()
	if s, err := sampleProc(os.Getpid()); err == nil {
		r.selfFirst = &s
	}
	if r.sw != nil && r.sw.PID > 0 {
		if s, err := sampleProc(r.sw.PID); err == nil {
			r.procFirst, r.procLast = &s, &s
			r.rssMax = s.RSS
		}
	}
	s := &sampler{r: r, total: total, stop: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

// finish stops sampling, takes a last sample and clears the progress line.
func (s *sampler) finish() {
	close(s.stop)
	<-s.done
}

func (s *sampler) loop() {
	defer close(s.done)
	r := s.r
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastAttempts, lastDone, lastEvents int64
	show := r.opts.Progress != nil && (r.cfg.Progress == "on" || (r.cfg.Progress == "auto" && r.opts.Terminal))
	for {
		final := false
		select {
		case <-tick.C:
		case <-s.stop:
			final = true
		}
		m := r.m
		att := m.attempted.Load()
		done := m.answered.Load()
		lat := m.setup.Interval()
		if r.cfg.Scenario == ScenarioRegister {
			att, done = m.regTried.Load(), m.regOK.Load()
			lat = m.reg.Interval()
		}
		ev := m.events.Load()
		p := Point{
			T: math.Round(time.Since(r.measureStart).Seconds()*10) / 10, Target: r.target(),
			Rate: float64(att - lastAttempts), Done: float64(done - lastDone), Failures: m.failed.Load(),
			Concurrent: m.up.Load(), P50: float64(lat.MustQuantile(0.5)) / 1000, P99: float64(lat.MustQuantile(0.99)) / 1000,
			Events: float64(ev - lastEvents),
		}
		lastAttempts, lastDone, lastEvents = att, done, ev
		if r.sw != nil && r.sw.PID > 0 && !r.sw.Exited() {
			if ps, err := sampleProc(r.sw.PID); err == nil {
				if r.procLast != nil {
					p.CPU = math.Round(cpuPercent(*r.procLast, ps)*10) / 10
					r.cpuMax = math.Max(r.cpuMax, p.CPU)
				}
				p.RSS = ps.RSS
				r.rssMax = max(r.rssMax, ps.RSS)
				r.procLast = &ps
			}
		}
		if !final {
			r.tlMu.Lock()
			r.timeline = append(r.timeline, p)
			r.tlMu.Unlock()
		}
		if show {
			if final {
				fmt.Fprint(r.opts.Progress, "\r\033[K")
				return
			}
			rem := s.total - time.Since(r.measureStart)
			if rem < 0 {
				rem = 0
			}
			fmt.Fprintf(r.opts.Progress, "\r\033[K[%s] %4.0fs  rate %.0f/%.0f/s  up %d  done %d  fail %d  p99 %.1fms  cpu %.0f%%  remaining %s",
				r.cfg.Scenario, time.Since(r.measureStart).Seconds(), p.Rate, p.Target, p.Concurrent, done, p.Failures,
				p.P99, p.CPU, rem.Round(time.Second))
		}
		if final {
			return
		}
	}
}

// report assembles the common part of the report.
func (r *runner) report(started time.Time) *Report {
	m := r.m
	secs := time.Since(r.measureStart).Seconds()
	if r.measureStart.IsZero() {
		secs = time.Since(started).Seconds()
	}
	rep := &Report{
		SchemaVersion: SchemaVersion, Scenario: r.cfg.Scenario, StartedAt: started.UTC(), Seconds: round(secs, 3),
		TargetRate: r.cfg.Rate, FailuresByCode: m.failuresByCode(),
		Config: ReportConfig{Rate: r.cfg.Rate, Duration: r.cfg.Duration.String(), Hold: r.cfg.Hold.String(),
			Concurrency: r.cfg.Concurrency, Accounts: r.cfg.Accounts, Domains: r.cfg.Domains, Sources: r.cfg.Sources,
			Spawn: r.cfg.Spawn, Target: r.cfg.Target, Command: r.opts.Command},
		Calls: CallStats{Attempted: m.attempted.Load(), Answered: m.answered.Load(), Completed: m.completed.Load(),
			Failed: m.failed.Load(), MaxConcurrent: m.maxUp.Load()},
		Setup: latencyOf(m.setup.Total()), Ringing: latencyOf(m.ringing.Total()),
		Machine: machine(), Notes: r.notes,
	}
	if r.selfFirst != nil {
		if s, err := sampleProc(os.Getpid()); err == nil {
			rep.HarnessCPU = round(cpuPercent(*r.selfFirst, s), 1)
		}
	}
	for _, n := range r.nodes {
		rep.Calls.UASAnswered += n.answered.Load()
	}
	if rep.Calls.Attempted > 0 {
		rep.Calls.ASR = round(float64(rep.Calls.Answered)/float64(rep.Calls.Attempted), 4)
	}
	r.tlMu.Lock()
	rep.Timeline = append([]Point(nil), r.timeline...)
	r.tlMu.Unlock()
	if r.sw != nil {
		rep.Switch = SwitchStats{Version: r.sw.Version, Spawned: r.cfg.Spawn, SIP: r.sw.SIP, PID: r.sw.PID,
			LogErrors: len(r.sw.Errors())}
		if r.procFirst != nil && r.procLast != nil {
			rep.Switch.CPUPercent = round(cpuPercent(*r.procFirst, *r.procLast), 1)
			rep.Switch.CPUMax = r.cpuMax
			rep.Switch.RSSBytes = r.procLast.RSS
			rep.Switch.RSSStart = r.procFirst.RSS
			rep.Switch.RSSMax = r.rssMax
		}
	} else {
		rep.Switch = SwitchStats{Version: "none (harness ceiling: UAC calls UAS directly)"}
	}
	return rep
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
