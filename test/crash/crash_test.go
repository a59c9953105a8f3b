package crash

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sipptest "github.com/switchyard/switchyard/test/sipp"
)

// Load shape (RELIABILITY G1, scaled down for `make test`): 50 calls per second of
// 300 ms calls, killed once 40-80 calls have ended in a CDR, three rounds.
const (
	rounds        = 3
	loadRate      = 50
	loadHoldMs    = "300"
	loadCalls     = 5000 // more than the run can place before it is stopped
	killAfterMin  = 40
	killAfterSpan = 40
	callerIP      = "127.0.0.3"
	calleeIP      = "127.0.0.4"
	loadTimeout   = 60 * time.Second // SIPp's own bound; the test stops it much earlier
	loadWait      = 30 * time.Second // bound on reaching the kill point
	testBound     = 4 * time.Minute
)

// epoch lists every CDR.
var epoch = time.Unix(0, 0)

// TestKill9KeepsAcknowledgedCDRs: under SIPp call load the switch gets a real SIGKILL,
// restarts on the same data directory, and every call whose BYE SIPp saw answered with
// 200 has exactly one CDR (DECISIONS 13, RELIABILITY G1); configuration is intact and the
// switch serves calls again. Repeated for several rounds on one data directory.
func TestKill9KeepsAcknowledgedCDRs(t *testing.T) {
	requireSwitch(t)
	ctx, cancel := context.WithTimeout(context.Background(), testBound)
	defer cancel()
	n := newNode(t)
	n.start(t)
	tn := provision(t, n.cur.api())
	calleePort, err := sipptest.FreePort(calleeIP)
	if err != nil {
		t.Fatal(err)
	}
	acked := map[string]int{} // caller Call-ID -> round in which SIPp saw its BYE answered
	for round := 1; round <= rounds; round++ {
		ok := t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			callee := startCallee(ctx, t, n, calleePort)
			placeOneCall(ctx, t, n)
			loadStart := time.Now().Add(-time.Second)
			caller := startLoad(ctx, t, n)
			waitForCDRs(t, n, tn, loadStart, killAfterMin+rand.IntN(killAfterSpan+1), caller)
			n.kill9(t)
			trace := stopLoad(t, caller, callee)
			for id := range trace.sum.ByeAnswered {
				acked[id] = round
			}
			ready := n.start(t)
			a := n.cur.api()
			checkConfig(t, a, tn)
			st := checkCDRs(t, a.cdrs(t, tn.domainID, epoch), acked, trace.sum)
			t.Logf("round %d: SIPp created %d calls, %d answered, %d BYEs acknowledged; after kill -9 and restart (ready in %v): "+
				"%d/%d acknowledged CDRs found (all rounds: %d/%d), %d CDRs of this round's answered calls, %d CDRs in the domain, %d duplicates",
				round, trace.res.Created, len(trace.sum.InviteAnswered), len(trace.sum.ByeAnswered), ready.Round(time.Millisecond),
				st.roundFound, len(trace.sum.ByeAnswered), st.ackedFound, len(acked), st.roundCDRs, st.total, st.duplicates)
		})
		if !ok {
			return
		}
	}
	t.Run("serves calls after the last restart", func(t *testing.T) {
		callee := startCallee(ctx, t, n, calleePort)
		placeOneCall(ctx, t, n)
		if _, err := callee.Stop(); err != nil && !errors.Is(err, sipptest.ErrKilled) {
			t.Fatalf("stop callee: %v", err)
		}
		noPanic(t, n.cur)
	})
}

