package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/persistence"
)

func TestAuditAfterWrites(t *testing.T) {
	e := newEnv(t)
	d := e.domain("audited", 10001)
	other := e.domain("elsewhere", 10002)
	admin := e.token(RoleDomainAdmin, d, 0)
	alias := e.create(fmt.Sprintf("/admin/domain/%d/alias/", d), `{"name":"a.example.com"}`)
	if r := e.do("PUT", fmt.Sprintf("/admin/domain/%d/alias/%d", d, alias), admin, `{"comment":"via admin"}`); r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	e.op("DELETE", fmt.Sprintf("/admin/domain/%d/alias/%d", d, alias), "", http.StatusNoContent)

	var entries []persistence.AuditEntry
	e.op("GET", fmt.Sprintf("/admin/audit?domain_id=%d", d), "", http.StatusOK).json(t, &entries)
	byAction := map[string]persistence.AuditEntry{}
	for _, en := range entries {
		if en.DomainID != d {
			t.Errorf("entry of domain %d in domain %d listing", en.DomainID, d)
		}
		if en.Kind == persistence.KindDomainAlias && en.RecordID == alias {
			byAction[en.Action] = en
		}
	}
	tests := []struct {
		action, who, field string
		old, new           any
	}{
		{"create", "operator", "name", nil, "a.example.com"},
		{"update", "", "comment", nil, "via admin"},
		{"delete", "operator", "name", "a.example.com", nil},
	}
	for _, tc := range tests {
		t.Run(tc.action, func(t *testing.T) {
			en, ok := byAction[tc.action]
			if !ok {
				t.Fatalf("no %s entry in %+v", tc.action, entries)
			}
			if tc.who != "" && en.Who != tc.who {
				t.Errorf("who %q, want %q", en.Who, tc.who)
			}
			if tc.who == "" && !strings.HasPrefix(en.Who, "token:") {
				t.Errorf("who %q, want the token identity", en.Who)
			}
			var diff map[string]struct {
				Old any `json:"old"`
				New any `json:"new"`
			}
			if err := json.Unmarshal(en.Diff, &diff); err != nil {
				t.Fatalf("diff %s: %v", en.Diff, err)
			}
			c, ok := diff[tc.field]
			if !ok || c.Old != tc.old || c.New != tc.new {
				t.Errorf("diff[%s] = %+v, want %v -> %v (diff %s)", tc.field, c, tc.old, tc.new, en.Diff)
			}
		})
	}
	t.Run("domain admin sees only its domain", func(t *testing.T) {
		e := e.with(t)
		var mine []persistence.AuditEntry
		e.do("GET", "/admin/audit", admin, "").json(t, &mine)
		if len(mine) == 0 {
			t.Fatal("no entries")
		}
		for _, en := range mine {
			if en.DomainID != d {
				t.Fatalf("domain admin sees domain %d", en.DomainID)
			}
		}
		wantProblem(t, e.do("GET", fmt.Sprintf("/admin/audit?domain_id=%d", other), admin, ""), http.StatusForbidden, codeForbidden, "domain_id")
	})
	t.Run("operator sees all", func(t *testing.T) {
		e := e.with(t)
		var all []persistence.AuditEntry
		e.op("GET", "/admin/audit", "", http.StatusOK).json(t, &all)
		seen := map[int64]bool{}
		for _, en := range all {
			seen[en.DomainID] = true
		}
		if !seen[d] || !seen[other] {
			t.Fatalf("operator audit covers %v", seen)
		}
	})
	t.Run("time window and params", func(t *testing.T) {
		e := e.with(t)
		future := url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
		r := e.op("GET", "/admin/audit?from="+future, "", http.StatusOK)
		if strings.TrimSpace(string(r.body)) != "[]" {
			t.Fatalf("future window: %s", r.body)
		}
		for _, q := range []string{"from=yesterday", "to=1", "domain_id=x", "limit=0", "limit=100000"} {
			wantProblem(t, e.do("GET", "/admin/audit?"+q, e.opToken, ""), http.StatusBadRequest, codeBadParam, "")
		}
	})
}

