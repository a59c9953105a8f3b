package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sipptest "github.com/switchyard/switchyard/test/sipp"
)

type modeslResult struct {
	Call      []map[string]string `json:"call"`
	Originate map[string]any      `json:"originate"`
	OK        bool                `json:"ok"`
	Error     string              `json:"error"`
}

// TestModeslObservesSIPpCall is the ESL acceptance run: the real modesl client subscribes to
// all events, SIPp places a call through the switch, modesl sees each leg's FreeSWITCH event
// sequence with the headers integrators read, then originates a call and kills it.
func TestModeslObservesSIPpCall(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	dir, _ := filepath.Abs("../modesl")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "modesl")); err != nil {
		t.Skip("test/modesl/node_modules/modesl missing: run make test-deps")
	}
	if !sipptest.Available() {
		t.Skip("sipp not installed")
	}
	f := startFull(t)
	f.tenant(t, "acme.example", "10001", "100", "101", "102")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// 001*101 answers calls (SIPp UAS), 001*102 answers the originate.
	row := func(user, dialled string) []string {
		return []string{"001*" + user, "pw-" + user + "-secret", "acme.example", dialled}
	}
	uas, res, err := sipptest.StartRegistered(ctx, t, sipptest.Opts{Target: f.sip.UDPAddr(), InjectionRows: [][]string{row("101", "")}},
		sipptest.Opts{Scenario: "uas_answer.xml", LocalIP: "127.0.0.4", Calls: 1, Timeout: 60 * time.Second})
	if err != nil {
		t.Fatalf("callee: %v %s", err, res.Summary())
	}
	uas2, res, err := sipptest.StartRegistered(ctx, t, sipptest.Opts{Target: f.sip.UDPAddr(), InjectionRows: [][]string{row("102", "")}},
		sipptest.Opts{Scenario: "uas_answer.xml", LocalIP: "127.0.0.5", Calls: 1, Timeout: 60 * time.Second})
	if err != nil {
		t.Fatalf("originate target: %v %s", err, res.Summary())
	}

	host, port := f.eslPort()
	cmd := exec.CommandContext(ctx, node, "call_events.js", host, port, "ClueCon", "user/102@acme.example", "60")
	cmd.Dir = dir
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<24)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("modesl did not get ready: %q", lines.Text())
	}
	_, _ = stdin.Write([]byte("go\n"))
	call, err := sipptest.Run(ctx, t, sipptest.Opts{Scenario: "uac_auth.xml", Target: f.sip.UDPAddr(), LocalIP: "127.0.0.3", Calls: 1,
		Timeout: 20 * time.Second, InjectionRows: [][]string{row("100", "101")}})
	if err != nil || call.Successful != 1 {
		t.Fatalf("SIPp call: %v %s %s", err, call.Summary(), call.ErrLog)
	}
	if !lines.Scan() {
		t.Fatal("modesl printed no result")
	}
	_ = cmd.Wait()
	var r modeslResult
	if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
		t.Fatalf("modesl output %q: %v", lines.Text(), err)
	}
	if !r.OK {
		t.Fatalf("modesl run failed: %s (%d call events)", r.Error, len(r.Call))
	}
	checkCallEvents(t, r.Call)
	if got := r.Originate["result"]; got == nil || !strings.HasPrefix(got.(string), "+OK ") {
		t.Fatalf("originate from modesl: %v", r.Originate)
	}
	if r.Originate["answered"] != true || r.Originate["hangupCause"] != "MANAGER_REQUEST" || r.Originate["exists"] != "false" {
		t.Fatalf("originate/uuid_kill observed: %v", r.Originate)
	}
	if r.Originate["getvar"] != "5551234" {
		t.Fatalf("uuid_getvar origination_caller_id_number: %v", r.Originate["getvar"])
	}
	for _, p := range []*sipptest.Process{uas, uas2} {
		if res, _ := p.Wait(); res.Successful != 1 {
			t.Fatalf("SIPp callee: %s %s", res.Summary(), res.ErrLog)
		}
	}
}

// (uuid_kill without a cause hangs up with MANAGER_REQUEST, as in FreeSWITCH.)

// checkCallEvents asserts the per-leg FreeSWITCH sequence (DECISIONS 6) and key headers.
func checkCallEvents(t *testing.T, evs []map[string]string) {
	t.Helper()
	perLeg := map[string][]string{}
	var order []string
	byName := map[string][]map[string]string{}
	for _, e := range evs {
		id := e["Unique-ID"]
		if _, ok := perLeg[id]; !ok {
			order = append(order, id)
		}
		name := e["Event-Name"]
		if name == "CHANNEL_STATE" {
			name += ":" + e["Channel-State"]
		}
		perLeg[id] = append(perLeg[id], name)
		byName[e["Event-Name"]] = append(byName[e["Event-Name"]], e)
	}
	if len(order) != 2 {
		t.Fatalf("want 2 legs, got %d: %v", len(order), perLeg)
	}
	must := func(leg string, want ...string) {
		t.Helper()
		seq := perLeg[leg]
		i := 0
		for _, n := range seq {
			if i < len(want) && n == want[i] {
				i++
			}
		}
		if i != len(want) {
			t.Fatalf("leg %s: events %v lack %v in order (stopped at %q)", leg, seq, want, want[i])
		}
	}
	a, b := order[0], order[1]
	must(a, "CHANNEL_STATE:CS_INIT", "CHANNEL_CREATE", "CHANNEL_CALLSTATE", "CHANNEL_STATE:CS_ROUTING", "CHANNEL_STATE:CS_EXECUTE",
		"CHANNEL_EXECUTE", "CHANNEL_ANSWER", "CHANNEL_BRIDGE", "CHANNEL_HANGUP", "CHANNEL_UNBRIDGE", "CHANNEL_EXECUTE_COMPLETE",
		"CHANNEL_STATE:CS_HANGUP", "CHANNEL_STATE:CS_REPORTING", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY", "CHANNEL_STATE:CS_DESTROY")
	must(b, "CHANNEL_OUTGOING", "CHANNEL_STATE:CS_INIT", "CHANNEL_CREATE", "CHANNEL_ORIGINATE", "CHANNEL_STATE:CS_ROUTING",
		"CHANNEL_STATE:CS_CONSUME_MEDIA", "CHANNEL_PROGRESS", "CHANNEL_ANSWER", "CHANNEL_STATE:CS_EXCHANGE_MEDIA", "CHANNEL_HANGUP",
		"CHANNEL_STATE:CS_HANGUP", "CHANNEL_STATE:CS_REPORTING", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY")
	for _, e := range byName["CHANNEL_HANGUP_COMPLETE"] {
		if e["Hangup-Cause"] != "NORMAL_CLEARING" || e["variable_billsec"] == "" || e["variable_domain_name"] != "acme.example" {
			t.Fatalf("CHANNEL_HANGUP_COMPLETE headers: %v", e)
		}
	}
	create := byName["CHANNEL_CREATE"][0]
	if create["Caller-Caller-ID-Number"] == "" || create["Call-Direction"] != "inbound" || create["Channel-Call-UUID"] != a {
		t.Fatalf("CHANNEL_CREATE headers: %v", create)
	}
	for _, e := range byName["CHANNEL_BRIDGE"] {
		if e["Other-Leg-Unique-ID"] != b {
			t.Fatalf("CHANNEL_BRIDGE Other-Leg-Unique-ID %q, want %q", e["Other-Leg-Unique-ID"], b)
		}
	}
}
