package crash

// The switch as a child process (built once in TestMain, run on random 127.0.0.1 ports)
// and a small client for its admin API.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sipptest "github.com/switchyard/switchyard/test/sipp"
)

// Generous bounds: they turn a hang into a failure, they do not measure speed (DECISIONS 25).
const (
	readyTimeout = 20 * time.Second
	stopTimeout  = 20 * time.Second
	httpTimeout  = 10 * time.Second
)

// adminToken is the operator token every test switch is started with.
const adminToken = "crash-test-operator-token"

// binPath is the switchyard binary built by TestMain; empty when SIPp is missing.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if !sipptest.Available() {
		return m.Run() // every switch test skips; the parser tests still run
	}
	dir, err := os.MkdirTemp("", "switchyard-crash-bin-")
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
	out := filepath.Join(dir, "switchyard")
	build := exec.Command(goTool, "build", "-o", out, "../../cmd/switchyard")
	if msg, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ../../cmd/switchyard: %v\n%s", err, msg)
		return 1
	}
	binPath = out
	return m.Run()
}

// requireSwitch skips t when SIPp (and so the binary) is unavailable.
func requireSwitch(t *testing.T) {
	t.Helper()
	if binPath == "" {
		t.Skip("sipp not installed")
	}
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

// proc is one running `switchyard serve` child.
type proc struct {
	http, sip string
	cmd       *exec.Cmd
	stderr    *syncBuffer
	done      chan struct{} // closed when the process has exited
	state     *os.ProcessState
}

func (p *proc) api() admin { return admin{base: "http://" + p.http} }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// node is the switch under test across restarts on one data directory; the test's
// cleanup kills whichever process is current.
type node struct {
	data string
	cur  *proc
}

func newNode(t *testing.T) *node {
	n := &node{data: t.TempDir()}
	t.Cleanup(func() {
		if n.cur != nil && !n.cur.exited() {
			_ = n.cur.cmd.Process.Kill()
			<-n.cur.done
		}
	})
	return n
}

// freeTCP returns a 127.0.0.1 address whose TCP port was free a moment ago.
func freeTCP(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// freeSIP returns a 127.0.0.1 address free for both TCP and UDP (the SIP edge binds both).
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

// start runs the switch on the node's data directory with fresh ports and waits until
// /healthz answers; a start that lost a port race is retried. It returns how long the
// switch took to become ready.
func (n *node) start(t *testing.T) time.Duration {
	t.Helper()
	for attempt := 1; ; attempt++ {
		p := &proc{http: freeTCP(t), sip: freeSIP(t), stderr: &syncBuffer{}, done: make(chan struct{})}
		p.cmd = exec.Command(binPath, "serve", "--data", n.data, "--http", p.http, "--sip", p.sip,
			"--esl", freeTCP(t), "--admin-token", adminToken, "--log-format", "json", "--allow", "127.0.0.0/8")
		p.cmd.Env = childEnv()
		p.cmd.Stderr = p.stderr
		began := time.Now()
		if err := p.cmd.Start(); err != nil {
			t.Fatalf("start switchyard: %v", err)
		}
		go func() {
			_ = p.cmd.Wait()
			p.state = p.cmd.ProcessState
			close(p.done)
		}()
		n.cur = p
		err := waitReady(p)
		if err == nil {
			return time.Since(began)
		}
		if attempt < 3 && p.exited() && strings.Contains(p.stderr.String(), "address already in use") {
			continue
		}
		t.Fatalf("switchyard did not become ready: %v\nstderr:\n%s", err, tail(p.stderr.String()))
	}
}

// childEnv is the test's environment without SWITCHYARD_* variables.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHYARD_") {
			env = append(env, kv)
		}
	}
	return env
}

// waitReady polls GET /healthz until it answers 200, the process exits, or readyTimeout passes.
func waitReady(p *proc) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		res, err := client.Get("http://" + p.http + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited (%v) before /healthz answered", p.state)
		case <-deadline.C:
			return fmt.Errorf("/healthz did not answer within %v", readyTimeout)
		case <-tick.C:
		}
	}
}

// kill9 sends a real SIGKILL to the current switch and waits until it is gone.
func (n *node) kill9(t *testing.T) {
	t.Helper()
	p := n.cur
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("send SIGKILL: %v", err)
	}
	<-p.done // the kernel cannot refuse SIGKILL
	noPanic(t, p)
	ws, ok := p.state.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("switch ended with %v, want death by SIGKILL", p.state)
	}
}

// sigterm stops the current switch with SIGTERM and returns its exit code.
func (n *node) sigterm(t *testing.T) int {
	t.Helper()
	p := n.cur
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		noPanic(t, p)
		return p.state.ExitCode()
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("switch did not stop within %v of SIGTERM\nstderr:\n%s", stopTimeout, tail(p.stderr.String()))
		return -1
	}
}

// noPanic fails t when the switch's output holds a Go panic.
func noPanic(t *testing.T, p *proc) {
	t.Helper()
	if out := p.stderr.String(); strings.Contains(out, "panic:") {
		t.Errorf("switch output holds a panic:\n%s", tail(out))
	}
}

// hasLogMessage reports whether a JSON log line with message msg is in stderr.
func hasLogMessage(stderr, msg string) bool {
	for _, line := range strings.Split(stderr, "\n") {
		var m struct {
			Message string `json:"message"`
		}
		if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &m) == nil && m.Message == msg {
			return true
		}
	}
	return false
}

