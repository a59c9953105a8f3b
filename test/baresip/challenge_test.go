package baresiptest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/actors/events"
)

// enosys is how baresip 1.0 (libre 1.x) reports a 401 it refuses to answer: its digest code
// fails the whole response with ENOSYS as soon as one WWW-Authenticate names an algorithm
// other than MD5, even when an MD5 challenge precedes it.
const enosys = "Register: Function not implemented"

// TestBaresipDefaultChallenge pins what Debian's baresip does with the switch's default
// challenge (DECISIONS 1: MD5 first, SHA-256 second, same nonce). The 401 must carry both, MD5
// first. baresip then either registers (a libre that skips or supports SHA-256) or, as
// baresip 1.0.0 with libre 1.1.0 in Debian 12 does, refuses the 401 with ENOSYS and stays
// unregistered; any other outcome fails. Domains serving baresip 1.0 need
// digest_algorithms ["MD5"] (TestBaresipCall).
func TestBaresipDefaultChallenge(t *testing.T) {
	if err := Available(Config{}); err != nil {
		t.Skipf("baresip unavailable: %v", err)
	}
	s := startSwitch(t)
	domain, accounts := s.tenant(t, "acme.example", "10001", "001", nil, "100")
	sub := s.bus.Subscribe(events.SubscribeOptions{QueueCap: 1024})
	t.Cleanup(sub.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := startAgent(ctx, t, s, "127.0.0.73", "100", false)

	out, err := a.WaitOutput(ctx, "algorithm=SHA-256")
	if err != nil {
		t.Fatalf("no SHA-256 challenge reached baresip: %v", err)
	}
	md5, sha := strings.Index(out, "algorithm=MD5"), strings.Index(out, "algorithm=SHA-256")
	if md5 < 0 || md5 > sha || !strings.Contains(out[:sha], "SIP/2.0 401 Unauthorized") {
		t.Fatalf("the 401 does not list MD5 before SHA-256:\n%s", out)
	}

	refused := make(chan error, 1)
	go func() {
		_, err := a.WaitOutput(ctx, enosys)
		refused <- err
	}()
	for {
		select {
		case e := <-sub.C():
			if e.Subclass() == "sofia::register" && e.Get("from-user") == "001*100" {
				t.Logf("this baresip answers the dual challenge and registered (user agent %q)", e.Get("user-agent"))
				return
			}
		case err := <-refused:
			if err != nil {
				t.Fatalf("baresip neither registered nor refused the challenge: %v", err)
			}
			if list, err := s.store.ListBindings(domain.ID, accounts["100"].ID); err != nil || len(list) != 0 {
				t.Fatalf("bindings after a refused challenge: %+v, %v", list, err)
			}
			t.Logf("baresip refused the MD5+SHA-256 challenge (%q): this baresip needs an MD5-only domain", enosys)
			return
		}
	}
}
