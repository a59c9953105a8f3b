package resolve

import (
	"errors"
	"net/netip"
	"sync"
	"testing"
)

// Four domains; each conflict test adds a fifth that claims something of another.
var baseDomains = []Domain{
	{ID: 1, Name: "acme.example", Aliases: []string{"192.0.2.10", "acme-alias.example"}, ForceSources: []string{"198.51.100.1"}, ForceDestinations: []string{"203.0.113.1"}},
	{ID: 2, Name: "Beta.Example", Aliases: []string{"2001:db8::10"}, ForceSources: []string{"2001:db8:1::1"}, ForceDestinations: []string{"2001:db8:2::1"}},
	{ID: 3, Name: "gamma", ForceSources: []string{"198.51.100.3"}},
	{ID: 4, Name: "delta", ForceDestinations: []string{"203.0.113.4"}},
}

func mustSnapshot(t testing.TB, ds []Domain) *Snapshot {
	t.Helper()
	s, err := NewSnapshot(ds)
	if err != nil {
		t.Fatalf("NewSnapshot: %v", err)
	}
	return s
}

var noSrc = netip.MustParseAddr("127.0.0.99")

func TestResolveSteps(t *testing.T) {
	s := mustSnapshot(t, baseDomains)
	tests := []struct {
		name   string
		host   string
		src    netip.Addr
		wantID int64
		step   Step
	}{
		// Step 1: domain name.
		{name: "step1 exact name", host: "acme.example", src: noSrc, wantID: 1, step: StepDomainName},
		{name: "step1 case-insensitive", host: "ACME.Example", src: noSrc, wantID: 1, step: StepDomainName},
		{name: "step1 mixed-case stored name", host: "beta.example", src: noSrc, wantID: 2, step: StepDomainName},
		{name: "step1 trailing dot", host: "acme.example.", src: noSrc, wantID: 1, step: StepDomainName},
		{name: "step1 name without dots", host: "gamma", src: noSrc, wantID: 3, step: StepDomainName},
		// Step 2: alias.
		{name: "step2 IP alias", host: "192.0.2.10", src: noSrc, wantID: 1, step: StepAlias},
		{name: "step2 name alias case-insensitive", host: "ACME-ALIAS.example", src: noSrc, wantID: 1, step: StepAlias},
		{name: "step2 IPv6 alias in brackets", host: "[2001:db8::10]", src: noSrc, wantID: 2, step: StepAlias},
		{name: "step2 IPv6 alias non-canonical text", host: "2001:0db8:0:0::10", src: noSrc, wantID: 2, step: StepAlias},
		// Step 3: force source.
		{name: "step3 source IPv4", host: "unknown.example", src: netip.MustParseAddr("198.51.100.1"), wantID: 1, step: StepForceSource},
		{name: "step3 source IPv4-mapped", host: "10.9.9.9", src: netip.MustParseAddr("::ffff:198.51.100.3"), wantID: 3, step: StepForceSource},
		{name: "step3 source IPv6", host: "", src: netip.MustParseAddr("2001:db8:1::1"), wantID: 2, step: StepForceSource},
		// Step 4: force destination.
		{name: "step4 From host IPv4", host: "203.0.113.1", src: noSrc, wantID: 1, step: StepForceDestination},
		{name: "step4 From host IPv6 bracketed", host: "[2001:db8:2::1]", src: noSrc, wantID: 2, step: StepForceDestination},
		{name: "step4 From host mapped IPv4", host: "::ffff:203.0.113.4", src: noSrc, wantID: 4, step: StepForceDestination},
		// No match.
		{name: "no match unknown host", host: "evil.example", src: noSrc},
		{name: "no match empty host invalid src", host: "", src: netip.Addr{}},
		{name: "no match name as source only", host: "198.51.100.1", src: noSrc},
		{name: "no match force destination is not a source rule", host: "x", src: netip.MustParseAddr("203.0.113.1")},
		{name: "no match prefix of a name", host: "acme", src: noSrc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := s.Resolve(tt.host, tt.src)
			if tt.step == StepNone {
				if ok {
					t.Fatalf("matched %+v, want no match", m)
				}
				return
			}
			if !ok || m.DomainID != tt.wantID || m.Step != tt.step {
				t.Fatalf("got %+v ok=%v, want id %d step %v", m, ok, tt.wantID, tt.step)
			}
			if m.Domain != baseDomains[tt.wantID-1].Name {
				t.Fatalf("domain %q, want canonical %q", m.Domain, baseDomains[tt.wantID-1].Name)
			}
		})
	}
}

// TestResolveConflicts covers every pairwise conflict: a request satisfies step i for
// one domain and step j > i for another; step i must win.
func TestResolveConflicts(t *testing.T) {
	const host = "198.18.0.1" // an IP From host usable by every step
	src := netip.MustParseAddr("198.18.0.2")
	early := func(step Step) Domain {
		d := Domain{ID: 10, Name: "early.example"}
		switch step {
		case StepDomainName:
			d.Name = host // a name that is an IP literal string
		case StepAlias:
			d.Aliases = []string{host}
		case StepForceSource:
			d.ForceSources = []string{src.String()}
		}
		return d
	}
	late := func(step Step) Domain {
		d := Domain{ID: 20, Name: "late.example"}
		switch step {
		case StepAlias:
			d.Aliases = []string{host}
		case StepForceSource:
			d.ForceSources = []string{src.String()}
		case StepForceDestination:
			d.ForceDestinations = []string{host}
		}
		return d
	}
	steps := []Step{StepDomainName, StepAlias, StepForceSource, StepForceDestination}
	for i, a := range steps {
		for _, b := range steps[i+1:] {
			for _, order := range []string{"early first", "late first"} {
				t.Run(a.String()+"_beats_"+b.String()+"_"+order, func(t *testing.T) {
					ds := []Domain{early(a), late(b)}
					if order == "late first" {
						ds[0], ds[1] = ds[1], ds[0]
					}
					s := mustSnapshot(t, ds)
					m, ok := s.Resolve(host, src)
					if !ok || m.DomainID != 10 || m.Step != a {
						t.Fatalf("got %+v ok=%v, want domain 10 via %v", m, ok, a)
					}
				})
			}
		}
	}
}

