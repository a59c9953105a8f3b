package sipptest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNormalizeRejectsBadOpts(t *testing.T) {
	good := Opts{Scenario: "uac_auth.xml", Target: "127.0.0.1:5060", Calls: 1}
	tests := []struct {
		name    string
		mutate  func(*Opts)
		wantErr string
	}{
		{"no scenario", func(o *Opts) { o.Scenario = "" }, "set Scenario or Builtin"},
		{"scenario and builtin", func(o *Opts) { o.Builtin = "uac" }, "only one"},
		{"unknown builtin", func(o *Opts) { o.Scenario, o.Builtin = "", "nope" }, "unknown builtin"},
		{"relative path", func(o *Opts) { o.Scenario = "../sipp/scenarios/uac_auth.xml" }, "file name in scenarios/"},
		{"missing file", func(o *Opts) { o.Scenario = "no_such.xml" }, "no such file"},
		{"directory", func(o *Opts) { o.Scenario = ScenarioDir() }, "is a directory"},
		{"public local ip", func(o *Opts) { o.LocalIP = "192.0.2.1" }, "not an IPv4 loopback"},
		{"garbage local ip", func(o *Opts) { o.LocalIP = "localhost" }, "not an IPv4 loopback"},
		{"port range", func(o *Opts) { o.LocalPort = 70000 }, "out of range"},
		{"no target", func(o *Opts) { o.Target = "" }, "Target is required"},
		{"target without port", func(o *Opts) { o.Target = "127.0.0.1" }, "target"},
		{"public target", func(o *Opts) { o.Target = "192.0.2.1:5060" }, "loopback"},
		{"target port zero", func(o *Opts) { o.Target = "127.0.0.1:0" }, "bad port"},
		{"transport", func(o *Opts) { o.Transport = "tls" }, "transport"},
		{"zero calls", func(o *Opts) { o.Calls = 0 }, "Calls must be positive"},
		{"negative rate", func(o *Opts) { o.Rate = -1 }, "negative rate"},
		{"negative concurrency", func(o *Opts) { o.Concurrency = -1 }, "negative concurrency"},
		{"negative timeout", func(o *Opts) { o.Timeout = -time.Second }, "negative timeout"},
		{"empty row", func(o *Opts) { o.InjectionRows = [][]string{{}} }, "row 0 is empty"},
		{"semicolon in field", func(o *Opts) { o.InjectionRows = [][]string{{"a;b"}} }, "contains ';'"},
		{"newline in field", func(o *Opts) { o.InjectionRows = [][]string{{"a", "b\nc"}} }, "field 1"},
		{"bad var name", func(o *Opts) { o.Vars = map[string]string{"a-b": "1"} }, "not an identifier"},
		{"empty var value", func(o *Opts) { o.Vars = map[string]string{"a": ""} }, "non-empty line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := good
			tc.mutate(&o)
			_, err := o.normalize(true, true)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("normalize() error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestNormalizeDefaultsAndArgs(t *testing.T) {
	o, err := Opts{
		Scenario:      "uac_auth.xml",
		Target:        "127.0.0.1:5060",
		Calls:         5,
		Rate:          2.5,
		Concurrency:   3,
		InjectionRows: [][]string{{"001*100", "secret-100", "acme.example", "100"}},
		Vars:          map[string]string{"b": "2", "a": "1"},
		ExtraArgs:     []string{"-d", "100"},
	}.normalize(true, true)
	if err != nil {
		t.Fatalf("normalize: %v", err)
	}
	o.LocalPort = 5071
	if o.LocalIP != DefaultLocalIP || o.Transport != TransportUDP || o.Timeout != DefaultTimeout {
		t.Fatalf("defaults not applied: ip=%q transport=%q timeout=%v", o.LocalIP, o.Transport, o.Timeout)
	}
	if !filepath.IsAbs(o.Scenario) {
		t.Fatalf("scenario %q not resolved to an absolute path", o.Scenario)
	}
	got := strings.Join(o.args(runFiles("/run")), " ")
	for _, want := range []string{
		"127.0.0.1:5060 -sf " + o.Scenario,
		"-i 127.0.0.3 -bind_local -p 5071 -t u1 -nostdin -timeout 30s",
		"-trace_stat -stf /run/stat.csv",
		"-m 5 -r 2.5 -l 3 -inf /run/inject.csv -set a 1 -set b 2 -d 100",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("args %q lack %q", got, want)
		}
	}
	if csv := string(injectionCSV(o.InjectionRows)); csv != "SEQUENTIAL\n001*100;secret-100;acme.example;100\n" {
		t.Errorf("injection file = %q", csv)
	}
}

func TestTimeoutSecondsRoundsUp(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want int
	}{
		{"sub-second", 10 * time.Millisecond, 1},
		{"exact", 2 * time.Second, 2},
		{"fraction", 2500 * time.Millisecond, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := timeoutSeconds(tc.in); got != tc.want {
				t.Fatalf("timeoutSeconds(%v) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseStats(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatalf("read fixture: %v", err)
		}
		return b
	}
	tests := []struct {
		name                        string
		data                        []byte
		wantErr                     string
		successful, failed, created int
	}{
		{"three successful calls", read("stat_uac_3ok.csv"), "", 3, 0, 3},
		{"killed during a call", read("stat_killed.csv"), "", 0, 0, 1},
		{"empty", nil, "want a header and a data row", 0, 0, 0},
		{"header only", []byte("SuccessfulCall(C);FailedCall(C);TotalCallCreated;\n"), "want a header and a data row", 0, 0, 0},
		{"short row", []byte("SuccessfulCall(C);FailedCall(C);TotalCallCreated;\n1;2;\n"), "2 columns", 0, 0, 0},
		{"missing column", []byte("A;B;C;\n1;2;3;\n"), "lacks column", 0, 0, 0},
		{"crlf", []byte("SuccessfulCall(C);FailedCall(C);TotalCallCreated;\r\n4;1;5;\r\n"), "", 4, 1, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := parseStats(tc.data)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseStats error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseStats: %v", err)
			}
			got := []int{st.Int("SuccessfulCall(C)"), st.Int("FailedCall(C)"), st.Int("TotalCallCreated")}
			if want := []int{tc.successful, tc.failed, tc.created}; !slices.Equal(got, want) {
				t.Fatalf("successful/failed/created = %v, want %v", got, want)
			}
		})
	}
}

func TestStatsIntOnBadValues(t *testing.T) {
	st := Stats{"x": "abc", "y": " 7 "}
	for _, tc := range []struct {
		name, key string
		want      int
	}{{"not a number", "x", 0}, {"absent", "z", 0}, {"padded", "y", 7}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := st.Int(tc.key); got != tc.want {
				t.Fatalf("Int(%q) = %d, want %d", tc.key, got, tc.want)
			}
		})
	}
}

