package isolation

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/esl"
)

// eslAttempt is one fresh connection from src that sends a single auth/userauth line.
type eslAttempt struct {
	refused bool   // closed before auth/request: banned or over a cap
	reply   string // Reply-Text of the answer
	closed  bool   // the server closed after the reply
}

func eslTry(t *testing.T, addr, src, line string) eslAttempt {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial esl from %s: %v", src, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := esl.NewReader(conn, esl.Limits{})
	f, err := r.ReadFrame()
	if err != nil || f.Get("Content-Type") != "auth/request" {
		return eslAttempt{refused: true}
	}
	if _, err := conn.Write(esl.AppendCommand(nil, line, nil, nil)); err != nil {
		t.Fatalf("write %q: %v", line, err)
	}
	f, err = r.ReadFrame()
	if err != nil {
		t.Fatalf("no reply to %q: %v", line, err)
	}
	a := eslAttempt{reply: f.Get("Reply-Text")}
	if a.reply != "+OK accepted" {
		// A refusal is followed by the goodbye notice and a close; read to the end (bounded by the deadline).
		for {
			if _, err := r.ReadFrame(); err != nil {
				a.closed = true
				break
			}
		}
	}
	return a
}

// TestESLAbuse adds what esl/server's own tests (fake switch, one source address) do not cover:
// E4 against the real switch and its stored ESL users, per source address, with userauth
// failures counted like auth failures and answered alike (no user/domain oracle), a banned
// source getting no answer even for the right password while other sources are unaffected;
// DECISIONS 28 (locked domain refuses userauth); and E8's per-IP cap not starving other IPs.
func TestESLAbuse(t *testing.T) {
	s := startStack(t, stackOpts{eslMaxConnsPerIP: 20})
	good := s.provision(tenantSpec{name: "kappa.example", prefix: "40001"})
	locked := s.provision(tenantSpec{name: "lambda.example", prefix: "40002"})
	s.create("/admin/domain/"+itoa(good.id)+"/esl_user/", `{"username":"agent","password":"agent-password-1"}`)
	s.create("/admin/domain/"+itoa(locked.id)+"/esl_user/", `{"username":"agent","password":"agent-password-2"}`)
	if r := s.api(http.MethodPut, "/admin/domain/"+itoa(locked.id), s.opToken, `{"status":"locked"}`); r.status != http.StatusOK {
		t.Fatalf("lock domain: %d %s", r.status, r.body)
	}
	s.reload()
	addr := s.eslAddr()
	const attackerIP, bystanderIP = "127.0.0.5", "127.0.0.6"

	t.Run("refusals are indistinguishable", func(t *testing.T) {
		// Each refusal counts: use a source of its own so the ban does not interfere.
		var want *eslAttempt
		for i, line := range []string{
			"auth wrong-password",
			"userauth agent@kappa.example:wrong-password",
			"userauth nobody@kappa.example:agent-password-1",
			"userauth agent@nosuch.example:agent-password-1",
			"userauth agent@lambda.example:agent-password-2", // locked domain (DECISIONS 28)
			"userauth agent@kappa.example",                   // no password at all
		} {
			a := eslTry(t, addr, loopbackIP(30+i), line)
			if a.refused || a.reply != "-ERR invalid" || !a.closed {
				t.Fatalf("%q: %+v, want -ERR invalid and a close", line, a)
			}
			if want == nil {
				want = &a
			} else if a != *want {
				t.Fatalf("%q answered %+v, others %+v", line, a, *want)
			}
		}
	})

	t.Run("wrong passwords from one IP ban it, not others", func(t *testing.T) {
		lines := []string{"auth nope", "userauth agent@kappa.example:nope", "auth nope-again",
			"userauth ghost@kappa.example:nope", "userauth agent@nosuch.example:nope"}
		for i, line := range lines { // the default threshold is 5 failures
			if a := eslTry(t, addr, attackerIP, line); a.refused || a.reply != "-ERR invalid" {
				t.Fatalf("attempt %d %q: %+v", i+1, line, a)
			}
		}
		if !s.esl.Banned(netip.MustParseAddr(attackerIP)) {
			t.Fatal("attacker not banned after 5 failures")
		}
		for _, line := range []string{"auth ClueCon", "userauth agent@kappa.example:agent-password-1"} {
			if a := eslTry(t, addr, attackerIP, line); !a.refused {
				t.Fatalf("banned source got an answer to the right credentials (%q): %+v", line, a)
			}
		}
		for _, line := range []string{"auth ClueCon", "userauth agent@kappa.example:agent-password-1"} {
			if a := eslTry(t, addr, bystanderIP, line); a.reply != "+OK accepted" {
				t.Fatalf("bystander %q: %+v", line, a)
			}
		}
		c := dialESL(t, addr, "agent@kappa.example", "agent-password-1")
		if out := eslAPI(t, c, "show channels as json"); out == "" {
			t.Fatal("tenant session from a clean source cannot run api")
		}
	})

	t.Run("per-IP connection cap does not starve other IPs", func(t *testing.T) {
		const flood = 40
		var held []net.Conn
		t.Cleanup(func() {
			for _, c := range held {
				_ = c.Close()
			}
		})
		refused := 0
		for range flood {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.7")}}
			c, err := d.Dial("tcp", addr)
			if err != nil {
				refused++
				continue
			}
			held = append(held, c)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, len(esl.AuthRequest))
			if n, _ := c.Read(buf); string(buf[:n]) != esl.AuthRequest {
				refused++
			}
		}
		if refused != flood-20 {
			t.Fatalf("%d of %d unauthenticated connections refused with a per-IP cap of 20", refused, flood)
		}
		if a := eslTry(t, addr, "127.0.0.8", "auth ClueCon"); a.reply != "+OK accepted" {
			t.Fatalf("other source during the flood: %+v", a)
		}
	})

	t.Run("no ESL password in any log line", func(t *testing.T) {
		logs := s.logs.String()
		if !strings.Contains(logs, "userauth refused") {
			t.Fatal("the refusals were not logged at all")
		}
		for _, pw := range []string{"agent-password-1", "agent-password-2", "wrong-password", "nope-again", "ClueCon"} {
			if strings.Contains(logs, pw) {
				t.Errorf("a log line carries the ESL password %q", pw)
			}
		}
	})
}