// tail keeps the end of a long output for a failure message.
func tail(s string) string {
	const max = 4000
	if len(s) > max {
		return "..." + s[len(s)-max:]
	}
	return s
}

// admin is a client of one switch's admin API with the operator token.
type admin struct{ base string }

// do sends one request (body as JSON when non-nil), requires status want and decodes
// the answer into out when out is non-nil.
func (a admin) do(t *testing.T, method, path string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("encode %s %s body: %v", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := (&http.Client{Timeout: httpTimeout}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// create POSTs a record and returns its id.
func (a admin) create(t *testing.T, path string, body any) int64 {
	t.Helper()
	var out struct {
		ID int64 `json:"id"`
	}
	a.do(t, http.MethodPost, path, body, http.StatusCreated, &out)
	if out.ID <= 0 {
		t.Fatalf("POST %s: no id in the answer", path)
	}
	return out.ID
}

// cdr is the part of a CDR the crash checks read.
type cdr struct {
	UUID           string     `json:"uuid"`
	ACallID        string     `json:"a_call_id"`
	Answer         *time.Time `json:"answer"`
	SIPCode        int        `json:"sip_code"`
	HangupCause    string     `json:"hangup_cause"`
	DisconnectedBy string     `json:"disconnected_by"`
}

// cdrs pages through every CDR of a domain that started at or after from (1000 a page).
func (a admin) cdrs(t *testing.T, domainID int64, from time.Time) []cdr {
	t.Helper()
	var all []cdr
	cursor := ""
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatalf("CDR paging of domain %d did not end after %d pages", domainID, page)
		}
		q := url.Values{"from": {from.UTC().Format(time.RFC3339Nano)}, "limit": {"1000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var out struct {
			Items []cdr  `json:"items"`
			Next  string `json:"next"`
		}
		a.do(t, http.MethodGet, fmt.Sprintf("/admin/domain/%d/cdr?%s", domainID, q.Encode()), nil, http.StatusOK, &out)
		all = append(all, out.Items...)
		if out.Next == "" {
			return all
		}
		if out.Next == cursor {
			t.Fatalf("CDR paging of domain %d repeats cursor %q", domainID, cursor)
		}
		cursor = out.Next
	}
}

// tenant is what provision created.
type tenant struct {
	domainID, customerID int64
}

// Seed 003 tenant of the README quickstart: domain acme.example (prefix 10001), customer 001,
// accounts 100 and 101.
const (
	domainName   = "acme.example"
	domainPrefix = "10001"
	clientPrefix = "001"
)

func password(user string) string { return "secret-" + user + "-crash" }

// provision creates the tenant over the admin API.
func provision(t *testing.T, a admin) tenant {
	t.Helper()
	var tn tenant
	tn.domainID = a.create(t, "/admin/domain/", map[string]any{"name": domainName, "domain_prefix": domainPrefix})
	tn.customerID = a.create(t, fmt.Sprintf("/admin/domain/%d/customer/", tn.domainID),
		map[string]any{"name": "Main office", "client_prefix": clientPrefix})
	for _, u := range []string{"100", "101"} {
		a.create(t, fmt.Sprintf("/admin/domain/%d/sip_account/", tn.domainID),
			map[string]any{"customer_id": tn.customerID, "username": u, "password": password(u)})
	}
	return tn
}

// checkConfig requires the provisioned tenant to be intact.
func checkConfig(t *testing.T, a admin, tn tenant) {
	t.Helper()
	var dom struct {
		Name         string `json:"name"`
		DomainPrefix string `json:"domain_prefix"`
		Status       string `json:"status"`
	}
	a.do(t, http.MethodGet, fmt.Sprintf("/admin/domain/%d", tn.domainID), nil, http.StatusOK, &dom)
	if dom.Name != domainName || dom.DomainPrefix != domainPrefix || dom.Status != "active" {
		t.Fatalf("domain %d after restart = %+v, want %s prefix %s active", tn.domainID, dom, domainName, domainPrefix)
	}
	var customers []struct {
		ID           int64  `json:"id"`
		ClientPrefix string `json:"client_prefix"`
	}
	a.do(t, http.MethodGet, fmt.Sprintf("/admin/domain/%d/customer/", tn.domainID), nil, http.StatusOK, &customers)
	if len(customers) != 1 || customers[0].ID != tn.customerID || customers[0].ClientPrefix != clientPrefix {
		t.Fatalf("customers after restart = %+v, want one: id %d prefix %s", customers, tn.customerID, clientPrefix)
	}
	var accounts []struct {
		Username   string `json:"username"`
		CustomerID int64  `json:"customer_id"`
	}
	a.do(t, http.MethodGet, fmt.Sprintf("/admin/domain/%d/sip_account/", tn.domainID), nil, http.StatusOK, &accounts)
	got := map[string]int64{}
	for _, acc := range accounts {
		got[acc.Username] = acc.CustomerID
	}
	if want := map[string]int64{"100": tn.customerID, "101": tn.customerID}; !maps.Equal(got, want) {
		t.Fatalf("SIP accounts after restart = %v, want %v", got, want)
	}
}

// sortedIDs lists a set's members in order.
func sortedIDs(set map[string]bool) []string {
	if len(set) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(set))
}
