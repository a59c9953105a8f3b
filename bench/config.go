// Package bench is the black-box load harness behind `switchyard bench <scenario>`: it spawns
// (or targets) a switch, provisions tenants through the admin API, registers sipgo user agents
// that auto-answer, drives a scenario (register, calls, ramp, soak, esl, ceiling), measures with
// HDR histograms and writes report.json and report.html.
package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

// Scenario names.
const (
	ScenarioRegister = "register"
	ScenarioCalls    = "calls"
	ScenarioRamp     = "ramp"
	ScenarioSoak     = "soak"
	ScenarioESL      = "esl"
	ScenarioCeiling  = "ceiling"
)

// Scenarios lists every scenario in the order the usage text shows them.
var Scenarios = []string{ScenarioRegister, ScenarioCalls, ScenarioRamp, ScenarioSoak, ScenarioESL, ScenarioCeiling}

// Config is one bench run. ParseArgs fills it from the command line; Validate checks it.
type Config struct {
	Scenario string
	// Spawn starts the switch binary (Binary, default os.Executable()) as a child `serve`.
	Spawn  bool
	Binary string
	// Target is the switch's SIP UDP address; Admin its admin API base URL; Token an operator token.
	Target string
	Admin  string
	Token  string
	// ESL is the event socket address and ESLPassword its password (esl scenario, version probe).
	ESL         string
	ESLPassword string

	Rate        float64       // target rate: REGISTERs/s or calls/s (ramp: the first step)
	Duration    time.Duration // measured phase (soak: time at the plateau)
	Hold        time.Duration // call hold time
	Concurrency int           // in-flight cap (soak: concurrent calls to hold)
	Accounts    int           // accounts per domain (even: callers and callees pair up)
	Domains     int
	Sources     int // local source addresses 127.0.0.(10+i), one UDP socket each

	RampStep        float64       // CPS added per ramp step (default: Rate)
	RampStepTime    time.Duration // duration of one ramp step
	RampMaxFailures float64       // failure ratio above which a ramp step is not clean
	RampMaxP99      time.Duration // setup p99 above which a ramp step is not clean (0 = no limit)

	Subscribers int     // esl: ESL subscribers
	Inject      float64 // esl: synthetic CUSTOM events/s injected with sendevent (0 = calls only)

	Out      string // report directory ("" = no files)
	Progress string // auto, on or off
}

// DefaultConfig returns the defaults the flags start from.
func DefaultConfig() Config {
	return Config{
		ESLPassword: "ClueCon", Rate: 50, Duration: 10 * time.Second, Hold: time.Second, Concurrency: 2000,
		Accounts: 20, Domains: 1, Sources: 4, RampStepTime: 5 * time.Second, RampMaxFailures: 0.01,
		Subscribers: 1, Progress: "auto",
	}
}

// Usage is the bench subcommand's synopsis.
const Usage = `usage: switchyard bench <register|calls|ramp|soak|esl|ceiling> [flags]
  --spawn                 start this binary as a child switch on temp ports (allowlisting the harness sources)
  --target ADDR           SIP UDP address of a running switch (with --admin URL --token T [--esl ADDR])
  --rate N --duration D --hold D --concurrency N --accounts N --domains N --sources N --out DIR
  ramp: --step N --step-duration D --max-failures F --max-p99 D
     esl: --subscribers K --inject N`

