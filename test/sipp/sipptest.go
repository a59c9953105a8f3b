// Package sipptest runs SIPp (/usr/bin/sipp, Debian's sip-tester 3.6.1) as a
// real SIP peer for Switchyard's tests and benchmarks.
//
// Run drives a bounded client scenario to completion and reports how many
// calls succeeded or failed; Start launches a long-running scenario (usually a
// UAS callee) whose port is known before it is started. Both skip the test when
// SIPp is not installed. Every run stays on loopback and is bounded by Calls
// (-m) and Timeout (-timeout plus a hard stop KillGrace later).
//
// The scenarios in scenarios/ read per-call values from injection rows:
// field0 = account ("001*100"), field1 = password, field2 = domain,
// field3 = dialled target. See README.md.
package sipptest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Binary is the SIPp executable looked up in PATH (then /usr/bin/sipp).
var Binary = "sipp"

// ErrKilled reports that SIPp overran its Timeout (or its context ended) and
// was terminated; the counts in Result are the last ones SIPp wrote.
var ErrKilled = errors.New("sipp terminated before it finished")

// SIPp exit codes (sipp -h).
const (
	ExitAllSuccessful = 0  // every call succeeded
	ExitSomeFailed    = 1  // at least one call failed
	ExitInternal      = 97 // exit on internal command
	ExitNoCalls       = 99 // normal exit without calls processed
	exitFatal         = 255
	exitBind          = 254
)

// Result is what one SIPp run produced.
type Result struct {
	// ExitCode is SIPp's exit status (see the Exit* constants). It means
	// nothing when Killed: SIPp exits 0 on SIGTERM, and -1 is reported for SIGKILL.
	ExitCode int
	// Successful, Failed and Created are the cumulative call counters.
	Successful, Failed, Created int
	// Stats is the full last row of the statistics file.
	Stats Stats
	// Stdout and Stderr are SIPp's output; ErrLog is its -trace_err file
	// (unexpected messages, aborted calls); Screen is the final screen dump;
	// Messages is the -trace_msg file when Opts.TraceMessages was set.
	Stdout, Stderr, ErrLog, Screen, Messages string
	// LocalIP and LocalPort are the address SIPp used.
	LocalIP   string
	LocalPort int
	// Killed reports that SIPp was terminated by the harness.
	Killed bool
}

// Summary is a one-line description for test failure messages.
func (r Result) Summary() string {
	s := fmt.Sprintf("exit=%d created=%d successful=%d failed=%d", r.ExitCode, r.Created, r.Successful, r.Failed)
	if r.Killed {
		s += " (killed)"
	}
	return s
}

// Available reports whether the SIPp binary can be found.
func Available() bool {
	_, err := binaryPath()
	return err == nil
}

func binaryPath() (string, error) {
	if p, err := exec.LookPath(Binary); err == nil {
		return p, nil
	}
	if p, err := exec.LookPath("/usr/bin/sipp"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("sipp binary %q not found", Binary)
}

// Run runs one bounded SIPp scenario to completion (Opts.Target and Calls are
// required) and returns its counters. It skips t when SIPp is missing. A
// non-zero exit because calls failed is not an error: check Result. The error
// is non-nil for bad Opts, a SIPp that cannot start or reports a fatal or bind
// error, and a run that had to be killed (ErrKilled, Result still filled).
func Run(ctx context.Context, t testing.TB, o Opts) (Result, error) {
	t.Helper()
	p, err := start(ctx, t, o, true)
	if err != nil {
		return Result{}, err
	}
	return p.Wait()
}

// Process is a SIPp instance started by Start.
type Process struct {
	opts    Opts
	files   files
	cmd     *exec.Cmd
	cancel  context.CancelFunc
	stdout  bytes.Buffer
	stderr  bytes.Buffer
	done    chan struct{}
	waitErr error
	// terminated is set once the harness signals SIPp to die (timeout, ctx, Stop).
	terminated atomic.Bool

	once   sync.Once
	res    Result
	resErr error
}

// Start launches SIPp in the background (usually a UAS callee scenario) and
// returns once it has bound its SIP port, so the switch or a registration can
// target Port at once. Calls may be 0; Timeout still bounds the run. The
// process is stopped in t.Cleanup if the test has not waited for it.
func Start(ctx context.Context, t testing.TB, o Opts) (*Process, error) {
	t.Helper()
	return start(ctx, t, o, false)
}

func start(ctx context.Context, t testing.TB, o Opts, client bool) (*Process, error) {
	bin, err := binaryPath()
	if err != nil {
		t.Skipf("sipptest: %v", err)
		return nil, err
	}
	o, err = o.normalize(client, client)
	if err != nil {
		return nil, err
	}
	if o.LocalPort == 0 {
		if o.LocalPort, err = FreePort(o.LocalIP); err != nil {
			return nil, err
		}
	}
	dir := t.TempDir()
	f := runFiles(dir)
	if len(o.InjectionRows) > 0 {
		if err := os.WriteFile(f.inject, injectionCSV(o.InjectionRows), 0o600); err != nil {
			return nil, fmt.Errorf("write injection file: %w", err)
		}
	}
	runCtx, cancel := context.WithTimeout(ctx, o.Timeout+KillGrace)
	p := &Process{opts: o, files: f, cancel: cancel, done: make(chan struct{})}
	p.cmd = exec.CommandContext(runCtx, bin, o.args(f)...)
	p.cmd.Dir = dir
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = &p.stderr
	// SIGTERM makes SIPp exit at once and still flush its statistics file.
	p.cmd.Cancel = func() error {
		p.terminated.Store(true)
		return p.cmd.Process.Signal(syscall.SIGTERM)
	}
	p.cmd.WaitDelay = 2 * time.Second
	if err := p.cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start sipp: %w", err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if _, err := p.Stop(); err != nil && !errors.Is(err, ErrKilled) {
			t.Logf("sipptest: stop %s: %v", p.Addr(), err)
		}
	})
	if !client {
		if err := p.awaitBound(runCtx); err != nil {
			_, _ = p.Stop()
			return nil, err
		}
	}
	return p, nil
}

