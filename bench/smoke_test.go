package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// switchyardBinary builds cmd/switchyard into a temp dir, or returns $SWITCHYARD_BENCH_BIN.
func switchyardBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SWITCHYARD_BENCH_BIN"); p != "" {
		return p
	}
	bin := filepath.Join(t.TempDir(), "switchyard")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/switchyard")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build switchyard: %v\n%s", err, out)
	}
	return bin
}

// TestSmoke runs every scenario for 5 seconds against a spawned switch, as `make test` does,
// and checks that calls complete and the reports are written and parse. No timing assertions.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("smoke runs the switch binary for about a minute")
	}
	bin := switchyardBinary(t)
	tests := []struct {
		scenario string
		args     string
		check    func(t *testing.T, r *Report)
	}{
		{scenario: "register", args: "--rate 20", check: func(t *testing.T, r *Report) {
			if r.Register == nil || r.Register.Succeeded == 0 || r.Register.Failed != 0 || r.Register.Latency.Count == 0 {
				t.Fatalf("register stats %+v", r.Register)
			}
		}},
		{scenario: "calls", args: "--rate 10 --hold 500ms", check: checkCallsComplete},
		{scenario: "ramp", args: "--rate 5 --step 5 --step-duration 1s --hold 200ms", check: func(t *testing.T, r *Report) {
			checkCallsComplete(t, r)
			if r.Ramp == nil || len(r.Ramp.Steps) < 2 || r.Ramp.HighestCleanRate < 5 {
				t.Fatalf("ramp %+v", r.Ramp)
			}
		}},
		{scenario: "soak", args: "--rate 20 --concurrency 20", check: func(t *testing.T, r *Report) {
			checkCallsComplete(t, r)
			if r.Soak == nil || r.Soak.ReachedConcurrent != 20 || r.Soak.RSSPlateauBytes == 0 {
				t.Fatalf("soak %+v", r.Soak)
			}
		}},
		{scenario: "esl", args: "--rate 10 --hold 200ms --inject 200", check: func(t *testing.T, r *Report) {
			checkCallsComplete(t, r)
			if r.ESL == nil || r.ESL.ChannelEvents == 0 || r.ESL.Injected == 0 || r.ESL.EventsReceived < r.ESL.Injected || r.ESL.Lag.Count == 0 {
				t.Fatalf("esl %+v", r.ESL)
			}
		}},
		{scenario: "ceiling", args: "--rate 20 --hold 200ms", check: checkCallsComplete},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			out := t.TempDir()
			args := []string{"bench", tc.scenario}
			if tc.scenario != ScenarioCeiling {
				args = append(args, "--spawn")
			}
			args = append(args, "--duration", "5s", "--progress", "off", "--out", out)
			args = append(args, strings.Fields(tc.args)...)
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(), "CI=1")
			stdout, err := cmd.CombinedOutput()
			if err != nil {
				if strings.Contains(string(stdout), `unknown command "bench"`) {
					t.Fatalf("cmd/switchyard/main.go has no `case \"bench\": err = runBench(args)` yet:\n%s", stdout)
				}
				t.Fatalf("switchyard %s: %v\n%s", strings.Join(args, " "), err, stdout)
			}
			r, err := ReadReport(filepath.Join(out, "report.json"))
			if err != nil {
				t.Fatalf("%v\noutput:\n%s", err, stdout)
			}
			if r.Scenario != tc.scenario || r.Machine.Cores == 0 {
				t.Fatalf("report scenario %q machine %+v", r.Scenario, r.Machine)
			}
			if tc.scenario != ScenarioCeiling && (!r.Switch.Spawned || r.Switch.RSSBytes == 0 || r.Switch.Version == "") {
				t.Fatalf("switch stats %+v", r.Switch)
			}
			if fi, err := os.Stat(filepath.Join(out, "report.html")); err != nil || fi.Size() == 0 {
				t.Fatalf("report.html: %v", err)
			}
			tc.check(t, r)
		})
	}
}

func checkCallsComplete(t *testing.T, r *Report) {
	t.Helper()
	c := r.Calls
	if c.Attempted == 0 || c.Completed != c.Attempted || c.Failed != 0 {
		t.Fatalf("calls %+v, failures %v: want every attempted call completed", c, r.FailuresByCode)
	}
	if r.Setup.Count == 0 || r.Setup.P99 <= 0 {
		t.Fatalf("setup latency %+v", r.Setup)
	}
}
