package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeAdmin is a minimal admin API: it records requests and answers from a script.
type fakeAdmin struct {
	mu        sync.Mutex
	calls     []string
	conflicts int // domain creations answered 409 first
	failPath  string
	nextID    int64
}

func (f *fakeAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if r.Header.Get("Authorization") != "Bearer tok" {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"title":"Unauthorized","detail":"bad token"}`))
		return
	}
	if f.failPath != "" && strings.HasPrefix(r.URL.Path, f.failPath) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"title":"Unprocessable","detail":"must be at least 8 characters","field":"password"}`))
		return
	}
	if r.Method == http.MethodPost && r.URL.Path == "/admin/domain/" && f.conflicts > 0 {
		f.conflicts--
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write([]byte(`{"title":"Conflict","detail":"domain_prefix taken","field":"domain_prefix"}`))
		return
	}
	switch r.Method {
	case http.MethodPost:
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.nextID++
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": f.nextID})
	case http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func startFakeAdmin(t *testing.T, f *fakeAdmin) string {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestProvision(t *testing.T) {
	tests := []struct {
		name      string
		token     string
		conflicts int
		failPath  string
		wantErr   string
		wantDoms  int
	}{
		{name: "two domains of three accounts", token: "tok", wantDoms: 2},
		{name: "domain prefix conflict is retried", token: "tok", conflicts: 3, wantDoms: 2},
		{name: "bad token", token: "wrong", wantErr: "HTTP 401: bad token"},
		{name: "account refused", token: "tok", failPath: "/admin/domain/1/sip_account", wantErr: "password: must be at least 8", wantDoms: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeAdmin{conflicts: tc.conflicts, failPath: tc.failPath}
			a := newAdminClient(startFakeAdmin(t, f)+"/", tc.token)
			ts, err := a.provision(context.Background(), "test", 2, 3)
			if len(ts) != tc.wantDoms {
				t.Fatalf("%d domains returned, want %d (they must be returned for cleanup even on error)", len(ts), tc.wantDoms)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, tn := range ts {
				if len(tn.Accounts) != 3 {
					t.Fatalf("domain %s has %d accounts", tn.Name, len(tn.Accounts))
				}
				for _, acc := range tn.Accounts {
					if acc.Identity != "1*"+acc.User || acc.Domain != tn.Name || len(acc.Password) < 8 {
						t.Fatalf("account %+v", acc)
					}
				}
			}
			if err := a.deprovision(context.Background(), ts); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if last := f.calls[len(f.calls)-1]; !strings.HasPrefix(last, "DELETE /admin/domain/") {
				t.Fatalf("last call %q, want a domain DELETE", last)
			}
		})
	}
}

func TestDeprovisionReportsFailures(t *testing.T) {
	f := &fakeAdmin{failPath: "/admin/domain/"}
	a := newAdminClient(startFakeAdmin(t, f), "tok")
	err := a.deprovision(context.Background(), []tenant{{ID: 7, Name: "x.test"}})
	if err == nil || !strings.Contains(err.Error(), `delete domain "x.test"`) {
		t.Fatalf("error %v", err)
	}
}

func TestAdminUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	a := newAdminClient(url, "tok")
	if _, err := a.provision(context.Background(), "x", 1, 2); err == nil || !strings.Contains(err.Error(), "provision domain") {
		t.Fatalf("error %v", err)
	}
}
