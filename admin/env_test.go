package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/persistence"
)

// fakeLive records ConfigChanged calls and serves canned live views.
type fakeLive struct {
	mu      sync.Mutex
	changes []ConfigChange
}

func (f *fakeLive) ConfigChanged(c ConfigChange) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, c)
}

func (f *fakeLive) DomainLive(_ context.Context, domainID int64) (any, error) {
	return map[string]any{"domain_id": domainID, "status": "active", "active_calls": 3}, nil
}

func (f *fakeLive) all() []ConfigChange {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ConfigChange(nil), f.changes...)
}

// env is one admin server over a real temp Badger store.
type env struct {
	t       *testing.T
	store   *persistence.Store
	srv     *Server
	live    *fakeLive
	base    string
	opToken string
	logBuf  *syncBuffer
}

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

func newEnv(t *testing.T, mods ...func(*Options)) *env {
	t.Helper()
	store, err := persistence.Open(persistence.Options{Dir: t.TempDir(), Small: true, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	tok, err := GenerateToken()
	if err != nil {
		t.Fatalf("generate token: %v", err)
	}
	buf := &syncBuffer{}
	live := &fakeLive{}
	opts := Options{Addr: "127.0.0.1:0", Store: store, Live: live, OperatorTokenHash: HashToken(tok),
		Logger: zerolog.New(buf)}
	for _, m := range mods {
		m(&opts)
	}
	system := newSystem(t)
	srv, err := Start(system, opts)
	if err != nil {
		t.Fatalf("start admin: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stop admin: %v", err)
		}
	})
	return &env{t: t, store: store, srv: srv, live: live, base: "http://" + srv.Addr(), opToken: tok, logBuf: buf}
}

// with returns a copy of e whose helpers fail t (for subtests).
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// newSystem returns an actor system shut down at the end of the test.
func newSystem(t *testing.T) *actor.ActorSystem {
	t.Helper()
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}))
	t.Cleanup(system.Shutdown)
	return system
}

// resp is one HTTP answer.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

func (r resp) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.json(t, &m)
	return m
}

// do sends a request; a non-empty body is sent as application/json
// unless a Content-Type header is given in hdr ("Name: value").
func (e *env) do(method, path, token, body string, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// op sends as the operator and requires want.
func (e *env) op(method, path, body string, want int) resp {
	e.t.Helper()
	r := e.do(method, path, e.opToken, body)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	return r
}

// create POSTs as the operator and returns the new id.
func (e *env) create(path, body string) int64 {
	e.t.Helper()
	var out struct {
		ID int64 `json:"id"`
	}
	e.op(http.MethodPost, path, body, http.StatusCreated).json(e.t, &out)
	if out.ID <= 0 {
		e.t.Fatalf("POST %s: no id", path)
	}
	return out.ID
}

// domain creates a domain named name with a prefix derived from n.
func (e *env) domain(name string, n int) int64 {
	e.t.Helper()
	return e.create("/admin/domain/", fmt.Sprintf(`{"name":%q,"domain_prefix":"%05d"}`, name, n))
}

// token creates a scoped token and returns its plaintext.
func (e *env) token(role string, domainID, customerID int64) string {
	e.t.Helper()
	body := fmt.Sprintf(`{"name":"t-%s-%d-%d","role":%q,"domain_id":%d,"customer_id":%d}`, role, domainID, customerID, role, domainID, customerID)
	var out struct {
		Token string `json:"token"`
	}
	e.op(http.MethodPost, "/admin/token/", body, http.StatusCreated).json(e.t, &out)
	if out.Token == "" {
		e.t.Fatal("token create returned no plaintext")
	}
	return out.Token
}

// snapshot is every config record of every kind plus the audit log, as
// JSON: equal snapshots mean nothing changed.
func (e *env) snapshot() string {
	e.t.Helper()
	var sb strings.Builder
	add := func(name string, v any, err error) {
		if err != nil {
			e.t.Fatalf("snapshot %s: %v", name, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			e.t.Fatalf("snapshot %s: %v", name, err)
		}
		sb.WriteString(name + "=" + string(b) + "\n")
	}
	d, err := persistence.List[*persistence.Domain](e.store, 0)
	add("domain", d, err)
	a, err := persistence.List[*persistence.DomainAlias](e.store, 0)
	add("alias", a, err)
	fs, err := persistence.List[*persistence.ForceSource](e.store, 0)
	add("force_src", fs, err)
	fd, err := persistence.List[*persistence.ForceDestination](e.store, 0)
	add("force_dst", fd, err)
	c, err := persistence.List[*persistence.Customer](e.store, 0)
	add("customer", c, err)
	sa, err := persistence.List[*persistence.SIPAccount](e.store, 0)
	add("sip_account", sa, err)
	n, err := persistence.List[*persistence.Number](e.store, 0)
	add("number", n, err)
	it, err := persistence.List[*persistence.IncomingTrunk](e.store, 0)
	add("incoming_trunk", it, err)
	g, err := persistence.List[*persistence.TerminationGateway](e.store, 0)
	add("gateway", g, err)
	rt, err := persistence.List[*persistence.TerminationRoute](e.store, 0)
	add("route", rt, err)
	u, err := persistence.List[*persistence.ESLUser](e.store, 0)
	add("esl_user", u, err)
	tk, err := persistence.List[*persistence.APIToken](e.store, 0)
	add("token", tk, err)
	au, err := e.store.ListAudit(0, time.Unix(0, 0), farFuture, 100000)
	add("audit", au, err)
	return sb.String()
}

// wantProblem checks a problem+json answer.
func wantProblem(t *testing.T, r resp, status int, code, field string) Problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p Problem
	r.json(t, &p)
	if p.Status != status || p.Type == "" || p.Title == "" || p.Detail == "" {
		t.Fatalf("incomplete problem: %+v", p)
	}
	if code != "" && p.Error != code {
		t.Fatalf("error %q, want %q (%+v)", p.Error, code, p)
	}
	if field != "" && p.Field != field {
		t.Fatalf("field %q, want %q (%+v)", p.Field, field, p)
	}
	return p
}
