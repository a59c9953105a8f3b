package persistence

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

type vcase struct {
	name  string
	rec   Record
	field string // "" = valid
}

func runValidate(t *testing.T, cases []vcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.rec.ApplyDefaults()
			err := tc.rec.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			wantField(t, err, tc.field, "")
		})
	}
}

func dom(mut func(*Domain)) *Domain {
	d := &Domain{Name: "acme.example", DomainPrefix: "12345"}
	if mut != nil {
		mut(d)
	}
	return d
}

func TestDomainValidate(t *testing.T) {
	runValidate(t, []vcase{
		{"minimal", dom(nil), ""},
		{"underscore name", dom(func(d *Domain) { d.Name = "ACME_Ltd" }), ""},
		{"missing name", dom(func(d *Domain) { d.Name = "" }), "name"},
		{"bad char in name", dom(func(d *Domain) { d.Name = "acme corp" }), "name"},
		{"name too long", dom(func(d *Domain) { d.Name = strings.Repeat("a", 254) }), "name"},
		{"bad email", dom(func(d *Domain) { d.EmailSender = "not-an-address" }), "email_sender"},
		{"display name email", dom(func(d *Domain) { d.EmailSender = "Bob <b@x.org>" }), "email_sender"},
		{"good email", dom(func(d *Domain) { d.EmailSender = "vm@acme.example" }), ""},
		{"bad status", dom(func(d *Domain) { d.Status = "Suspended" }), "status"},
		{"locked", dom(func(d *Domain) { d.Status = StatusLocked }), ""},
		{"missing prefix", dom(func(d *Domain) { d.DomainPrefix = "" }), "domain_prefix"},
		{"short prefix", dom(func(d *Domain) { d.DomainPrefix = "1234" }), "domain_prefix"},
		{"alpha prefix", dom(func(d *Domain) { d.DomainPrefix = "1234a" }), "domain_prefix"},
		{"bad suffix", dom(func(d *Domain) { d.DomainSuffix = "a b" }), "domain_suffix"},
		{"bad algorithm", dom(func(d *Domain) { d.DigestAlgorithms = []string{"SHA-512"} }), "digest_algorithms[0]"},
		{"dup algorithm", dom(func(d *Domain) { d.DigestAlgorithms = []string{"MD5", "MD5"} }), "digest_algorithms[1]"},
		{"sha first", dom(func(d *Domain) { d.DigestAlgorithms = []string{"SHA-256", "MD5"} }), ""},
		{"negative timeout", dom(func(d *Domain) { d.NoAnswerTimeout = -1 }), "no_answer_timeout"},
		{"timeout too big", dom(func(d *Domain) { d.NoAnswerTimeout = 601 }), "no_answer_timeout"},
		{"timeout max", dom(func(d *Domain) { d.NoAnswerTimeout = 600 }), ""},
		{"bad dial permission", dom(func(d *Domain) { d.Defaults.DialPermission = "world" }), "defaults.dial_permission"},
		{"uk only", dom(func(d *Domain) { d.Defaults.DialPermission = DialUKOnly }), ""},
		{"bad language", dom(func(d *Domain) { d.Defaults.Language = "english!" }), "defaults.language"},
		{"bad timezone", dom(func(d *Domain) { d.Defaults.Timezone = "Mars/Olympus" }), "defaults.timezone"},
		{"local timezone", dom(func(d *Domain) { d.Defaults.Timezone = "Local" }), "defaults.timezone"},
		{"london", dom(func(d *Domain) { d.Defaults.Timezone = "Europe/London" }), ""},
		{"bad area code", dom(func(d *Domain) { d.Defaults.AreaCode = "0a" }), "defaults.area_code"},
		{"bad caller id", dom(func(d *Domain) { d.Defaults.CallerID = "12-34" }), "defaults.caller_id"},
		{"plus caller id", dom(func(d *Domain) { d.Defaults.CallerID = "+441234" }), ""},
		{"bad tts language", dom(func(d *Domain) { d.Defaults.TTSLanguage = "1" }), "defaults.tts_language"},
		{"control char comment", dom(func(d *Domain) { d.Comment = strPtr("a\x00b") }), "comment"},
		{"negative active limit", dom(func(d *Domain) { d.Limitations.ActiveCallLimit = -1 }), "limitations.active_call_limit"},
		{"negative external limit", dom(func(d *Domain) { d.Limitations.ExternalCallLimit = -2 }), "limitations.external_call_limit"},
		{"negative cap", dom(func(d *Domain) { d.Limitations.MaxQueues = FeatureCap{Limit: -1} }), "limitations.max_queues"},
		{"disabled cap", dom(func(d *Domain) { d.Limitations.MaxUsers = Disabled }), ""},
		{"negative quota", dom(func(d *Domain) { d.RecordingQuota.MaxMinutes = -1 }), "recording_quota.max_minutes"},
		{"negative retention", dom(func(d *Domain) { d.RecordingQuota.RetentionDays = -1 }), "recording_quota.retention_days"},
	})
}

