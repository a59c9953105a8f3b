// Package baresiptest runs Debian's baresip (1.0.x, package baresip-core) as a real SIP
// softphone for Switchyard's tests: headless (no terminal, no audio device), one account per
// instance, bound to its own 127.0.0.x address and controlled through the ctrl_tcp module
// (JSON in netstrings on a loopback TCP port).
//
// Start renders the config from the templates in testdata/, launches the process and
// connects to ctrl_tcp once baresip says it is ready; Command sends a command ("dial",
// "hangup", ...) and WaitEvent awaits baresip's events ("CALL_ESTABLISHED", ...). Every
// instance is bounded by Config.Lifetime (baresip -t) and killed by Close.
package baresiptest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// RequiredModules are the baresip modules the rendered config loads.
var RequiredModules = []string{"g711.so", "ausine.so", "aubridge.so", "account.so", "menu.so", "ctrl_tcp.so"}

// readyLine is what baresip prints once its modules (ctrl_tcp included) are loaded.
const readyLine = "baresip is ready."

// maxOutput bounds the captured stdout/stderr of one instance.
const maxOutput = 4 << 20

// ErrNotRunning reports a command or wait on an instance whose process or control
// connection has ended.
var ErrNotRunning = errors.New("baresip is not running")

// Available reports why baresip cannot be used with cfg's Binary and ModulePath, or nil when
// the executable and every module in RequiredModules are installed.
func Available(cfg Config) error {
	cfg = cfg.withDefaults()
	if _, err := exec.LookPath(cfg.Binary); err != nil {
		return fmt.Errorf("baresip executable %q not found (apt-get install baresip): %w", cfg.Binary, err)
	}
	for _, m := range RequiredModules {
		if _, err := os.Stat(filepath.Join(cfg.ModulePath, m)); err != nil {
			return fmt.Errorf("baresip module %s missing: %w", m, err)
		}
	}
	return nil
}

// Agent is one running baresip instance.
type Agent struct {
	cfg      Config
	ctrlAddr string
	cmd      *exec.Cmd
	out      *outputLog
	exited   chan struct{}
	waitErr  error

	conn     net.Conn
	wmu      sync.Mutex
	token    atomic.Uint64
	pmu      sync.Mutex
	pending  map[string]chan Message
	events   chan Message
	dropped  atomic.Uint64
	readDone chan struct{}
	readErr  error

	closeOnce sync.Once
}

// Start launches baresip for cfg and returns once its ctrl_tcp connection is up. ctx bounds
// the start-up only; the process lives until Close or cfg.Lifetime.
func Start(ctx context.Context, cfg Config) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("baresip config: %w", err)
	}
	cfg = cfg.withDefaults()
	bin, err := exec.LookPath(cfg.Binary)
	if err != nil {
		return nil, fmt.Errorf("find baresip %q: %w", cfg.Binary, err)
	}
	port, err := freeTCPPort(cfg.ListenIP)
	if err != nil {
		return nil, err
	}
	files, err := Render(cfg, port)
	if err != nil {
		return nil, err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(cfg.Dir, name), b, 0o600); err != nil {
			return nil, fmt.Errorf("write baresip %s: %w", name, err)
		}
	}
	secs := int((cfg.Lifetime + time.Second - 1) / time.Second)
	a := &Agent{cfg: cfg, ctrlAddr: net.JoinHostPort(cfg.ListenIP, strconv.Itoa(port)), out: newOutputLog(readyLine),
		exited: make(chan struct{}), pending: map[string]chan Message{}, events: make(chan Message, 256),
		readDone: make(chan struct{})}
	// -s traces SIP to stdout: kept in Output for failure reports.
	a.cmd = exec.Command(bin, "-f", cfg.Dir, "-t", strconv.Itoa(secs), "-s")
	a.cmd.Dir = cfg.Dir
	a.cmd.Env = []string{"HOME=" + cfg.Dir, "PATH=" + os.Getenv("PATH"), "LANG=C"}
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	if err := a.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start baresip: %w", err)
	}
	go func() {
		a.waitErr = a.cmd.Wait()
		close(a.exited)
	}()
	select {
	case <-a.out.ready:
	case <-a.exited:
		return nil, fmt.Errorf("baresip exited before it was ready (%v); output:\n%s", a.waitErr, a.Output())
	case <-ctx.Done():
		a.kill()
		return nil, fmt.Errorf("baresip not ready: %w; output:\n%s", ctx.Err(), a.Output())
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", a.ctrlAddr)
	if err != nil {
		a.kill()
		return nil, fmt.Errorf("connect to baresip ctrl_tcp: %w; output:\n%s", err, a.Output())
	}
	a.conn = conn
	go a.read()
	return a, nil
}

func freeTCPPort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("reserve ctrl_tcp port on %s: %w", ip, err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("release ctrl_tcp port %d: %w", port, err)
	}
	return port, nil
}

