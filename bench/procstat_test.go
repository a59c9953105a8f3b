package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    float64
		wantErr string
	}{
		{name: "command with a space", in: fixture(t, "proc_stat_sample.txt"), want: 3.0},
		{name: "no parenthesis", in: []byte("1234 switch S 1 2 3"), wantErr: "no ')'"},
		{name: "truncated", in: []byte("1 (x) S 1 2 3"), wantErr: "fields"},
		{name: "utime not a number", in: []byte("1 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 5 0 0"), wantErr: "utime"},
		{name: "stime not a number", in: []byte("1 (x) S 1 1 1 0 -1 0 0 0 0 0 5 -3 0 0"), wantErr: "stime"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestParseStatusRSS(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    int64
		wantErr string
	}{
		{name: "fixture", in: fixture(t, "proc_status_sample.txt"), want: 57344 * 1024},
		{name: "no VmRSS (kernel thread)", in: []byte("Name:\tkthreadd\nState:\tS\n"), wantErr: "no VmRSS"},
		{name: "unit missing", in: []byte("VmRSS:\t123\n"), wantErr: "VmRSS line"},
		{name: "not a number", in: []byte("VmRSS:\tlots kB\n"), wantErr: "not a size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatusRSS(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestCPUModelAndMachine(t *testing.T) {
	if got := parseCPUModel(fixture(t, "cpuinfo_sample.txt")); got != "AMD EPYC 7B13" {
		t.Fatalf("model %q", got)
	}
	if got := parseCPUModel([]byte("garbage\n")); got != "unknown" {
		t.Fatalf("model of garbage %q, want unknown", got)
	}
	if m := machine(); m.Cores < 1 || m.CPUModel == "" {
		t.Fatalf("machine %+v", m)
	}
}

func TestSampleProcSelf(t *testing.T) {
	s, err := sampleProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSS <= 0 {
		t.Fatalf("own RSS %d", s.RSS)
	}
	if _, err := sampleProc(-1); err == nil {
		t.Fatal("sampling pid -1 succeeded")
	}
	later := procSample{At: s.At.Add(2 * time.Second), CPUSecs: s.CPUSecs + 1}
	if got := cpuPercent(s, later); got != 50 {
		t.Fatalf("cpu percent %v, want 50", got)
	}
	if got := cpuPercent(later, later); got != 0 {
		t.Fatalf("cpu percent over no time %v, want 0", got)
	}
}
