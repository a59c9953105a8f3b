package integration

import (
	"bufio"
	"context"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/actors/events"
	sipptest "github.com/switchyard/switchyard/test/sipp"
)

// TestSlowESLConsumerNeverSlowsCalls: an ESL client subscribes to everything and never reads
// while 10,000 events are published and SIPp places calls. Every call completes, the publisher
// never blocks, the stalled session loses events (counted) and memory stays bounded.
func TestSlowESLConsumerNeverSlowsCalls(t *testing.T) {
	if !sipptest.Available() {
		t.Skip("sipp not installed")
	}
	f := startFull(t)
	f.tenant(t, "acme.example", "10001", "100", "101")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	conn, err := net.Dial("tcp", f.esl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096) // keep the kernel from absorbing the backlog
	}
	r := bufio.NewReader(conn)
	readFrame := func() string {
		var b strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("esl read: %v", err)
			}
			if line == "\n" {
				return b.String()
			}
			b.WriteString(line)
		}
	}
	readFrame() // auth/request
	_, _ = conn.Write([]byte("auth ClueCon\n\n"))
	if got := readFrame(); !strings.Contains(got, "+OK accepted") {
		t.Fatalf("auth: %q", got)
	}
	_, _ = conn.Write([]byte("event plain ALL\n\n"))
	if got := readFrame(); !strings.Contains(got, "+OK") {
		t.Fatalf("event: %q", got)
	}
	// From here on the client never reads.

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	row := func(user, dialled string) []string {
		return []string{"001*" + user, "pw-" + user + "-secret", "acme.example", dialled}
	}
	uas, res, err := sipptest.StartRegistered(ctx, t, sipptest.Opts{Target: f.sip.UDPAddr(), InjectionRows: [][]string{row("101", "")}},
		sipptest.Opts{Scenario: "uas_answer.xml", LocalIP: "127.0.0.4", Calls: 20, Timeout: 60 * time.Second})
	if err != nil {
		t.Fatalf("callee: %v %s", err, res.Summary())
	}
	published := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		payload := strings.Repeat("x", 2048)
		for i := 0; i < 10000; i++ {
			e := events.NewCustom("switchyard::test")
			e.Add("Payload", payload)
			f.node.Bus().Publish(e)
		}
		published <- time.Since(start)
	}()
	rows := make([][]string, 20)
	for i := range rows {
		rows[i] = row("100", "101")
	}
	calls, err := sipptest.Run(ctx, t, sipptest.Opts{Scenario: "uac_auth.xml", Target: f.sip.UDPAddr(), LocalIP: "127.0.0.3", Calls: 20,
		Rate: 10, Timeout: 40 * time.Second, InjectionRows: rows})
	if err != nil || calls.Successful != 20 || calls.Failed != 0 {
		t.Fatalf("calls with a stalled ESL client: %v %s %s", err, calls.Summary(), calls.ErrLog)
	}
	select {
	case d := <-published:
		t.Logf("10,000 events published in %v with a stalled subscriber", d)
	case <-ctx.Done():
		t.Fatal("publishing blocked on the stalled subscriber")
	}
	if res, _ := uas.Wait(); res.Successful != 20 {
		t.Fatalf("callee: %s", res.Summary())
	}
	if st := f.esl.Stats(); st.LostEvents == 0 && st.Sessions > 0 {
		t.Fatalf("the stalled session lost no events: %+v", st)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grow := int64(after.HeapAlloc) - int64(before.HeapAlloc); grow > 64<<20 {
		t.Fatalf("heap grew by %d MB with a stalled ESL client", grow>>20)
	}
}
