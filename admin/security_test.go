package admin

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

type fakeSecurity struct {
	mu   sync.Mutex
	bans map[string]Ban
}

func (f *fakeSecurity) Bans() []Ban {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Ban
	for _, b := range f.bans {
		out = append(out, b)
	}
	return out
}

func (f *fakeSecurity) LiftBan(ip string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.bans[ip]
	delete(f.bans, ip)
	return ok
}

func (f *fakeSecurity) Stats() any { return map[string]int{"dropped_banned": 7} }

func TestSecurityRoutes(t *testing.T) {
	sec := &fakeSecurity{bans: map[string]Ban{"127.0.0.2": {IP: "127.0.0.2", Until: time.Now().Add(time.Minute), Reason: "InvalidPassword"}}}
	e := newEnv(t, func(o *Options) { o.Security = sec })
	var bans []Ban
	e.op(http.MethodGet, "/admin/security/bans/", "", http.StatusOK).json(t, &bans)
	if len(bans) != 1 || bans[0].IP != "127.0.0.2" {
		t.Fatalf("bans: %+v", bans)
	}
	var stats map[string]int
	e.op(http.MethodGet, "/admin/security", "", http.StatusOK).json(t, &stats)
	if stats["dropped_banned"] != 7 {
		t.Fatalf("stats: %v", stats)
	}
	e.op(http.MethodDelete, "/admin/security/bans/not-an-ip", "", http.StatusBadRequest)
	e.op(http.MethodDelete, "/admin/security/bans/127.0.0.2", "", http.StatusNoContent)
	e.op(http.MethodDelete, "/admin/security/bans/127.0.0.2", "", http.StatusNotFound)
	audit := e.op(http.MethodGet, "/admin/audit", "", http.StatusOK)
	var entries []map[string]any
	audit.json(t, &entries)
	found := false
	for _, a := range entries {
		if a["action"] == "lift_ban" && a["who"] == "operator" {
			found = true
		}
	}
	if !found {
		t.Fatalf("lifting a ban is not audited: %s", audit.body)
	}
	// Tenant tokens never reach security.
	domain := e.create("/admin/domain/", `{"name":"acme.example","domain_prefix":"10001"}`)
	var tok map[string]any
	e.op(http.MethodPost, "/admin/token/", `{"name":"acme-admin","role":"domain_admin","domain_id":`+strconv.FormatInt(domain, 10)+`}`, http.StatusCreated).json(t, &tok)
	if r := e.do(http.MethodGet, "/admin/security/bans/", tok["token"].(string), ""); r.status != http.StatusForbidden {
		t.Fatalf("domain admin on bans: %d", r.status)
	}
}
