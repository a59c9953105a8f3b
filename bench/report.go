package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/switchyard/switchyard/bench/hdr"
)

// SchemaVersion is the version of report.json's layout; it changes when a field changes meaning
// or disappears (additions keep it).
const SchemaVersion = 1

// Latency is a latency distribution in milliseconds.
type Latency struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
}

// latencyOf summarises a histogram of microseconds in milliseconds.
func latencyOf(h *hdr.Histogram) Latency {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{Count: h.Count(), P50: ms(h.MustQuantile(0.5)), P90: ms(h.MustQuantile(0.9)),
		P99: ms(h.MustQuantile(0.99)), P999: ms(h.MustQuantile(0.999)), Max: ms(h.Max()), Mean: h.Mean() / 1000}
}

// CallStats counts calls.
type CallStats struct {
	Attempted     int64   `json:"attempted"`
	Answered      int64   `json:"answered"`
	Completed     int64   `json:"completed"`
	Failed        int64   `json:"failed"`
	ASR           float64 `json:"asr"` // answer-seizure ratio: answered / attempted
	MaxConcurrent int64   `json:"max_concurrent"`
	UASAnswered   int64   `json:"uas_answered"` // INVITEs the harness UAs answered as callees
}

// RegisterStats counts REGISTER transactions (with their digest round).
type RegisterStats struct {
	Attempted int64   `json:"attempted"`
	Succeeded int64   `json:"succeeded"`
	Failed    int64   `json:"failed"`
	Latency   Latency `json:"latency_ms"` // first REGISTER → final answer (two round trips)
}

// SwitchStats describes the switch under test; CPU and RSS only when it was spawned locally.
type SwitchStats struct {
	Version    string  `json:"version"`
	Spawned    bool    `json:"spawned"`
	SIP        string  `json:"sip"`
	PID        int     `json:"pid,omitempty"`
	CPUPercent float64 `json:"cpu_percent,omitempty"` // mean over the measured phase, % of one core
	CPUMax     float64 `json:"cpu_percent_max,omitempty"`
	RSSBytes   int64   `json:"rss_bytes,omitempty"` // at the end of the measured phase
	RSSStart   int64   `json:"rss_bytes_start,omitempty"`
	RSSMax     int64   `json:"rss_bytes_max,omitempty"`
	LogErrors  int     `json:"log_errors,omitempty"`
}

// RampStep is one step of the ramp scenario.
type RampStep struct {
	TargetRate   float64 `json:"target_rate"`
	LaunchRate   float64 `json:"launch_rate"`   // INVITEs started per second
	AchievedRate float64 `json:"achieved_rate"` // answers per second up to the step's last answer
	Attempted    int64   `json:"attempted"`
	Failed       int64   `json:"failed"`
	FailureRatio float64 `json:"failure_ratio"`
	SetupP99     float64 `json:"setup_p99_ms"`
	Clean        bool    `json:"clean"`
}

// RampStats is the ramp scenario's outcome.
type RampStats struct {
	Steps            []RampStep `json:"steps"`
	HighestCleanRate float64    `json:"highest_clean_rate"`
	MaxFailureRatio  float64    `json:"max_failure_ratio"`
	MaxSetupP99      float64    `json:"max_setup_p99_ms,omitempty"`
}

// SoakStats is the soak scenario's outcome.
type SoakStats struct {
	TargetConcurrent  int     `json:"target_concurrent"`
	ReachedConcurrent int64   `json:"reached_concurrent"`
	PlateauSeconds    float64 `json:"plateau_seconds"`
	RSSBaseBytes      int64   `json:"rss_base_bytes,omitempty"`
	RSSPlateauBytes   int64   `json:"rss_plateau_bytes,omitempty"`
	RSSPerCallBytes   float64 `json:"rss_per_call_bytes,omitempty"`
}

