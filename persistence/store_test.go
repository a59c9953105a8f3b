package persistence

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/switchyard/switchyard/switch/auth"
)

func TestCRUDRoundTrip(t *testing.T) {
	s := openTest(t, "")
	d, c := fixture(t, s, "acme", "11111")
	if d.ID != 1 || c.ID != 1 {
		t.Fatalf("ids from per-kind sequences: domain %d customer %d", d.ID, c.ID)
	}
	got, err := Get[*Domain](s, d.ID)
	if err != nil || got.Name != "acme" || got.Defaults.Timezone != "UTC" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	a := mustCreate(t, s, account(d, c, "100"))
	if a.Password != "" {
		t.Fatal("password returned by Create")
	}
	if a.ExternalCallerID != "+441234567890" || a.EmergencyCallerID != "+441234567890" || a.EmergencyCallerName != "Reception" || a.InternalCallerID != "100" {
		t.Fatalf("account defaults from domain: %+v", a)
	}
	sec, err := s.GetSIPSecret(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sec.Username != "001*100" || sec.Realm != "acme" ||
		sec.HA1MD5 != auth.HA1(auth.MD5, "001*100", "acme", "secret-pass-1") ||
		sec.HA1SHA256 != auth.HA1(auth.SHA256, "001*100", "acme", "secret-pass-1") {
		t.Fatalf("secret = %+v", sec)
	}
	list, err := List[*SIPAccount](s, d.ID)
	if err != nil || len(list) != 1 || list[0].Password != "" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if _, err := Get[*Domain](s, 99); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing id: %v", err)
	}
	if _, err := Get[Record](s, 1); err == nil {
		t.Fatal("interface type parameter must be rejected")
	}
	if _, err := Create[*Domain](s, nil, op); err == nil {
		t.Fatal("nil record must be rejected")
	}

	// Update: new password recomputes HA1; omitted password keeps it.
	a.CallerIDName = "Front desk"
	a.Password = "another-pass"
	if _, err := Update(s, a, op); err != nil {
		t.Fatal(err)
	}
	sec2, _ := s.GetSIPSecret(a.ID)
	if sec2.HA1MD5 != auth.HA1(auth.MD5, "001*100", "acme", "another-pass") {
		t.Fatal("password update did not recompute HA1")
	}
	a.Password = ""
	a.CallerIDName = "Desk"
	if _, err := Update(s, a, op); err != nil {
		t.Fatal(err)
	}
	if sec3, _ := s.GetSIPSecret(a.ID); sec3 != sec2 {
		t.Fatal("update without password changed the secret")
	}

	if _, err := Delete[*SIPAccount](s, a.ID, op); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSIPSecret(a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("secret after delete: %v", err)
	}
	if _, err := Delete[*SIPAccount](s, a.ID, op); !errors.Is(err, ErrNotFound) {
		t.Fatalf("double delete: %v", err)
	}
}

