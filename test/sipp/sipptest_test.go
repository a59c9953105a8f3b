package sipptest

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// Addresses per DECISIONS.md item 2: callers on 127.0.0.3, callees on .4.
const (
	callerIP = "127.0.0.3"
	calleeIP = "127.0.0.4"
)

func needSIPp(t *testing.T) {
	t.Helper()
	if !Available() {
		t.Skip("sipp not installed")
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func checkCounts(t *testing.T, who string, r Result, successful, failed int) {
	t.Helper()
	if r.Successful != successful || r.Failed != failed {
		t.Fatalf("%s: %s, want successful=%d failed=%d\nerrors:\n%s\nstderr:\n%s",
			who, r.Summary(), successful, failed, tail(r.ErrLog), tail(r.Stderr))
	}
}

// TestBuiltinUACAgainstUAS proves success counting on both sides with SIPp's
// embedded scenarios and no switch in between.
func TestBuiltinUACAgainstUAS(t *testing.T) {
	needSIPp(t)
	ctx := testCtx(t)
	uas, err := Start(ctx, t, Opts{Builtin: "uas", LocalIP: calleeIP, Calls: 3, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("start uas: %v", err)
	}
	res, err := Run(ctx, t, Opts{Builtin: "uac", Target: uas.Addr(), LocalIP: callerIP, Calls: 3, Rate: 50, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("run uac: %v", err)
	}
	checkCounts(t, "uac", res, 3, 0)
	if res.ExitCode != ExitAllSuccessful || res.Created != 3 || res.LocalIP != callerIP {
		t.Fatalf("uac: %s local=%s", res.Summary(), res.LocalIP)
	}
	ures, err := uas.Wait()
	if err != nil {
		t.Fatalf("uas: %v", err)
	}
	checkCounts(t, "uas", ures, 3, 0)
}

// TestFailuresCounted runs the embedded UAC (which expects 180/200) against
// uas_busy.xml: every call fails on the caller side and succeeds on the callee.
func TestFailuresCounted(t *testing.T) {
	needSIPp(t)
	ctx := testCtx(t)
	uas, err := Start(ctx, t, Opts{Scenario: "uas_busy.xml", LocalIP: calleeIP, Calls: 2, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("start uas: %v", err)
	}
	res, err := Run(ctx, t, Opts{Builtin: "uac", Target: uas.Addr(), LocalIP: callerIP, Calls: 2, Rate: 50, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("run uac: %v", err)
	}
	checkCounts(t, "uac", res, 0, 2)
	if res.ExitCode != ExitSomeFailed || !strings.Contains(res.ErrLog, "486") {
		t.Fatalf("uac: %s, error log without the 486:\n%s", res.Summary(), res.ErrLog)
	}
	ures, err := uas.Wait()
	if err != nil {
		t.Fatalf("uas: %v", err)
	}
	checkCounts(t, "uas", ures, 2, 0)
}

var acme = map[string]map[string]string{
	"acme.example": {"001*100": "secret-100", "001*101": "secret-101"},
}

var plan = map[string]string{
	"100":           "answer",
	"001*100":       "answer",
	"12345*001*100": "answer",
	"200":           "ring",
	"404":           "404",
	"480":           "480",
	"486":           "486",
	"503":           "503",
	"503-bare":      "503-bare",
	"403":           "403",
}

// TestScenariosAgainstFakeSwitch runs every client scenario against a stdlib
// UDP/TCP responder that challenges with MD5 first and verifies the digest.
func TestScenariosAgainstFakeSwitch(t *testing.T) {
	needSIPp(t)
	row := func(user, pw, domain, target string) []string { return []string{user, pw, domain, target} }
	ok := row("001*100", "secret-100", "acme.example", "100")
	tests := []struct {
		name       string
		scenario   string
		transport  string
		rows       [][]string
		calls      int
		successful int
		failed     int
		challenges int // challenges the fake sent
		authOK     int // credentials it accepted
		byes       int
		binding    bool // 001*100@acme.example bound afterwards
	}{
		{"register udp", "register_auth.xml", "u1", [][]string{ok}, 1, 1, 0, 1, 1, 0, true},
		{"register tcp", "register_auth.xml", "t1", [][]string{ok}, 1, 1, 0, 1, 1, 0, true},
		{"register wrong password", "register_auth.xml", "u1", [][]string{row("001*100", "nope", "acme.example", "")}, 1, 0, 1, 1, 0, -1, false}, // SIPp aborts with a BYE
		{"unregister", "unregister_auth.xml", "u1", [][]string{ok}, 1, 1, 0, 1, 1, 0, false},
		{"register unknown domain 403", "register_noauth_403.xml", "u1", [][]string{row("001*100", "x", "nowhere.example", "")}, 1, 1, 0, 0, 0, 0, false},
		{"call udp two rows", "uac_auth.xml", "u1", [][]string{ok, row("001*101", "secret-101", "acme.example", "001*100")}, 2, 2, 0, 2, 2, 2, false},
		{"call tcp", "uac_auth.xml", "t1", [][]string{ok}, 1, 1, 0, 1, 1, 1, false},
		{"call cross domain", "uac_auth.xml", "u1", [][]string{row("001*100", "secret-100", "acme.example", "12345*001*100")}, 1, 1, 0, 1, 1, 1, false},
		{"call rejected 404 after auth", "uac_expect_404.xml", "u1", [][]string{row("001*100", "secret-100", "acme.example", "404")}, 1, 1, 0, 1, 1, 0, false},
		{"call rejected 480", "uac_expect_480.xml", "u1", [][]string{row("001*100", "secret-100", "acme.example", "480")}, 1, 1, 0, 1, 1, 0, false},
		{"call rejected 486", "uac_expect_486.xml", "u1", [][]string{row("001*100", "secret-100", "acme.example", "486")}, 1, 1, 0, 1, 1, 0, false},
		{"call rejected 503 limit", "uac_expect_503.xml", "u1", [][]string{row("001*100", "secret-100", "acme.example", "503")}, 1, 1, 0, 1, 1, 0, false},
		{"call rejected 403 locked", "uac_expect_403.xml", "u1", [][]string{row("001*100", "secret-100", "acme.example", "403")}, 1, 1, 0, 1, 1, 0, false},
		{"expect 404 but answered fails", "uac_expect_404.xml", "u1", [][]string{ok}, 1, 0, 1, 1, 1, -1, false},
		{"503 without Reason fails", "uac_expect_503.xml", "u1", [][]string{row("001*100", "secret-100", "acme.example", "503-bare")}, 1, 0, 1, 1, 1, 0, false},
		{"cancel ringing call", "uac_cancel.xml", "u1", [][]string{row("001*100", "secret-100", "acme.example", "200")}, 1, 1, 0, 1, 1, 0, false},
		{"cancel ringing call tcp", "uac_cancel.xml", "t1", [][]string{row("001*100", "secret-100", "acme.example", "200")}, 1, 1, 0, 1, 1, 0, false},
		{"invite unknown domain 403", "uac_noauth_403.xml", "u1", [][]string{row("001*100", "x", "nowhere.example", "100")}, 1, 1, 0, 0, 0, 0, false},
		{"bench calls with auth", BenchScenario("calls_uac.xml"), "u1", [][]string{ok}, 3, 3, 0, 3, 3, 3, false},
		{"bench register with auth", BenchScenario("register.xml"), "u1", [][]string{ok}, 3, 3, 0, 3, 3, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			sw := newFakeSwitch(t, acme, plan)
			if tc.name == "unregister" {
				sw.mu.Lock()
				sw.bindings["001*100@acme.example"] = "<sip:001*100@127.0.0.3:5999>"
				sw.mu.Unlock()
			}
			target := sw.udpAddr()
			if tc.transport == TransportTCP {
				target = sw.tcpAddr()
			}
			res, err := Run(ctx, t, Opts{
				Scenario: tc.scenario, Target: target, LocalIP: callerIP, Transport: tc.transport,
				Calls: tc.calls, Rate: 20, InjectionRows: tc.rows, Timeout: 20 * time.Second,
			})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			checkCounts(t, tc.scenario, res, tc.successful, tc.failed)
			challenges, authOK, byes, failures, bindings := sw.snapshot()
			if challenges != tc.challenges || authOK != tc.authOK || (tc.byes >= 0 && byes != tc.byes) {
				t.Fatalf("fake switch saw challenges=%d authOK=%d byes=%d (failures %q), want %d/%d/%d",
					challenges, authOK, byes, failures, tc.challenges, tc.authOK, tc.byes)
			}
			if _, bound := bindings["001*100@acme.example"]; bound != tc.binding {
				t.Fatalf("binding present = %v, want %v (%v)", bound, tc.binding, bindings)
			}
		})
	}
}

// TestHarnessCeilingScenarios runs the bench pair directly, SIPp to SIPp, as
// README.md's ceiling commands do.
func TestHarnessCeilingScenarios(t *testing.T) {
	needSIPp(t)
	rows := [][]string{{"001*100", "secret-100", "acme.example", "100"}}
	for _, tc := range []struct{ name, uac, uas string }{
		{"calls", "calls_uac.xml", "calls_uas.xml"},
		{"register", "register.xml", "register_uas.xml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			uas, err := Start(ctx, t, Opts{Scenario: BenchScenario(tc.uas), LocalIP: calleeIP, Calls: 5, Timeout: 20 * time.Second})
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			res, err := Run(ctx, t, Opts{Scenario: BenchScenario(tc.uac), Target: uas.Addr(), LocalIP: callerIP,
				Calls: 5, Rate: 100, InjectionRows: rows, Timeout: 20 * time.Second})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			checkCounts(t, tc.uac, res, 5, 0)
			ures, err := uas.Wait()
			if err != nil {
				t.Fatalf("uas: %v", err)
			}
			checkCounts(t, tc.uas, ures, 5, 0)
		})
	}
}

// TestUASScenariosWithGoCaller drives each callee scenario from a stdlib caller.
func TestUASScenariosWithGoCaller(t *testing.T) {
	needSIPp(t)
	tests := []struct {
		name     string
		scenario string
		extra    []string
		call     func(*goUAC) error
	}{
		{"answer", "uas_answer.xml", nil, (*goUAC).answeredCall},
		{"ring then answer", "uas_ring_then_answer.xml", []string{"-d", "200"}, (*goUAC).answeredCall},
		{"busy", "uas_busy.xml", nil, (*goUAC).busyCall},
		{"ring no answer", "uas_ring_noanswer.xml", nil, (*goUAC).cancelledCall},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			uas, err := Start(ctx, t, Opts{Scenario: tc.scenario, LocalIP: calleeIP, Calls: 1, Timeout: 20 * time.Second, ExtraArgs: tc.extra})
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			c := newGoUAC(t, uas.Addr())
			if err := tc.call(c); err != nil {
				t.Fatalf("call: %v", err)
			}
			res, err := uas.Wait()
			if err != nil {
				t.Fatalf("uas: %v", err)
			}
			checkCounts(t, tc.scenario, res, 1, 0)
		})
	}
}

// TestStartRegistered registers a callee through the fake switch, then checks
// that the UAS answers on the very contact the switch stored.
func TestStartRegistered(t *testing.T) {
	needSIPp(t)
	ctx := testCtx(t)
	sw := newFakeSwitch(t, acme, plan)
	uas, reg, err := StartRegistered(ctx, t,
		Opts{Target: sw.udpAddr(), InjectionRows: [][]string{{"001*101", "secret-101", "acme.example"}}, Timeout: 10 * time.Second},
		Opts{Scenario: "uas_answer.xml", LocalIP: calleeIP, Calls: 1, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("StartRegistered: %v (%s)", err, reg.Summary())
	}
	contact, err := sw.contactAddr("001*101", "acme.example")
	if err != nil {
		t.Fatalf("binding: %v", err)
	}
	if contact != uas.Addr() || reg.LocalPort != uas.Port() {
		t.Fatalf("registered contact %s, UAS at %s (register port %d)", contact, uas.Addr(), reg.LocalPort)
	}
	if err := newGoUAC(t, contact).answeredCall(); err != nil {
		t.Fatalf("call the contact: %v", err)
	}
	res, err := uas.Wait()
	if err != nil {
		t.Fatalf("uas: %v", err)
	}
	checkCounts(t, "uas", res, 1, 0)
}

// TestStartRegisteredFailsOnBadCredentials: no UAS is started when the
// registration is refused.
func TestStartRegisteredFailsOnBadCredentials(t *testing.T) {
	needSIPp(t)
	sw := newFakeSwitch(t, acme, plan)
	_, reg, err := StartRegistered(testCtx(t), t,
		Opts{Target: sw.udpAddr(), InjectionRows: [][]string{{"001*101", "wrong", "acme.example"}}, Timeout: 10 * time.Second},
		Opts{Scenario: "uas_answer.xml", LocalIP: calleeIP, Calls: 1, Timeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "register before UAS") || reg.Failed != 1 {
		t.Fatalf("StartRegistered error = %v (%s), want a registration failure", err, reg.Summary())
	}
}

// TestRunKilledAfterTimeout: a peer that never answers keeps SIPp's call open
// past -timeout; the harness terminates it and says so.
func TestRunKilledAfterTimeout(t *testing.T) {
	needSIPp(t)
	silent, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { _ = silent.Close() })
	res, err := Run(testCtx(t), t, Opts{
		Scenario: "uac_auth.xml", Target: silent.LocalAddr().String(), LocalIP: callerIP, Calls: 1,
		InjectionRows: [][]string{{"001*100", "secret-100", "acme.example", "100"}}, Timeout: time.Second,
	})
	if !errors.Is(err, ErrKilled) || !res.Killed {
		t.Fatalf("Run error = %v killed=%v, want ErrKilled", err, res.Killed)
	}
	if res.Successful != 0 {
		t.Fatalf("killed run reports %d successful calls", res.Successful)
	}
}

// TestRunFatalErrors covers SIPp refusing to run.
func TestRunFatalErrors(t *testing.T) {
	needSIPp(t)
	busy, err := net.ListenPacket("udp4", callerIP+":0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { _ = busy.Close() })
	port := busy.LocalAddr().(*net.UDPAddr).Port
	tests := []struct {
		name string
		opts Opts
		want string
	}{
		{"port taken", Opts{Builtin: "uac", Target: "127.0.0.1:5999", LocalIP: callerIP, LocalPort: port, Calls: 1, Timeout: 5 * time.Second}, "fatal exit"},
		{"unknown option", Opts{Builtin: "uac", Target: "127.0.0.1:5999", LocalIP: callerIP, Calls: 1, Timeout: 5 * time.Second, ExtraArgs: []string{"-no_such_option"}}, "Invalid argument"},
		{"bad opts", Opts{Builtin: "uac", LocalIP: callerIP, Calls: 1}, "Target is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(testCtx(t), t, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run error = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestStartStopsEarly: Stop ends an idle UAS that still waits for calls.
func TestStartStopsEarly(t *testing.T) {
	needSIPp(t)
	uas, err := Start(testCtx(t), t, Opts{Scenario: "uas_answer.xml", LocalIP: calleeIP, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	res, err := uas.Stop()
	if err != nil && !errors.Is(err, ErrKilled) {
		t.Fatalf("stop: %v", err)
	}
	if res.Created != 0 || res.Successful != 0 {
		t.Fatalf("idle UAS reports %s", res.Summary())
	}
	if again, _ := uas.Stop(); again.ExitCode != res.ExitCode {
		t.Fatalf("second Stop changed the result: %s vs %s", again.Summary(), res.Summary())
	}
}