func TestDomainDefaults(t *testing.T) {
	d := dom(nil)
	d.ApplyDefaults()
	want := DomainDefaults{DialPermission: "international", Language: "en", Timezone: "UTC", AreaCode: "000", TTSLanguage: "en"}
	if !reflect.DeepEqual(d.Defaults, want) {
		t.Fatalf("defaults = %+v, want %+v", d.Defaults, want)
	}
	if d.Status != StatusActive || !reflect.DeepEqual(d.DigestAlgorithms, []string{"MD5", "SHA-256"}) {
		t.Fatalf("status %q algorithms %v", d.Status, d.DigestAlgorithms)
	}
	if d.AllowCrossDomainDialling {
		t.Fatal("cross-domain dialling must default to off")
	}
	if got := d.EffectiveNoAnswerTimeout().Seconds(); got != 60 {
		t.Fatalf("effective no-answer timeout = %v", got)
	}
	b, _ := json.Marshal(d)
	if !strings.Contains(string(b), `"comment":null`) {
		t.Fatalf("comment must marshal as null when omitted: %s", b)
	}
}

func TestFeatureCapJSON(t *testing.T) {
	cases := []struct {
		name, in string
		want     FeatureCap
		out      string
		bad      bool
	}{
		{"number", `5`, FeatureCap{Limit: 5}, `5`, false},
		{"zero", `0`, FeatureCap{}, `0`, false},
		{"disabled", `"disabled"`, Disabled, `"disabled"`, false},
		{"unlimited", `"unlimited"`, FeatureCap{}, `0`, false},
		{"null", `null`, FeatureCap{}, `0`, false},
		{"junk string", `"lots"`, FeatureCap{}, ``, true},
		{"float", `1.5`, FeatureCap{}, ``, true},
		{"object", `{}`, FeatureCap{}, ``, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c FeatureCap
			err := json.Unmarshal([]byte(tc.in), &c)
			if tc.bad {
				if err == nil {
					t.Fatalf("want error for %s", tc.in)
				}
				return
			}
			if err != nil || c != tc.want {
				t.Fatalf("got %+v, %v", c, err)
			}
			b, _ := json.Marshal(c)
			if string(b) != tc.out {
				t.Fatalf("marshal = %s, want %s", b, tc.out)
			}
		})
	}
	if !(FeatureCap{}).Allows(1000) || (FeatureCap{Limit: 2}).Allows(2) || !(FeatureCap{Limit: 2}).Allows(1) || Disabled.Allows(0) {
		t.Fatal("Allows gives wrong answers")
	}
}

func TestSubresourceValidate(t *testing.T) {
	runValidate(t, []vcase{
		{"alias hostname", &DomainAlias{DomainID: 1, Name: "sip.acme.example"}, ""},
		{"alias ip", &DomainAlias{DomainID: 1, Name: "192.0.2.10"}, ""},
		{"alias missing domain", &DomainAlias{Name: "x.example"}, "domain_id"},
		{"alias missing name", &DomainAlias{DomainID: 1}, "name"},
		{"alias bad name", &DomainAlias{DomainID: 1, Name: "bad name!"}, "name"},
		{"force src ok", &ForceSource{DomainID: 1, IP: "2001:db8::1"}, ""},
		{"force src missing", &ForceSource{DomainID: 1}, "ip"},
		{"force src bad", &ForceSource{DomainID: 1, IP: "300.1.1.1"}, "ip"},
		{"force src cidr", &ForceSource{DomainID: 1, IP: "10.0.0.0/8"}, "ip"},
		{"force dst ok", &ForceDestination{DomainID: 1, IP: "198.51.100.7"}, ""},
		{"force dst bad", &ForceDestination{DomainID: 1, IP: "host.example"}, "ip"},
		{"force dst missing domain", &ForceDestination{IP: "198.51.100.7"}, "domain_id"},
	})
}

