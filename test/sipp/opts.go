package sipptest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Transports accepted in Opts.Transport (SIPp's -t values).
const (
	TransportUDP = "u1" // one UDP socket (default)
	TransportTCP = "t1" // one TCP connection
)

// DefaultLocalIP is the source address used when Opts.LocalIP is empty. Good
// tenants use 127.0.0.3 and up; flood tests use 127.0.0.2 (DECISIONS.md item 2).
const DefaultLocalIP = "127.0.0.3"

// DefaultTimeout bounds a run when Opts.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// KillGrace is how long a run may outlive its Timeout before the harness
// terminates SIPp: -timeout is a soft stop, and SIPp still waits for its open
// calls (a UDP INVITE retransmits for about 32 s) before exiting.
const KillGrace = 3 * time.Second

// Opts describes one SIPp run.
type Opts struct {
	// Scenario is a file name in this package's scenarios/ directory
	// ("uac_auth.xml") or an absolute path (for example from BenchScenario).
	Scenario string
	// Builtin names one of SIPp's embedded scenarios ("uac", "uas") instead of
	// Scenario (-sn). Exactly one of Scenario and Builtin is set.
	Builtin string
	// Target is the remote host:port. Required by Run; optional for Start
	// (a UAS needs none).
	Target string
	// LocalIP is the loopback address SIPp binds to and puts in Via/Contact
	// (-i with -bind_local). Empty means DefaultLocalIP.
	LocalIP string
	// LocalPort is the local SIP port (-p); 0 picks a free one.
	LocalPort int
	// Transport is TransportUDP (default) or TransportTCP.
	Transport string
	// Calls stops SIPp after that many calls (-m). Run requires it; Start
	// allows 0, which leaves the run bounded only by Timeout.
	Calls int
	// Rate is the call rate in calls per second (-r); 0 keeps SIPp's default (10).
	Rate float64
	// Concurrency caps simultaneous calls (-l); 0 keeps SIPp's default.
	Concurrency int
	// Timeout bounds the run: SIPp gets -timeout and is terminated KillGrace
	// later if it has not exited. 0 means DefaultTimeout.
	Timeout time.Duration
	// InjectionRows are written to a temporary CSV passed as -inf, one row per
	// call, in SEQUENTIAL order; each value is [field0], [field1], ...
	InjectionRows [][]string
	// Vars become -set name value (global scenario variables, [$name]).
	Vars map[string]string
	// TraceMessages also records every SIP message (-trace_msg) in Result.Messages.
	TraceMessages bool
	// ExtraArgs are appended verbatim to the command line (e.g. "-d", "500").
	ExtraArgs []string
}

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var builtins = map[string]bool{"uac": true, "uas": true, "regexp": true, "branchc": true, "branchs": true}

var transports = map[string]bool{"u1": true, "un": true, "t1": true, "tn": true}

// ScenarioDir returns the absolute path of this package's scenarios/ directory.
func ScenarioDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "scenarios"
	}
	return filepath.Join(filepath.Dir(file), "scenarios")
}

// BenchScenario returns the absolute path of a load scenario in bench/sipp/
// (for example "calls_uac.xml"), for use as Opts.Scenario.
func BenchScenario(name string) string {
	return filepath.Join(ScenarioDir(), "..", "..", "..", "bench", "sipp", name)
}

// ScenarioPath resolves a scenario name (see Opts.Scenario) and checks that the
// file exists.
func ScenarioPath(name string) (string, error) {
	if name == "" {
		return "", errors.New("scenario name is empty")
	}
	p := name
	if !filepath.IsAbs(name) {
		if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
			return "", fmt.Errorf("scenario %q: want a file name in scenarios/ or an absolute path", name)
		}
		p = filepath.Join(ScenarioDir(), name)
	}
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("scenario %q: %w", name, err)
	}
	if st.IsDir() {
		return "", fmt.Errorf("scenario %q is a directory", name)
	}
	return filepath.Clean(p), nil
}