// ESLStats is the esl scenario's outcome.
type ESLStats struct {
	Subscribers          int     `json:"subscribers"`
	EventsReceived       int64   `json:"events_received"`
	ChannelEvents        int64   `json:"channel_events"`
	EventsPerSec         float64 `json:"events_per_sec"`                // all subscribers together
	EventsPerSecPerSub   float64 `json:"events_per_sec_per_subscriber"` // mean per subscriber
	InjectRate           float64 `json:"inject_rate"`
	Injected             int64   `json:"injected"`
	Dropped              uint64  `json:"dropped_by_client"`
	Lag                  Latency `json:"lag_ms"` // receive time − Event-Date-Timestamp
	MeasuredWindowSecond float64 `json:"window_seconds"`
}

// Point is one second of the timeline.
type Point struct {
	T          float64 `json:"t"`           // seconds since the measured phase began
	Target     float64 `json:"target_rate"` // per second
	Rate       float64 `json:"rate"`        // attempts started in this second
	Done       float64 `json:"done"`        // calls answered / REGISTERs succeeded in this second
	Failures   int64   `json:"failures"`    // cumulative
	Concurrent int64   `json:"concurrent"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	Events     float64 `json:"events,omitempty"` // ESL events received in this second (all subscribers)
	CPU        float64 `json:"cpu_percent,omitempty"`
	RSS        int64   `json:"rss_bytes,omitempty"`
}

// Report is report.json.
type Report struct {
	SchemaVersion  int              `json:"schema_version"`
	Scenario       string           `json:"scenario"`
	StartedAt      time.Time        `json:"started_at"`
	Seconds        float64          `json:"duration_seconds"` // measured phase
	TargetRate     float64          `json:"target_rate"`
	AchievedRate   float64          `json:"achieved_rate"`
	LaunchRate     float64          `json:"launch_rate,omitempty"` // INVITEs (register: REGISTERs) started per second
	Config         ReportConfig     `json:"config"`
	Calls          CallStats        `json:"calls"`
	FailuresByCode map[string]int64 `json:"failures_by_code"`
	Setup          Latency          `json:"setup_latency_ms"`   // first INVITE → 200
	Ringing        Latency          `json:"ringing_latency_ms"` // first INVITE → 180
	Register       *RegisterStats   `json:"register,omitempty"`
	Ramp           *RampStats       `json:"ramp,omitempty"`
	Soak           *SoakStats       `json:"soak,omitempty"`
	ESL            *ESLStats        `json:"esl,omitempty"`
	Switch         SwitchStats      `json:"switch"`
	Machine        Machine          `json:"machine"`
	HarnessCPU     float64          `json:"harness_cpu_percent"` // the bench process itself, % of one core
	Timeline       []Point          `json:"timeline"`
	Notes          []string         `json:"notes,omitempty"`
}

// ReportConfig is the run's settings as given.
type ReportConfig struct {
	Rate        float64 `json:"rate"`
	Duration    string  `json:"duration"`
	Hold        string  `json:"hold"`
	Concurrency int     `json:"concurrency"`
	Accounts    int     `json:"accounts"`
	Domains     int     `json:"domains"`
	Sources     int     `json:"sources"`
	Spawn       bool    `json:"spawn"`
	Target      string  `json:"target,omitempty"`
	Subscribers int     `json:"subscribers,omitempty"`
	Inject      float64 `json:"inject,omitempty"`
	Command     string  `json:"command"`
}

// WriteFiles writes report.json and report.html into dir (created if needed).
func (r *Report) WriteFiles(dir string) error {
	if dir == "" {
		return errors.New("write report: empty directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("write report: encode: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	html, err := renderHTML(r)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.html"), html, 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// ReadReport reads and checks a report.json.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("read report %s: schema_version %d, want %d", path, r.SchemaVersion, SchemaVersion)
	}
	if r.Scenario == "" {
		return nil, fmt.Errorf("read report %s: no scenario", path)
	}
	return &r, nil
}
