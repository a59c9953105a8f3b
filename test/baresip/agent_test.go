package baresiptest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeBinary writes an executable shell script standing in for baresip.
func fakeBinary(t *testing.T, script string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fake-baresip")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStartFailures(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skipf("no /bin/sh for the fake baresip: %v", err)
	}
	cases := []struct {
		name    string
		change  func(t *testing.T, c *Config)
		timeout time.Duration
		want    string
	}{
		{"invalid config", func(t *testing.T, c *Config) { c.ListenIP = "192.0.2.1" }, 5 * time.Second, "loopback"},
		{"missing binary", func(t *testing.T, c *Config) { c.Binary = filepath.Join(t.TempDir(), "nope") }, 5 * time.Second, "find baresip"},
		{"exits before ready", func(t *testing.T, c *Config) { c.Binary = fakeBinary(t, "echo 'init failed'; exit 3") }, 5 * time.Second,
			"exited before it was ready (exit status 3); output:\ninit failed"},
		{"never ready", func(t *testing.T, c *Config) { c.Binary = fakeBinary(t, "exec sleep 30") }, 200 * time.Millisecond, "not ready: context deadline exceeded"},
		{"ready without ctrl_tcp", func(t *testing.T, c *Config) { c.Binary = fakeBinary(t, "echo 'baresip is ready.'; exec sleep 30") }, 5 * time.Second,
			"connect to baresip ctrl_tcp"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			c.Dir = t.TempDir()
			tc.change(t, &c)
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			a, err := Start(ctx, c)
			if err == nil {
				_ = a.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestAvailable(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"missing binary", Config{Binary: "/nonexistent/baresip"}, "not found"},
		{"missing modules", Config{Binary: "/bin/sh", ModulePath: t.TempDir()}, "module g711.so missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Available(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestOutputLog(t *testing.T) {
	t.Run("marker split across writes", func(t *testing.T) {
		o := newOutputLog("baresip is ready.")
		_, changed := o.snapshot()
		for _, p := range []string{"noise\nbaresip is ", "ready.\n"} {
			if _, err := o.Write([]byte(p)); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-o.ready:
		default:
			t.Fatal("ready not closed")
		}
		select {
		case <-changed:
		default:
			t.Fatal("changed not closed by a write")
		}
		if o.String() != "noise\nbaresip is ready.\n" {
			t.Fatalf("got %q", o.String())
		}
	})
	t.Run("capped", func(t *testing.T) {
		o := newOutputLog("x")
		big := make([]byte, maxOutput+100)
		if n, err := o.Write(big); n != len(big) || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
		if n, err := o.Write([]byte("x")); n != 1 || err != nil {
			t.Fatalf("Write after cap: %d, %v", n, err)
		}
		if got := len(o.String()); got != maxOutput {
			t.Fatalf("kept %d bytes, want %d", got, maxOutput)
		}
	})
}

func TestWaitOutputAfterExit(t *testing.T) {
	a := &Agent{out: newOutputLog("never"), exited: make(chan struct{}), waitErr: errors.New("exit status 1")}
	_, _ = a.out.Write([]byte("reg: failed\n"))
	close(a.exited)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if out, err := a.WaitOutput(ctx, "reg: failed"); err != nil || out != "reg: failed\n" {
		t.Fatalf("got %q, %v", out, err)
	}
	if _, err := a.WaitOutput(ctx, "absent"); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("got %v, want ErrNotRunning", err)
	}
}