// ParseArgs parses `bench` arguments: the scenario name first, then flags (flags may also come
// first). Output from the flag package (usage on -h) goes to out.
func ParseArgs(args []string, out io.Writer) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { fmt.Fprintln(out, Usage); fs.PrintDefaults() }
	fs.BoolVar(&cfg.Spawn, "spawn", false, "spawn this binary as a child switch on temp ports")
	fs.StringVar(&cfg.Binary, "binary", "", "switch binary to spawn (default: this executable)")
	fs.StringVar(&cfg.Target, "target", "", "SIP UDP address (host:port) of a running switch")
	fs.StringVar(&cfg.Admin, "admin", "", "admin API base URL of the target, e.g. http://127.0.0.1:8080")
	fs.StringVar(&cfg.Token, "token", "", "operator API token of the target")
	fs.StringVar(&cfg.ESL, "esl", "", "event socket address of the target (esl scenario)")
	fs.StringVar(&cfg.ESLPassword, "esl-password", cfg.ESLPassword, "event socket password")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "target rate (REGISTER/s or calls/s; ramp: first step)")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "measured duration (soak: time at the plateau)")
	fs.DurationVar(&cfg.Hold, "hold", cfg.Hold, "call hold time")
	fs.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "in-flight cap (soak: concurrent calls to hold)")
	fs.IntVar(&cfg.Accounts, "accounts", cfg.Accounts, "SIP accounts per domain")
	fs.IntVar(&cfg.Domains, "domains", cfg.Domains, "domains to provision")
	fs.IntVar(&cfg.Sources, "sources", cfg.Sources, "local source addresses 127.0.0.10… (one UDP socket each)")
	fs.Float64Var(&cfg.RampStep, "step", 0, "ramp: CPS added per step (default: --rate)")
	fs.DurationVar(&cfg.RampStepTime, "step-duration", cfg.RampStepTime, "ramp: duration of one step")
	fs.Float64Var(&cfg.RampMaxFailures, "max-failures", cfg.RampMaxFailures, "ramp: failure ratio above which a step is not clean")
	fs.DurationVar(&cfg.RampMaxP99, "max-p99", 0, "ramp: setup p99 above which a step is not clean (0 = no limit)")
	fs.IntVar(&cfg.Subscribers, "subscribers", cfg.Subscribers, "esl: ESL subscribers")
	fs.Float64Var(&cfg.Inject, "inject", 0, "esl: synthetic events/s injected with sendevent (0 = channel events only)")
	fs.StringVar(&cfg.Out, "out", "", "directory for report.json and report.html")
	fs.StringVar(&cfg.Progress, "progress", cfg.Progress, "live progress line: auto (terminal only), on or off")

	var pos []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return Config{}, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(pos) == 0 {
		return Config{}, fmt.Errorf("bench: missing scenario\n%s", Usage)
	}
	if len(pos) > 1 {
		return Config{}, fmt.Errorf("bench: one scenario expected, got %q", pos)
	}
	cfg.Scenario = pos[0]
	if cfg.RampStep == 0 {
		cfg.RampStep = cfg.Rate
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate checks every field and names the flag that is wrong.
func (c *Config) Validate() error {
	known := false
	for _, s := range Scenarios {
		known = known || s == c.Scenario
	}
	if !known {
		return fmt.Errorf("bench: unknown scenario %q (want one of %s)", c.Scenario, strings.Join(Scenarios, ", "))
	}
	needSwitch := c.Scenario != ScenarioCeiling
	switch {
	case needSwitch && c.Spawn && c.Target != "":
		return errors.New("bench: --spawn and --target are exclusive")
	case needSwitch && !c.Spawn && c.Target == "":
		return errors.New("bench: give --spawn or --target ADDR")
	case c.Target != "":
		if err := checkHostPort("--target", c.Target); err != nil {
			return err
		}
		if c.Admin == "" || c.Token == "" {
			return errors.New("bench: --target needs --admin URL and --token T")
		}
		u, err := url.Parse(c.Admin)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("bench: --admin %q: want an http(s) URL", c.Admin)
		}
		if c.Scenario == ScenarioESL && c.ESL == "" {
			return errors.New("bench: the esl scenario with --target needs --esl ADDR")
		}
	}
	if c.ESL != "" {
		if err := checkHostPort("--esl", c.ESL); err != nil {
			return err
		}
	}
	switch {
	case c.Rate <= 0 || c.Rate > 1e6:
		return fmt.Errorf("bench: --rate %v: want 0 < rate ≤ 1000000", c.Rate)
	case c.Duration <= 0 || c.Duration > 24*time.Hour:
		return fmt.Errorf("bench: --duration %v: want 0 < duration ≤ 24h", c.Duration)
	case c.Hold < 0 || c.Hold > time.Hour:
		return fmt.Errorf("bench: --hold %v: want 0 ≤ hold ≤ 1h", c.Hold)
	case c.Concurrency <= 0 || c.Concurrency > 1_000_000:
		return fmt.Errorf("bench: --concurrency %d: want 1…1000000", c.Concurrency)
	case c.Accounts < 2 || c.Accounts > 100_000:
		return fmt.Errorf("bench: --accounts %d: want 2…100000 (callers and callees pair up)", c.Accounts)
	case c.Domains < 1 || c.Domains > 1000:
		return fmt.Errorf("bench: --domains %d: want 1…1000", c.Domains)
	case c.Sources < 1 || c.Sources > 200:
		return fmt.Errorf("bench: --sources %d: want 1…200 (127.0.0.10…127.0.0.209)", c.Sources)
	case c.RampStep <= 0:
		return fmt.Errorf("bench: --step %v: must be positive", c.RampStep)
	case c.RampStepTime <= 0:
		return fmt.Errorf("bench: --step-duration %v: must be positive", c.RampStepTime)
	case c.RampMaxFailures < 0 || c.RampMaxFailures >= 1:
		return fmt.Errorf("bench: --max-failures %v: want 0 ≤ ratio < 1", c.RampMaxFailures)
	case c.RampMaxP99 < 0:
		return fmt.Errorf("bench: --max-p99 %v: must not be negative", c.RampMaxP99)
	case c.Subscribers < 1 || c.Subscribers > 1000:
		return fmt.Errorf("bench: --subscribers %d: want 1…1000", c.Subscribers)
	case c.Inject < 0 || c.Inject > 10e6:
		return fmt.Errorf("bench: --inject %v: want 0…10000000", c.Inject)
	case c.Progress != "auto" && c.Progress != "on" && c.Progress != "off":
		return fmt.Errorf("bench: --progress %q: want auto, on or off", c.Progress)
	}
	return nil
}

func checkHostPort(flagName, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("bench: %s %q: %w", flagName, addr, err)
	}
	if net.ParseIP(host) == nil {
		return fmt.Errorf("bench: %s %q: want an IP address", flagName, addr)
	}
	if port == "" || port == "0" {
		return fmt.Errorf("bench: %s %q: want a port", flagName, addr)
	}
	return nil
}

// sourceIP is the i-th harness source address (127.0.0.10 + i).
func sourceIP(i int) string { return fmt.Sprintf("127.0.0.%d", 10+i) }
