package isolation

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
	"github.com/switchyard/switchyard/admin"
	eslserver "github.com/switchyard/switchyard/esl/server"
	"github.com/switchyard/switchyard/persistence"
	"github.com/switchyard/switchyard/switch/edge"
)

// syncBuffer is a goroutine-safe log sink: every component's zerolog output lands here so the
// tests can grep it for secrets.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// liveAdapter connects the admin API to the node (as cmd/switchyard does).
type liveAdapter struct{ node *actors.Node }

func (l liveAdapter) ConfigChanged(admin.ConfigChange) { l.node.ConfigChanged() }
func (l liveAdapter) DomainLive(ctx context.Context, id int64) (any, error) {
	return l.node.DomainLive(ctx, id)
}

// stack is one running switch: SIP edge, ESL server and admin API over one store.
type stack struct {
	t       *testing.T
	logs    *syncBuffer
	store   *persistence.Store
	node    *actors.Node
	sip     *edge.Edge
	esl     *eslserver.Server
	admin   *admin.Server
	opToken string
	http    *http.Client
}

// stackOpts tune the parts the tests need to vary.
type stackOpts struct {
	eslBanThreshold  int
	eslMaxConnsPerIP int
}

// startStack starts everything on 127.0.0.1:0. Logs go at debug level into s.logs only (dumped
// on failure). Flood control is off and the SIP ban threshold is high, so the counts in these
// tests never trip the guard (its own tests live in switch/edge).
func startStack(t *testing.T, o stackOpts) *stack {
	t.Helper()
	logs := &syncBuffer{}
	log := zerolog.New(logs).Level(zerolog.DebugLevel).With().Timestamp().Logger()
	store, err := persistence.Open(persistence.Options{Dir: t.TempDir(), Small: true, Logger: log})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	if _, err := store.Bootstrap(); err != nil {
		t.Fatalf("bootstrap store: %v", err)
	}
	node, err := actors.New(actors.Options{Store: store, Bus: events.NewBus(events.BusConfig{}), Logger: log,
		NoAnswerTimeout: 20 * time.Second, Registrar: actors.RegistrarOptions{MinExpires: 10}})
	if err != nil {
		t.Fatalf("new node: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := node.Start(ctx); err != nil {
		t.Fatalf("start node: %v", err)
	}
	s := &stack{t: t, logs: logs, store: store, node: node, http: &http.Client{Timeout: 10 * time.Second}}
	t.Cleanup(func() {
		if t.Failed() {
			dumpTail(t, logs.String(), 60)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if s.sip != nil {
			_ = s.sip.Stop()
		}
		if s.esl != nil {
			_ = s.esl.Shutdown(ctx)
		}
		if s.admin != nil {
			_ = s.admin.Stop(ctx)
		}
		_ = node.Stop(ctx)
		_ = store.Close()
	})
	s.sip, err = edge.New(edge.Options{Node: node, Logger: log, UDP: "127.0.0.1:0", TCP: "127.0.0.1:0",
		Security: edge.SecurityOptions{BanFailures: 100000, BanWindow: time.Minute, BanTime: time.Minute}})
	if err != nil {
		t.Fatalf("new edge: %v", err)
	}
	if err := s.sip.Start(); err != nil {
		s.sip = nil
		t.Fatalf("start edge: %v", err)
	}
	s.esl, err = eslserver.New(eslserver.Options{Addr: "127.0.0.1:0", Logger: log, Switch: node, Heartbeat: -1,
		BanThreshold: o.eslBanThreshold, MaxConnsPerIP: o.eslMaxConnsPerIP})
	if err != nil {
		t.Fatalf("new esl: %v", err)
	}
	if err := s.esl.Start(); err != nil {
		s.esl = nil
		t.Fatalf("start esl: %v", err)
	}
	s.opToken, err = admin.GenerateToken()
	if err != nil {
		t.Fatal(err)
	}
	s.admin, err = admin.Start(node.System(), admin.Options{Addr: "127.0.0.1:0", Store: store, Live: liveAdapter{node},
		OperatorTokenHash: admin.HashToken(s.opToken), Logger: log, FailedAuthPerMinute: -1})
	if err != nil {
		t.Fatalf("start admin: %v", err)
	}
	return s
}

func dumpTail(t *testing.T, logs string, n int) {
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	t.Logf("last %d log lines:\n%s", len(lines), strings.Join(lines, "\n"))
}

func (s *stack) sipAddr() string { return s.sip.UDPAddr() }
func (s *stack) eslAddr() string { return s.esl.Addr().String() }

// apiResp is one admin API answer.
type apiResp struct {
	status int
	body   []byte
}

func (r apiResp) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// api calls the admin API with a bearer token (empty token: none).
func (s *stack) api(method, path, token, body string) apiResp {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+s.admin.Addr()+path, rd)
	if err != nil {
		s.t.Fatalf("new request: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.http.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatalf("read %s %s: %v", method, path, err)
	}
	return apiResp{status: res.StatusCode, body: b}
}

// create POSTs as the operator, expects 201 and returns the new id.
func (s *stack) create(path, body string) int64 {
	s.t.Helper()
	r := s.api(http.MethodPost, path, s.opToken, body)
	if r.status != http.StatusCreated {
		s.t.Fatalf("POST %s: %d %s", path, r.status, r.body)
	}
	var out struct {
		ID int64 `json:"id"`
	}
	r.decode(s.t, &out)
	return out.ID
}

// token creates a scoped API token and returns its plaintext.
func (s *stack) token(role string, domainID int64) string {
	s.t.Helper()
	r := s.api(http.MethodPost, "/admin/token/", s.opToken,
		fmt.Sprintf(`{"name":"t-%s-%d","role":%q,"domain_id":%d}`, role, domainID, role, domainID))
	if r.status != http.StatusCreated {
		s.t.Fatalf("create token: %d %s", r.status, r.body)
	}
	var out struct {
		Token string `json:"token"`
	}
	r.decode(s.t, &out)
	if out.Token == "" {
		s.t.Fatal("token create returned no plaintext")
	}
	return out.Token
}

// reload makes the node's snapshot reflect every committed admin write.
func (s *stack) reload() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.node.Reload(ctx); err != nil {
		s.t.Fatalf("reload: %v", err)
	}
}

// tenant is one provisioned domain: customer "001" and its accounts.
type tenant struct {
	id         int64
	name       string
	prefix     string
	customerID int64
	accounts   map[string]int64  // username → id
	passwords  map[string]string // username → password
	secrets    []string          // other write-only secrets (ESL user passwords)
}

// tenantSpec describes a domain to provision through the admin API.
type tenantSpec struct {
	name, prefix string
	cross        bool
	algorithms   []string
	users        []string
}

// provision creates a tenant through the admin API as the operator. Passwords are distinct per
// tenant, so one tenant's credentials never verify in another.
func (s *stack) provision(sp tenantSpec) *tenant {
	s.t.Helper()
	body := map[string]any{"name": sp.name, "domain_prefix": sp.prefix, "allow_cross_domain_dialling": sp.cross}
	if len(sp.algorithms) > 0 {
		body["digest_algorithms"] = sp.algorithms
	}
	b, _ := json.Marshal(body)
	tn := &tenant{name: sp.name, prefix: sp.prefix, accounts: map[string]int64{}, passwords: map[string]string{}}
	tn.id = s.create("/admin/domain/", string(b))
	tn.customerID = s.create(fmt.Sprintf("/admin/domain/%d/customer/", tn.id), `{"name":"Main","client_prefix":"001"}`)
	for _, u := range sp.users {
		pw := "pw-" + strings.Split(sp.name, ".")[0] + "-" + u + "-secret"
		tn.passwords[u] = pw
		tn.accounts[u] = s.create(fmt.Sprintf("/admin/domain/%d/sip_account/", tn.id),
			fmt.Sprintf(`{"customer_id":%d,"username":%q,"password":%q}`, tn.customerID, u, pw))
	}
	s.reload()
	return tn
}

// identity is the SIP identity of one of the tenant's extensions.
func identity(user string) string { return "001*" + user }
