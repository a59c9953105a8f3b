package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/esl/client"
)

// Options are what the caller of Run supplies besides the Config.
type Options struct {
	// Version is the harness's own version (the switch's is read from the switch).
	Version string
	// Progress receives the live progress line (normally os.Stderr); nil = none.
	Progress io.Writer
	// Terminal tells whether Progress is a terminal (the line is shown on "auto" only then).
	Terminal bool
	// Command is the command line, recorded in the report.
	Command string
}

// runner is one bench run in progress.
type runner struct {
	cfg     Config
	opts    Options
	m       *metrics
	sw      *Switch
	admin   *adminClient
	tenants []tenant
	nodes   []*uaNode
	// home maps an account identity@domain to its node.
	home     map[string]*uaNode
	sipHost  string
	sipPort  int
	notes    []string
	timeline []Point
	tlMu     sync.Mutex

	measureStart time.Time
	target       func() float64 // current target rate, for the timeline
	procFirst    *procSample
	selfFirst    *procSample
	procLast     *procSample
	cpuMax       float64
	rssMax       int64
}

// Run executes the scenario of cfg and returns its report. The spawned switch (if any) is
// stopped and the provisioned domains deleted before Run returns, also on error.
func Run(ctx context.Context, cfg Config, opts Options) (rep *Report, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, opts: opts, m: newMetrics(), home: map[string]*uaNode{}}
	r.target = func() float64 { return cfg.Rate }
	defer func() {
		if cerr := r.teardown(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if cfg.Scenario != ScenarioCeiling {
		if err := r.setupSwitch(ctx); err != nil {
			return nil, err
		}
	}
	if err := r.startNodes(); err != nil {
		return nil, err
	}
	if cfg.Scenario != ScenarioCeiling {
		if err := r.provision(ctx); err != nil {
			return nil, err
		}
	}
	started := time.Now()
	var extra func(*Report)
	switch cfg.Scenario {
	case ScenarioRegister:
		extra, err = r.runRegister(ctx)
	case ScenarioCalls:
		extra, err = r.runCalls(ctx)
	case ScenarioRamp:
		extra, err = r.runRamp(ctx)
	case ScenarioSoak:
		extra, err = r.runSoak(ctx)
	case ScenarioESL:
		extra, err = r.runESL(ctx)
	case ScenarioCeiling:
		extra, err = r.runCeiling(ctx)
	}
	if err != nil {
		return nil, err
	}
	rep = r.report(started)
	if extra != nil {
		extra(rep)
	}
	return rep, nil
}

// allowlist is what a spawned switch trusts: the harness's own source addresses.
func (r *runner) allowlist() []string {
	out := []string{"127.0.0.1"}
	for i := 0; i < r.cfg.Sources; i++ {
		out = append(out, sourceIP(i))
	}
	return out
}

func (r *runner) setupSwitch(ctx context.Context) error {
	if r.cfg.Spawn {
		sw, err := spawnSwitch(ctx, r.cfg.Binary, r.allowlist())
		if err != nil {
			return err
		}
		r.sw = sw
	} else {
		r.sw = &Switch{SIP: r.cfg.Target, Admin: r.cfg.Admin, Token: r.cfg.Token, ESL: r.cfg.ESL, Version: "unknown"}
		if r.cfg.ESL != "" {
			if v, err := eslVersion(ctx, r.cfg.ESL, r.cfg.ESLPassword); err == nil {
				r.sw.Version = v
			} else {
				r.note("switch version unknown: %v", err)
			}
		}
	}
	host, port, err := net.SplitHostPort(r.sw.SIP)
	if err != nil {
		return fmt.Errorf("switch SIP address %q: %w", r.sw.SIP, err)
	}
	r.sipHost = host
	if r.sipPort, err = strconv.Atoi(port); err != nil {
		return fmt.Errorf("switch SIP port %q: %w", port, err)
	}
	r.admin = newAdminClient(r.sw.Admin, r.sw.Token)
	return nil
}

// eslVersion asks the event socket for `version`.
func eslVersion(ctx context.Context, addr, password string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := client.Dial(cctx, client.Options{Addr: addr, Password: password})
	if err != nil {
		return "", err
	}
	defer c.Close()
	v, err := c.API(cctx, "version")
	if err != nil {
		return "", fmt.Errorf("esl version: %w", err)
	}
	return strings.TrimSpace(v), nil
}

func (r *runner) startNodes() error {
	n := r.cfg.Sources
	if r.cfg.Scenario == ScenarioCeiling {
		n *= 2 // callers on the first half, callees on the second
	}
	for i := 0; i < n; i++ {
		node, err := newNode(sourceIP(i))
		if err != nil {
			return err
		}
		r.nodes = append(r.nodes, node)
	}
	return nil
}

func (r *runner) provision(ctx context.Context) error {
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	ts, err := r.admin.provision(ctx, hex.EncodeToString(id), r.cfg.Domains, r.cfg.Accounts)
	r.tenants = ts
	if err != nil {
		return err
	}
	i := 0
	for _, t := range ts {
		for _, a := range t.Accounts {
			r.home[a.Identity+"@"+a.Domain] = r.nodes[i%len(r.nodes)]
			i++
		}
	}
	return nil
}

// accounts lists every provisioned account.
func (r *runner) accounts() []benchAccount {
	var out []benchAccount
	for _, t := range r.tenants {
		out = append(out, t.Accounts...)
	}
	return out
}

func (r *runner) nodeOf(a benchAccount) *uaNode { return r.home[a.Identity+"@"+a.Domain] }

// registerAll registers every account once (not measured), at most 500/s with 64 in flight.
func (r *runner) registerAll(ctx context.Context) error {
	accts := r.accounts()
	errs := make(chan error, len(accts))
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	pace(ctx, 500, 0, len(accts), func(i int) {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			a := accts[i]
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			code, _, err := r.nodeOf(a).register(rctx, a, r.sipHost, r.sipPort)
			if err == nil && code != 200 {
				err = fmt.Errorf("register %s@%s: answered %d", a.Identity, a.Domain, code)
			}
			if err != nil {
				errs <- err
			}
		}()
	})
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if len(all) > 0 {
		return fmt.Errorf("initial registration: %d of %d failed, first: %w", len(all), len(accts), all[0])
	}
	return ctx.Err()
}

