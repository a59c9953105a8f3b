package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Config is everything `switchyard serve` needs; Default() then flags/env, then Validate().
type Config struct {
	DataDir         string
	HTTPAddr        string
	SIPAddr         string
	SIPHost         string
	ESLAddr         string
	ESLPassword     string
	ESLInsecure     bool
	AdminToken      string
	LogLevel        string
	LogFormat       string
	NoAnswerTimeout time.Duration
	FloodRequests   int
	FloodWindow     time.Duration
	Allowlist       string
	BanFailures     int
	BanWindow       time.Duration
	BanTime         time.Duration
}

// Default returns the embedded defaults: `switchyard` with no flags runs on these.
func Default() Config {
	return Config{
		DataDir: "./data", HTTPAddr: "127.0.0.1:8080", SIPAddr: "0.0.0.0:5060", ESLAddr: "127.0.0.1:8021",
		ESLPassword: "ClueCon", LogLevel: "info", LogFormat: "", NoAnswerTimeout: 60 * time.Second,
		FloodRequests: 200, FloodWindow: 2 * time.Second,
		BanFailures: 10, BanWindow: 60 * time.Second, BanTime: 600 * time.Second,
	}
}

// bindFlags registers every setting as a flag. A flag's environment variable
// SWITCHYARD_<NAME> (e.g. SWITCHYARD_HTTP) overrides the default and is itself overridden by
// the flag; a malformed value in the environment is an error naming the variable.
func (c *Config) bindFlags(fs *flag.FlagSet) error {
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory (Badger store, admin token hash)")
	fs.StringVar(&c.HTTPAddr, "http", c.HTTPAddr, "admin HTTP API listen address")
	fs.StringVar(&c.SIPAddr, "sip", c.SIPAddr, "SIP listen address (UDP and TCP)")
	fs.StringVar(&c.SIPHost, "sip-host", c.SIPHost, "address advertised in Contact/Via (default: the SIP listen IP, or 127.0.0.1)")
	fs.StringVar(&c.ESLAddr, "esl", c.ESLAddr, "event socket listen address")
	fs.StringVar(&c.ESLPassword, "esl-password", c.ESLPassword, "event socket password")
	fs.BoolVar(&c.ESLInsecure, "esl-insecure", c.ESLInsecure, "allow the default/empty ESL password on a non-loopback --esl (development only)")
	fs.StringVar(&c.AdminToken, "admin-token", c.AdminToken, "operator API token (replaces the stored one; default: generated on first start)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: console or json (default: console on a terminal, json otherwise)")
	fs.DurationVar(&c.NoAnswerTimeout, "no-answer-timeout", c.NoAnswerTimeout, "how long a call may ring before the caller gets 480")
	fs.IntVar(&c.FloodRequests, "flood-requests", c.FloodRequests, "SIP requests per --flood-window from one source before it is dropped (0 = off)")
	fs.DurationVar(&c.FloodWindow, "flood-window", c.FloodWindow, "flood sampling window")
	fs.StringVar(&c.Allowlist, "allow", c.Allowlist, "comma-separated IPs/CIDRs never flood-limited or banned")
	fs.IntVar(&c.BanFailures, "ban-failures", c.BanFailures, "failed SIP authentications from one source within --ban-window that ban it")
	fs.DurationVar(&c.BanWindow, "ban-window", c.BanWindow, "window for counting failed authentications")
	fs.DurationVar(&c.BanTime, "ban-time", c.BanTime, "how long a banned source is dropped")
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		f.Usage += " (env " + envName(f.Name) + ")"
		if v, ok := os.LookupEnv(envName(f.Name)); ok && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			} else {
				f.DefValue = f.Value.String()
			}
		}
	})
	return err
}

// Validate checks every field and names the one that is wrong.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("--data: must not be empty")
	}
	for name, addr := range map[string]string{"--http": c.HTTPAddr, "--sip": c.SIPAddr, "--esl": c.ESLAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("%s %q: %w", name, addr, err)
		}
	}
	if _, err := zerolog.ParseLevel(c.LogLevel); err != nil || c.LogLevel == "" {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "" && c.LogFormat != "console" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format %q: want console or json", c.LogFormat)
	}
	if c.NoAnswerTimeout <= 0 {
		return fmt.Errorf("--no-answer-timeout %v: must be positive", c.NoAnswerTimeout)
	}
	if c.FloodRequests < 0 || c.BanFailures < 0 {
		return errors.New("--flood-requests and --ban-failures must not be negative")
	}
	return nil
}

func (c *Config) allowlist() []string {
	var out []string
	for _, s := range strings.Split(c.Allowlist, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func envName(flagName string) string {
	return "SWITCHYARD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func envString(name, def string) string {
	if v, ok := os.LookupEnv(envName(name)); ok {
		return v
	}
	return def
}
