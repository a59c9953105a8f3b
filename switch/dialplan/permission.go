package dialplan

import "strings"

// Class is the kind of an external number, used for dial permission (DEF-01) and for
// counting external calls (B-06).
type Class int

// Number classes.
const (
	ClassInvalid       Class = iota // not a diallable external number
	ClassEmergency                  // 999, 112
	ClassNational                   // UK geographic 01/02, non-geographic 03, 05, 08, short codes 101/105/111/119
	ClassMobile                     // UK mobile 071–075, 077–079, 07624
	ClassPremium                    // UK 09 premium rate, 070 personal numbering, 076 pagers
	ClassInternational              // any other country (E.164 fallback)
)

// String names the class.
func (c Class) String() string {
	switch c {
	case ClassEmergency:
		return "emergency"
	case ClassNational:
		return "national"
	case ClassMobile:
		return "mobile"
	case ClassPremium:
		return "premium"
	case ClassInternational:
		return "international"
	}
	return "invalid"
}

// Dial permission policies (the domain default `dial_permission`, DEF-01).
const (
	PolicyInternalOnly  = "internal_only" // no external calls except emergency
	PolicyNational      = "national"      // emergency + UK national (no mobiles, premium or international)
	PolicyUKOnly        = "uk_only"       // emergency + UK national + UK mobile ("UK Only": no international)
	PolicyInternational = "international" // everything valid, premium included
)

// ukPrefixes classifies a UK national significant number (the digits after +44) by its
// longest matching prefix. Lengths are checked separately (9 or 10 digits).
//
//	prefix  class          what
//	1, 2    national       geographic
//	3       national       non-geographic, charged as geographic
//	5       national       corporate / VoIP (055, 056)
//	70      premium        personal numbering (a common fraud target)
//	71–75   mobile
//	76      premium        pagers
//	7624    mobile         Isle of Man mobiles
//	77–79   mobile
//	8       national       freephone 080, service 084/087
//	9       premium        premium rate 09
var ukPrefixes = []struct {
	prefix string
	class  Class
}{
	{"7624", ClassMobile},
	{"70", ClassPremium}, {"71", ClassMobile}, {"72", ClassMobile}, {"73", ClassMobile},
	{"74", ClassMobile}, {"75", ClassMobile}, {"76", ClassPremium}, {"77", ClassMobile},
	{"78", ClassMobile}, {"79", ClassMobile},
	{"1", ClassNational}, {"2", ClassNational}, {"3", ClassNational}, {"5", ClassNational},
	{"8", ClassNational}, {"9", ClassPremium},
}

// ukShortCodes are UK non-emergency national short codes (police 101, power cut 105,
// NHS 111, NHS vaccination 119).
var ukShortCodes = map[string]bool{"101": true, "105": true, "111": true, "119": true}

// Normalize turns a dialled external number into canonical form, UK-centric:
// visual separators (space - . ( )) are removed; 999 and 112 stay as they are;
// "00…" becomes "+…"; a UK national "0…" becomes "+44…"; "+…" is kept; a bare run of
// 11–15 digits not starting with 0 is E.164 without its "+" (how carriers and most PBXs
// write international numbers) and gets one. ok=false for anything else (letters, short
// bare numbers, empty).
func Normalize(number string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(number); i++ {
		switch c := number[i]; {
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		case c == '+' && b.Len() == 0:
			b.WriteByte(c)
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		default:
			return "", false
		}
	}
	n := b.String()
	switch {
	case n == "999" || n == "112" || ukShortCodes[n]:
		return n, true
	case strings.HasPrefix(n, "+"):
		if !allDigits(n[1:]) {
			return "", false
		}
		return n, true
	case strings.HasPrefix(n, "00"):
		if !allDigits(n[2:]) {
			return "", false
		}
		return "+" + n[2:], true
	case strings.HasPrefix(n, "0") && len(n) > 1:
		return "+44" + n[1:], true
	case len(n) >= 11 && len(n) <= 15 && n[0] != '0' && allDigits(n):
		return "+" + n, true
	}
	return "", false
}

// Classify normalises number and returns its class and canonical form.
func Classify(number string) (Class, string) {
	n, ok := Normalize(number)
	if !ok {
		return ClassInvalid, ""
	}
	switch {
	case n == "999" || n == "112":
		return ClassEmergency, n
	case ukShortCodes[n]:
		return ClassNational, n
	case strings.HasPrefix(n, "+44"):
		nsn := n[3:]
		if len(nsn) < 9 || len(nsn) > 10 {
			return ClassInvalid, n
		}
		for _, p := range ukPrefixes {
			if strings.HasPrefix(nsn, p.prefix) {
				return p.class, n
			}
		}
		return ClassInvalid, n
	}
	// Generic E.164: + then 8–15 digits, country code not starting with 0.
	digits := n[1:]
	if len(digits) < 8 || len(digits) > 15 || digits[0] == '0' {
		return ClassInvalid, n
	}
	return ClassInternational, n
}

// Permitted reports whether policy allows calling number. Emergency numbers are
// always permitted, even under an unknown policy; otherwise an unknown policy or an
// invalid number is refused (fail closed).
func Permitted(policy string, number string) bool {
	class, _ := Classify(number)
	if class == ClassEmergency {
		return true
	}
	switch policy {
	case PolicyInternalOnly:
		return false
	case PolicyNational:
		return class == ClassNational
	case PolicyUKOnly:
		return class == ClassNational || class == ClassMobile
	case PolicyInternational:
		return class != ClassInvalid
	}
	return false
}
