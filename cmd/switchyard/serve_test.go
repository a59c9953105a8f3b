package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sha256Hex is the expected content of <data>/admin.token for a token.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// requireTokenFile checks <data>/admin.token holds exactly the hash of tok with mode 0600.
func requireTokenFile(t *testing.T, data, tok string) {
	t.Helper()
	path := filepath.Join(data, "admin.token")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat token file: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("%s has mode %o, want 600", path, perm)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read token file: %v", err)
	}
	if strings.Contains(string(b), tok) {
		t.Fatalf("%s contains the plaintext token", path)
	}
	if got := strings.TrimSpace(string(b)); got != sha256Hex(tok) {
		t.Fatalf("%s holds %q, want the SHA-256 of the token %q", path, got, sha256Hex(tok))
	}
}

// requireAuth checks which tokens the running switch accepts.
func requireAuth(t *testing.T, p *proc, good string, bad ...string) {
	t.Helper()
	must(t, p.base(), http.MethodGet, "/admin/domain/", good, "", http.StatusOK)
	for _, b := range bad {
		must(t, p.base(), http.MethodGet, "/admin/domain/", b, "", http.StatusUnauthorized)
	}
}

// TestOperatorTokenLifecycle proves DECISIONS 18 through the binary: the token is printed once on
// the first start, only its hash is stored (0600), a restart keeps it silently, --admin-token
// replaces it, and `switchyard token` issues a new one that works after a restart.
func TestOperatorTokenLifecycle(t *testing.T) {
	t.Parallel()
	p, tok := firstStart(t)
	stderr := p.stderr.String()
	if n := strings.Count(stderr, tok); n != 1 {
		t.Fatalf("token printed %d times on the first start, want once", n)
	}
	if strings.Contains(p.stdout.String(), tok) {
		t.Fatal("token printed on stdout; it belongs on stderr")
	}
	if m := tokenBanner.FindStringSubmatch(stderr); m[1] != filepath.Join(p.data, "admin.token") {
		t.Fatalf("banner names %q, want %q", m[1], filepath.Join(p.data, "admin.token"))
	}
	requireTokenFile(t, p.data, tok)
	requireAuth(t, p, tok, "", "not-the-token")
	p.stopClean(t)

	// Second start: nothing printed, same hash, same token works.
	p = startSwitch(t, p.data)
	if _, printed := printedToken(p.stderr.String()); printed || strings.Contains(p.stderr.String(), tok) {
		t.Fatalf("second start printed a token\nstderr:\n%s", p.stderr.String())
	}
	requireTokenFile(t, p.data, tok)
	requireAuth(t, p, tok)
	p.stopClean(t)

	// --admin-token replaces the stored hash; the old token stops working.
	const explicit = "operator-chosen-token-0123456789"
	p = startSwitch(t, p.data, "--admin-token", explicit)
	if strings.Contains(p.stderr.String(), explicit) {
		t.Fatal("an explicit --admin-token was echoed on stderr")
	}
	requireTokenFile(t, p.data, explicit)
	requireAuth(t, p, explicit, tok)
	p.stopClean(t)

	// `switchyard token` prints a new token on stdout and stores its hash.
	r := runCmd(t, nil, "token", "--data", p.data)
	if r.code != 0 {
		t.Fatalf("switchyard token: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	fresh := strings.TrimSpace(r.stdout)
	if fresh == "" || strings.ContainsAny(fresh, " \n") {
		t.Fatalf("switchyard token printed %q, want one token", r.stdout)
	}
	if !strings.Contains(r.stderr, "admin.token") {
		t.Fatalf("switchyard token does not say where the hash went: %q", r.stderr)
	}
	requireTokenFile(t, p.data, fresh)
	p = startSwitch(t, p.data)
	if _, printed := printedToken(p.stderr.String()); printed {
		t.Fatal("start after `switchyard token` printed another token")
	}
	requireAuth(t, p, fresh, explicit, tok)
	p.stopClean(t)
}

// TestSecondInstanceIsLocked: a second switch on a data dir in use fails at once with a clear
// "locked" message, no stack trace, and leaves the first one running.
func TestSecondInstanceIsLocked(t *testing.T) {
	t.Parallel()
	p, tok := firstStart(t)
	r := runCmdWithin(t, lockedTimeout, nil, serveArgs(p.data, freeAddrs(t))...)
	if r.code == 0 {
		t.Fatalf("second instance exited 0\nstderr:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "locked") {
		t.Fatalf("second instance stderr does not say the data dir is locked:\n%s", r.stderr)
	}
	noStackTrace(t, r.stderr)
	if _, printed := printedToken(r.stderr); printed {
		t.Fatal("second instance printed an operator token")
	}
	if p.exited() {
		t.Fatalf("first instance died\nstderr:\n%s", p.stderr.String())
	}
	requireAuth(t, p, tok)
	requireTokenFile(t, p.data, tok)
	p.stopClean(t)
}

// TestRestartKeepsConfigAndAudit: config written over HTTP survives SIGTERM and a restart, and the
// audit trail lists every create with its diff.
func TestRestartKeepsConfigAndAudit(t *testing.T) {
	t.Parallel()
	p, tok := firstStart(t)
	base := p.base()
	dom := create(t, base, "/admin/domain/", tok, `{"name":"acme.example","domain_prefix":"10001","allow_cross_domain_dialling":true}`)
	alias := create(t, base, fmt.Sprintf("/admin/domain/%d/alias/", dom), tok, `{"name":"pbx.acme.example"}`)
	cust := create(t, base, fmt.Sprintf("/admin/domain/%d/customer/", dom), tok, `{"name":"Main","client_prefix":"001"}`)
	accounts := map[string]string{"100": "first-secret-100", "101": "second-secret-101"}
	accIDs := map[string]int64{}
	for _, user := range []string{"100", "101"} {
		accIDs[user] = create(t, base, fmt.Sprintf("/admin/domain/%d/sip_account/", dom), tok,
			fmt.Sprintf(`{"customer_id":%d,"username":%q,"password":%q}`, cust, user, accounts[user]))
	}
	p.stopClean(t)
	if !hasLogMessage(p.stderr.String(), "stopping") {
		t.Fatal("no \"stopping\" log line before \"stopped cleanly\"")
	}

	p = startSwitch(t, p.data)
	base = p.base()
	checks := []struct {
		name  string
		path  string
		field string
		want  any
	}{
		{"domain name", fmt.Sprintf("/admin/domain/%d", dom), "name", "acme.example"},
		{"domain prefix", fmt.Sprintf("/admin/domain/%d", dom), "domain_prefix", "10001"},
		{"domain cross-domain dialling", fmt.Sprintf("/admin/domain/%d", dom), "allow_cross_domain_dialling", true},
		{"alias", fmt.Sprintf("/admin/domain/%d/alias/%d", dom, alias), "name", "pbx.acme.example"},
		{"customer", fmt.Sprintf("/admin/domain/%d/customer/%d", dom, cust), "client_prefix", "001"},
		{"account 100", fmt.Sprintf("/admin/domain/%d/sip_account/%d", dom, accIDs["100"]), "username", "100"},
		{"account 101", fmt.Sprintf("/admin/domain/%d/sip_account/%d", dom, accIDs["101"]), "username", "101"},
		{"account 101 customer", fmt.Sprintf("/admin/domain/%d/sip_account/%d", dom, accIDs["101"]), "customer_id", float64(cust)},
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			got := getObj(t, base, tc.path, tok)
			if got[tc.field] != tc.want {
				t.Fatalf("%s = %v, want %v", tc.field, got[tc.field], tc.want)
			}
			if _, ok := got["password"]; ok {
				t.Fatal("the API returned a password")
			}
		})
	}
	var list []map[string]any
	must(t, base, http.MethodGet, fmt.Sprintf("/admin/domain/%d/sip_account/", dom), tok, "", http.StatusOK).decode(t, &list)
	if len(list) != 2 {
		t.Fatalf("%d SIP accounts after restart, want 2", len(list))
	}

	audit := must(t, base, http.MethodGet, fmt.Sprintf("/admin/audit?domain_id=%d", dom), tok, "", http.StatusOK)
	for _, secret := range accounts {
		if strings.Contains(string(audit.body), secret) {
			t.Fatal("the audit trail contains a SIP password")
		}
	}
	var entries []struct {
		Who      string                     `json:"who"`
		Kind     string                     `json:"kind"`
		RecordID int64                      `json:"record_id"`
		Action   string                     `json:"action"`
		Diff     map[string]json.RawMessage `json:"diff"`
	}
	audit.decode(t, &entries)
	wantCreates := []struct {
		kind, field, value string
		id                 int64
	}{
		{"domain", "name", `"acme.example"`, dom},
		{"domain_alias", "name", `"pbx.acme.example"`, alias},
		{"customer", "client_prefix", `"001"`, cust},
		{"sip_account", "username", `"100"`, accIDs["100"]},
		{"sip_account", "username", `"101"`, accIDs["101"]},
	}
	for _, w := range wantCreates {
		t.Run("audit "+w.kind+" "+w.value, func(t *testing.T) {
			for _, e := range entries {
				if e.Kind != w.kind || e.RecordID != w.id || e.Action != "create" {
					continue
				}
				if e.Who != "operator" {
					t.Errorf("who = %q, want operator", e.Who)
				}
				var ch struct {
					Old json.RawMessage `json:"old"`
					New json.RawMessage `json:"new"`
				}
				if err := json.Unmarshal(e.Diff[w.field], &ch); err != nil {
					t.Fatalf("diff[%s] = %s: %v", w.field, e.Diff[w.field], err)
				}
				if string(ch.New) != w.value || string(ch.Old) != "null" {
					t.Fatalf("diff[%s] = old %s new %s, want old null new %s", w.field, ch.Old, ch.New, w.value)
				}
				return
			}
			t.Fatalf("no audit create entry for %s %d in %s", w.kind, w.id, audit.body)
		})
	}
	p.stopClean(t)
}

// TestBadRequestsThroughTheBinary: a few malformed requests get a clear problem+json 4xx and
// change nothing.
func TestBadRequestsThroughTheBinary(t *testing.T) {
	t.Parallel()
	p, tok := firstStart(t)
	base := p.base()
	create(t, base, "/admin/domain/", tok, `{"name":"dup.example","domain_prefix":"10002"}`)
	tests := []struct {
		name   string
		method string
		path   string
		token  string
		body   string
		status int
		code   string
		field  string
	}{
		{"malformed JSON", http.MethodPost, "/admin/domain/", tok, `{"name":`, http.StatusBadRequest, "malformed_json", ""},
		{"bad domain_prefix", http.MethodPost, "/admin/domain/", tok, `{"name":"bad.example","domain_prefix":"12a"}`,
			http.StatusUnprocessableEntity, "validation_failed", "domain_prefix"},
		{"unknown field", http.MethodPost, "/admin/domain/", tok, `{"name":"odd.example","domain_prefix":"10003","colour":"red"}`,
			http.StatusUnprocessableEntity, "unknown_field", "colour"},
		{"duplicate name", http.MethodPost, "/admin/domain/", tok, `{"name":"dup.example","domain_prefix":"10004"}`,
			http.StatusConflict, "conflict", "name"},
		{"no token", http.MethodGet, "/admin/domain/", "", "", http.StatusUnauthorized, "unauthorized", "Authorization"},
		{"wrong token", http.MethodPost, "/admin/domain/", "wrong", `{"name":"x.example","domain_prefix":"10005"}`,
			http.StatusUnauthorized, "unauthorized", "Authorization"},
		{"unknown domain", http.MethodGet, "/admin/domain/999", tok, "", http.StatusNotFound, "not_found", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := must(t, base, tc.method, tc.path, tc.token, tc.body, tc.status)
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q, want application/problem+json", ct)
			}
			var pr struct {
				Type, Title, Detail, Error, Field string
				Status                            int
			}
			r.decode(t, &pr)
			if pr.Status != tc.status || pr.Type == "" || pr.Title == "" || pr.Detail == "" {
				t.Fatalf("incomplete problem document: %s", r.body)
			}
			if pr.Error != tc.code || pr.Field != tc.field {
				t.Fatalf("error %q field %q, want %q %q: %s", pr.Error, pr.Field, tc.code, tc.field, r.body)
			}
			if tc.status == http.StatusUnauthorized && r.header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
	var domains []struct {
		Name string `json:"name"`
	}
	must(t, base, http.MethodGet, "/admin/domain/", tok, "", http.StatusOK).decode(t, &domains)
	if len(domains) != 2 || domains[0].Name != "management" || domains[1].Name != "dup.example" {
		t.Fatalf("rejected requests changed the domains: %+v", domains)
	}
	if hasLogMessage(p.stderr.String(), "admin request failed") {
		t.Fatalf("a bad request was logged as a server failure\nstderr:\n%s", p.stderr.String())
	}
	p.stopClean(t)
}

// TestStopDuringConfigWrites sends SIGTERM while SIP accounts are being created: the switch must
// still stop cleanly (exit 0), and every create it acknowledged with 201 must be there after a
// restart. Several rounds, because the interleaving differs each time.
func TestStopDuringConfigWrites(t *testing.T) {
	t.Parallel()
	p, tok := firstStart(t)
	dom := create(t, p.base(), "/admin/domain/", tok, `{"name":"busy.example","domain_prefix":"10001"}`)
	cust := create(t, p.base(), fmt.Sprintf("/admin/domain/%d/customer/", dom), tok, `{"name":"Main","client_prefix":"001"}`)
	acked := map[string]bool{}
	next := 100
	for round := 1; round <= 6; round++ {
		created := make(chan string)
		go func(base string, first int) {
			defer close(created)
			client := &http.Client{Timeout: 5 * time.Second}
			for n := first; ; n++ {
				body := fmt.Sprintf(`{"customer_id":%d,"username":"%d","password":"busy-secret-%d"}`, cust, n, n)
				req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/admin/domain/%d/sip_account/", base, dom), strings.NewReader(body))
				if err != nil {
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := client.Do(req)
				if err != nil {
					return // the switch is going away
				}
				_ = res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					return
				}
				created <- strconv.Itoa(n)
			}
		}(p.base(), next)
		for range 5 {
			acked[<-created] = true
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("send SIGTERM: %v", err)
		}
		for user := range created {
			acked[user] = true
		}
		p.stopClean(t)
		next += 1000
		p = startSwitch(t, p.data)
		var list []struct {
			Username string `json:"username"`
		}
		must(t, p.base(), http.MethodGet, fmt.Sprintf("/admin/domain/%d/sip_account/", dom), tok, "", http.StatusOK).decode(t, &list)
		have := map[string]bool{}
		for _, a := range list {
			have[a.Username] = true
		}
		for user := range acked {
			if !have[user] {
				t.Fatalf("round %d: account %s was acknowledged with 201 but is gone after the restart", round, user)
			}
		}
	}
	p.stopClean(t)
}