func cust(mut func(*Customer)) *Customer {
	c := &Customer{DomainID: 2, Name: "Acme", ClientPrefix: "001"}
	if mut != nil {
		mut(c)
	}
	return c
}

func TestCustomerValidate(t *testing.T) {
	runValidate(t, []vcase{
		{"minimal", cust(nil), ""},
		{"missing name", cust(func(c *Customer) { c.Name = " " }), "name"},
		{"missing prefix", cust(func(c *Customer) { c.ClientPrefix = "" }), "client_prefix"},
		{"alpha prefix", cust(func(c *Customer) { c.ClientPrefix = "0a1" }), "client_prefix"},
		{"long prefix", cust(func(c *Customer) { c.ClientPrefix = "12345678901" }), "client_prefix"},
		{"bad ui language", cust(func(c *Customer) { c.UILanguage = "??" }), "ui_language"},
		{"negative capacity", cust(func(c *Customer) { c.CapacityLimit = -1 }), "capacity_limit"},
		{"negative account limit", cust(func(c *Customer) { c.SIPAccountLimit = -1 }), "sip_account_limit"},
		{"bad status", cust(func(c *Customer) { c.Status = "gone" }), "status"},
		{"contact ok", cust(func(c *Customer) { c.Contacts = []Contact{{Name: "Ann", LoginEmail: "ann@acme.example"}} }), ""},
		{"contact bad email", cust(func(c *Customer) { c.Contacts = []Contact{{Name: "Ann", LoginEmail: "ann"}} }), "contacts[0].login_email"},
		{"contact no name", cust(func(c *Customer) { c.Contacts = []Contact{{LoginEmail: "a@b.example"}} }), "contacts[0].name"},
		{"blocks ok", cust(func(c *Customer) { c.InternalNumberBlocks = []NumberBlock{{"100", "199"}, {"200", "299"}} }), ""},
		{"block reversed", cust(func(c *Customer) { c.InternalNumberBlocks = []NumberBlock{{"199", "100"}} }), "internal_number_blocks[0].to"},
		{"block lengths", cust(func(c *Customer) { c.InternalNumberBlocks = []NumberBlock{{"10", "199"}} }), "internal_number_blocks[0].to"},
		{"block alpha", cust(func(c *Customer) { c.InternalNumberBlocks = []NumberBlock{{"1a0", "199"}} }), "internal_number_blocks[0].from"},
		{"blocks overlap", cust(func(c *Customer) { c.InternalNumberBlocks = []NumberBlock{{"100", "199"}, {"150", "250"}} }), "internal_number_blocks[1]"},
	})
	c := cust(nil)
	c.ApplyDefaults()
	if c.UILanguage != "en" || c.Status != StatusActive || c.CapacityLimit != 0 || c.SIPAccountLimit != 0 {
		t.Fatalf("customer defaults: %+v", c)
	}
}

func acct(mut func(*SIPAccount)) *SIPAccount {
	a := &SIPAccount{DomainID: 2, CustomerID: 3, Username: "100", Password: "longenough"}
	if mut != nil {
		mut(a)
	}
	return a
}

func TestSIPAccountValidate(t *testing.T) {
	runValidate(t, []vcase{
		{"minimal", acct(nil), ""},
		{"no password passes validate", acct(func(a *SIPAccount) { a.Password = "" }), ""},
		{"missing customer", acct(func(a *SIPAccount) { a.CustomerID = 0 }), "customer_id"},
		{"missing username", acct(func(a *SIPAccount) { a.Username = "" }), "username"},
		{"bad username", acct(func(a *SIPAccount) { a.Username = "1*00" }), "username"},
		{"long username", acct(func(a *SIPAccount) { a.Username = strings.Repeat("1", 33) }), "username"},
		{"short password", acct(func(a *SIPAccount) { a.Password = "short" }), "password"},
		{"bad external cid", acct(func(a *SIPAccount) { a.ExternalCallerID = "abc" }), "external_caller_id"},
		{"bad emergency cid", acct(func(a *SIPAccount) { a.EmergencyCallerID = "999x" }), "emergency_caller_id"},
		{"bad internal cid", acct(func(a *SIPAccount) { a.InternalCallerID = "a b" }), "internal_caller_id"},
	})
	a := acct(nil)
	a.ApplyDefaults()
	if a.InternalCallerID != "100" || a.AllowOutbound {
		t.Fatalf("account defaults: %+v", a)
	}
}

