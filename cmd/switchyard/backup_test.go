package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackupRestoreRoundTrip: `switchyard backup FILE` of a stopped switch, then `switchyard
// restore FILE` into a new directory, gives a switch that serves the same config. Backup refuses a
// running switch's data dir, and restore refuses a directory that already holds a store.
func TestBackupRestoreRoundTrip(t *testing.T) {
	t.Parallel()
	p, tok := firstStart(t)
	base := p.base()
	dom := create(t, base, "/admin/domain/", tok, `{"name":"backup.example","domain_prefix":"10001"}`)
	alias := create(t, base, fmt.Sprintf("/admin/domain/%d/alias/", dom), tok, `{"name":"pbx.backup.example"}`)
	cust := create(t, base, fmt.Sprintf("/admin/domain/%d/customer/", dom), tok, `{"name":"Main","client_prefix":"001"}`)
	acc := create(t, base, fmt.Sprintf("/admin/domain/%d/sip_account/", dom), tok,
		fmt.Sprintf(`{"customer_id":%d,"username":"100","password":"backup-secret-1"}`, cust))
	file := filepath.Join(t.TempDir(), "switchyard.bak")

	t.Run("backup while running is refused", func(t *testing.T) {
		r := runCmd(t, nil, "backup", "--data", p.data, file)
		if r.code == 0 || !strings.Contains(r.stderr, "locked") {
			t.Fatalf("backup of a running switch: exit %d\nstderr:\n%s", r.code, r.stderr)
		}
		noStackTrace(t, r.stderr)
	})
	p.stopClean(t)

	r := runCmd(t, nil, "backup", "--data", p.data, file)
	if r.code != 0 {
		t.Fatalf("backup: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Size() == 0 {
		t.Fatalf("backup file missing or empty: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode %o, want 600", fi.Mode().Perm())
	}

	t.Run("restore into a non-empty store is refused", func(t *testing.T) {
		r := runCmd(t, nil, "restore", "--data", p.data, file)
		if r.code == 0 || !strings.Contains(r.stderr, "already holds a store") {
			t.Fatalf("restore over the original: exit %d\nstderr:\n%s", r.code, r.stderr)
		}
		noStackTrace(t, r.stderr)
	})

	restored := filepath.Join(t.TempDir(), "restored")
	r = runCmd(t, nil, "restore", "--data", restored, file)
	if r.code != 0 {
		t.Fatalf("restore: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	// The backup holds the store only, not admin.token: the restored switch is reached with an
	// explicit token.
	const tok2 = "restored-switch-token-0001"
	q := startSwitch(t, restored, "--admin-token", tok2)
	checks := []struct{ name, path, field, want string }{
		{"domain", fmt.Sprintf("/admin/domain/%d", dom), "name", "backup.example"},
		{"alias", fmt.Sprintf("/admin/domain/%d/alias/%d", dom, alias), "name", "pbx.backup.example"},
		{"customer", fmt.Sprintf("/admin/domain/%d/customer/%d", dom, cust), "client_prefix", "001"},
		{"sip account", fmt.Sprintf("/admin/domain/%d/sip_account/%d", dom, acc), "username", "100"},
	}
	for _, tc := range checks {
		t.Run("restored "+tc.name, func(t *testing.T) {
			if got := getObj(t, q.base(), tc.path, tok2); got[tc.field] != tc.want {
				t.Fatalf("%s = %v, want %s", tc.field, got[tc.field], tc.want)
			}
		})
	}
	var audit []map[string]any
	must(t, q.base(), http.MethodGet, fmt.Sprintf("/admin/audit?domain_id=%d", dom), tok2, "", http.StatusOK).decode(t, &audit)
	if len(audit) < 4 {
		t.Fatalf("restored audit trail has %d entries for the domain, want at least 4", len(audit))
	}
	// The restored store is a separate copy: writing to it leaves the original alone.
	create(t, q.base(), fmt.Sprintf("/admin/domain/%d/alias/", dom), tok2, `{"name":"only.in.restored.example"}`)
	q.stopClean(t)
	p = startSwitch(t, p.data)
	var aliases []map[string]any
	must(t, p.base(), http.MethodGet, fmt.Sprintf("/admin/domain/%d/alias/", dom), tok, "", http.StatusOK).decode(t, &aliases)
	if len(aliases) != 1 {
		t.Fatalf("original has %d aliases, want 1", len(aliases))
	}
	p.stopClean(t)
}