// Port is the local SIP port, known before SIPp starts.
func (p *Process) Port() int { return p.opts.LocalPort }

// Addr is LocalIP:Port.
func (p *Process) Addr() string {
	return net.JoinHostPort(p.opts.LocalIP, strconv.Itoa(p.opts.LocalPort))
}

// Wait blocks until SIPp exits by itself (-m calls done or -timeout), or is
// killed KillGrace after its Timeout, and returns the run's Result.
func (p *Process) Wait() (Result, error) {
	<-p.done
	return p.result()
}

// Stop asks SIPp to finish (SIGUSR1: no new calls, open calls run to their
// end), terminates it after KillGrace, and returns the Result. It is safe to
// call more than once and after Wait.
func (p *Process) Stop() (Result, error) {
	select {
	case <-p.done:
		return p.result()
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGUSR1)
	timer := time.NewTimer(KillGrace)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		p.cancel()
		<-p.done
	}
	return p.result()
}

// result collects the outputs once SIPp has exited.
func (p *Process) result() (Result, error) {
	p.once.Do(func() {
		defer p.cancel()
		r := Result{
			ExitCode:  p.cmd.ProcessState.ExitCode(),
			Stdout:    p.stdout.String(),
			Stderr:    p.stderr.String(),
			LocalIP:   p.opts.LocalIP,
			LocalPort: p.opts.LocalPort,
		}
		ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
		r.Killed = (ok && ws.Signaled()) || p.terminated.Load()
		r.ErrLog = readOptional(p.files.errs)
		r.Screen = readOptional(p.files.screen)
		r.Messages = readOptional(p.files.msgs)
		data, statErr := os.ReadFile(p.files.stat)
		if statErr == nil {
			r.Stats, statErr = parseStats(data)
		}
		if statErr == nil {
			r.Successful = r.Stats.Int("SuccessfulCall(C)")
			r.Failed = r.Stats.Int("FailedCall(C)")
			r.Created = r.Stats.Int("TotalCallCreated")
		}
		p.res = r
		switch {
		case r.Killed:
			p.resErr = fmt.Errorf("sipp %s on %s: %w (timeout %v): %s", scenarioName(p.opts), p.Addr(), ErrKilled, p.opts.Timeout, tail(r.Stderr))
		case r.ExitCode == exitFatal || r.ExitCode == exitBind:
			p.resErr = fmt.Errorf("sipp %s on %s: fatal exit %d: %s", scenarioName(p.opts), p.Addr(), r.ExitCode, tail(r.Stderr))
		case p.waitErr != nil && r.ExitCode < 0:
			p.resErr = fmt.Errorf("sipp %s on %s: %w", scenarioName(p.opts), p.Addr(), p.waitErr)
		case statErr != nil:
			p.resErr = fmt.Errorf("sipp %s on %s: exited %d without statistics (%w): %s",
				scenarioName(p.opts), p.Addr(), r.ExitCode, statErr, tail(r.Stderr))
		}
	})
	return p.res, p.resErr
}

func scenarioName(o Opts) string {
	if o.Builtin != "" {
		return "-sn " + o.Builtin
	}
	return o.Scenario
}

func readOptional(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

func tail(s string) string {
	const max = 2000
	if len(s) > max {
		return "..." + s[len(s)-max:]
	}
	return s
}

// StartRegistered gives a SIPp UAS a registered contact: it runs reg (a
// register scenario, "register_auth.xml" when empty, Calls defaulting to 1)
// from uas's local address, then starts uas on that same address, so the
// switch's binding points at the UAS. SIPp 3.6.1 cannot register and then
// accept a new dialog in one scenario (a new Call-ID is an out-of-call
// message), hence two runs on one port. reg.Target is required; LocalIP,
// LocalPort and Transport are taken from uas (LocalPort 0 picks one). The
// registration must fully succeed, otherwise the UAS is not started.
func StartRegistered(ctx context.Context, t testing.TB, reg, uas Opts) (*Process, Result, error) {
	t.Helper()
	if !Available() {
		t.Skip("sipptest: sipp binary not found")
		return nil, Result{}, errors.New("sipp binary not found")
	}
	if uas.LocalIP == "" {
		uas.LocalIP = DefaultLocalIP
	}
	if uas.LocalPort == 0 {
		port, err := FreePort(uas.LocalIP)
		if err != nil {
			return nil, Result{}, err
		}
		uas.LocalPort = port
	}
	if reg.Scenario == "" && reg.Builtin == "" {
		reg.Scenario = "register_auth.xml"
	}
	if reg.Calls == 0 {
		reg.Calls = 1
	}
	reg.LocalIP, reg.LocalPort, reg.Transport = uas.LocalIP, uas.LocalPort, uas.Transport
	res, err := Run(ctx, t, reg)
	if err != nil {
		return nil, res, fmt.Errorf("register before UAS: %w", err)
	}
	if res.Successful != reg.Calls || res.Failed != 0 {
		return nil, res, fmt.Errorf("register before UAS on %s:%d: %s: %s",
			uas.LocalIP, uas.LocalPort, res.Summary(), tail(res.ErrLog))
	}
	p, err := Start(ctx, t, uas)
	return p, res, err
}
