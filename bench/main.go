package bench

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Main runs `switchyard bench` with args (everything after "bench"): it parses the flags, runs
// the scenario, prints a summary to out and writes the reports when --out is given.
func Main(ctx context.Context, args []string, opts Options, out io.Writer) error {
	cfg, err := ParseArgs(args, out)
	if err != nil {
		return err
	}
	if opts.Command == "" {
		opts.Command = "switchyard bench " + strings.Join(args, " ")
	}
	rep, err := Run(ctx, cfg, opts)
	if err != nil {
		return err
	}
	if cfg.Out != "" {
		if err := rep.WriteFiles(cfg.Out); err != nil {
			return err
		}
	}
	printSummary(out, rep)
	if cfg.Out != "" {
		fmt.Fprintf(out, "reports: %s, %s\n", filepath.Join(cfg.Out, "report.json"), filepath.Join(cfg.Out, "report.html"))
	}
	return nil
}

// printSummary writes the human summary of a report.
func printSummary(w io.Writer, r *Report) {
	fmt.Fprintf(w, "scenario %s: %.1f s measured, target %.1f/s, achieved %.1f/s", r.Scenario, r.Seconds, r.TargetRate, r.AchievedRate)
	if r.LaunchRate > 0 {
		fmt.Fprintf(w, " (answers per second; requests started %.1f/s)", r.LaunchRate)
	}
	fmt.Fprintln(w)
	if r.Register != nil {
		l := r.Register.Latency
		fmt.Fprintf(w, "REGISTER: %d attempted, %d ok, %d failed; latency ms p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.2f\n",
			r.Register.Attempted, r.Register.Succeeded, r.Register.Failed, l.P50, l.P90, l.P99, l.P999, l.Max)
	} else {
		c, l := r.Calls, r.Setup
		fmt.Fprintf(w, "calls: %d attempted, %d answered, %d completed, %d failed, ASR %.4f, max concurrent %d\n",
			c.Attempted, c.Answered, c.Completed, c.Failed, c.ASR, c.MaxConcurrent)
		fmt.Fprintf(w, "setup INVITE→200 ms: p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.2f\n", l.P50, l.P90, l.P99, l.P999, l.Max)
		l = r.Ringing
		fmt.Fprintf(w, "ringing INVITE→180 ms: p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.2f\n", l.P50, l.P90, l.P99, l.P999, l.Max)
	}
	if len(r.FailuresByCode) > 0 {
		var parts []string
		for _, k := range sortedKeys(r.FailuresByCode) {
			parts = append(parts, fmt.Sprintf("%s×%d", k, r.FailuresByCode[k]))
		}
		fmt.Fprintf(w, "failures: %s\n", strings.Join(parts, ", "))
	}
	if rp := r.Ramp; rp != nil {
		for _, s := range rp.Steps {
			fmt.Fprintf(w, "  step %.0f/s: started %.1f/s, answered %.1f/s, %d attempted, %d failed (%.2f%%), setup p99 %.2f ms, clean %v\n",
				s.TargetRate, s.LaunchRate, s.AchievedRate, s.Attempted, s.Failed, 100*s.FailureRatio, s.SetupP99, s.Clean)
		}
		fmt.Fprintf(w, "ramp: highest clean rate %.1f/s\n", rp.HighestCleanRate)
	}
	if s := r.Soak; s != nil {
		fmt.Fprintf(w, "soak: %d/%d concurrent held %.1f s; RSS %d → %d bytes, %.0f bytes per call\n",
			s.ReachedConcurrent, s.TargetConcurrent, s.PlateauSeconds, s.RSSBaseBytes, s.RSSPlateauBytes, s.RSSPerCallBytes)
	}
	if e := r.ESL; e != nil {
		fmt.Fprintf(w, "esl: %d subscribers, %d events (%d channel), %.0f events/s per subscriber, dropped %d; lag ms p50 %.2f p99 %.2f max %.2f\n",
			e.Subscribers, e.EventsReceived, e.ChannelEvents, e.EventsPerSecPerSub, e.Dropped, e.Lag.P50, e.Lag.P99, e.Lag.Max)
	}
	if r.Switch.Spawned {
		fmt.Fprintf(w, "switch %s: CPU mean %.1f%% max %.1f%% of one core; RSS %d → %d bytes (max %d)\n",
			r.Switch.Version, r.Switch.CPUPercent, r.Switch.CPUMax, r.Switch.RSSStart, r.Switch.RSSBytes, r.Switch.RSSMax)
	}
	fmt.Fprintf(w, "harness CPU %.1f%% of one core; machine: %d cores, %s\n", r.HarnessCPU, r.Machine.Cores, r.Machine.CPUModel)
}
