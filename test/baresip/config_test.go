package baresiptest

import (
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	return Config{Dir: "/tmp/x", Identity: "001*100", Domain: "acme.example", Password: "pw-100-secret",
		ListenIP: "127.0.0.71", Registrar: "127.0.0.1:5060"}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		want   string // substring of the error; "" = valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no dir", func(c *Config) { c.Dir = "" }, "config dir"},
		{"empty identity", func(c *Config) { c.Identity = "" }, "identity"},
		{"identity with semicolon", func(c *Config) { c.Identity = "100;x=y" }, "identity"},
		{"identity with angle bracket", func(c *Config) { c.Identity = "100>" }, "identity"},
		{"domain with space", func(c *Config) { c.Domain = "acme example" }, "domain"},
		{"domain with trailing dot", func(c *Config) { c.Domain = "acme." }, "domain"},
		{"empty password", func(c *Config) { c.Password = "" }, "password"},
		{"password with semicolon", func(c *Config) { c.Password = "a;b" }, "password"},
		{"password with quote", func(c *Config) { c.Password = `a"b` }, "password"},
		{"password with newline", func(c *Config) { c.Password = "a\nmodule x" }, "password"},
		{"listen ip not an ip", func(c *Config) { c.ListenIP = "localhost" }, "listen ip"},
		{"listen ip not loopback", func(c *Config) { c.ListenIP = "192.0.2.2" }, "not on loopback"},
		{"listen ip v6", func(c *Config) { c.ListenIP = "::1" }, "not an IPv4"},
		{"registrar without port", func(c *Config) { c.Registrar = "127.0.0.1" }, "registrar"},
		{"registrar not loopback", func(c *Config) { c.Registrar = "192.0.2.2:5060" }, "not on loopback"},
		{"registrar port zero", func(c *Config) { c.Registrar = "127.0.0.1:0" }, "port must be"},
		{"registrar port text", func(c *Config) { c.Registrar = "127.0.0.1:sip" }, "port must be"},
		{"negative reg interval", func(c *Config) { c.RegInterval = -1 }, "reg interval"},
		{"call timeout too short", func(c *Config) { c.CallTimeout = time.Millisecond }, "call timeout"},
		{"lifetime too short", func(c *Config) { c.Lifetime = time.Millisecond }, "lifetime"},
		{"module path with space", func(c *Config) { c.ModulePath = "/a b" }, "module path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	cases := []struct {
		name     string
		change   func(*Config)
		port     int
		config   []string // lines the config must contain
		accounts []string // substrings of the accounts line
		wantErr  string
	}{
		{
			name: "caller", change: func(*Config) {}, port: 4242,
			config: []string{"sip_listen\t\t127.0.0.71:0", "net_interface\t\t127.0.0.71", "ctrl_tcp_listen\t\t127.0.0.71:4242",
				"module_path\t\t" + DefaultModulePath, "call_local_timeout\t30", "module_app\t\tctrl_tcp.so"},
			accounts: []string{"<sip:001*100@acme.example;transport=udp>", ";auth_pass=pw-100-secret;",
				`;outbound="sip:127.0.0.1:5060;transport=udp";`, ";regint=60;", ";answermode=manual;"},
		},
		{
			name: "auto answer callee", change: func(c *Config) { c.AutoAnswer = true; c.RegInterval = 30; c.CallTimeout = 1500 * time.Millisecond },
			port: 1, config: []string{"call_local_timeout\t2"}, accounts: []string{";answermode=auto;", ";regint=30;"},
		},
		{name: "bad port", change: func(*Config) {}, port: 0, wantErr: "ctrl port"},
		{name: "port too large", change: func(*Config) {}, port: 70000, wantErr: "ctrl port"},
		{name: "invalid config", change: func(c *Config) { c.ListenIP = "10.0.0.1" }, port: 4242, wantErr: "loopback"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(&c)
			files, err := Render(c, tc.port)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := files["contacts"]; !ok || len(files) != 3 {
				t.Fatalf("want config, accounts and contacts, got %d files", len(files))
			}
			lines := strings.Split(string(files["config"]), "\n")
			for _, want := range tc.config {
				found := false
				for _, l := range lines {
					found = found || l == want
				}
				if !found {
					t.Errorf("config lacks line %q:\n%s", want, files["config"])
				}
			}
			acc := string(files["accounts"])
			if strings.Count(acc, "\n") != 1 {
				t.Errorf("accounts must be one line: %q", acc)
			}
			for _, want := range tc.accounts {
				if !strings.Contains(acc, want) {
					t.Errorf("accounts lacks %q: %s", want, acc)
				}
			}
		})
	}
}
