package persistence

import (
	"net/mail"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	reDomainName  = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	reDigits      = regexp.MustCompile(`^[0-9]+$`)
	reCallerID    = regexp.MustCompile(`^\+?[0-9]{1,20}$`)
	reNumber      = regexp.MustCompile(`^\+?[0-9]{2,20}$`)
	rePrefix      = regexp.MustCompile(`^\+?[0-9]{0,20}$`)
	reLanguage    = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	reExtension   = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,32}$`)
	reHostLabel   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	reAuthUser    = regexp.MustCompile(`^[^\s:@"]{1,64}$`)
	reESLUsername = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)
)

const (
	maxText     = 1024 // free text (descriptions, comments, notes)
	maxName     = 128  // display names
	minPassword = 8
	maxPassword = 128
)

// checkText rejects invalid UTF-8, control characters and over-long values.
func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return fieldErr(field, "must be valid UTF-8")
	}
	if utf8.RuneCountInString(s) > max {
		return fieldErr(field, "must be at most %d characters", max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return fieldErr(field, "must not contain control characters")
		}
	}
	return nil
}

func checkOptText(field string, s *string, max int) error {
	if s == nil {
		return nil
	}
	return checkText(field, *s, max)
}

func checkRequiredName(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return fieldErr(field, "required")
	}
	return checkText(field, s, maxName)
}

func checkEmail(field, s string, required bool) error {
	if s == "" {
		if required {
			return fieldErr(field, "required")
		}
		return nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return fieldErr(field, "must be a plain e-mail address like user@example.com")
	}
	return nil
}

func checkEnum(field, s string, allowed ...string) error {
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	return fieldErr(field, "must be one of %s", strings.Join(allowed, ", "))
}

func checkNonNegative(field string, n int) error {
	if n < 0 {
		return fieldErr(field, "must be >= 0 (0 = unlimited)")
	}
	return nil
}

func checkPattern(field, s string, re *regexp.Regexp, what string) error {
	if !re.MatchString(s) {
		return fieldErr(field, "must be %s", what)
	}
	return nil
}

func checkCallerID(field, s string) error {
	if s == "" {
		return nil
	}
	return checkPattern(field, s, reCallerID, "digits with an optional leading +")
}

func checkLanguage(field, s string) error {
	return checkPattern(field, s, reLanguage, "a language tag such as en or en-GB")
}

// checkPassword validates a write-only password; empty is allowed here (required-on-create is
// enforced by the store).
func checkPassword(field, s string) error {
	if s == "" {
		return nil
	}
	if len(s) < minPassword || len(s) > maxPassword {
		return fieldErr(field, "must be %d to %d characters", minPassword, maxPassword)
	}
	return checkText(field, s, maxPassword)
}

// isHostname reports whether s is a DNS hostname (labels of letters, digits and hyphens).
func isHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if !reHostLabel.MatchString(l) {
			return false
		}
	}
	return true
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

func checkHost(field, s string, required bool) error {
	if s == "" {
		if required {
			return fieldErr(field, "required")
		}
		return nil
	}
	if !isIP(s) && !isHostname(s) {
		return fieldErr(field, "must be a hostname or an IP address")
	}
	return nil
}

func checkIP(field, s string) error {
	if s == "" {
		return fieldErr(field, "required")
	}
	if !isIP(s) {
		return fieldErr(field, "must be a valid IPv4 or IPv6 address")
	}
	return nil
}

// canonicalIP returns the normalised text form of an IP (used for unique indexes).
func canonicalIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	return a.Unmap().String()
}

var knownCodecs = []string{"PCMU", "PCMA", "G722", "G729", "opus", "telephone-event"}

func checkCodecs(field string, codecs []string) error {
	if len(codecs) == 0 {
		return fieldErr(field, "at least one codec is required")
	}
	seen := map[string]bool{}
	for i, c := range codecs {
		f := indexed(field, i)
		if err := checkEnum(f, c, knownCodecs...); err != nil {
			return err
		}
		if seen[c] {
			return fieldErr(f, "duplicate codec %q", c)
		}
		seen[c] = true
	}
	return nil
}

func checkRewrite(prefix, rule, result string) error {
	if rule == "" {
		if result != "" {
			return fieldErr(prefix+"_rewrite_rule", "required when %s_rewrite_result is set", prefix)
		}
		return nil
	}
	if err := checkText(prefix+"_rewrite_rule", rule, 512); err != nil {
		return err
	}
	if _, err := regexp.Compile(rule); err != nil {
		return fieldErr(prefix+"_rewrite_rule", "not a valid regular expression: %v", err)
	}
	return checkText(prefix+"_rewrite_result", result, 512)
}

func checkTokenList(field string, list []string) error {
	seen := map[string]bool{}
	for i, s := range list {
		f := indexed(field, i)
		if s == "" || len(s) > 64 || strings.ContainsFunc(s, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r) || r > unicode.MaxASCII
		}) {
			return fieldErr(f, "must be 1-64 printable ASCII characters without spaces")
		}
		if seen[s] {
			return fieldErr(f, "duplicate value %q", s)
		}
		seen[s] = true
	}
	return nil
}

func indexed(field string, i int) string {
	return field + "[" + strconv.Itoa(i) + "]"
}
