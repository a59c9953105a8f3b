package auth

import (
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestSigner(t testing.TB, clk *fakeClock, expiry time.Duration) *NonceSigner {
	t.Helper()
	s, err := NewNonceSigner(NonceConfig{Secret: []byte("0123456789abcdef0123456789abcdef"), Expiry: expiry, Now: clk.Now})
	if err != nil {
		t.Fatalf("NewNonceSigner: %v", err)
	}
	return s
}

func TestNewNonceSigner(t *testing.T) {
	tests := []struct {
		name    string
		cfg     NonceConfig
		wantErr bool
		expiry  time.Duration
	}{
		{name: "zero config uses random secret and default expiry", cfg: NonceConfig{}, expiry: DefaultNonceExpiry},
		{name: "custom expiry", cfg: NonceConfig{Expiry: 2 * time.Second}, expiry: 2 * time.Second},
		{name: "short secret rejected", cfg: NonceConfig{Secret: []byte("short")}, wantErr: true},
		{name: "negative expiry rejected", cfg: NonceConfig{Expiry: -time.Second}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewNonceSigner(tt.cfg)
			if tt.wantErr {
				if err == nil {
					t.Fatal("want error, got nil")
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if s.Expiry() != tt.expiry {
				t.Fatalf("expiry = %v, want %v", s.Expiry(), tt.expiry)
			}
		})
	}
}

func TestNonceCheck(t *testing.T) {
	clk := newFakeClock()
	s := newTestSigner(t, clk, 300*time.Second)
	good := s.Issue("acme.example")
	other, _ := NewNonceSigner(NonceConfig{Secret: []byte("another-secret-of-32-bytes-long!")})
	foreign := other.Issue("acme.example")

	raw, _ := base64.RawURLEncoding.DecodeString(good)
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-1] ^= 1
	tamperedTS := append([]byte(nil), raw...)
	tamperedTS[0] ^= 0x80

	tests := []struct {
		name  string
		nonce string
		realm string
		want  NonceState
	}{
		{name: "fresh", nonce: good, realm: "acme.example", want: NonceFresh},
		{name: "other realm (A4)", nonce: good, realm: "beta.example", want: NonceInvalid},
		{name: "realm case matters", nonce: good, realm: "ACME.example", want: NonceInvalid},
		{name: "other secret", nonce: foreign, realm: "acme.example", want: NonceInvalid},
		{name: "flipped MAC bit", nonce: base64.RawURLEncoding.EncodeToString(flipped), realm: "acme.example", want: NonceInvalid},
		{name: "tampered timestamp", nonce: base64.RawURLEncoding.EncodeToString(tamperedTS), realm: "acme.example", want: NonceInvalid},
		{name: "empty", nonce: "", realm: "acme.example", want: NonceInvalid},
		{name: "too short", nonce: good[:10], realm: "acme.example", want: NonceInvalid},
		{name: "too long", nonce: good + "A", realm: "acme.example", want: NonceInvalid},
		{name: "not base64", nonce: strings.Repeat("!", NonceLen), realm: "acme.example", want: NonceInvalid},
		{name: "padding appended", nonce: good[:NonceLen-1] + "=", realm: "acme.example", want: NonceInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := s.Check(tt.nonce, tt.realm)
			if got != tt.want {
				t.Fatalf("Check = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNonceExpiry(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration
		want    NonceState
	}{
		{name: "just issued", advance: 0, want: NonceFresh},
		{name: "at expiry", advance: 2 * time.Second, want: NonceFresh},
		{name: "past expiry", advance: 2*time.Second + time.Nanosecond, want: NonceExpired},
		{name: "long past", advance: time.Hour, want: NonceExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			s := newTestSigner(t, clk, 2*time.Second)
			n := s.Issue("r")
			issuedAt := clk.Now()
			clk.Advance(tt.advance)
			got, issued := s.Check(n, "r")
			if got != tt.want {
				t.Fatalf("Check = %v, want %v", got, tt.want)
			}
			if !issued.Equal(issuedAt) {
				t.Fatalf("issued = %v, want %v", issued, issuedAt)
			}
		})
	}
}

func TestNonceDistinct(t *testing.T) {
	clk := newFakeClock() // frozen clock: uniqueness must come from the random part
	s := newTestSigner(t, clk, 0)
	seen := make(map[string]bool, 1000)
	for i := 0; i < 1000; i++ {
		n := s.Issue("acme.example")
		if len(n) != NonceLen {
			t.Fatalf("nonce length %d, want %d", len(n), NonceLen)
		}
		if seen[n] {
			t.Fatalf("duplicate nonce after %d issues", i)
		}
		seen[n] = true
	}
}

func FuzzNonceCheck(f *testing.F) {
	clk := newFakeClock()
	s := newTestSigner(f, clk, 0)
	f.Add(s.Issue("acme.example"), "acme.example")
	f.Add("", "")
	f.Add(strings.Repeat("A", NonceLen), "x")
	f.Fuzz(func(t *testing.T, nonce, realm string) {
		st, _ := s.Check(nonce, realm)
		if st == NonceFresh && len(nonce) != NonceLen {
			t.Fatalf("accepted nonce of length %d", len(nonce))
		}
	})
}

func BenchmarkIssueNonce(b *testing.B) {
	s, err := NewNonceSigner(NonceConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Issue("acme.example")
	}
}
