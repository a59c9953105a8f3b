package server_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TestModeslConformance runs test/modesl/conformance.js (the real modesl client) against the
// server with the esltest fake switch. It skips only when node or node_modules/modesl is absent
// (make test installs them with `cd test/modesl && npm ci`).
func TestModeslConformance(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	dir, err := filepath.Abs("../../test/modesl")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "modesl")); err != nil {
		t.Skip("test/modesl/node_modules/modesl missing: run `cd test/modesl && npm ci`")
	}
	e := start(t, nil)
	host, port := "127.0.0.1", e.srv.Addr().String()
	_, p := splitPort(port)
	cmd := exec.CommandContext(t.Context(), node, "conformance.js", host, strconv.Itoa(p), "ClueCon")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var res struct {
		OK     bool `json:"ok"`
		Checks map[string]struct {
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("result %q: %v", out, err)
	}
	if len(res.Checks) < 15 {
		t.Fatalf("only %d checks ran: %s", len(res.Checks), out)
	}
	for name, c := range res.Checks {
		if !c.OK {
			t.Errorf("modesl check %s failed: %s", name, c.Detail)
		}
	}
	if !res.OK {
		t.Fatalf("modesl run not ok: %s", out)
	}
}

func splitPort(addr string) (string, int) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			n, _ := strconv.Atoi(addr[i+1:])
			return addr[:i], n
		}
	}
	return addr, 0
}
