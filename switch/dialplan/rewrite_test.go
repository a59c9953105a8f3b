package dialplan

import (
	"errors"
	"strings"
	"testing"
)

func TestCompile(t *testing.T) {
	tests := []struct {
		name            string
		pattern, result string
		wantErr         bool
	}{
		{name: "empty pattern no-op", pattern: "", result: "anything"},
		{name: "numbered group", pattern: `^0(\d+)$`, result: "44$1"},
		{name: "braced numbered group", pattern: `^0(\d+)$`, result: "${1}0"},
		{name: "named group", pattern: `^00(?P<rest>\d+)$`, result: "+${rest}"},
		{name: "unbraced named group", pattern: `^00(?P<rest>\d+)$`, result: "+$rest"},
		{name: "literal dollar", pattern: `^1$`, result: "$$1"},
		{name: "group zero", pattern: `^1$`, result: "$0"},
		{name: "bad regexp", pattern: `(`, wantErr: true},
		{name: "backreference unsupported in RE2", pattern: `(\d)\1`, wantErr: true},
		{name: "missing group", pattern: `^0(\d+)$`, result: "$2", wantErr: true},
		{name: "group followed by digit-like name", pattern: `^0(\d+)$`, result: "$1x", wantErr: true},
		{name: "unknown named group", pattern: `^(?P<a>\d)$`, result: "${b}", wantErr: true},
		{name: "unclosed brace", pattern: `^(\d)$`, result: "${1", wantErr: true},
		{name: "trailing dollar", pattern: `^(\d)$`, result: "1$", wantErr: true},
		{name: "empty braces", pattern: `^(\d)$`, result: "${}", wantErr: true},
		{name: "huge group number", pattern: `^(\d)$`, result: "$99999999999999999999", wantErr: true},
		{name: "pattern too long", pattern: strings.Repeat("a", maxPatternLen+1), wantErr: true},
		{name: "result too long", pattern: "a", result: strings.Repeat("a", maxResultLen+1), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rw, err := Compile(tt.pattern, tt.result)
			if tt.wantErr {
				if !errors.Is(err, ErrBadRule) || rw != nil {
					t.Fatalf("got %v, %v; want ErrBadRule", rw, err)
				}
				return
			}
			if err != nil || rw == nil {
				t.Fatalf("Compile: %v", err)
			}
		})
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		name            string
		pattern, result string
		in, want        string
		matched         bool
	}{
		{name: "national to E.164", pattern: `^0(\d+)$`, result: "+44$1", in: "02079460000", want: "+442079460000", matched: true},
		{name: "strip international prefix", pattern: `^00(?P<rest>\d+)$`, result: "+${rest}", in: "0033123", want: "+33123", matched: true},
		{name: "unanchored replaces leftmost match only", pattern: `0`, result: "44", in: "0207", want: "44207", matched: true},
		{name: "prefix rewrite keeps the rest", pattern: `^0`, result: "44", in: "02079", want: "442079", matched: true},
		{name: "braced group then digit", pattern: `^(\d)`, result: "${1}0", in: "123", want: "1023", matched: true},
		{name: "no match unchanged", pattern: `^9`, result: "x", in: "123", want: "123", matched: false},
		{name: "empty pattern no-op", pattern: "", result: "x", in: "123", want: "123", matched: false},
		{name: "empty input matched by optional pattern", pattern: `^$`, result: "100", in: "", want: "100", matched: true},
		{name: "input over cap unchanged", pattern: `.*`, result: "x", in: strings.Repeat("1", MaxRewriteInput+1), want: strings.Repeat("1", MaxRewriteInput+1), matched: false},
		{name: "literal dollar", pattern: `^1$`, result: "$$", in: "1", want: "$", matched: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rw, err := Compile(tt.pattern, tt.result)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, m := rw.Apply(tt.in)
			if got != tt.want || m != tt.matched {
				t.Fatalf("Apply(%q) = %q, %v; want %q, %v", tt.in, got, m, tt.want, tt.matched)
			}
		})
	}
}

func TestRewriteChain(t *testing.T) {
	mustCompile := func(p, r string) *Rewriter {
		rw, err := Compile(p, r)
		if err != nil {
			t.Fatalf("Compile(%q, %q): %v", p, r, err)
		}
		return rw
	}
	route := mustCompile(`^0(\d+)$`, "44$1")     // route: national → 44…
	gateway := mustCompile(`^44(\d+)$`, "+44$1") // gateway: add +
	tests := []struct {
		name    string
		in      string
		rws     []*Rewriter
		want    string
		changed bool
	}{
		{name: "route then gateway", in: "0207", rws: []*Rewriter{route, gateway}, want: "+44207", changed: true},
		{name: "order matters", in: "0207", rws: []*Rewriter{gateway, route}, want: "44207", changed: true},
		{name: "nil entries skipped", in: "0207", rws: []*Rewriter{nil, route, nil}, want: "44207", changed: true},
		{name: "nothing matches", in: "999", rws: []*Rewriter{route, gateway}, want: "999", changed: false},
		{name: "no rewriters", in: "1", want: "1", changed: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ch := RewriteChain(tt.in, tt.rws...)
			if got != tt.want || ch != tt.changed {
				t.Fatalf("got %q, %v; want %q, %v", got, ch, tt.want, tt.changed)
			}
		})
	}
}

func TestRuleCompile(t *testing.T) {
	rw, err := Rule{Pattern: `^1`, Result: "2"}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := rw.Apply("11"); got != "21" {
		t.Fatalf("got %q", got)
	}
}

func FuzzApply(f *testing.F) {
	f.Add(`^0(\d+)$`, "+44$1", "02079460000")
	f.Add(`(?P<x>.)`, "${x}${x}", "abc")
	f.Add(`^$`, "1", "")
	f.Add(`(`, "$", "x")
	f.Fuzz(func(t *testing.T, pattern, result, in string) {
		rw, err := Compile(pattern, result)
		if err != nil {
			if rw != nil {
				t.Fatal("rewriter returned with error")
			}
			return
		}
		out, m := rw.Apply(in)
		if !m && out != in {
			t.Fatalf("unmatched Apply changed %q to %q", in, out)
		}
		if len(out) > len(in)+len(in)*len(result)+len(result) {
			t.Fatalf("output %d bytes from %d input", len(out), len(in))
		}
	})
}
