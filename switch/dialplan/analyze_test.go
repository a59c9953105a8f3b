package dialplan

import (
	"errors"
	"strings"
	"testing"
)

func testPlan(allowCross bool) Plan {
	return Plan{
		Domain:    Domain{Name: "acme.example", Prefix: "12345", AllowCrossDomain: allowCross},
		Customers: []Customer{{ID: 1, ClientPrefix: "001"}, {ID: 2, ClientPrefix: "002"}},
		OtherDomains: []Domain{
			{Name: "beta.example", Prefix: "54321", AllowCrossDomain: true},
			{Name: "closed.example", Prefix: "99999", AllowCrossDomain: false},
		},
	}
}

func TestAnalyze(t *testing.T) {
	me := Caller{CustomerPrefix: "001"}
	tests := []struct {
		name     string
		dialled  string
		caller   Caller
		plan     Plan
		want     Destination
		wantErr  error
		wantCode int
	}{
		{name: "bare extension own customer", dialled: "100", caller: me, plan: testPlan(false), want: Local{CustomerID: 1, CustomerPrefix: "001", Extension: "100"}},
		{name: "bare extension at max length", dialled: "123456", caller: me, plan: testPlan(false), want: Local{CustomerID: 1, CustomerPrefix: "001", Extension: "123456"}},
		{name: "bare extension one digit", dialled: "7", caller: me, plan: testPlan(false), want: Local{CustomerID: 1, CustomerPrefix: "001", Extension: "7"}},
		{name: "longer than max ext is external", dialled: "1234567", caller: me, plan: testPlan(false), want: External{Number: "1234567"}},
		{name: "custom max extension length", dialled: "1234", caller: me, plan: func() Plan { p := testPlan(false); p.MaxExtensionLen = 3; return p }(), want: External{Number: "1234"}},
		{name: "national number external", dialled: "02079460000", caller: me, plan: testPlan(false), want: External{Number: "02079460000"}},
		{name: "E.164 external", dialled: "+442079460000", caller: me, plan: testPlan(false), want: External{Number: "+442079460000"}},
		{name: "short E.164 still external", dialled: "+1", caller: me, plan: testPlan(false), want: External{Number: "+1"}},
		{name: "emergency 999 is external not an extension", dialled: "999", caller: me, plan: testPlan(false), want: External{Number: "999"}},
		{name: "emergency 112", dialled: "112", caller: me, plan: testPlan(false), want: External{Number: "112"}},
		{name: "custom emergency list frees 112", dialled: "112", caller: me, plan: func() Plan { p := testPlan(false); p.EmergencyNumbers = []string{"999"}; return p }(), want: Local{CustomerID: 1, CustomerPrefix: "001", Extension: "112"}},
		{name: "client prefix star extension", dialled: "002*100", caller: me, plan: testPlan(false), want: Local{CustomerID: 2, CustomerPrefix: "002", Extension: "100"}},
		{name: "own client prefix star extension", dialled: "001*100", caller: me, plan: testPlan(false), want: Local{CustomerID: 1, CustomerPrefix: "001", Extension: "100"}},
		{name: "unknown client prefix", dialled: "003*100", caller: me, plan: testPlan(false), wantErr: ErrUnknownCustomer, wantCode: 404},
		{name: "caller without customer", dialled: "100", caller: Caller{}, plan: testPlan(false), wantErr: ErrUnknownCustomer, wantCode: 404},
		{name: "caller with unknown customer", dialled: "100", caller: Caller{CustomerPrefix: "777"}, plan: testPlan(false), wantErr: ErrUnknownCustomer, wantCode: 404},
		{name: "own domain prefix resolves locally", dialled: "12345*002*100", caller: me, plan: testPlan(false), want: Local{CustomerID: 2, CustomerPrefix: "002", Extension: "100"}},
		{name: "own domain prefix unknown customer", dialled: "12345*009*100", caller: me, plan: testPlan(false), wantErr: ErrUnknownCustomer, wantCode: 404},
		{name: "cross-domain both allow", dialled: "54321*001*100", caller: me, plan: testPlan(true), want: CrossDomain{DomainName: "beta.example", CustomerPrefix: "001", Extension: "100"}},
		{name: "cross-domain caller domain disallows", dialled: "54321*001*100", caller: me, plan: testPlan(false), wantErr: ErrCrossDomainDenied, wantCode: 403},
		{name: "cross-domain target disallows", dialled: "99999*001*100", caller: me, plan: testPlan(true), wantErr: ErrCrossDomainDenied, wantCode: 403},
		{name: "cross-domain unknown prefix", dialled: "11111*001*100", caller: me, plan: testPlan(true), wantErr: ErrUnknownDomain, wantCode: 404},
		{name: "cross-domain unknown prefix hidden when caller disallows", dialled: "11111*001*100", caller: me, plan: testPlan(false), wantErr: ErrCrossDomainDenied, wantCode: 403},
		{name: "domain prefix of 4 digits", dialled: "1234*001*100", caller: me, plan: testPlan(true), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "domain prefix of 6 digits", dialled: "123456*001*100", caller: me, plan: testPlan(true), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "empty", dialled: "", caller: me, plan: testPlan(false), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "letters", dialled: "alice", caller: me, plan: testPlan(false), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "trailing star", dialled: "001*", caller: me, plan: testPlan(false), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "leading star", dialled: "*100", caller: me, plan: testPlan(false), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "double star", dialled: "001**100", caller: me, plan: testPlan(false), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "four parts", dialled: "1*2*3*4", caller: me, plan: testPlan(false), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "extension too long after prefix", dialled: "001*1234567", caller: me, plan: testPlan(false), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "plus with star", dialled: "+44*100", caller: me, plan: testPlan(false), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "bare plus", dialled: "+", caller: me, plan: testPlan(false), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "plus in the middle", dialled: "44+100", caller: me, plan: testPlan(false), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "hash", dialled: "100#", caller: me, plan: testPlan(false), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "host part is not accepted (T1)", dialled: "100@beta.example", caller: me, plan: testPlan(true), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "non-ASCII digit", dialled: "１００", caller: me, plan: testPlan(false), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "too many external digits", dialled: strings.Repeat("9", maxExternalDigits+1), caller: me, plan: testPlan(false), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "too many E.164 digits", dialled: "+" + strings.Repeat("9", maxExternalDigits+1), caller: me, plan: testPlan(false), wantErr: ErrInvalidNumber, wantCode: 484},
		{name: "over the input cap", dialled: strings.Repeat("1*", 40), caller: me, plan: testPlan(false), wantErr: ErrInvalidNumber, wantCode: 484},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Analyze(tt.dialled, tt.caller, tt.plan)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if got != nil {
					t.Fatalf("destination %v returned with error", got)
				}
				if c := StatusCode(err); c != tt.wantCode {
					t.Fatalf("StatusCode = %d, want %d", c, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			if got != tt.want {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
			if got.String() == "" {
				t.Fatal("empty String()")
			}
		})
	}
}

func TestStatusCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{name: "nil", err: nil, want: 0},
		{name: "other", err: errors.New("x"), want: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StatusCode(tt.err); got != tt.want {
				t.Fatalf("StatusCode = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDestinationString(t *testing.T) {
	tests := []struct {
		name string
		d    Destination
		want string
	}{
		{name: "local", d: Local{CustomerPrefix: "001", Extension: "100"}, want: "local:001*100"},
		{name: "cross", d: CrossDomain{DomainName: "b", CustomerPrefix: "001", Extension: "100"}, want: "cross:001*100@b"},
		{name: "external", d: External{Number: "+44"}, want: "external:+44"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.String(); got != tt.want {
				t.Fatalf("String = %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"100", "001*100", "54321*001*100", "+442079460000", "999", "*", "+", "1**", "12345*001*100"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, dialled string, cross bool) {
		d, err := Analyze(dialled, Caller{CustomerPrefix: "001"}, testPlan(cross))
		if (d == nil) == (err == nil) {
			t.Fatalf("Analyze(%q) = %v, %v: exactly one must be set", dialled, d, err)
		}
		if err != nil {
			if c := StatusCode(err); c != 484 && c != 404 && c != 403 {
				t.Fatalf("unexpected status %d for %v", c, err)
			}
			return
		}
		switch v := d.(type) {
		case Local:
			if !allDigits(v.Extension) {
				t.Fatalf("non-digit extension %q", v.Extension)
			}
		case CrossDomain:
			if !cross {
				t.Fatalf("cross-domain destination without permission: %v", v)
			}
		case External:
			if strings.ContainsAny(v.Number, "*@") {
				t.Fatalf("external number %q", v.Number)
			}
		}
	})
}

func BenchmarkAnalyze(b *testing.B) {
	plan := testPlan(true)
	for i := 0; i < 200; i++ {
		plan.Customers = append(plan.Customers, Customer{ID: int64(100 + i), ClientPrefix: string(rune('a'+i%26)) + "x"})
	}
	caller := Caller{CustomerPrefix: "002"}
	for _, in := range []string{"100", "002*100", "54321*001*100", "+442079460000"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Analyze(in, caller, plan); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
