package main

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBadConfigExitsNonZero: every invalid setting, by flag or environment, stops the binary
// before it opens anything, with a message naming the setting and no stack trace.
func TestBadConfigExitsNonZero(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"log level", nil, []string{"--log-level", "loud"}, "--log-level"},
		{"empty log level", nil, []string{"--log-level", ""}, "--log-level"},
		{"log format", nil, []string{"--log-format", "xml"}, "--log-format"},
		{"http without port", nil, []string{"--http", "127.0.0.1"}, "--http"},
		{"sip without port", nil, []string{"--sip", "nonsense"}, "--sip"},
		{"esl without port", nil, []string{"--esl", ""}, "--esl"},
		{"no-answer timeout zero", nil, []string{"--no-answer-timeout", "0s"}, "--no-answer-timeout"},
		{"no-answer timeout not a duration", nil, []string{"--no-answer-timeout", "soon"}, "no-answer-timeout"},
		{"negative flood requests", nil, []string{"--flood-requests", "-1"}, "--flood-requests"},
		{"negative ban failures", nil, []string{"--ban-failures", "-5"}, "--ban-failures"},
		{"empty data dir", nil, []string{"--data", ""}, "--data"},
		{"unknown flag", nil, []string{"--colour", "red"}, "flag provided but not defined: -colour"},
		{"log level from env", []string{"SWITCHYARD_LOG_LEVEL=loud"}, nil, "--log-level"},
		{"no-answer timeout from env", []string{"SWITCHYARD_NO_ANSWER_TIMEOUT=soon"}, nil, "SWITCHYARD_NO_ANSWER_TIMEOUT"},
		{"flood requests from env", []string{"SWITCHYARD_FLOOD_REQUESTS=lots"}, nil, "SWITCHYARD_FLOOD_REQUESTS"},
		{"log format from env", []string{"SWITCHYARD_LOG_FORMAT=yaml"}, nil, "--log-format"},
		{"http from env", []string{"SWITCHYARD_HTTP=localhost"}, nil, "--http"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := filepath.Join(t.TempDir(), "data")
			// Valid loopback settings first, so a missed validation cannot bind default ports;
			// the case's flags come last and win.
			args := append(serveArgs(data, freeAddrs(t)), tc.args...)
			if tc.env != nil {
				// The environment case must not be masked by a flag.
				args = []string{"--data", data, "--sip", freeSIP(t), "--esl", freeTCP(t)}
				if !strings.HasPrefix(tc.env[0], "SWITCHYARD_HTTP=") {
					args = append(args, "--http", freeTCP(t))
				}
			}
			r := runCmd(t, tc.env, args...)
			if r.code == 0 {
				t.Fatalf("exit code 0, want non-zero\nstderr:\n%s", r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("stderr does not name %q:\n%s", tc.want, r.stderr)
			}
			noStackTrace(t, r.stderr)
			if _, err := os.Stat(data); err == nil {
				t.Fatal("an invalid configuration still created the data directory")
			}
		})
	}
}

// TestBadCommandLine: unknown subcommands and wrong arguments to the data-dir commands.
func TestBadCommandLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.bak")
	if err := os.WriteFile(garbage, []byte("this is not a backup stream, just some text"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"backup without file", []string{"backup", "--data", filepath.Join(dir, "d1")}, "exactly one FILE"},
		{"backup with two files", []string{"backup", "--data", filepath.Join(dir, "d1"), "a", "b"}, "exactly one FILE"},
		{"restore without file", []string{"restore", "--data", filepath.Join(dir, "d2")}, "exactly one FILE"},
		{"restore missing file", []string{"restore", "--data", filepath.Join(dir, "d3"), filepath.Join(dir, "nope.bak")}, "open backup file"},
		{"restore garbage", []string{"restore", "--data", filepath.Join(dir, "d4"), garbage}, "restore"},
		{"token unknown flag", []string{"token", "--colour", "red"}, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, nil, tc.args...)
			if r.code == 0 {
				t.Fatalf("exit code 0, want non-zero\nstderr:\n%s", r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("stderr does not contain %q:\n%s", tc.want, r.stderr)
			}
			noStackTrace(t, r.stderr)
		})
	}
	t.Run("version", func(t *testing.T) {
		r := runCmd(t, nil, "version")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "switchyard ") {
			t.Fatalf("version: exit %d stdout %q", r.code, r.stdout)
		}
	})
}

// TestEnvironmentConfig: SWITCHYARD_* variables configure the switch with no flags at all, and a
// flag beats its variable.
func TestEnvironmentConfig(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	a := freeAddrs(t)
	envESL := freeTCP(t) // overridden by --esl below
	const tok = "token-from-the-environment-42"
	env := []string{
		"SWITCHYARD_DATA=" + data,
		"SWITCHYARD_HTTP=" + a.http,
		"SWITCHYARD_SIP=" + a.sip,
		"SWITCHYARD_ESL=" + envESL,
		"SWITCHYARD_LOG_FORMAT=json",
		"SWITCHYARD_LOG_LEVEL=debug",
		"SWITCHYARD_ADMIN_TOKEN=" + tok,
	}
	p := spawn(t, env, "--esl", a.esl)
	p.addrs, p.data = a, data
	if err := waitReady(p); err != nil {
		t.Fatalf("switch configured by environment did not start: %v\nstderr:\n%s", err, p.stderr.String())
	}
	requireAuth(t, p, tok, "")
	requireTokenFile(t, data, tok)
	if _, printed := printedToken(p.stderr.String()); printed {
		t.Fatal("a token was generated although SWITCHYARD_ADMIN_TOKEN was set")
	}
	var started map[string]any
	for _, l := range logLines(p.stderr.String()) {
		if l["message"] == "switchyard started" {
			started = l
		}
	}
	if started == nil {
		t.Fatalf("no \"switchyard started\" line\nstderr:\n%s", p.stderr.String())
	}
	want := map[string]string{"data": data, "http": a.http, "sip_udp": a.sip, "sip_tcp": a.sip, "esl": a.esl}
	for k, v := range want {
		if started[k] != v {
			t.Errorf("started log %s = %v, want %s", k, started[k], v)
		}
	}
	conn, err := net.Dial("tcp", a.esl)
	if err != nil {
		t.Fatalf("ESL on the --esl address: %v", err)
	}
	_ = conn.Close()
	if c, err := net.Dial("tcp", envESL); err == nil {
		_ = c.Close()
		t.Error("ESL also listens on SWITCHYARD_ESL although --esl was given")
	}
	must(t, p.base(), http.MethodGet, "/healthz", "", "", http.StatusOK)
	// A SIP request makes the edge log at debug level; the whole log is read after the exit.
	c, err := net.Dial("udp", a.sip)
	if err != nil {
		t.Fatalf("dial SIP UDP: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte(sipOptions("UDP", c.LocalAddr().String(), a.sip, "env-debug@127.0.0.1"))); err != nil {
		t.Fatalf("send OPTIONS: %v", err)
	}
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no answer to OPTIONS: %v", err)
	}
	checkSIP200(t, string(buf[:n]), "env-debug@127.0.0.1")
	p.stopClean(t)
	debug := false
	for _, l := range logLines(p.stderr.String()) {
		debug = debug || l["level"] == "debug"
	}
	if !debug {
		t.Error("SWITCHYARD_LOG_LEVEL=debug produced no debug line")
	}
}
