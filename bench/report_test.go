package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/bench/hdr"
)

func sampleReport() *Report {
	var h hdr.Histogram
	for v := int64(1000); v < 5000; v += 10 {
		_ = h.Record(v)
	}
	r := &Report{SchemaVersion: SchemaVersion, Scenario: ScenarioCalls, StartedAt: time.Unix(1700000000, 0).UTC(),
		TargetRate: 100, AchievedRate: 99.5, Calls: CallStats{Attempted: 10, Answered: 9, Completed: 9, Failed: 1, ASR: 0.9},
		FailuresByCode: map[string]int64{"503": 1}, Setup: latencyOf(&h), Switch: SwitchStats{Version: "x <b>", Spawned: true, CPUPercent: 12},
		Machine: machine(), Ramp: &RampStats{Steps: []RampStep{{TargetRate: 10, Clean: true}}}, ESL: &ESLStats{Subscribers: 1}}
	for i := 0; i < 5; i++ {
		r.Timeline = append(r.Timeline, Point{T: float64(i), Target: 100, Rate: 99, P50: 1, P99: 4, CPU: 30, RSS: 1 << 25})
	}
	return r
}

func TestReportRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	r := sampleReport()
	if err := r.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	got, err := ReadReport(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Calls != r.Calls || got.Setup != r.Setup || len(got.Timeline) != 5 || got.FailuresByCode["503"] != 1 {
		t.Fatalf("round trip changed the report: %+v", got)
	}
	if got.Setup.P50 < 2.9 || got.Setup.P50 > 3.1 {
		t.Fatalf("setup p50 %v ms, want ≈3", got.Setup.P50)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(html)
	for _, want := range []string{"<svg", "polyline", "Setup latency", "Switch CPU", "Switch RSS", "Ramp steps", "x &lt;b&gt;"} {
		if !strings.Contains(s, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "<link", "src=\"http", "@import", "x <b>"} {
		if strings.Contains(s, bad) {
			t.Errorf("report.html contains %q (it must be self-contained and escaped)", bad)
		}
	}
}

func TestReadReportErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, wantErr string
	}{
		{name: "missing file", path: filepath.Join(dir, "nope.json"), wantErr: "no such file"},
		{name: "not json", path: write("bad.json", "{"), wantErr: "unexpected end"},
		{name: "wrong schema", path: write("v9.json", `{"schema_version":9,"scenario":"calls"}`), wantErr: "schema_version 9"},
		{name: "no scenario", path: write("nos.json", `{"schema_version":1}`), wantErr: "no scenario"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadReport(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
	if err := sampleReport().WriteFiles(""); err == nil {
		t.Fatal("writing to an empty directory name succeeded")
	}
}

func TestAnswerRate(t *testing.T) {
	start := time.Unix(100, 0)
	tests := []struct {
		name     string
		answered int64
		last     int64
		want     float64
	}{
		{name: "none answered", answered: 0, last: start.Add(time.Second).UnixNano(), want: 0},
		{name: "no answer time", answered: 5, last: 0, want: 0},
		{name: "answer before start", answered: 5, last: start.Add(-time.Second).UnixNano(), want: 0},
		{name: "steady", answered: 500, last: start.Add(5 * time.Second).UnixNano(), want: 100},
		{name: "queued tail lowers the rate", answered: 500, last: start.Add(10 * time.Second).UnixNano(), want: 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := answerRate(tc.answered, start, tc.last); got != tc.want {
				t.Fatalf("answerRate = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSVGChartEmpty(t *testing.T) {
	got := string(svgChart("t", "ms", nil, nil))
	if !strings.Contains(got, "no data") || !strings.HasSuffix(got, "</svg>") {
		t.Fatalf("empty chart %q", got)
	}
}

func TestPace(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		dur   time.Duration
		limit int
		want  int
	}{
		{name: "limit reached", rate: 10000, limit: 250, want: 250},
		{name: "duration bounds the count", rate: 200, dur: 100 * time.Millisecond, want: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen := 0
			n, _ := pace(context.Background(), tc.rate, tc.dur, tc.limit, func(i int) {
				if i != seen {
					t.Fatalf("fire(%d) after %d calls", i, seen)
				}
				seen++
			})
			if n != seen {
				t.Fatalf("pace returned %d, fired %d", n, seen)
			}
			if tc.want >= 0 && n != tc.want {
				t.Fatalf("fired %d, want %d", n, tc.want)
			}
			if tc.want < 0 && (n < 1 || n > 21) {
				t.Fatalf("fired %d in 100 ms at 200/s, want 1…21", n)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	n, _ := pace(ctx, 1000, 0, 0, func(i int) {
		if i == 9 {
			cancel()
		}
	})
	if n != 10 {
		t.Fatalf("cancelled pace fired %d, want 10", n)
	}
}