func TestNewSnapshotInvalid(t *testing.T) {
	tests := []struct {
		name string
		ds   []Domain
	}{
		{name: "empty name", ds: []Domain{{ID: 1, Name: " "}}},
		{name: "duplicate name case-insensitive", ds: []Domain{{ID: 1, Name: "a"}, {ID: 2, Name: "A"}}},
		{name: "empty alias", ds: []Domain{{ID: 1, Name: "a", Aliases: []string{""}}}},
		{name: "duplicate alias across domains", ds: []Domain{{ID: 1, Name: "a", Aliases: []string{"x"}}, {ID: 2, Name: "b", Aliases: []string{"X"}}}},
		{name: "duplicate IP alias in different spelling", ds: []Domain{{ID: 1, Name: "a", Aliases: []string{"2001:db8::1"}}, {ID: 2, Name: "b", Aliases: []string{"[2001:0db8::0001]"}}}},
		{name: "force source not an IP", ds: []Domain{{ID: 1, Name: "a", ForceSources: []string{"host.example"}}}},
		{name: "force source CIDR", ds: []Domain{{ID: 1, Name: "a", ForceSources: []string{"10.0.0.0/8"}}}},
		{name: "force source zoned", ds: []Domain{{ID: 1, Name: "a", ForceSources: []string{"fe80::1%eth0"}}}},
		{name: "duplicate force source", ds: []Domain{{ID: 1, Name: "a", ForceSources: []string{"10.0.0.1"}}, {ID: 2, Name: "b", ForceSources: []string{"::ffff:10.0.0.1"}}}},
		{name: "force destination not an IP", ds: []Domain{{ID: 1, Name: "a", ForceDestinations: []string{"x"}}}},
		{name: "duplicate force destination", ds: []Domain{{ID: 1, Name: "a", ForceDestinations: []string{"10.0.0.1"}}, {ID: 2, Name: "b", ForceDestinations: []string{"10.0.0.1"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSnapshot(tt.ds)
			if !errors.Is(err, ErrInvalidConfig) || s != nil {
				t.Fatalf("got %v, %v; want ErrInvalidConfig and nil snapshot", s, err)
			}
		})
	}
}

func TestNilAndEmptySnapshot(t *testing.T) {
	var nilSnap *Snapshot
	if _, ok := nilSnap.Resolve("acme.example", noSrc); ok || nilSnap.Len() != 0 {
		t.Fatal("nil snapshot matched")
	}
	empty := mustSnapshot(t, nil)
	if _, ok := empty.Resolve("acme.example", noSrc); ok {
		t.Fatal("empty snapshot matched")
	}
}

func TestResolveConcurrent(t *testing.T) {
	s := mustSnapshot(t, baseDomains)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				if m, ok := s.Resolve("acme.example", noSrc); !ok || m.DomainID != 1 {
					t.Errorf("got %+v %v", m, ok)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestCheckIdentity(t *testing.T) {
	viaAlias := Match{DomainID: 1, Domain: "acme.example", Step: StepAlias}
	tests := []struct {
		name                  string
		m                     Match
		user, realm, fromUser string
		want                  error
	}{
		{name: "ok via name", m: Match{DomainID: 1, Domain: "acme.example", Step: StepDomainName}, user: "100", realm: "acme.example", fromUser: "100"},
		{name: "ok via alias uses the resolved name", m: viaAlias, user: "100", realm: "acme.example", fromUser: "100"},
		{name: "realm case-insensitive", m: viaAlias, user: "100", realm: "ACME.example", fromUser: "100"},
		{name: "realm is the literal alias host", m: viaAlias, user: "100", realm: "192.0.2.10", fromUser: "100", want: ErrRealmMismatch},
		{name: "realm of another tenant (T2)", m: viaAlias, user: "100", realm: "beta.example", fromUser: "100", want: ErrRealmMismatch},
		{name: "username differs from From user (T2)", m: viaAlias, user: "100", realm: "acme.example", fromUser: "200", want: ErrUsernameMismatch},
		{name: "username case-sensitive", m: viaAlias, user: "Alice", realm: "acme.example", fromUser: "alice", want: ErrUsernameMismatch},
		{name: "empty username", m: viaAlias, user: "", realm: "acme.example", fromUser: "", want: ErrUsernameMismatch},
		{name: "no match", m: Match{}, user: "100", realm: "acme.example", fromUser: "100", want: ErrNoDomain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckIdentity(tt.m, tt.user, tt.realm, tt.fromUser)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzResolve(f *testing.F) {
	s := mustSnapshot(f, baseDomains)
	f.Add("acme.example", []byte{198, 51, 100, 1})
	f.Add("[2001:db8::10]", []byte{})
	f.Add("[", []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, host string, src []byte) {
		addr, _ := netip.AddrFromSlice(src)
		m, ok := s.Resolve(host, addr)
		if ok && (m.Step == StepNone || m.Domain == "") {
			t.Fatalf("inconsistent match %+v", m)
		}
	})
}

func BenchmarkResolve(b *testing.B) {
	s := mustSnapshot(b, baseDomains)
	src := netip.MustParseAddr("203.0.113.250")
	for b.Loop() {
		s.Resolve("203.0.113.4", src)
	}
}