// normalize fills defaults and validates o. needTarget and needCalls say
// whether Target and Calls are mandatory (Run) or optional (Start).
func (o Opts) normalize(needTarget, needCalls bool) (Opts, error) {
	switch {
	case o.Scenario == "" && o.Builtin == "":
		return o, errors.New("opts: set Scenario or Builtin")
	case o.Scenario != "" && o.Builtin != "":
		return o, errors.New("opts: set only one of Scenario and Builtin")
	case o.Builtin != "" && !builtins[o.Builtin]:
		return o, fmt.Errorf("opts: unknown builtin scenario %q", o.Builtin)
	}
	if o.Scenario != "" {
		p, err := ScenarioPath(o.Scenario)
		if err != nil {
			return o, fmt.Errorf("opts: %w", err)
		}
		o.Scenario = p
	}
	if o.LocalIP == "" {
		o.LocalIP = DefaultLocalIP
	}
	if ip := net.ParseIP(o.LocalIP); ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return o, fmt.Errorf("opts: local IP %q is not an IPv4 loopback address", o.LocalIP)
	}
	if o.LocalPort < 0 || o.LocalPort > 65535 {
		return o, fmt.Errorf("opts: local port %d out of range", o.LocalPort)
	}
	if o.Target == "" && needTarget {
		return o, errors.New("opts: Target is required")
	}
	if o.Target != "" {
		if err := checkLoopbackHostPort(o.Target); err != nil {
			return o, fmt.Errorf("opts: target: %w", err)
		}
	}
	if o.Transport == "" {
		o.Transport = TransportUDP
	}
	if !transports[o.Transport] {
		return o, fmt.Errorf("opts: transport %q: want u1, un, t1 or tn", o.Transport)
	}
	if o.Calls < 0 || (needCalls && o.Calls == 0) {
		return o, fmt.Errorf("opts: Calls must be positive, got %d", o.Calls)
	}
	if o.Rate < 0 {
		return o, fmt.Errorf("opts: negative rate %v", o.Rate)
	}
	if o.Concurrency < 0 {
		return o, fmt.Errorf("opts: negative concurrency %d", o.Concurrency)
	}
	if o.Timeout < 0 {
		return o, fmt.Errorf("opts: negative timeout %v", o.Timeout)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	for i, row := range o.InjectionRows {
		if len(row) == 0 {
			return o, fmt.Errorf("opts: injection row %d is empty", i)
		}
		for j, f := range row {
			if strings.ContainsAny(f, ";\r\n") {
				return o, fmt.Errorf("opts: injection row %d field %d %q contains ';' or a line break", i, j, f)
			}
		}
	}
	for k, v := range o.Vars {
		if !varName.MatchString(k) {
			return o, fmt.Errorf("opts: variable name %q is not an identifier", k)
		}
		if v == "" || strings.ContainsAny(v, "\r\n") {
			return o, fmt.Errorf("opts: variable %q: value must be one non-empty line", k)
		}
	}
	return o, nil
}

func checkLoopbackHostPort(hp string) error {
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return fmt.Errorf("%q: %w", hp, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q: host must be a loopback IP address", hp)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n > 65535 {
		return fmt.Errorf("%q: bad port", hp)
	}
	return nil
}

// files names the per-run output files inside a run directory.
type files struct {
	inject, stat, errs, screen, msgs string
}

func runFiles(dir string) files {
	return files{
		inject: filepath.Join(dir, "inject.csv"),
		stat:   filepath.Join(dir, "stat.csv"),
		errs:   filepath.Join(dir, "errors.log"),
		screen: filepath.Join(dir, "screen.log"),
		msgs:   filepath.Join(dir, "messages.log"),
	}
}

// args builds the SIPp command line for a normalized o whose LocalPort is set.
func (o Opts) args(f files) []string {
	var a []string
	if o.Target != "" {
		a = append(a, o.Target)
	}
	if o.Builtin != "" {
		a = append(a, "-sn", o.Builtin)
	} else {
		a = append(a, "-sf", o.Scenario)
	}
	a = append(a,
		"-i", o.LocalIP, "-bind_local",
		"-p", strconv.Itoa(o.LocalPort),
		"-t", o.Transport,
		"-nostdin",
		"-timeout", strconv.Itoa(timeoutSeconds(o.Timeout))+"s",
		"-trace_stat", "-stf", f.stat, "-fd", "1",
		"-trace_err", "-error_file", f.errs,
		"-trace_screen", "-screen_file", f.screen,
	)
	if o.Calls > 0 {
		a = append(a, "-m", strconv.Itoa(o.Calls))
	}
	if o.Rate > 0 {
		a = append(a, "-r", strconv.FormatFloat(o.Rate, 'f', -1, 64))
	}
	if o.Concurrency > 0 {
		a = append(a, "-l", strconv.Itoa(o.Concurrency))
	}
	if len(o.InjectionRows) > 0 {
		a = append(a, "-inf", f.inject)
	}
	for _, k := range sortedKeys(o.Vars) {
		a = append(a, "-set", k, o.Vars[k])
	}
	if o.TraceMessages {
		a = append(a, "-trace_msg", "-message_file", f.msgs)
	}
	return append(a, o.ExtraArgs...)
}

func timeoutSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// injectionCSV renders rows as a SIPp injection file.
func injectionCSV(rows [][]string) []byte {
	var b strings.Builder
	b.WriteString("SEQUENTIAL\n")
	for _, r := range rows {
		b.WriteString(strings.Join(r, ";"))
		b.WriteString("\n")
	}
	return []byte(b.String())
}