func TestCDRPaging(t *testing.T) {
	e := newEnv(t)
	d := e.domain("calls", 10001)
	other := e.domain("quiet", 10002)
	start := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	var batch []persistence.CDR
	for i := 0; i < 5; i++ {
		s := start.Add(time.Duration(i) * time.Minute)
		batch = append(batch, persistence.CDR{UUID: fmt.Sprintf("call-%d", i), DomainID: d, Domain: "calls", Caller: "100",
			Callee: "101", Direction: "internal", Start: s, End: s.Add(30 * time.Second), HangupCause: "NORMAL_CLEARING",
			SIPCode: 200, DisconnectedBy: "caller"})
	}
	if err := e.store.AppendCDRs(batch); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("/admin/domain/%d/cdr", d)
	var got []string
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		q := url.Values{"limit": {"2"}, "from": {start.Format(time.RFC3339)}, "to": {start.Add(time.Hour).Format(time.RFC3339)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Items []persistence.CDR `json:"items"`
			Next  string            `json:"next"`
		}
		e.op("GET", base+"?"+q.Encode(), "", http.StatusOK).json(t, &page)
		for _, c := range page.Items {
			got = append(got, c.UUID)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if strings.Join(got, ",") != "call-0,call-1,call-2,call-3,call-4" {
		t.Fatalf("paged CDRs %v", got)
	}
	t.Run("empty domain gives empty items", func(t *testing.T) {
		e := e.with(t)
		r := e.op("GET", fmt.Sprintf("/admin/domain/%d/cdr", other), "", http.StatusOK)
		if !strings.Contains(string(r.body), `"items":[]`) {
			t.Fatalf("got %s", r.body)
		}
	})
	bad := []struct{ name, query, field string }{
		{"bad from", "from=today", "from"},
		{"bad to", "to=2026-13-01T00:00:00Z", "to"},
		{"to before from", "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to"},
		{"bad cursor", "cursor=%21%21", "cursor"},
		{"bad limit", "limit=-1", "limit"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			wantProblem(t, e.do("GET", base+"?"+tc.query, e.opToken, ""), http.StatusBadRequest, codeBadParam, tc.field)
		})
	}
	t.Run("unknown domain", func(t *testing.T) {
		e := e.with(t)
		wantProblem(t, e.do("GET", "/admin/domain/999/cdr", e.opToken, ""), http.StatusNotFound, codeNotFound, "")
	})
}

func TestSIPAccountBindingsAndSecrets(t *testing.T) {
	e := newEnv(t)
	fx := e.fixture("acme", 10001)
	const pw = "Sup3rSecretPw"
	dom := fmt.Sprintf("/admin/domain/%d", fx.domainID)
	r := e.op("POST", dom+"/sip_account/", fmt.Sprintf(`{"customer_id":%d,"username":"100","password":%q}`, fx.customerID, pw), http.StatusCreated)
	acc := int64(r.obj(t)["id"].(float64))
	now := time.Now()
	bindings := []persistence.Binding{
		{DomainID: fx.domainID, AccountID: acc, AOR: "sip:001*100@acme", Contact: "sip:100@192.0.2.5:5062", ContactHash: "h1",
			ExpiresAt: now.Add(time.Hour), Source: "192.0.2.5:5062", Transport: "UDP", UserAgent: "Phone/1.0", CallID: "c1", CSeq: 1, ReceivedAt: now},
		{DomainID: fx.domainID, AccountID: acc, AOR: "sip:001*100@acme", Contact: "sip:100@192.0.2.6:5060", ContactHash: "h2",
			ExpiresAt: now.Add(time.Minute), Source: "192.0.2.6:5060", Transport: "TCP", UserAgent: "Old/0.1", CallID: "c2", CSeq: 1, ReceivedAt: now.Add(-time.Hour)},
	}
	for _, b := range bindings {
		if err := e.store.PutBinding(b); err != nil {
			t.Fatal(err)
		}
	}
	// Half an hour later the second binding has expired.
	e.srv.now = func() time.Time { return now.Add(30 * time.Minute) }
	var got struct {
		IsOnline  bool   `json:"is_online"`
		UserAgent string `json:"user_agent"`
		Contacts  []struct {
			Contact   string    `json:"contact"`
			Source    string    `json:"source"`
			Transport string    `json:"transport"`
			ExpiresAt time.Time `json:"expires_at"`
			UserAgent string    `json:"user_agent"`
		} `json:"contacts"`
	}
	e.op("GET", fmt.Sprintf("%s/sip_account/%d", dom, acc), "", http.StatusOK).json(t, &got)
	if !got.IsOnline || got.UserAgent != "Phone/1.0" || len(got.Contacts) != 1 ||
		got.Contacts[0].Contact != "sip:100@192.0.2.5:5062" || got.Contacts[0].Source != "192.0.2.5:5062" ||
		got.Contacts[0].Transport != "UDP" || got.Contacts[0].UserAgent != "Phone/1.0" || got.Contacts[0].ExpiresAt.IsZero() {
		t.Fatalf("live fields: %+v", got)
	}

	// Every response and log line is free of every secret.
	gwPw, trunkPw, eslPw := "gwsecret99", "Trunk-Secret-77", "Esl-Secret-55"
	e.create(dom+"/incoming_trunk/", fmt.Sprintf(`{"customer_id":%d,"name":"t","auth_username":"carrier","auth_password":%q}`, fx.customerID, trunkPw))
	e.create(dom+"/esl_user/", fmt.Sprintf(`{"username":"noc","password":%q}`, eslPw))
	secret, err := e.store.GetSIPSecret(acc)
	if err != nil {
		t.Fatal(err)
	}
	var records []string
	for _, p := range []string{"/admin/domain/", dom, dom + "/sip_account/", fmt.Sprintf("%s/sip_account/%d", dom, acc),
		dom + "/termination_gateway/", dom + "/incoming_trunk/", dom + "/esl_user/", "/admin/token/"} {
		records = append(records, string(e.op("GET", p, "", http.StatusOK).body))
	}
	records = append(records, string(e.op("PUT", fmt.Sprintf("%s/sip_account/%d", dom, acc), `{"password":"An0therSecret"}`, http.StatusOK).body))
	audit := string(e.op("GET", "/admin/audit", "", http.StatusOK).body)
	all := strings.Join(append(records, audit, e.logBuf.String()), "\n")
	for _, s := range []string{pw, "An0therSecret", gwPw, trunkPw, eslPw, secret.HA1MD5, secret.HA1SHA256} {
		if s == "" {
			t.Fatal("empty secret")
		}
		if strings.Contains(all, s) {
			t.Errorf("secret %q appears in a response or log", s)
		}
	}
	// Records never even carry the write-only members.
	for _, k := range []string{`"password"`, `"auth_password"`, `"token"`} {
		if strings.Contains(strings.Join(records, "\n"), k) {
			t.Errorf("member %s appears in a record response", k)
		}
	}
}

func TestDomainLive(t *testing.T) {
	e := newEnv(t)
	d := e.domain("live", 10001)
	var got map[string]any
	e.op("GET", fmt.Sprintf("/admin/domain/%d/live", d), "", http.StatusOK).json(t, &got)
	if got["status"] != "active" || got["domain_id"].(float64) != float64(d) {
		t.Fatalf("live = %v", got)
	}
	wantProblem(t, e.do("GET", "/admin/domain/999/live", e.opToken, ""), http.StatusNotFound, codeNotFound, "")

	t.Run("no live switch", func(t *testing.T) {
		e2 := newEnv(t, func(o *Options) { o.Live = nil })
		d2 := e2.domain("live", 10001)
		wantProblem(t, e2.do("GET", fmt.Sprintf("/admin/domain/%d/live", d2), e2.opToken, ""), http.StatusServiceUnavailable, codeUnavailable, "")
		// Writes still work without a live switch.
		e2.create(fmt.Sprintf("/admin/domain/%d/alias/", d2), `{"name":"x.example"}`)
	})
}

func TestOpenAPIListsEveryRoute(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	e.op("GET", "/admin/openapi.json", "", http.StatusOK).json(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	keys := e.srv.routeKeys()
	if len(keys) < 60 {
		t.Fatalf("only %d routes registered", len(keys))
	}
	for _, k := range keys {
		method, path, _ := strings.Cut(k, " ")
		t.Run(k, func(t *testing.T) {
			op, ok := doc.Paths[path][strings.ToLower(method)]
			if !ok {
				t.Fatalf("route %s missing from the document", k)
			}
			if op["summary"] == "" || op["responses"] == nil {
				t.Fatalf("incomplete operation %v", op)
			}
		})
	}
	for _, name := range []string{"Domain", "DomainAlias", "ForceSource", "ForceDestination", "Customer", "SIPAccount",
		"SIPAccountResponse", "Number", "IncomingTrunk", "TerminationGateway", "TerminationRoute", "ESLUser", "APIToken",
		"CDR", "AuditEntry", "Problem"} {
		t.Run("schema "+name, func(t *testing.T) {
			s, ok := doc.Components.Schemas[name]
			if !ok {
				t.Fatalf("no schema %s", name)
			}
			if _, ok := s["properties"].(map[string]any)["id"]; !ok && name != "CDR" && name != "Problem" {
				t.Fatalf("schema %s has no id", name)
			}
		})
	}
	t.Run("password is write-only", func(t *testing.T) {
		pw := doc.Components.Schemas["SIPAccount"]["properties"].(map[string]any)["password"].(map[string]any)
		if pw["writeOnly"] != true {
			t.Fatalf("password schema %v", pw)
		}
	})
	t.Run("every served path is documented", func(t *testing.T) {
		e := e.with(t)
		// A path outside the document is not served (404 rather than 405).
		wantProblem(t, e.do("GET", "/admin/undocumented", e.opToken, ""), http.StatusNotFound, codeNotFound, "")
	})
}

func TestServerHardening(t *testing.T) {
	e := newEnv(t)
	hs := e.srv.httpSrv
	if hs.ReadHeaderTimeout == 0 || hs.ReadTimeout == 0 || hs.WriteTimeout == 0 || hs.IdleTimeout == 0 || hs.MaxHeaderBytes == 0 {
		t.Fatalf("timeouts not set: %+v", hs)
	}
	r := e.do("OPTIONS", "/admin/domain/", e.opToken, "", "Origin: http://evil.example", "Access-Control-Request-Method: POST")
	if r.status != http.StatusMethodNotAllowed {
		t.Fatalf("OPTIONS: %d", r.status)
	}
	for k := range r.header {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Fatalf("CORS header %s", k)
		}
	}
	if e.srv.Handler() == nil || !strings.HasPrefix(e.srv.Addr(), "127.0.0.1:") {
		t.Fatalf("addr %s", e.srv.Addr())
	}
}

func TestConcurrentWritesAreSerialised(t *testing.T) {
	e := newEnv(t)
	d := e.domain("busy", 10001)
	const n = 20
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			body := fmt.Sprintf(`{"name":"c%d","client_prefix":"%03d"}`, i, i%10)
			req, err := http.NewRequest("POST", fmt.Sprintf("%s/admin/domain/%d/customer/", e.base, d), strings.NewReader(body))
			if err != nil {
				errs <- err.Error()
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+e.opToken)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			_ = res.Body.Close()
			errs <- fmt.Sprint(res.StatusCode)
		}(i)
	}
	counts := map[string]int{}
	for i := 0; i < n; i++ {
		counts[<-errs]++
	}
	// client_prefix repeats every 10: exactly 10 creates win, 10 conflict.
	if counts["201"] != 10 || counts["409"] != 10 {
		t.Fatalf("statuses %v", counts)
	}
}

func TestDomainSeedRules(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, body string
	}{
		{"underscore and capitals", `{"name":"ACME_Ltd","domain_prefix":"50001"}`},
		{"short lowercase", `{"name":"acme","domain_prefix":"50002"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			got := e.op("POST", "/admin/domain/", tc.body, http.StatusCreated).obj(t)
			c, present := got["comment"]
			if !present || c != nil {
				t.Fatalf("comment = %v (present %v), want null", c, present)
			}
			if got["status"] != "active" || got["id"] == nil {
				t.Fatalf("defaults missing: %v", got)
			}
		})
	}
	t.Run("full fixture round trip", func(t *testing.T) {
		e := e.with(t)
		full, err := os.ReadFile("testdata/domain_full.json")
		if err != nil {
			t.Fatal(err)
		}
		got := e.op("POST", "/admin/domain/", string(full), http.StatusCreated).obj(t)
		lim := got["limitations"].(map[string]any)
		if lim["max_ring_groups"] != "disabled" || lim["max_users"].(float64) != 50 || got["domain_suffix"] != "res01" {
			t.Fatalf("fixture not stored as sent: %v", got)
		}
	})
}
