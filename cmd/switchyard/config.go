package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
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

// bindFlags registers every setting as a flag whose default comes from the environment
// variable SWITCHYARD_<NAME> when set, else from Default().
func (c *Config) bindFlags(fs *flag.FlagSet) {
	str := func(p *string, name, usage string) {
		fs.StringVar(p, name, envString(name, *p), usage+" (env "+envName(name)+")")
	}
	dur := func(p *time.Duration, name, usage string) {
		fs.DurationVar(p, name, envDuration(name, *p), usage+" (env "+envName(name)+")")
	}
	num := func(p *int, name, usage string) {
		fs.IntVar(p, name, envInt(name, *p), usage+" (env "+envName(name)+")")
	}
	str(&c.DataDir, "data", "data directory (Badger store, admin token hash)")
	str(&c.HTTPAddr, "http", "admin HTTP API listen address")
	str(&c.SIPAddr, "sip", "SIP listen address (UDP and TCP)")
	str(&c.SIPHost, "sip-host", "address advertised in Contact/Via (default: the SIP listen IP, or 127.0.0.1)")
	str(&c.ESLAddr, "esl", "event socket listen address")
	str(&c.ESLPassword, "esl-password", "event socket password")
	fs.BoolVar(&c.ESLInsecure, "esl-insecure", envBool("esl-insecure"), "allow the default/empty ESL password on a non-loopback --esl (development only)")
	str(&c.AdminToken, "admin-token", "operator API token (replaces the stored one; default: generated on first start)")
	str(&c.LogLevel, "log-level", "log level: debug, info, warn, error")
	str(&c.LogFormat, "log-format", "log format: console or json (default: console on a terminal, json otherwise)")
	dur(&c.NoAnswerTimeout, "no-answer-timeout", "how long a call may ring before the caller gets 480")
	num(&c.FloodRequests, "flood-requests", "SIP requests per --flood-window from one source before it is dropped (0 = off)")
	dur(&c.FloodWindow, "flood-window", "flood sampling window")
	str(&c.Allowlist, "allow", "comma-separated IPs/CIDRs never flood-limited or banned")
	num(&c.BanFailures, "ban-failures", "failed SIP authentications from one source within --ban-window that ban it")
	dur(&c.BanWindow, "ban-window", "window for counting failed authentications")
	dur(&c.BanTime, "ban-time", "how long a banned source is dropped")
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

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func envInt(name string, def int) int {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func envBool(name string) bool {
	v, _ := strconv.ParseBool(os.Getenv(envName(name)))
	return v
}
