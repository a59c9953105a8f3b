package admin

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestHashAndGenerateToken(t *testing.T) {
	a, err := GenerateToken()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateToken()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != 32 {
		t.Fatalf("token %q is not 32 base64url bytes (%v)", a, err)
	}
	if a == b {
		t.Fatal("two tokens are equal")
	}
	tests := []struct{ name, in, want string }{
		{"empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := HashToken(tc.in); got != tc.want {
				t.Fatalf("HashToken(%q) = %s", tc.in, got)
			}
		})
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		opts Options
	}{
		{"nil store", Options{Addr: "127.0.0.1:0"}},
		{"bad hash", Options{Addr: "127.0.0.1:0", Store: e.store, OperatorTokenHash: "xyz"}},
		{"short hash", Options{Addr: "127.0.0.1:0", Store: e.store, OperatorTokenHash: "abcd"}},
		{"bad addr", Options{Addr: "256.0.0.1:x", Store: e.store}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Start(nil, tc.opts); err == nil {
				t.Fatal("nil system accepted")
			}
			sys := newSystem(t)
			if _, err := Start(sys, tc.opts); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestUnauthorized(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ name, header string }{
		{"missing", ""},
		{"wrong token", "Bearer nope-nope-nope"},
		{"wrong scheme", "Basic " + e.opToken},
		{"empty bearer", "Bearer "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			var hdr []string
			if tc.header != "" {
				hdr = append(hdr, "Authorization: "+tc.header)
			}
			r := e.do("GET", "/admin/domain/", "", "", hdr...)
			wantProblem(t, r, http.StatusUnauthorized, codeUnauthorized, "Authorization")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	t.Run("healthz needs no token", func(t *testing.T) {
		e := e.with(t)
		r := e.do("GET", "/healthz", "", "")
		if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"status":"ok"}` {
			t.Fatalf("healthz: %d %s", r.status, r.body)
		}
	})
	if strings.Contains(e.logBuf.String(), e.opToken) {
		t.Fatal("operator token in log")
	}
}

func TestFailedAuthRateLimit(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		want  int
	}{
		{"default 20", 0, DefaultFailedAuthPerMinute},
		{"configured 3", 3, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.FailedAuthPerMinute = tc.limit })
			for i := 0; i < tc.want; i++ {
				wantProblem(t, e.do("GET", "/admin/domain/", "bad-token", ""), http.StatusUnauthorized, codeUnauthorized, "")
			}
			// The budget is used up after `want` failures; the next failure
			// still answers 401, then everything from this IP gets 429.
			wantProblem(t, e.do("GET", "/admin/domain/", "bad-token", ""), http.StatusUnauthorized, codeUnauthorized, "")
			r := e.do("GET", "/admin/domain/", e.opToken, "")
			wantProblem(t, r, http.StatusTooManyRequests, codeTooMany, "")
			if r.header.Get("Retry-After") == "" {
				t.Fatal("no Retry-After")
			}
			if r := e.do("GET", "/healthz", "", ""); r.status != http.StatusOK {
				t.Fatalf("healthz while limited: %d", r.status)
			}
		})
	}
}

func TestFailLimiterWindow(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newFailLimiter(2)
	l.now = func() time.Time { return now }
	steps := []struct {
		name    string
		fail    bool
		advance time.Duration
		blocked bool
	}{
		{"fresh", false, 0, false},
		{"one failure", true, 0, false},
		{"two failures", true, 0, false},
		{"three failures", true, 0, true},
		{"still in window", false, 59 * time.Second, true},
		{"window over", false, time.Second, false},
		{"new window", true, 0, false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			now = now.Add(st.advance)
			if st.fail {
				l.fail("192.0.2.1")
			}
			if got, _ := l.blocked("192.0.2.1"); got != st.blocked {
				t.Fatalf("blocked = %v, want %v", got, st.blocked)
			}
			if got, _ := l.blocked("192.0.2.2"); got {
				t.Fatal("other IP blocked")
			}
		})
	}
	t.Run("disabled", func(t *testing.T) {
		d := newFailLimiter(-1)
		for i := 0; i < 100; i++ {
			d.fail("192.0.2.1")
		}
		if b, _ := d.blocked("192.0.2.1"); b {
			t.Fatal("disabled limiter blocked")
		}
	})
}

func TestTokenLifecycle(t *testing.T) {
	e := newEnv(t)
	fx := e.fixture("acme", 10001)
	r := e.op("POST", "/admin/token/", fmt.Sprintf(`{"name":"acme-admin","role":"domain_admin","domain_id":%d}`, fx.domainID), http.StatusCreated)
	created := r.obj(t)
	plain, _ := created["token"].(string)
	if plain == "" || created["role"] != "domain_admin" {
		t.Fatalf("create: %s", r.body)
	}
	id := int64(created["id"].(float64))

	t.Run("token works within its domain", func(t *testing.T) {
		e := e.with(t)
		if r := e.do("GET", fmt.Sprintf("/admin/domain/%d", fx.domainID), plain, ""); r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("list never shows secrets", func(t *testing.T) {
		e := e.with(t)
		r := e.op("GET", "/admin/token/", "", http.StatusOK)
		if strings.Contains(string(r.body), plain) || strings.Contains(string(r.body), HashToken(plain)) ||
			strings.Contains(string(r.body), `"token"`) || strings.Contains(string(r.body), `"hash"`) {
			t.Fatalf("token list leaks: %s", r.body)
		}
		var list []map[string]any
		r.json(t, &list)
		if !containsID(list, id) {
			t.Fatalf("token %d not listed", id)
		}
	})
	t.Run("bad token requests", func(t *testing.T) {
		e := e.with(t)
		before := e.snapshot()
		tests := []struct {
			name, body string
			status     int
			field      string
		}{
			{"bad role", `{"name":"x","role":"root"}`, 422, "role"},
			{"missing domain", `{"name":"x","role":"domain_admin"}`, 422, "domain_id"},
			{"unknown domain", `{"name":"x","role":"domain_admin","domain_id":999}`, 422, "domain_id"},
			{"customer of other domain", fmt.Sprintf(`{"name":"x","role":"customer","domain_id":%d,"customer_id":999}`, fx.domainID), 422, "customer_id"},
			{"plaintext chosen by client", `{"name":"x","role":"operator","token":"aaaaaaaaaaaaaaaaaaaa"}`, 422, "token"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				wantProblem(t, e.do("POST", "/admin/token/", e.opToken, tc.body), tc.status, "", tc.field)
			})
		}
		wantProblem(t, e.do("DELETE", "/admin/token/999", e.opToken, ""), http.StatusNotFound, codeNotFound, "")
		if e.snapshot() != before {
			t.Fatal("store changed")
		}
	})
	t.Run("revoked token is refused", func(t *testing.T) {
		e := e.with(t)
		e.op("DELETE", fmt.Sprintf("/admin/token/%d/", id), "", http.StatusNoContent)
		wantProblem(t, e.do("GET", fmt.Sprintf("/admin/domain/%d", fx.domainID), plain, ""), http.StatusUnauthorized, codeUnauthorized, "")
	})
	t.Run("plaintext never logged", func(t *testing.T) {
		if strings.Contains(e.logBuf.String(), plain) {
			t.Fatal("token plaintext in log")
		}
	})
}