func TestNumberValidate(t *testing.T) {
	runValidate(t, []vcase{
		{"ok", &Number{DomainID: 2, Number: "+442071234567", CustomerID: 3}, ""},
		{"missing number", &Number{DomainID: 2, CustomerID: 3}, "number"},
		{"bad number", &Number{DomainID: 2, Number: "44-20", CustomerID: 3}, "number"},
		{"missing customer", &Number{DomainID: 2, Number: "4420"}, "customer_id"},
		{"bad destination", &Number{DomainID: 2, Number: "4420", CustomerID: 3, Destination: "a b"}, "destination"},
	})
	n := &Number{}
	n.ApplyDefaults()
	if !n.Enabled() || n.Enable == nil || !*n.Enable {
		t.Fatal("number must default to enabled")
	}
	f := false
	n.Enable = &f
	n.ApplyDefaults()
	if n.Enabled() {
		t.Fatal("explicit enable=false must be kept")
	}
}

func TestTrunkGatewayRouteValidate(t *testing.T) {
	trunk := func(mut func(*IncomingTrunk)) *IncomingTrunk {
		tr := &IncomingTrunk{DomainID: 2, CustomerID: 3, Name: "carrier"}
		if mut != nil {
			mut(tr)
		}
		return tr
	}
	gw := func(mut func(*TerminationGateway)) *TerminationGateway {
		g := &TerminationGateway{DomainID: 2, CustomerID: 3, Name: "gw", Host: "gw.carrier.example"}
		if mut != nil {
			mut(g)
		}
		return g
	}
	rt := func(mut func(*TerminationRoute)) *TerminationRoute {
		r := &TerminationRoute{DomainID: 2, CustomerID: 3, GatewayID: 4}
		if mut != nil {
			mut(r)
		}
		return r
	}
	runValidate(t, []vcase{
		{"trunk ok", trunk(func(tr *IncomingTrunk) { tr.SourceIPs = []string{"192.0.2.1", "198.51.100.0/24"} }), ""},
		{"trunk missing name", trunk(func(tr *IncomingTrunk) { tr.Name = "" }), "name"},
		{"trunk missing customer", trunk(func(tr *IncomingTrunk) { tr.CustomerID = 0 }), "customer_id"},
		{"trunk bad domain", trunk(func(tr *IncomingTrunk) { tr.Domain = "-bad-" }), "domain"},
		{"trunk bad codec", trunk(func(tr *IncomingTrunk) { tr.Codecs = []string{"AMR"} }), "codecs[0]"},
		{"trunk dup codec", trunk(func(tr *IncomingTrunk) { tr.Codecs = []string{"PCMU", "PCMU"} }), "codecs[1]"},
		{"trunk bad transport", trunk(func(tr *IncomingTrunk) { tr.Transport = "SCTP" }), "transport"},
		{"trunk bad dest field", trunk(func(tr *IncomingTrunk) { tr.DestinationField = "FROM" }), "destination_field"},
		{"trunk bad source", trunk(func(tr *IncomingTrunk) { tr.SourceIPs = []string{"nope"} }), "source_ips[0]"},
		{"trunk password without user", trunk(func(tr *IncomingTrunk) { tr.AuthPassword = "password1" }), "auth_username"},
		{"trunk bad auth user", trunk(func(tr *IncomingTrunk) { tr.AuthUsername = "a:b" }), "auth_username"},
		{"gw ok", gw(nil), ""},
		{"gw ip host", gw(func(g *TerminationGateway) { g.Host = "203.0.113.5" }), ""},
		{"gw missing host", gw(func(g *TerminationGateway) { g.Host = "" }), "host"},
		{"gw bad host", gw(func(g *TerminationGateway) { g.Host = "bad host" }), "host"},
		{"gw bad port", gw(func(g *TerminationGateway) { g.Port = 70000 }), "port"},
		{"gw bad protocol", gw(func(g *TerminationGateway) { g.NetworkProtocol = "IPv5" }), "network_protocol"},
		{"gw bad regexp", gw(func(g *TerminationGateway) { g.DstRewriteRule = "^(44" }), "dst_rewrite_rule"},
		{"gw result without rule", gw(func(g *TerminationGateway) { g.SrcRewriteResult = "$1" }), "src_rewrite_rule"},
		{"gw rewrite ok", gw(func(g *TerminationGateway) { g.DstRewriteRule = `^0(\d+)$`; g.DstRewriteResult = "44$1" }), ""},
		{"gw short password", gw(func(g *TerminationGateway) { g.AuthName = "u"; g.AuthPassword = "x" }), "auth_password"},
		{"route ok", rt(func(r *TerminationRoute) { r.DstPrefix = "+44"; r.Priority = 5 }), ""},
		{"route missing gateway", rt(func(r *TerminationRoute) { r.GatewayID = 0 }), "gateway_id"},
		{"route bad prefix", rt(func(r *TerminationRoute) { r.SrcPrefix = "4x" }), "src_prefix"},
		{"route bad regexp", rt(func(r *TerminationRoute) { r.SrcRewriteRule = "[" }), "src_rewrite_rule"},
		{"route negative priority", rt(func(r *TerminationRoute) { r.Priority = -1 }), "priority"},
	})
	tr := trunk(nil)
	tr.ApplyDefaults()
	if !reflect.DeepEqual(tr.Codecs, []string{"PCMU", "PCMA"}) || tr.Transport != "UDP" || tr.DestinationField != "RURI_USERPART" {
		t.Fatalf("trunk defaults: %+v", tr)
	}
	g := gw(nil)
	g.ApplyDefaults()
	if g.Port != 5060 || g.NetworkProtocol != "IPv4_only" || g.Transport != "UDP" {
		t.Fatalf("gateway defaults: %+v", g)
	}
}