// TestSIGTERMFlushesCDRs: the same load, stopped with SIGTERM: the switch exits 0 after
// "stopped cleanly", and after a restart every call SIPp saw answered (INVITE 200), and so
// every call whose BYE was acknowledged, has exactly one CDR (RELIABILITY G4).
func TestSIGTERMFlushesCDRs(t *testing.T) {
	requireSwitch(t)
	ctx, cancel := context.WithTimeout(context.Background(), testBound)
	defer cancel()
	n := newNode(t)
	n.start(t)
	tn := provision(t, n.cur.api())
	calleePort, err := sipptest.FreePort(calleeIP)
	if err != nil {
		t.Fatal(err)
	}
	callee := startCallee(ctx, t, n, calleePort)
	placeOneCall(ctx, t, n)
	loadStart := time.Now().Add(-time.Second)
	caller := startLoad(ctx, t, n)
	waitForCDRs(t, n, tn, loadStart, killAfterMin+rand.IntN(killAfterSpan+1), caller)
	stopped := n.cur
	if code := n.sigterm(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0\nstderr:\n%s", code, tail(stopped.stderr.String()))
	}
	if !hasLogMessage(stopped.stderr.String(), "stopped cleanly") {
		t.Fatalf("no \"stopped cleanly\" log line after SIGTERM\nstderr:\n%s", tail(stopped.stderr.String()))
	}
	trace := stopLoad(t, caller, callee)
	acked := map[string]int{}
	for id := range trace.sum.ByeAnswered {
		acked[id] = 1
	}
	n.start(t)
	a := n.cur.api()
	checkConfig(t, a, tn)
	st := checkCDRs(t, a.cdrs(t, tn.domainID, epoch), acked, trace.sum)
	if st.answeredMissing > 0 {
		t.Errorf("%d of %d answered calls have no CDR after a clean stop: %s",
			st.answeredMissing, len(trace.sum.InviteAnswered), strings.Join(st.answeredMissingIDs, ", "))
	}
	t.Logf("SIGTERM: SIPp created %d calls, %d answered, %d BYEs acknowledged; after restart %d/%d acknowledged CDRs found, "+
		"%d/%d answered calls have a CDR, %d CDRs in the domain, %d duplicates",
		trace.res.Created, len(trace.sum.InviteAnswered), len(trace.sum.ByeAnswered), st.roundFound, len(trace.sum.ByeAnswered),
		len(trace.sum.InviteAnswered)-st.answeredMissing, len(trace.sum.InviteAnswered), st.total, st.duplicates)
	callee = startCallee(ctx, t, n, calleePort)
	placeOneCall(ctx, t, n)
	if _, err := callee.Stop(); err != nil && !errors.Is(err, sipptest.ErrKilled) {
		t.Fatalf("stop callee: %v", err)
	}
}

// row is one injection row: account, password, domain, dialled target.
func row(user, dialled string) []string {
	return []string{clientPrefix + "*" + user, password(user), domainName, dialled}
}

// startCallee registers 001*101 from calleeIP:port and starts a SIPp UAS that answers
// every call there until it is stopped. The port stays the same across restarts so the
// new registration replaces the persisted binding instead of adding a dead contact.
func startCallee(ctx context.Context, t *testing.T, n *node, port int) *sipptest.Process {
	t.Helper()
	uas, res, err := sipptest.StartRegistered(ctx, t,
		sipptest.Opts{Target: n.cur.sip, InjectionRows: [][]string{row("101", "")}},
		sipptest.Opts{Scenario: "uas_answer.xml", LocalIP: calleeIP, LocalPort: port, Timeout: 2 * loadTimeout})
	if err != nil {
		t.Fatalf("register and start the callee: %v (%s)\n%s", err, res.Summary(), res.ErrLog)
	}
	return uas
}

// placeOneCall requires one answered and hung-up call from 001*100 to 101.
func placeOneCall(ctx context.Context, t *testing.T, n *node) {
	t.Helper()
	res, err := sipptest.Run(ctx, t, sipptest.Opts{Scenario: "uac_auth.xml", Target: n.cur.sip, LocalIP: callerIP,
		Calls: 1, Timeout: 20 * time.Second, InjectionRows: [][]string{row("100", "101")}})
	if err != nil || res.Successful != 1 || res.Failed != 0 {
		t.Fatalf("one call through the switch: %v %s\n%s", err, res.Summary(), res.ErrLog)
	}
}

// startLoad starts the SIPp caller: loadRate calls per second of loadHoldMs each, with
// every message traced.
func startLoad(ctx context.Context, t *testing.T, n *node) *sipptest.Process {
	t.Helper()
	p, err := sipptest.Start(ctx, t, sipptest.Opts{Scenario: "uac_auth.xml", Target: n.cur.sip, LocalIP: callerIP,
		Calls: loadCalls, Rate: loadRate, Timeout: loadTimeout, TraceMessages: true,
		InjectionRows: [][]string{row("100", "101")}, ExtraArgs: []string{"-d", loadHoldMs}})
	if err != nil {
		t.Fatalf("start the SIPp caller: %v", err)
	}
	return p
}

// waitForCDRs waits until at least want CDRs that started after from are listed, so the
// kill lands in the middle of steady load with BYEs in flight.
func waitForCDRs(t *testing.T, n *node, tn tenant, from time.Time, want int, caller *sipptest.Process) {
	t.Helper()
	deadline := time.NewTimer(loadWait)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	a := n.cur.api()
	for {
		got := len(a.cdrs(t, tn.domainID, from))
		if got >= want {
			return
		}
		select {
		case <-deadline.C:
			res, _ := caller.Stop()
			t.Fatalf("only %d CDRs after %v of load, want %d before the kill: %s\n%s", got, loadWait, want, res.Summary(), tail(res.ErrLog))
		case <-tick.C:
		}
	}
}