func TestUniqueness(t *testing.T) {
	s := openTest(t, "")
	d1, c1 := fixture(t, s, "acme", "11111")
	d2, c2 := fixture(t, s, "globex", "22222") // same client_prefix 001 in another domain is fine
	mustCreate(t, s, &DomainAlias{DomainID: d1.ID, Name: "sip.acme.example"})
	mustCreate(t, s, &ForceSource{DomainID: d1.ID, IP: "192.0.2.1"})
	mustCreate(t, s, &ForceDestination{DomainID: d1.ID, IP: "192.0.2.2"})
	mustCreate(t, s, account(d1, c1, "100"))
	mustCreate(t, s, &Number{DomainID: d1.ID, CustomerID: c1.ID, Number: "+442071234567"})
	mustCreate(t, s, &ESLUser{DomainID: d1.ID, Username: "ops", Password: "password1"})

	cases := []struct {
		name  string
		rec   Record
		field string
	}{
		{"domain name", newDomain("acme", "33333"), "name"},
		{"domain name case-insensitive", newDomain("ACME", "33333"), "name"},
		{"domain prefix", newDomain("initech", "11111"), "domain_prefix"},
		{"domain name equals alias", newDomain("sip.acme.example", "33333"), "name"},
		{"alias in other domain", &DomainAlias{DomainID: d2.ID, Name: "sip.acme.example"}, "name"},
		{"alias equals domain name", &DomainAlias{DomainID: d2.ID, Name: "acme"}, "name"},
		{"force src other domain", &ForceSource{DomainID: d2.ID, IP: "192.0.2.1"}, "ip"},
		{"force dst other domain", &ForceDestination{DomainID: d2.ID, IP: "192.0.2.2"}, "ip"},
		{"client prefix in domain", &Customer{DomainID: d1.ID, Name: "Dup", ClientPrefix: "001"}, "client_prefix"},
		{"username per customer", account(d1, c1, "100"), "username"},
		{"number platform-wide", &Number{DomainID: d1.ID, CustomerID: c1.ID, Number: "+442071234567"}, "number"},
		{"esl username per domain", &ESLUser{DomainID: d1.ID, Username: "ops", Password: "password1"}, "username"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := checksum(t, s)
			var err error
			switch r := tc.rec.(type) {
			case *Domain:
				_, err = Create(s, r, op)
			case *DomainAlias:
				_, err = Create(s, r, op)
			case *ForceSource:
				_, err = Create(s, r, op)
			case *ForceDestination:
				_, err = Create(s, r, op)
			case *Customer:
				_, err = Create(s, r, op)
			case *SIPAccount:
				_, err = Create(s, r, op)
			case *Number:
				_, err = Create(s, r, op)
			case *ESLUser:
				_, err = Create(s, r, op)
			}
			wantConflict(t, err, tc.field)
			if after := checksum(t, s); after != before {
				t.Fatal("failed create changed the store")
			}
		})
	}
	// The same username under another customer and ESL username in another domain are fine.
	mustCreate(t, s, account(d2, c2, "100"))
	mustCreate(t, s, &ESLUser{DomainID: d2.ID, Username: "ops", Password: "password1"})
}

