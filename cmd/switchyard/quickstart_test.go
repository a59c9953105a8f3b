package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runQuickstart runs scripts/quickstart.sh against p with token (plus env) and returns its exit
// code and output.
func runQuickstart(t *testing.T, p *proc, token string, env ...string) (int, string, string) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "quickstart.sh"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, script)
	cmd.Env = childEnv(append([]string{"TOKEN=" + token, "SWITCHYARD_URL=" + p.base()}, env...))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("quickstart.sh did not finish within %v\nstdout:\n%s\nstderr:\n%s", commandTimeout, out.String(), errOut.String())
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errOut.String()
	case err != nil:
		t.Fatalf("run quickstart.sh: %v", err)
	}
	return 0, out.String(), errOut.String()
}

// TestQuickstartScript runs the newcomer script against the real binary and checks that what it
// claims to create exists, that the accounts it prints work, and that it stops on the first error.
func TestQuickstartScript(t *testing.T) {
	t.Parallel()
	p, tok := firstStart(t)

	t.Run("missing token", func(t *testing.T) {
		code, _, stderr := runQuickstart(t, p, "")
		if code == 0 || !strings.Contains(stderr, "TOKEN") {
			t.Fatalf("without TOKEN: exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		code, _, stderr := runQuickstart(t, p, "not-the-token")
		if code == 0 || !strings.Contains(stderr, "HTTP 401") {
			t.Fatalf("with a wrong token: exit %d, stderr %q", code, stderr)
		}
	})

	code, stdout, stderr := runQuickstart(t, p, tok)
	if code != 0 {
		t.Fatalf("quickstart.sh: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"acme.example", "pbx.acme.example", `"001"`, `"100"`, `"101"`, "acme-ops", `"create"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("quickstart output lacks %s", want)
		}
	}

	var domains []struct {
		ID                       int64  `json:"id"`
		DomainPrefix             string `json:"domain_prefix"`
		AllowCrossDomainDialling bool   `json:"allow_cross_domain_dialling"`
	}
	must(t, p.base(), http.MethodGet, "/admin/domain/?name=acme.example", tok, "", http.StatusOK).decode(t, &domains)
	if len(domains) != 1 || domains[0].DomainPrefix != "10001" || !domains[0].AllowCrossDomainDialling {
		t.Fatalf("acme.example after quickstart: %+v", domains)
	}
	dom := domains[0].ID
	counts := []struct {
		segment, filter string
		want            int
	}{
		{"alias", "name=pbx.acme.example", 1},
		{"customer", "client_prefix=001", 1},
		{"sip_account", "username=100&username=101", 2},
		{"esl_user", "username=acme-ops", 1},
	}
	for _, c := range counts {
		t.Run("created "+c.segment, func(t *testing.T) {
			var list []map[string]any
			must(t, p.base(), http.MethodGet, fmt.Sprintf("/admin/domain/%d/%s/?%s", dom, c.segment, c.filter), tok, "", http.StatusOK).decode(t, &list)
			if len(list) != c.want {
				t.Fatalf("%d %s records match %s, want %d", len(list), c.segment, c.filter, c.want)
			}
		})
	}

	t.Run("printed ESL login works", func(t *testing.T) {
		e := dialESL(t, p.esl)
		e.read(t)
		if h, _ := e.send(t, "userauth acme-ops@acme.example:change-me-esl"); h.Get("Reply-Text") != "+OK accepted" {
			t.Fatalf("userauth reply %q, want +OK accepted", h.Get("Reply-Text"))
		}
	})

	t.Run("second run stops at the first error", func(t *testing.T) {
		code, stdout, stderr := runQuickstart(t, p, tok)
		if code == 0 {
			t.Fatal("second run exited 0 although acme.example exists")
		}
		if !strings.Contains(stderr, "HTTP 409") || !strings.Contains(stderr, "conflict") {
			t.Fatalf("second run stderr does not show the 409 problem:\n%s", stderr)
		}
		if strings.Contains(stdout, "== 2.") {
			t.Fatalf("second run went on after the failed step:\n%s", stdout)
		}
	})
	p.stopClean(t)
}

// TestQuickstartWithoutJQ runs the script with a PATH that has no jq, so it parses ids with sed.
func TestQuickstartWithoutJQ(t *testing.T) {
	t.Parallel()
	bin := t.TempDir()
	for _, tool := range []string{"bash", "curl", "sed", "head", "cat"} {
		path, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s not installed", tool)
		}
		if err := os.Symlink(path, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	p, tok := firstStart(t)
	code, stdout, stderr := runQuickstart(t, p, tok, "PATH="+bin)
	if code != 0 {
		t.Fatalf("quickstart.sh without jq: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var domains []struct {
		ID int64 `json:"id"`
	}
	must(t, p.base(), http.MethodGet, "/admin/domain/?name=acme.example", tok, "", http.StatusOK).decode(t, &domains)
	if len(domains) != 1 || !strings.Contains(stdout, fmt.Sprintf("domain id %d\n", domains[0].ID)) {
		t.Fatalf("script printed the wrong domain id (domains %+v):\n%s", domains, stdout)
	}
	var list []map[string]any
	must(t, p.base(), http.MethodGet, fmt.Sprintf("/admin/domain/%d/sip_account/", domains[0].ID), tok, "", http.StatusOK).decode(t, &list)
	if len(list) != 2 {
		t.Fatalf("%d SIP accounts after quickstart without jq, want 2", len(list))
	}
	p.stopClean(t)
}
