package baresiptest

import (
	"bytes"
	"embed"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"
)

//go:embed testdata/config.tmpl testdata/accounts.tmpl
var templateFS embed.FS

var templates = template.Must(template.ParseFS(templateFS, "testdata/*.tmpl"))

// DefaultModulePath is where Debian's baresip-core installs its modules.
const DefaultModulePath = "/usr/lib/baresip/modules"

// Config describes one headless baresip instance with one account.
type Config struct {
	// Binary is the baresip executable; default "baresip" from PATH.
	Binary string
	// ModulePath is baresip's module directory; default DefaultModulePath.
	ModulePath string
	// Dir is the configuration directory baresip is started with (-f); it must exist and is
	// also used as HOME. Use t.TempDir().
	Dir string
	// Identity is the SIP user and digest username ("001*100"), Domain the AOR host and
	// realm ("acme.example"), Password the digest password.
	Identity, Domain, Password string
	// ListenIP is the IPv4 loopback address baresip binds SIP (random port) and ctrl_tcp to.
	ListenIP string
	// Registrar is the switch's UDP address ("127.0.0.1:5060"), used as the outbound proxy
	// for REGISTER and every other request. It must be a loopback address.
	Registrar string
	// RegInterval is the registration interval in seconds; default 60.
	RegInterval int
	// AutoAnswer makes baresip answer incoming calls at once (answermode=auto).
	AutoAnswer bool
	// CallTimeout bounds an unanswered outgoing call (call_local_timeout); default 30 s.
	CallTimeout time.Duration
	// Lifetime is a hard bound on the process: baresip quits by itself after it (-t);
	// default 2 minutes.
	Lifetime time.Duration
}

var (
	reIdentity = regexp.MustCompile(`^[A-Za-z0-9*._+-]{1,64}$`)
	reDomain   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)
	rePassword = regexp.MustCompile(`^[A-Za-z0-9!#$%&'()*+,./:=?@\[\]^_{|}~-]{1,128}$`)
)

// withDefaults returns cfg with empty optional fields filled in.
func (c Config) withDefaults() Config {
	if c.Binary == "" {
		c.Binary = "baresip"
	}
	if c.ModulePath == "" {
		c.ModulePath = DefaultModulePath
	}
	if c.RegInterval == 0 {
		c.RegInterval = 60
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = 30 * time.Second
	}
	if c.Lifetime == 0 {
		c.Lifetime = 2 * time.Minute
	}
	return c
}

// Validate checks every field that ends up in baresip's files or command line. Values that
// could break the config or accounts syntax (';', '"', '>', spaces, line breaks) are refused,
// and both addresses must be on loopback.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Dir == "" {
		return fmt.Errorf("config dir: required")
	}
	if !reIdentity.MatchString(c.Identity) {
		return fmt.Errorf("identity %q: want 1-64 of A-Z a-z 0-9 * . _ + -", c.Identity)
	}
	if !reDomain.MatchString(c.Domain) {
		return fmt.Errorf("domain %q: not a host name", c.Domain)
	}
	if !rePassword.MatchString(c.Password) {
		return fmt.Errorf("password: want 1-128 printable characters without spaces, ';', '\"', '<', '>' or '\\'")
	}
	if err := loopbackIP(c.ListenIP); err != nil {
		return fmt.Errorf("listen ip: %w", err)
	}
	host, port, err := net.SplitHostPort(c.Registrar)
	if err != nil {
		return fmt.Errorf("registrar %q: %w", c.Registrar, err)
	}
	if err := loopbackIP(host); err != nil {
		return fmt.Errorf("registrar %q: %w", c.Registrar, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("registrar %q: port must be 1-65535", c.Registrar)
	}
	if c.RegInterval < 1 || c.RegInterval > 86400 {
		return fmt.Errorf("reg interval %d: want 1-86400 s", c.RegInterval)
	}
	if c.CallTimeout < time.Second {
		return fmt.Errorf("call timeout %v: want at least 1s", c.CallTimeout)
	}
	if c.Lifetime < time.Second {
		return fmt.Errorf("lifetime %v: want at least 1s", c.Lifetime)
	}
	if strings.ContainsAny(c.ModulePath, " \t\r\n") {
		return fmt.Errorf("module path %q: must not contain white space", c.ModulePath)
	}
	return nil
}

func loopbackIP(s string) error {
	ip := net.ParseIP(s)
	if ip == nil || ip.To4() == nil {
		return fmt.Errorf("%q is not an IPv4 address", s)
	}
	if !ip.IsLoopback() {
		return fmt.Errorf("%q is not on loopback (127.0.0.0/8)", s)
	}
	return nil
}

// Render validates cfg and returns the contents of baresip's "config", "accounts" and
// "contacts" files for an instance whose ctrl_tcp listens on cfg.ListenIP:ctrlPort.
func Render(cfg Config, ctrlPort int) (map[string][]byte, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ctrlPort < 1 || ctrlPort > 65535 {
		return nil, fmt.Errorf("ctrl port %d: want 1-65535", ctrlPort)
	}
	cfg = cfg.withDefaults()
	answer := "manual"
	if cfg.AutoAnswer {
		answer = "auto"
	}
	data := map[string]any{
		"ListenIP":    cfg.ListenIP,
		"CtrlPort":    ctrlPort,
		"ModulePath":  cfg.ModulePath,
		"CallTimeout": int((cfg.CallTimeout + time.Second - 1) / time.Second),
		"Bridge":      "sy-" + strings.ReplaceAll(cfg.ListenIP, ".", "-"),
		"Identity":    cfg.Identity,
		"Domain":      cfg.Domain,
		"Password":    cfg.Password,
		"Registrar":   cfg.Registrar,
		"RegInterval": cfg.RegInterval,
		"AnswerMode":  answer,
	}
	files := map[string][]byte{"contacts": {}}
	for name, tmpl := range map[string]string{"config": "config.tmpl", "accounts": "accounts.tmpl"} {
		var b bytes.Buffer
		if err := templates.ExecuteTemplate(&b, tmpl, data); err != nil {
			return nil, fmt.Errorf("render %s: %w", name, err)
		}
		files[name] = b.Bytes()
	}
	return files, nil
}
