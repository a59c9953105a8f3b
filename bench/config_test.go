package bench

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "scenario first", args: "calls --spawn --rate 100 --hold 2s --duration 30s", check: func(t *testing.T, c Config) {
			if c.Scenario != "calls" || !c.Spawn || c.Rate != 100 || c.Hold != 2*time.Second || c.Duration != 30*time.Second {
				t.Fatalf("parsed %+v", c)
			}
			if c.RampStep != 100 {
				t.Fatalf("ramp step %v, want the rate", c.RampStep)
			}
		}},
		{name: "flags first", args: "--spawn --out /tmp/x register", check: func(t *testing.T, c Config) {
			if c.Scenario != "register" || c.Out != "/tmp/x" {
				t.Fatalf("parsed %+v", c)
			}
		}},
		{name: "target mode", args: "esl --target 127.0.0.1:5060 --admin http://127.0.0.1:8080 --token T --esl 127.0.0.1:8021 --subscribers 3",
			check: func(t *testing.T, c Config) {
				if c.Target != "127.0.0.1:5060" || c.Subscribers != 3 || c.ESL != "127.0.0.1:8021" {
					t.Fatalf("parsed %+v", c)
				}
			}},
		{name: "ceiling needs no switch", args: "ceiling --rate 10", check: func(t *testing.T, c Config) {
			if c.Scenario != ScenarioCeiling {
				t.Fatalf("parsed %+v", c)
			}
		}},
		{name: "missing scenario", args: "--spawn", wantErr: "missing scenario"},
		{name: "two scenarios", args: "calls soak --spawn", wantErr: "one scenario expected"},
		{name: "unknown scenario", args: "dance --spawn", wantErr: "unknown scenario"},
		{name: "unknown flag", args: "calls --spawn --frobnicate", wantErr: "frobnicate"},
		{name: "no switch", args: "calls", wantErr: "--spawn or --target"},
		{name: "spawn and target", args: "calls --spawn --target 127.0.0.1:5060", wantErr: "exclusive"},
		{name: "target without admin", args: "calls --target 127.0.0.1:5060", wantErr: "--admin"},
		{name: "target not host:port", args: "calls --target localhost --admin http://x --token t", wantErr: "--target"},
		{name: "target host name", args: "calls --target example.com:5060 --admin http://x --token t", wantErr: "IP address"},
		{name: "admin not http", args: "calls --target 127.0.0.1:5060 --admin ftp://x --token t", wantErr: "--admin"},
		{name: "esl target without esl", args: "esl --target 127.0.0.1:5060 --admin http://x --token t", wantErr: "--esl"},
		{name: "zero rate", args: "calls --spawn --rate 0", wantErr: "--rate"},
		{name: "negative duration", args: "calls --spawn --duration -1s", wantErr: "--duration"},
		{name: "negative hold", args: "calls --spawn --hold -1s", wantErr: "--hold"},
		{name: "zero concurrency", args: "calls --spawn --concurrency 0", wantErr: "--concurrency"},
		{name: "one account", args: "calls --spawn --accounts 1", wantErr: "--accounts"},
		{name: "no domains", args: "calls --spawn --domains 0", wantErr: "--domains"},
		{name: "too many sources", args: "calls --spawn --sources 500", wantErr: "--sources"},
		{name: "bad failure ratio", args: "ramp --spawn --max-failures 1.5", wantErr: "--max-failures"},
		{name: "negative max p99", args: "ramp --spawn --max-p99 -1ms", wantErr: "--max-p99"},
		{name: "negative step", args: "ramp --spawn --step -5", wantErr: "--step"},
		{name: "no subscribers", args: "esl --spawn --subscribers 0", wantErr: "--subscribers"},
		{name: "negative inject", args: "esl --spawn --inject -1", wantErr: "--inject"},
		{name: "bad progress", args: "calls --spawn --progress maybe", wantErr: "--progress"},
		{name: "bad esl address", args: "esl --spawn --esl nope", wantErr: "--esl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseArgs(strings.Fields(tc.args), io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}