func (r *runner) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// teardown deletes the provisioned domains, closes the UAs and stops a spawned switch.
func (r *runner) teardown() error {
	var errs []error
	if r.admin != nil && len(r.tenants) > 0 && (r.sw == nil || !r.sw.Exited()) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		errs = append(errs, r.admin.deprovision(ctx, r.tenants))
		cancel()
	}
	for _, n := range r.nodes {
		n.close()
	}
	if r.sw != nil {
		if r.sw.Exited() {
			errs = append(errs, fmt.Errorf("the spawned switch exited during the run: %s", r.sw.lastLines()))
		}
		errs = append(errs, r.sw.Stop())
	}
	return errors.Join(errs...)
}

// pace calls fire(i) for i = 0, 1, … at rate per second until dur has passed (0 = no limit) or
// limit calls were made (0 = no limit) or ctx ends. fire may block (a full in-flight cap), which
// lowers the achieved rate. It returns the number of calls made and the time it took.
func pace(ctx context.Context, rate float64, dur time.Duration, limit int, fire func(i int)) (int, time.Duration) {
	start := time.Now()
	n := 0
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		el := time.Since(start)
		if (dur > 0 && el >= dur) || (limit > 0 && n >= limit) || ctx.Err() != nil {
			return n, time.Since(start)
		}
		due := int(el.Seconds()*rate) + 1
		if limit > 0 && due > limit {
			due = limit
		}
		for n < due && ctx.Err() == nil {
			fire(n)
			n++
			if dur > 0 && time.Since(start) >= dur {
				break
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
}

// isTerminal reports whether f is a character device (and CI is not set).
func isTerminal(f *os.File) bool {
	if os.Getenv("CI") != "" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// IsTerminal reports whether f is an interactive terminal outside CI (for Options.Terminal).
func IsTerminal(f *os.File) bool { return isTerminal(f) }
