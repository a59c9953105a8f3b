package dialplan

import (
	"errors"
	"fmt"
	"regexp"
)

// Limits on rewrite rules and their inputs.
const (
	maxPatternLen = 1024
	maxResultLen  = 256
	// MaxRewriteInput is the longest number Apply rewrites; longer input is returned unchanged.
	MaxRewriteInput = 256
)

// ErrBadRule wraps every Compile failure.
var ErrBadRule = errors.New("bad rewrite rule")

// Rule is a stored rewrite rule: an RE2 pattern and a result template.
type Rule struct {
	Pattern string
	Result  string
}

// Compile compiles the rule; see the package-level Compile.
func (r Rule) Compile() (*Rewriter, error) { return Compile(r.Pattern, r.Result) }

// Rewriter is a compiled rewrite rule; safe for concurrent use. A nil *Rewriter is a no-op.
type Rewriter struct {
	re     *regexp.Regexp
	result string
}

// Compile compiles pattern (RE2 syntax) and checks result. In result, $1 or ${1}
// expands a numbered group, ${name} a named group, and $$ is a literal $. A reference
// to a group the pattern lacks is an error (so "$1x", which RE2 reads as a group named
// "1x", is caught; write "${1}x"). An empty pattern gives a no-op rewriter.
func Compile(pattern, result string) (*Rewriter, error) {
	if pattern == "" {
		return &Rewriter{}, nil
	}
	if len(pattern) > maxPatternLen || len(result) > maxResultLen {
		return nil, fmt.Errorf("compile rewrite %q: pattern or result too long: %w", clipRule(pattern), ErrBadRule)
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("compile rewrite %q: %v: %w", clipRule(pattern), err, ErrBadRule)
	}
	if err := checkTemplate(re, result); err != nil {
		return nil, fmt.Errorf("compile rewrite %q: result %q: %w", clipRule(pattern), clipRule(result), err)
	}
	return &Rewriter{re: re, result: result}, nil
}

// Apply rewrites in: when the pattern matches, the leftmost match is replaced by the
// expanded result and the rest of in is kept (so "^0" → "44" turns "0207…" into
// "44207…", and an anchored "^…$" pattern replaces the whole number). matched=false
// returns in unchanged (no match, no-op rewriter, or input over MaxRewriteInput).
func (r *Rewriter) Apply(in string) (out string, matched bool) {
	if r == nil || r.re == nil || len(in) > MaxRewriteInput {
		return in, false
	}
	loc := r.re.FindStringSubmatchIndex(in)
	if loc == nil {
		return in, false
	}
	dst := make([]byte, 0, len(in)+len(r.result))
	dst = append(dst, in[:loc[0]]...)
	dst = r.re.ExpandString(dst, r.result, in, loc)
	dst = append(dst, in[loc[1]:]...)
	return string(dst), true
}

// RewriteChain applies rewriters in order (route rules, then gateway rules; FEATURES
// R-02), each to the previous output; nil entries are skipped. changed reports whether
// any rule matched.
func RewriteChain(in string, rewriters ...*Rewriter) (out string, changed bool) {
	out = in
	for _, rw := range rewriters {
		var m bool
		out, m = rw.Apply(out)
		changed = changed || m
	}
	return out, changed
}

// checkTemplate validates the $ references of result against re's groups.
func checkTemplate(re *regexp.Regexp, result string) error {
	names := make(map[string]bool)
	for _, n := range re.SubexpNames() {
		if n != "" {
			names[n] = true
		}
	}
	for i := 0; i < len(result); i++ {
		if result[i] != '$' {
			continue
		}
		i++
		if i >= len(result) {
			return fmt.Errorf("trailing $: %w", ErrBadRule)
		}
		if result[i] == '$' {
			continue
		}
		var name string
		if result[i] == '{' {
			end := i + 1
			for end < len(result) && result[end] != '}' {
				end++
			}
			if end >= len(result) {
				return fmt.Errorf("unclosed ${: %w", ErrBadRule)
			}
			name = result[i+1 : end]
			i = end
		} else {
			end := i
			for end < len(result) && isNameChar(result[end]) {
				end++
			}
			name = result[i:end]
			i = end - 1
		}
		if name == "" {
			return fmt.Errorf("empty group reference: %w", ErrBadRule)
		}
		if allDigits(name) {
			n := 0
			for _, c := range []byte(name) {
				n = n*10 + int(c-'0')
				if n > re.NumSubexp() {
					return fmt.Errorf("group $%s: pattern has %d groups: %w", name, re.NumSubexp(), ErrBadRule)
				}
			}
			continue
		}
		if !names[name] {
			return fmt.Errorf("unknown group ${%s}: %w", name, ErrBadRule)
		}
	}
	return nil
}

func isNameChar(c byte) bool {
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func clipRule(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