// loadTrace is the caller's result and what its message log says.
type loadTrace struct {
	res sipptest.Result
	sum traceSummary
}

// stopLoad stops the caller and the callee together (open calls cannot finish once the
// switch is gone; each stop is bounded by sipptest.KillGrace) and parses the caller's log.
func stopLoad(t *testing.T, caller, callee *sipptest.Process) loadTrace {
	t.Helper()
	var (
		wg      sync.WaitGroup
		res     sipptest.Result
		callErr error
		uasErr  error
	)
	wg.Add(2)
	go func() { defer wg.Done(); res, callErr = caller.Stop() }()
	go func() { defer wg.Done(); _, uasErr = callee.Stop() }()
	wg.Wait()
	for _, err := range []error{callErr, uasErr} {
		if err != nil && !errors.Is(err, sipptest.ErrKilled) {
			t.Fatalf("stop SIPp: %v", err)
		}
	}
	sum, err := parseTrace(res.Messages)
	if err != nil {
		t.Fatalf("caller's message log: %v", err)
	}
	if len(sum.ByeAnswered) == 0 {
		t.Fatalf("no BYE was acknowledged before the stop (%s): the check would prove nothing\n%s", res.Summary(), tail(res.ErrLog))
	}
	return loadTrace{res: res, sum: sum}
}

// cdrStats is what checkCDRs counted.
type cdrStats struct {
	total              int // CDRs in the listing
	duplicates         int // extra CDRs for a Call-ID or uuid already seen
	ackedFound         int // acknowledged calls (all rounds) with a CDR
	roundFound         int // this round's acknowledged calls with a CDR
	roundCDRs          int // CDRs of calls this round saw answered
	answeredMissing    int // calls this round saw answered without a CDR
	answeredMissingIDs []string
}

// checkCDRs fails t for every problem compareCDRs finds and returns its counts.
func checkCDRs(t *testing.T, list []cdr, acked map[string]int, round traceSummary) cdrStats {
	t.Helper()
	st, problems := compareCDRs(list, acked, round)
	for _, p := range problems {
		t.Error(p)
	}
	return st
}

// compareCDRs checks a domain's CDR listing against what SIPp saw: every acknowledged
// call (acked, all rounds) has exactly one CDR, of an answered call ended by the caller,
// and no Call-ID or uuid is listed twice. Calls of this round that were answered but not
// acknowledged are only counted (answeredMissing): after a kill -9 they may lack a CDR.
func compareCDRs(list []cdr, acked map[string]int, round traceSummary) (cdrStats, []string) {
	st := cdrStats{total: len(list)}
	var problems []string
	byCall := map[string][]cdr{}
	uuids := map[string]bool{}
	for _, c := range list {
		if uuids[c.UUID] {
			st.duplicates++
			problems = append(problems, fmt.Sprintf("DUPLICATE: CDR uuid %s listed twice", c.UUID))
		}
		uuids[c.UUID] = true
		byCall[c.ACallID] = append(byCall[c.ACallID], c)
	}
	for _, id := range slices.Sorted(maps.Keys(byCall)) {
		if cs := byCall[id]; len(cs) > 1 {
			st.duplicates += len(cs) - 1
			problems = append(problems, fmt.Sprintf("DUPLICATE: caller Call-ID %q has %d CDRs: %+v", id, len(cs), cs))
		}
	}
	var missing []string
	for _, id := range slices.Sorted(maps.Keys(acked)) {
		cs := byCall[id]
		if len(cs) == 0 {
			missing = append(missing, fmt.Sprintf("%s (round %d)", id, acked[id]))
			continue
		}
		st.ackedFound++
		if round.ByeAnswered[id] {
			st.roundFound++
		}
		c := cs[0]
		if c.Answer == nil || c.SIPCode != 200 || c.DisconnectedBy != "caller" || c.HangupCause != "NORMAL_CLEARING" {
			problems = append(problems, fmt.Sprintf("CDR of acknowledged call %s: answer %v sip_code %d disconnected_by %q hangup_cause %q, "+
				"want an answered call ended by the caller with NORMAL_CLEARING", id, c.Answer, c.SIPCode, c.DisconnectedBy, c.HangupCause))
		}
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("LOST: %d of %d calls whose BYE was answered 200 have no CDR after the restart: %s",
			len(missing), len(acked), strings.Join(missing, ", ")))
	}
	for _, id := range sortedIDs(round.InviteAnswered) {
		if len(byCall[id]) > 0 {
			st.roundCDRs++
		} else {
			st.answeredMissing++
			st.answeredMissingIDs = append(st.answeredMissingIDs, id)
		}
	}
	return st, problems
}