func TestImmutables(t *testing.T) {
	s := openTest(t, "")
	d := newDomain("acme", "11111")
	d.DomainSuffix = "resellerA"
	d = mustCreate(t, s, d)
	c := mustCreate(t, s, &Customer{DomainID: d.ID, Name: "Acme", ClientPrefix: "001"})
	c2 := mustCreate(t, s, &Customer{DomainID: d.ID, Name: "Other", ClientPrefix: "002"})
	a := mustCreate(t, s, account(d, c, "100"))

	cases := []struct {
		name  string
		do    func() error
		field string
	}{
		{"domain name", func() error { x := *d; x.Name = "renamed"; _, err := Update(s, &x, op); return err }, "name"},
		{"domain suffix", func() error { x := *d; x.DomainSuffix = "other"; _, err := Update(s, &x, op); return err }, "domain_suffix"},
		{"client prefix", func() error { x := *c; x.ClientPrefix = "009"; _, err := Update(s, &x, op); return err }, "client_prefix"},
		{"account username", func() error { x := *a; x.Username = "101"; _, err := Update(s, &x, op); return err }, "username"},
		{"account customer", func() error { x := *a; x.CustomerID = c2.ID; _, err := Update(s, &x, op); return err }, "customer_id"},
		{"account domain", func() error { x := *a; x.DomainID = 77; _, err := Update(s, &x, op); return err }, "domain_id"},
		{"update without id", func() error { x := *a; x.ID = 0; _, err := Update(s, &x, op); return err }, "id"},
		{"invalid update", func() error { x := *d; x.Status = "weird"; _, err := Update(s, &x, op); return err }, "status"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := checksum(t, s)
			wantField(t, tc.do(), tc.field, "")
			if checksum(t, s) != before {
				t.Fatal("failed update changed the store")
			}
		})
	}
	t.Run("omitted immutables are kept", func(t *testing.T) {
		x := Domain{ID: d.ID, DomainPrefix: "22222", Management: true}
		got, err := Update(s, &x, op)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "acme" || got.DomainSuffix != "resellerA" || got.DomainPrefix != "22222" || got.Management {
			t.Fatalf("update result %+v", got)
		}
	})
	t.Run("update of unknown id", func(t *testing.T) {
		x := *c
		x.ID = 999
		if _, err := Update(s, &x, op); !errors.Is(err, ErrNotFound) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestLimits(t *testing.T) {
	s := openTest(t, "")
	d := newDomain("acme", "11111")
	d.Limitations.MaxUsers = FeatureCap{Limit: 3}
	d.Limitations.MaxNumbers = Disabled
	d.Limitations.MaxTerminationGateways = FeatureCap{Limit: 1}
	d = mustCreate(t, s, d)
	c := mustCreate(t, s, &Customer{DomainID: d.ID, Name: "A", ClientPrefix: "001", SIPAccountLimit: 2})
	c2 := mustCreate(t, s, &Customer{DomainID: d.ID, Name: "B", ClientPrefix: "002"})
	mustCreate(t, s, account(d, c, "100"))
	mustCreate(t, s, account(d, c, "101"))

	before := checksum(t, s)
	_, err := Create(s, account(d, c, "102"), op)
	wantLimit(t, err, "sip_account_limit")
	mustCreate(t, s, account(d, c2, "100"))
	_, err = Create(s, account(d, c2, "101"), op)
	wantLimit(t, err, "limitations.max_users")
	_, err = Create(s, &Number{DomainID: d.ID, CustomerID: c.ID, Number: "4420"}, op)
	wantLimit(t, err, "limitations.max_numbers")
	mustCreate(t, s, &TerminationGateway{DomainID: d.ID, CustomerID: c.ID, Name: "gw", Host: "gw.example"})
	_, err = Create(s, &TerminationGateway{DomainID: d.ID, CustomerID: c.ID, Name: "gw2", Host: "gw2.example"}, op)
	wantLimit(t, err, "limitations.max_termination_gateways")
	if before == checksum(t, s) {
		t.Fatal("sanity: the successful creates should have changed the store")
	}
}

func TestReferencesAndManagement(t *testing.T) {
	s := openTest(t, "")
	created, err := s.Bootstrap()
	if err != nil || !created {
		t.Fatalf("Bootstrap = %v, %v", created, err)
	}
	again, err := s.Bootstrap()
	if err != nil || again {
		t.Fatalf("second Bootstrap = %v, %v", again, err)
	}
	m, err := Get[*Domain](s, 1)
	if err != nil || !m.Management || m.Name != "management" || m.DomainPrefix != "00000" || m.Comment == nil || *m.Comment != "reserved for management" {
		t.Fatalf("management domain = %+v, %v", m, err)
	}
	d, c := fixture(t, s, "acme", "11111")
	other, oc := fixture(t, s, "globex", "22222")

	cases := []struct {
		name  string
		do    func() error
		field string
	}{
		{"customer in management", func() error {
			_, err := Create(s, &Customer{DomainID: 1, Name: "x", ClientPrefix: "1"}, op)
			return err
		}, "domain_id"},
		{"delete management", func() error { _, err := Delete[*Domain](s, 1, op); return err }, "management"},
		{"unknown domain", func() error {
			_, err := Create(s, &Customer{DomainID: 99, Name: "x", ClientPrefix: "1"}, op)
			return err
		}, "domain_id"},
		{"customer of other domain", func() error { _, err := Create(s, account(d, oc, "100"), op); return err }, "customer_id"},
		{"account without password", func() error {
			a := account(d, c, "100")
			a.Password = ""
			_, err := Create(s, a, op)
			return err
		}, "password"},
		{"route to gateway of other domain", func() error {
			g := mustCreate(t, s, &TerminationGateway{DomainID: other.ID, CustomerID: oc.ID, Name: "gw", Host: "gw.example"})
			_, err := Create(s, &TerminationRoute{DomainID: d.ID, CustomerID: c.ID, GatewayID: g.ID}, op)
			return err
		}, "gateway_id"},
		{"number to unknown extension", func() error {
			_, err := Create(s, &Number{DomainID: d.ID, CustomerID: c.ID, Number: "4420", Destination: "555"}, op)
			return err
		}, "destination"},
		{"trunk user without password", func() error {
			_, err := Create(s, &IncomingTrunk{DomainID: d.ID, CustomerID: c.ID, Name: "t", AuthUsername: "carrier"}, op)
			return err
		}, "auth_password"},
		{"customer token of unknown customer", func() error {
			_, err := Create(s, &APIToken{Name: "t", Role: RoleCustomer, DomainID: d.ID, CustomerID: 999, Token: strings.Repeat("k", 20)}, op)
			return err
		}, "customer_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantField(t, tc.do(), tc.field, "")
		})
	}
	t.Run("route name defaults to gateway", func(t *testing.T) {
		g := mustCreate(t, s, &TerminationGateway{DomainID: d.ID, CustomerID: c.ID, Name: "carrier-gw", Host: "gw.example", AuthName: "u", AuthPassword: "gwpassword"})
		r := mustCreate(t, s, &TerminationRoute{DomainID: d.ID, CustomerID: c.ID, GatewayID: g.ID})
		if r.Name != "carrier-gw" {
			t.Fatalf("route name %q", r.Name)
		}
		if pw, err := s.GetGatewaySecret(g.ID); err != nil || pw != "gwpassword" {
			t.Fatalf("gateway secret %q, %v", pw, err)
		}
		if g.AuthPassword != "" {
			t.Fatal("gateway password returned")
		}
		_, err := Delete[*TerminationGateway](s, g.ID, op)
		wantConflict(t, err, "termination_route")
	})
	t.Run("customer with accounts", func(t *testing.T) {
		mustCreate(t, s, account(d, c, "200"))
		before := checksum(t, s)
		_, err := Delete[*Customer](s, c.ID, op)
		wantConflict(t, err, "sip_account")
		if checksum(t, s) != before {
			t.Fatal("failed delete changed the store")
		}
	})
}

func TestCascadeDelete(t *testing.T) {
	s := openTest(t, "")
	d, c := fixture(t, s, "acme", "11111")
	keep, kc := fixture(t, s, "globex", "22222")
	a := mustCreate(t, s, account(d, c, "100"))
	mustCreate(t, s, &DomainAlias{DomainID: d.ID, Name: "alias.acme.example"})
	mustCreate(t, s, &ForceSource{DomainID: d.ID, IP: "192.0.2.1"})
	mustCreate(t, s, &Number{DomainID: d.ID, CustomerID: c.ID, Number: "4420", Destination: "100"})
	mustCreate(t, s, &IncomingTrunk{DomainID: d.ID, CustomerID: c.ID, Name: "t", AuthUsername: "u", AuthPassword: "trunkpass"})
	mustCreate(t, s, &ESLUser{DomainID: d.ID, Username: "ops", Password: "password1"})
	_, tok, err := s.CreateToken(APIToken{Name: "admin", Role: RoleDomainAdmin, DomainID: d.ID}, op)
	if err != nil {
		t.Fatal(err)
	}
	ka := mustCreate(t, s, account(keep, kc, "100"))
	if err := s.PutBinding(Binding{DomainID: d.ID, AccountID: a.ID, Contact: "sip:100@192.0.2.9", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendCDRs([]CDR{{UUID: "u1", DomainID: d.ID, Direction: DirectionInternal, Start: time.Now(), End: time.Now()}}); err != nil {
		t.Fatal(err)
	}

	if _, err := Delete[*Domain](s, d.ID, op); err != nil {
		t.Fatal(err)
	}
	if l, _ := List[*SIPAccount](s, 0); len(l) != 1 || l[0].ID != ka.ID {
		t.Fatalf("accounts left: %+v", l)
	}
	if l, _ := List[*Number](s, 0); len(l) != 0 {
		t.Fatalf("numbers left: %+v", l)
	}
	if l, _ := List[*APIToken](s, 0); len(l) != 0 {
		t.Fatalf("tokens left: %+v (deleted %d)", l, tok.ID)
	}
	if b, _ := s.AllBindings(); len(b) != 0 {
		t.Fatalf("bindings left: %+v", b)
	}
	if _, err := s.GetSIPSecret(a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatal("secret survived cascade")
	}
	// Names and values are free again.
	fixture(t, s, "acme", "11111")
	mustCreate(t, s, &DomainAlias{DomainID: keep.ID, Name: "alias.acme.example"})
	if cdrs, _, _ := s.ListCDRs(d.ID, time.Time{}, time.Time{}, "", 10); len(cdrs) != 1 {
		t.Fatal("CDRs must survive a domain delete")
	}
	if audit, _ := s.ListAudit(d.ID, time.Time{}, time.Time{}, 1000); len(audit) == 0 {
		t.Fatal("audit must survive a domain delete")
	}
}

func TestRestartKeepsDataAndSequences(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Small: true, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	d, c := fixture(t, s, "acme", "11111")
	a := mustCreate(t, s, account(d, c, "100"))
	g := mustCreate(t, s, &TerminationGateway{DomainID: d.ID, CustomerID: c.ID, Name: "gw", Host: "gw.example", AuthName: "u", AuthPassword: "gwpassword"})
	plain, _, err := s.CreateToken(APIToken{Name: "root", Role: RoleOperator}, op)
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := s.GetSIPSecret(a.ID)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openTest(t, dir)
	got, err := Get[*SIPAccount](s2, a.ID)
	if err != nil || got.Username != "100" {
		t.Fatalf("after restart: %+v, %v", got, err)
	}
	if sec2, _ := s2.GetSIPSecret(a.ID); sec2 != sec {
		t.Fatal("SIP secret lost on restart")
	}
	if pw, _ := s2.GetGatewaySecret(g.ID); pw != "gwpassword" {
		t.Fatal("gateway secret lost on restart")
	}
	if _, ok := s2.LookupToken(plain); !ok {
		t.Fatal("token lost on restart")
	}
	d2 := mustCreate(t, s2, newDomain("globex", "22222"))
	if d2.ID != d.ID+1 {
		t.Fatalf("domain sequence did not continue: %d after %d", d2.ID, d.ID)
	}
	snap, err := s2.LoadAll()
	if err != nil || len(snap.Domains) != 2 || len(snap.SIPAccounts) != 1 || snap.SIPSecrets[a.ID] != sec || snap.GatewaySecrets[g.ID] != "gwpassword" {
		t.Fatalf("LoadAll = %+v, %v", snap, err)
	}
	dc, err := s2.LoadDomain(d.ID)
	if err != nil || dc.Domain.Name != "acme" || len(dc.Customers) != 1 || len(dc.Gateways) != 1 || len(dc.APITokens) != 0 {
		t.Fatalf("LoadDomain = %+v, %v", dc, err)
	}
	if _, err := s2.LoadDomain(99); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LoadDomain unknown: %v", err)
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	dir := t.TempDir()
	openTest(t, dir)
	_, err := Open(Options{Dir: dir, Small: true, Logger: zerolog.Nop()})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("want ErrLocked, got %v", err)
	}
	if !strings.Contains(err.Error(), "is locked by another switchyard process") {
		t.Fatalf("message: %v", err)
	}
	if _, err := Open(Options{}); err == nil {
		t.Fatal("Open without Dir must fail")
	}
}

func TestFailedWritesChangeNothing(t *testing.T) {
	s := openTest(t, "")
	d, c := fixture(t, s, "acme", "11111")
	d.Limitations.MaxUsers = FeatureCap{Limit: 1}
	if _, err := Update(s, d, op); err != nil {
		t.Fatal(err)
	}
	a := mustCreate(t, s, account(d, c, "100"))
	d2 := mustCreate(t, s, newDomain("globex", "22222"))
	g := mustCreate(t, s, &TerminationGateway{DomainID: d.ID, CustomerID: c.ID, Name: "gw", Host: "gw.example"})
	mustCreate(t, s, &TerminationRoute{DomainID: d.ID, CustomerID: c.ID, GatewayID: g.ID})
	cases := []struct {
		name string
		do   func() error
	}{
		{"invalid create", func() error { _, err := Create(s, newDomain("bad name", "33333"), op); return err }},
		{"conflicting create", func() error { _, err := Create(s, newDomain("x", "11111"), op); return err }},
		{"over limit create", func() error { _, err := Create(s, account(d, c, "101"), op); return err }},
		{"bad reference create", func() error {
			_, err := Create(s, &Number{DomainID: d.ID, CustomerID: 999, Number: "4420"}, op)
			return err
		}},
		{"immutable update", func() error { x := *a; x.Username = "999"; _, err := Update(s, &x, op); return err }},
		{"invalid update", func() error { x := *a; x.Password = "short"; _, err := Update(s, &x, op); return err }},
		{"conflicting update", func() error { x := *d2; x.DomainPrefix = "11111"; _, err := Update(s, &x, op); return err }},
		{"blocked delete", func() error { _, err := Delete[*TerminationGateway](s, g.ID, op); return err }},
		{"missing delete", func() error { _, err := Delete[*Customer](s, 999, op); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := checksum(t, s)
			if err := tc.do(); err == nil {
				t.Fatal("want an error")
			}
			if after := checksum(t, s); after != before {
				t.Fatal("failed write changed the store")
			}
		})
	}
}