func TestAccessValidate(t *testing.T) {
	runValidate(t, []vcase{
		{"esl ok", &ESLUser{DomainID: 2, Username: "ops", Password: "password1", AllowedEvents: []string{"CHANNEL_CREATE"}}, ""},
		{"esl missing user", &ESLUser{DomainID: 2}, "username"},
		{"esl bad user", &ESLUser{DomainID: 2, Username: "a b"}, "username"},
		{"esl short password", &ESLUser{DomainID: 2, Username: "ops", Password: "x"}, "password"},
		{"esl bad event", &ESLUser{DomainID: 2, Username: "ops", AllowedEvents: []string{"BAD EVENT"}}, "allowed_events[0]"},
		{"esl dup api", &ESLUser{DomainID: 2, Username: "ops", AllowedAPI: []string{"status", "status"}}, "allowed_api[1]"},
		{"token operator", &APIToken{Name: "root", Role: RoleOperator}, ""},
		{"token missing name", &APIToken{Role: RoleOperator}, "name"},
		{"token bad role", &APIToken{Name: "x", Role: "admin"}, "role"},
		{"token operator with domain", &APIToken{Name: "x", Role: RoleOperator, DomainID: 2}, "domain_id"},
		{"token domain admin", &APIToken{Name: "x", Role: RoleDomainAdmin, DomainID: 2}, ""},
		{"token domain admin no domain", &APIToken{Name: "x", Role: RoleDomainAdmin}, "domain_id"},
		{"token customer no customer", &APIToken{Name: "x", Role: RoleCustomer, DomainID: 2}, "customer_id"},
		{"token short secret", &APIToken{Name: "x", Role: RoleOperator, Token: "short"}, "token"},
		{"token space in secret", &APIToken{Name: "x", Role: RoleOperator, Token: "with space in the token"}, "token"},
	})
}

func TestNewRecordAndKinds(t *testing.T) {
	for _, k := range Kinds() {
		r, err := NewRecord(k)
		if err != nil || r.Kind() != k {
			t.Fatalf("NewRecord(%s) = %v, %v", k, r, err)
		}
	}
	if _, err := NewRecord("nope"); err == nil {
		t.Fatal("unknown kind must fail")
	}
}
