package persistence

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Key layout (all keys are ASCII; numbers are zero-padded to 20 digits so byte order = numeric order):
//
//	cfg/<kind>/<id>                         record JSON (write-only fields never stored)
//	scope/<domain>/<kind>/<id>              empty; per-domain membership index (cascade, List, limits)
//	idx/<namespace>/<value>                 "<kind>/<id>" of the owner of a unique value
//	secret/<kind>/<id>                      SIP HA1s, trunk/gateway passwords, ESL and token hashes
//	seq/<kind>                              last id handed out for the kind (uint64 big-endian)
//	audit/<domain>/<unix-nanos>/<seq>       AuditEntry JSON
//	cdr/<domain>/<unix-nanos>/<uuid>        CDR JSON (start time)
//	reg/<domain>/<account>/<contact-hash>   Binding JSON, with a Badger TTL at its expiry
//	meta/schema                             schema version (decimal)
const (
	prefixCfg    = "cfg/"
	prefixScope  = "scope/"
	prefixIdx    = "idx/"
	prefixSecret = "secret/"
	prefixSeq    = "seq/"
	prefixAudit  = "audit/"
	prefixCDR    = "cdr/"
	prefixReg    = "reg/"
	keySchema    = "meta/schema"
)

func pad(n int64) string { return fmt.Sprintf("%020d", n) }

func cfgPrefix(k Kind) []byte           { return []byte(prefixCfg + string(k) + "/") }
func cfgKey(k Kind, id int64) []byte    { return []byte(prefixCfg + string(k) + "/" + pad(id)) }
func secretKey(k Kind, id int64) []byte { return []byte(prefixSecret + string(k) + "/" + pad(id)) }
func seqKey(name string) []byte         { return []byte(prefixSeq + name) }
func idxKey(ns, value string) []byte    { return []byte(prefixIdx + ns + "/" + value) }

func scopeKey(domain int64, k Kind, id int64) []byte {
	return []byte(prefixScope + pad(domain) + "/" + string(k) + "/" + pad(id))
}

func scopeKindPrefix(domain int64, k Kind) []byte {
	return []byte(prefixScope + pad(domain) + "/" + string(k) + "/")
}

// idFromKeyTail parses the id in the last path segment of a key.
func idFromKeyTail(key []byte) (int64, error) {
	s := string(key)
	i := strings.LastIndexByte(s, '/')
	id, err := strconv.ParseInt(s[i+1:], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse id in key %q: %w", s, err)
	}
	return id, nil
}

// ref is the value of a unique index entry.
func ref(k Kind, id int64) []byte { return []byte(string(k) + "/" + strconv.FormatInt(id, 10)) }

func parseRef(b []byte) (Kind, int64, error) {
	s := string(b)
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return "", 0, fmt.Errorf("bad index value %q", s)
	}
	id, err := strconv.ParseInt(s[i+1:], 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("bad index value %q: %w", s, err)
	}
	return Kind(s[:i]), id, nil
}

func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}
