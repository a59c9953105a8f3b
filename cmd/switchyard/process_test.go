package main

// Helpers for the process-level tests: the binary is built once in TestMain and every test runs
// it as a child process on 127.0.0.1 ports chosen at random.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Generous bounds: they turn a hang into a failure, they do not measure speed.
const (
	readyTimeout   = 20 * time.Second
	stopTimeout    = 20 * time.Second
	commandTimeout = 20 * time.Second
	lockedTimeout  = 10 * time.Second
)

// binPath is the switchyard binary built by TestMain.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "switchyard-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "create build dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	goTool, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "find the go tool:", err)
		return 1
	}
	binPath = filepath.Join(dir, "switchyard")
	build := exec.Command(goTool, "build", "-o", binPath, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/switchyard: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// syncBuffer collects a child's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// childEnv is the test's environment without any SWITCHYARD_* variable, plus extra.
func childEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHYARD_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// addrs are the three listen addresses of one switch.
type addrs struct{ http, sip, esl string }

// freeTCP returns a 127.0.0.1 address whose TCP port was free a moment ago.
func freeTCP(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// freeSIP returns an address free for both TCP and UDP (the SIP edge binds both).
func freeSIP(t *testing.T) string {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		addr := l.Addr().String()
		u, err := net.ListenPacket("udp", addr)
		_ = l.Close()
		if err == nil {
			_ = u.Close()
			return addr
		}
	}
	t.Fatal("no port free for both TCP and UDP")
	return ""
}

func freeAddrs(t *testing.T) addrs {
	return addrs{http: freeTCP(t), sip: freeSIP(t), esl: freeTCP(t)}
}

// proc is a running `switchyard serve` child.
type proc struct {
	addrs
	data   string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{} // closed when the process has exited
	code   int           // exit code, valid after done
}

func (p *proc) base() string { return "http://" + p.http }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// spawn starts the binary with args and env; it does not wait for readiness.
func spawn(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binPath, args...)
	p.cmd.Env = childEnv(env)
	p.cmd.Stdout = p.stdout
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start switchyard: %v", err)
	}
	go func() {
		err := p.cmd.Wait()
		p.code = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// serveArgs are the flags every test switch gets.
func serveArgs(data string, a addrs) []string {
	return []string{"--data", data, "--http", a.http, "--sip", a.sip, "--esl", a.esl, "--log-format", "json"}
}

// startSwitch runs `switchyard serve` on data with fresh ports plus extra flags and waits until
// /healthz answers. A start that lost a port race is retried with new ports.
func startSwitch(t *testing.T, data string, extra ...string) *proc {
	t.Helper()
	for attempt := 1; ; attempt++ {
		a := freeAddrs(t)
		p := spawn(t, nil, append(serveArgs(data, a), extra...)...)
		p.addrs, p.data = a, data
		err := waitReady(p)
		if err == nil {
			return p
		}
		if attempt < 3 && p.exited() && strings.Contains(p.stderr.String(), "address already in use") {
			continue
		}
		t.Fatalf("switchyard did not become ready: %v\nstderr:\n%s", err, p.stderr.String())
	}
}

// waitReady polls GET /healthz until it answers 200, the process exits, or readyTimeout passes.
func waitReady(p *proc) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		res, err := client.Get(p.base() + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK && strings.Contains(string(body), `"ok"`) {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited with code %d before /healthz answered", p.code)
		case <-deadline.C:
			return fmt.Errorf("/healthz did not answer within %v", readyTimeout)
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM and returns the exit code once the process has ended.
func (p *proc) stop(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !p.exited() {
		t.Fatalf("send SIGTERM: %v", err)
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return p.code
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("switchyard did not stop within %v of SIGTERM\nstderr:\n%s", stopTimeout, p.stderr.String())
		return -1
	}
}

// stopClean stops p and requires exit code 0 and the "stopped cleanly" log line.
func (p *proc) stopClean(t *testing.T) {
	t.Helper()
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0\nstderr:\n%s", code, p.stderr.String())
	}
	if !hasLogMessage(p.stderr.String(), "stopped cleanly") {
		t.Fatalf("no \"stopped cleanly\" log line\nstderr:\n%s", p.stderr.String())
	}
}

// result is the outcome of a short-lived command (backup, restore, token, bad config).
type result struct {
	code           int
	stdout, stderr string
}

// runCmd runs the binary to completion (bounded by commandTimeout).
func runCmd(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return runCmdWithin(t, commandTimeout, env, args...)
}

func runCmdWithin(t *testing.T, limit time.Duration, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = childEnv(env)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("switchyard %s did not exit within %v\nstderr:\n%s", strings.Join(args, " "), limit, errOut.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run switchyard %s: %v", strings.Join(args, " "), err)
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// noStackTrace fails when output looks like a Go panic.
func noStackTrace(t *testing.T, output string) {
	t.Helper()
	for _, bad := range []string{"goroutine ", "panic:"} {
		if strings.Contains(output, bad) {
			t.Fatalf("output contains %q (a Go stack trace):\n%s", bad, output)
		}
	}
}

// logLines parses the JSON log lines of a child's stderr (other lines are skipped).
func logLines(stderr string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

func hasLogMessage(stderr, msg string) bool {
	for _, l := range logLines(stderr) {
		if l["message"] == msg {
			return true
		}
	}
	return false
}

// tokenBanner matches the once-only operator token announcement on stderr.
var tokenBanner = regexp.MustCompile(`Operator API token \(shown once; its hash is in ([^)]+)\):\s+(\S+)`)

// printedToken returns the operator token announced on stderr, if any.
func printedToken(stderr string) (string, bool) {
	m := tokenBanner.FindStringSubmatch(stderr)
	if m == nil {
		return "", false
	}
	return m[2], true
}

// firstStart starts a switch on a new data dir and returns it with the printed operator token.
func firstStart(t *testing.T) (*proc, string) {
	t.Helper()
	p := startSwitch(t, t.TempDir())
	tok, ok := printedToken(p.stderr.String())
	if !ok {
		t.Fatalf("first start printed no operator token\nstderr:\n%s", p.stderr.String())
	}
	return p, tok
}

// reply is one HTTP answer from the admin API.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// call sends one admin request; a non-empty body goes as application/json.
func call(t *testing.T, base, method, path, token, body string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

// must sends a request and requires the status want.
func must(t *testing.T, base, method, path, token, body string, want int) reply {
	t.Helper()
	r := call(t, base, method, path, token, body)
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	return r
}

// create POSTs a record and returns its id.
func create(t *testing.T, base, path, token, body string) int64 {
	t.Helper()
	var out struct {
		ID int64 `json:"id"`
	}
	must(t, base, http.MethodPost, path, token, body, http.StatusCreated).decode(t, &out)
	if out.ID <= 0 {
		t.Fatalf("POST %s: no id in the answer", path)
	}
	return out.ID
}

// getObj GETs one record as a map.
func getObj(t *testing.T, base, path, token string) map[string]any {
	t.Helper()
	var m map[string]any
	must(t, base, http.MethodGet, path, token, "", http.StatusOK).decode(t, &m)
	return m
}