// read dispatches ctrl_tcp messages until the connection ends.
func (a *Agent) read() {
	defer close(a.readDone)
	r := bufio.NewReader(a.conn)
	for {
		b, err := ReadNetstring(r, 0)
		if err != nil {
			a.readErr = fmt.Errorf("ctrl_tcp %s: %w", a.ctrlAddr, err)
			return
		}
		m, err := DecodeMessage(b)
		if err != nil {
			a.readErr = err
			return
		}
		if m.Response {
			a.pmu.Lock()
			ch := a.pending[m.Token]
			delete(a.pending, m.Token)
			a.pmu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		select {
		case a.events <- m:
		default:
			a.dropped.Add(1)
		}
	}
}

// CtrlAddr is the ctrl_tcp address of the instance.
func (a *Agent) CtrlAddr() string { return a.ctrlAddr }

// Command sends a ctrl_tcp command and returns the data of baresip's response. A response
// with ok=false is an error carrying baresip's text.
func (a *Agent) Command(ctx context.Context, cmd, params string) (string, error) {
	token := strconv.FormatUint(a.token.Add(1), 10)
	b, err := EncodeCommand(cmd, params, token)
	if err != nil {
		return "", err
	}
	ch := make(chan Message, 1)
	a.pmu.Lock()
	a.pending[token] = ch
	a.pmu.Unlock()
	defer func() {
		a.pmu.Lock()
		delete(a.pending, token)
		a.pmu.Unlock()
	}()
	a.wmu.Lock()
	dl, _ := ctx.Deadline() // zero (no deadline) when ctx has none
	_ = a.conn.SetWriteDeadline(dl)
	_, err = a.conn.Write(AppendNetstring(nil, b))
	a.wmu.Unlock()
	if err != nil {
		return "", fmt.Errorf("send %s to baresip: %w", cmd, err)
	}
	select {
	case m := <-ch:
		if !m.OK {
			return m.Data, fmt.Errorf("baresip %s %q failed: %s", cmd, params, m.Data)
		}
		return m.Data, nil
	case <-a.readDone:
		return "", fmt.Errorf("baresip %s: %w (%v)", cmd, ErrNotRunning, a.readErr)
	case <-ctx.Done():
		return "", fmt.Errorf("baresip %s: no response: %w", cmd, ctx.Err())
	}
}

// WaitEvent returns the next event whose Type is one of types, discarding others.
func (a *Agent) WaitEvent(ctx context.Context, types ...string) (Message, error) {
	var skipped []string
	for {
		select {
		case m := <-a.events:
			for _, t := range types {
				if m.Type == t {
					return m, nil
				}
			}
			skipped = append(skipped, m.Type)
		case <-a.readDone:
			return Message{}, fmt.Errorf("wait for %v: %w (%v); skipped %v", types, ErrNotRunning, a.readErr, skipped)
		case <-ctx.Done():
			return Message{}, fmt.Errorf("wait for %v: %w; skipped %v", types, ctx.Err(), skipped)
		}
	}
}

// Output is what baresip has printed so far (stdout and stderr, SIP trace included).
func (a *Agent) Output() string { return a.out.String() }

// Close stops baresip (SIGTERM, then SIGKILL after 5 s) and waits for it to exit.
func (a *Agent) Close() error {
	a.closeOnce.Do(func() {
		if a.conn != nil {
			_ = a.conn.Close()
		}
		_ = a.cmd.Process.Signal(syscall.SIGTERM)
		t := time.NewTimer(5 * time.Second)
		defer t.Stop()
		select {
		case <-a.exited:
		case <-t.C:
			a.kill()
		}
		if a.conn != nil {
			<-a.readDone
		}
	})
	return nil
}

func (a *Agent) kill() {
	_ = a.cmd.Process.Kill()
	<-a.exited
}

// WaitOutput waits until baresip's output contains text (a log line, or a SIP message of
// its trace) and returns the output up to that point.
func (a *Agent) WaitOutput(ctx context.Context, text string) (string, error) {
	for {
		out, changed := a.out.snapshot()
		if strings.Contains(out, text) {
			return out, nil
		}
		select {
		case <-changed:
		case <-a.exited:
			if out := a.Output(); strings.Contains(out, text) {
				return out, nil
			}
			return "", fmt.Errorf("wait for output %q: %w (%v)", text, ErrNotRunning, a.waitErr)
		case <-ctx.Done():
			return "", fmt.Errorf("wait for output %q: %w", text, ctx.Err())
		}
	}
}

// outputLog collects process output up to maxOutput bytes, closes ready once marker has been
// seen and closes (then replaces) changed on every write.
type outputLog struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	marker  []byte
	ready   chan struct{}
	seen    bool
	changed chan struct{}
}

func newOutputLog(marker string) *outputLog {
	return &outputLog{marker: []byte(marker), ready: make(chan struct{}), changed: make(chan struct{})}
}

func (o *outputLog) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if room := maxOutput - o.buf.Len(); room > 0 {
		o.buf.Write(p[:min(len(p), room)])
	}
	if !o.seen && bytes.Contains(o.buf.Bytes(), o.marker) {
		o.seen = true
		close(o.ready)
	}
	close(o.changed)
	o.changed = make(chan struct{})
	return len(p), nil
}

func (o *outputLog) String() string {
	s, _ := o.snapshot()
	return s
}

// snapshot returns the output so far and a channel closed by the next write.
func (o *outputLog) snapshot() (string, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String(), o.changed
}
