package isolation

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/esl"
	"github.com/switchyard/switchyard/esl/client"
)

// recorder keeps every event an ESL client delivers and wakes waiters on each one.
type recorder struct {
	mu      sync.Mutex
	events  []*esl.Event
	changed chan struct{}
}

func record(c *client.Client) *recorder {
	r := &recorder{changed: make(chan struct{}, 1)}
	go func() {
		for e := range c.Events() {
			r.mu.Lock()
			r.events = append(r.events, e)
			r.mu.Unlock()
			select {
			case r.changed <- struct{}{}:
			default:
			}
		}
	}()
	return r
}

func (r *recorder) snapshot() []*esl.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*esl.Event(nil), r.events...)
}

// waitFor blocks until cond holds over the recorded events (10 s bound).
func (r *recorder) waitFor(t *testing.T, what string, cond func([]*esl.Event) bool) []*esl.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		evs := r.snapshot()
		if cond(evs) {
			return evs
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s (%d events recorded)", what, len(evs))
		}
	}
}

// dialESL connects a Go ESL client subscribed to ALL events; user "" means operator auth.
func dialESL(t *testing.T, addr, user, password string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{Addr: addr, User: user, Password: password, Events: []string{"ALL"}, EventBuffer: 1 << 16})
	if err != nil {
		t.Fatalf("esl dial (user %q): %v", user, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func eslAPI(t *testing.T, c *client.Client, cmd string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.API(ctx, cmd)
	if err != nil {
		t.Fatalf("api %s: %v", cmd, err)
	}
	return out
}

// showUUIDs parses `show channels as json` into the listed uuids.
func showUUIDs(t *testing.T, out string) []string {
	t.Helper()
	var v struct {
		Rows []map[string]string `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("show output %q: %v", out, err)
	}
	var ids []string
	for _, r := range v.Rows {
		ids = append(ids, r["uuid"])
	}
	return ids
}

// testESLScoping is RELIABILITY T5 with DECISIONS 4 and 5, against real calls.
func testESLScoping(t *testing.T, w *world) {
	s := w.s
	alpha := w.tenant("alpha.example")
	const eslPW = "agent-password-1"
	s.create("/admin/domain/"+itoa(alpha.id)+"/esl_user/", `{"username":"agent","password":"`+eslPW+`"}`)
	alpha.secrets = append(alpha.secrets, eslPW)
	s.reload()
	op := dialESL(t, s.eslAddr(), "", "ClueCon")
	opRec := record(op)
	ten := dialESL(t, s.eslAddr(), "agent@"+alpha.name, eslPW)
	tenRec := record(ten)

	t.Run("no foreign events over mixed calls", func(t *testing.T) {
		type leg struct{ from, to, user string }
		round := []leg{
			{"beta.example", "beta.example", "100"}, {"alpha.example", "beta.example", "10002*001*100"},
			{"gamma.example", "gamma.example", "001*100"}, {"beta.example", "alpha.example", "10001*001*100"},
			{"alpha.example", "alpha.example", "100"},
		}
		var calls []leg
		for range 3 {
			calls = append(calls, round...)
		}
		for i, l := range calls {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			c := w.caller[l.from].dial(ctx, s.sipAddr(), l.user, "")
			cancel()
			if c.code() != 200 {
				t.Fatalf("call %d %s→%s: %d (%v)", i, l.from, l.to, c.code(), c.err)
			}
			recv(t, w.callee[l.to].invites, "INVITE")
			talk(t, c, w.callee[l.to])
		}
		// Every leg (two per call) is destroyed; the operator sees all of them.
		opEvs := opRec.waitFor(t, "every leg destroyed", func(evs []*esl.Event) bool {
			return count(evs, "CHANNEL_DESTROY") >= 2*len(calls)
		})
		legDomain := map[string]string{}
		for _, e := range opEvs {
			if id, d := e.Get("Unique-ID"), e.Get("variable_domain_name"); id != "" && d != "" {
				legDomain[id] = d
			}
		}
		var mine []string
		for id, d := range legDomain {
			if d == alpha.name {
				mine = append(mine, id)
			}
		}
		if len(mine) == 0 {
			t.Fatal("the operator saw no alpha legs")
		}
		// The tenant session's queue is FIFO: once it has every alpha leg's DESTROY, every
		// earlier foreign event has been either filtered or (wrongly) delivered.
		evs := tenRec.waitFor(t, "alpha legs destroyed", func(evs []*esl.Event) bool {
			seen := map[string]bool{}
			for _, e := range evs {
				if e.Name() == "CHANNEL_DESTROY" {
					seen[e.Get("Unique-ID")] = true
				}
			}
			for _, id := range mine {
				if !seen[id] {
					return false
				}
			}
			return true
		})
		foreign := 0
		for _, e := range evs {
			id := e.Get("Unique-ID")
			if d, ok := legDomain[id]; ok && d != alpha.name {
				foreign++
				t.Errorf("tenant session got %s of %s leg %s", e.Name(), d, id)
			}
			if d := e.Get("variable_domain_name"); d != "" && d != alpha.name {
				t.Errorf("tenant session got %s with domain %s", e.Name(), d)
			}
			for _, h := range e.Headers {
				for _, other := range []string{"beta.example", "gamma.example"} {
					if strings.Contains(h.Value, other) {
						t.Errorf("tenant session's %s carries %s=%q", e.Name(), h.Name, h.Value)
					}
				}
			}
		}
		t.Logf("tenant session: %d events, %d foreign; operator: %d events", len(evs), foreign, len(opEvs))
	})

	t.Run("foreign channels look unknown", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		bCall := w.caller["beta.example"].dial(ctx, s.sipAddr(), "100", "")
		aCall := w.caller["alpha.example"].dial(ctx, s.sipAddr(), "100", "")
		if bCall.code() != 200 || aCall.code() != 200 {
			t.Fatalf("setup calls: beta %d, alpha %d", bCall.code(), aCall.code())
		}
		recv(t, w.callee["beta.example"].invites, "INVITE at beta")
		recv(t, w.callee["alpha.example"].invites, "INVITE at alpha")
		var betaIDs, alphaIDs []string
		for _, c := range s.node.Channels(actors.Scope{}) {
			switch c.Domain {
			case "beta.example":
				betaIDs = append(betaIDs, c.UUID)
			case alpha.name:
				alphaIDs = append(alphaIDs, c.UUID)
			}
		}
		if len(betaIDs) != 2 || len(alphaIDs) != 2 {
			t.Fatalf("live legs: beta %v, alpha %v", betaIDs, alphaIDs)
		}
		const unknown = "00000000-0000-4000-8000-000000000000"
		for _, cmd := range []string{"uuid_kill %s", "uuid_dump %s", "uuid_getvar %s domain_name", "uuid_setvar %s x y",
			"uuid_exists %s", "uuid_hold %s", "uuid_transfer %s 101", "uuid_bridge %s " + unknown} {
			for _, id := range betaIDs {
				got, want := eslAPI(t, ten, sprintf(cmd, id)), eslAPI(t, ten, sprintf(cmd, unknown))
				if got != want {
					t.Errorf("%q: foreign uuid answer %q differs from unknown uuid answer %q", sprintf(cmd, "<beta>"), got, want)
				}
			}
		}
		if got := eslAPI(t, ten, "uuid_kill "+betaIDs[0]); got != "-ERR No such channel!\n" {
			t.Errorf("uuid_kill foreign: %q", got)
		}
		if got := eslAPI(t, op, "uuid_exists "+betaIDs[0]); got != "true" && got != "true\n" {
			t.Errorf("beta's leg gone after the tenant's uuid_kill: operator uuid_exists = %q", got)
		}
		listed := showUUIDs(t, eslAPI(t, ten, "show channels as json"))
		if strings.Join(sorted(listed), ",") != strings.Join(sorted(alphaIDs), ",") {
			t.Errorf("tenant show channels lists %v, want exactly alpha's %v", listed, alphaIDs)
		}
		if out := eslAPI(t, ten, "show calls"); strings.Contains(out, betaIDs[0]) || strings.Contains(out, betaIDs[1]) {
			t.Errorf("tenant show calls lists beta: %q", out)
		}
		if out := eslAPI(t, ten, "show registrations"); strings.Contains(out, "beta.example") || strings.Contains(out, "gamma.example") {
			t.Errorf("tenant show registrations lists other tenants: %q", out)
		}
		// originate into another tenant: refused exactly like a domain that does not exist.
		got := eslAPI(t, ten, "originate user/100@beta.example &park()")
		want := eslAPI(t, ten, "originate user/100@nosuch.example &park()")
		if !strings.HasPrefix(got, "-ERR") || got != want {
			t.Errorf("originate into beta: %q (unknown domain: %q)", got, want)
		}
		bctx, bcancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, body, err := ten.BgAPI(bctx, "originate user/001*100@beta.example &park()")
		bcancel()
		if err != nil || !strings.HasPrefix(body, "-ERR") {
			t.Errorf("bgapi originate into beta: %q, %v", body, err)
		}
		// hupall in the tenant's scope ends alpha's call only.
		eslAPI(t, ten, "hupall NORMAL_CLEARING")
		recv(t, w.callee["alpha.example"].byes, "BYE at alpha after hupall")
		if got := eslAPI(t, op, "uuid_exists "+betaIDs[0]); !strings.HasPrefix(got, "true") {
			t.Errorf("tenant hupall ended beta's call: uuid_exists = %q", got)
		}
		w.expectOnly(t, "")
		talk(t, bCall, w.callee["beta.example"])
	})
}

// testAdminScoping is RELIABILITY T6 over the real admin API of the running switch.
func testAdminScoping(t *testing.T, w *world) {
	s := w.s
	alpha, beta := w.tenant("alpha.example"), w.tenant("beta.example")
	tok := s.token("domain_admin", alpha.id)
	a, b := "/admin/domain/"+itoa(alpha.id), "/admin/domain/"+itoa(beta.id)
	for _, tc := range []struct {
		name, method, path, body string
		want                     int
	}{
		{"beta domain", "GET", b, "", http.StatusForbidden},
		{"beta accounts", "GET", b + "/sip_account/", "", http.StatusForbidden},
		{"beta account", "GET", b + "/sip_account/" + itoa(beta.accounts["100"]), "", http.StatusForbidden},
		{"beta account update", "PUT", b + "/sip_account/" + itoa(beta.accounts["100"]), `{"password":"stolen-password-1"}`, http.StatusForbidden},
		{"beta account delete", "DELETE", b + "/sip_account/" + itoa(beta.accounts["100"]), "", http.StatusForbidden},
		{"beta esl user create", "POST", b + "/esl_user/", `{"username":"spy","password":"spy-password-1"}`, http.StatusForbidden},
		{"beta live", "GET", b + "/live", "", http.StatusForbidden},
		{"beta cdr", "GET", b + "/cdr", "", http.StatusForbidden},
		{"beta audit", "GET", "/admin/audit?domain_id=" + itoa(beta.id), "", http.StatusForbidden},
		{"beta account through alpha", "GET", a + "/sip_account/" + itoa(beta.accounts["100"]), "", http.StatusNotFound},
		{"beta customer through alpha", "GET", a + "/customer/" + itoa(beta.customerID), "", http.StatusNotFound},
		{"unknown account in alpha", "GET", a + "/sip_account/999999", "", http.StatusNotFound},
		{"unknown domain", "GET", "/admin/domain/999999", "", http.StatusForbidden},
		{"own account", "GET", a + "/sip_account/" + itoa(alpha.accounts["100"]), "", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := s.api(tc.method, tc.path, tok, tc.body); r.status != tc.want {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, r.status, r.body, tc.want)
			}
		})
	}
	t.Run("lists only alpha", func(t *testing.T) {
		var doms []map[string]any
		s.api("GET", "/admin/domain/", tok, "").decode(t, &doms)
		if len(doms) != 1 || doms[0]["name"] != alpha.name {
			t.Fatalf("domain list: %v", doms)
		}
		var accts []map[string]any
		s.api("GET", a+"/sip_account/", tok, "").decode(t, &accts)
		if len(accts) != len(alpha.accounts) {
			t.Fatalf("alpha accounts: %v", accts)
		}
		for _, acc := range accts {
			if int64(acc["domain_id"].(float64)) != alpha.id {
				t.Fatalf("foreign account listed: %v", acc)
			}
		}
	})
	t.Run("beta unchanged", func(t *testing.T) {
		// The refused PUT did not change beta's 100: it still registers with its own password.
		if res := w.callee[beta.name].register(s.sipAddr(), 600); res.StatusCode != 200 {
			t.Fatalf("beta 100 re-register: %d", res.StatusCode)
		}
	})
}

func count(evs []*esl.Event, name string) int {
	n := 0
	for _, e := range evs {
		if e.Name() == name {
			n++
		}
	}
	return n
}