func TestProcAddr(t *testing.T) {
	tests := []struct {
		name, ip string
		port     int
		want     string
		wantErr  bool
	}{
		{"loopback 3", "127.0.0.3", 5060, "0300007F:13C4", false},
		{"loopback 1", "127.0.0.1", 80, "0100007F:0050", false},
		{"ipv6", "::1", 5060, "", true},
		{"garbage", "x", 1, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := procAddr(tc.ip, tc.port)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("procAddr(%q, %d) = %q, %v; want %q, err=%v", tc.ip, tc.port, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestScenarioFilesExist(t *testing.T) {
	for _, name := range []string{
		"register_auth.xml", "unregister_auth.xml", "register_noauth_403.xml", "uac_auth.xml", "uac_cancel.xml",
		"uac_noauth_403.xml", "uac_expect_403.xml", "uac_expect_404.xml", "uac_expect_480.xml", "uac_expect_486.xml",
		"uac_expect_503.xml", "uas_answer.xml", "uas_busy.xml", "uas_ring_noanswer.xml", "uas_ring_then_answer.xml",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ScenarioPath(name); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, name := range []string{"calls_uac.xml", "calls_uas.xml", "register.xml", "register_uas.xml"} {
		t.Run("bench/"+name, func(t *testing.T) {
			if _, err := ScenarioPath(BenchScenario(name)); err != nil {
				t.Fatal(err)
			}
		})
	}
}
