// Package isolation holds black-box tests of tenant isolation and anti-enumeration across the
// switch's three faces at once: the SIP edge, the event socket and the admin API, all started
// in-process on 127.0.0.1:0 against one temporary Badger store (RELIABILITY §B.2 F4, §B.3 A1–A3,
// §B.4 T1–T6, §B.5 E4/E7/E8; DECISIONS 3, 4, 5, 9, 28). The package has no non-test code.
package isolation
