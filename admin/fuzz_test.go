package admin

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/persistence"
)

// FuzzAdminDecode runs request bodies through the admin API's JSON checks and decoding into
// every record type: bad input must give an error (400/422), never a panic.
func FuzzAdminDecode(f *testing.F) {
	seeds := []string{
		`{"name":"acme.example","domain_prefix":"10001"}`,
		`{"name":"x","limitations":{"max_users":"disabled","active_call_limit":5}}`,
		`{"name":"a","name":"b"}`, `{"a":{"b":{"c":[1,2,{"d":null}]}}}`, `[1,2,3]`, `{"name":`, `{"x":1} {"y":2}`,
		"{\"name\":\"\xff\xfe\"}", `{"defaults":{"timezone":"Europe/London"},"digest_algorithms":["MD5","SHA-256"]}`,
		`{"customer_id":1,"username":"100","password":"secret-100","allow_outbound":true}`,
		`{"source_ips":["127.0.0.20","10.0.0.0/8"],"codecs":["PCMU"]}`,
	}
	if b, err := os.ReadFile(filepath.Join("testdata", "domain_full.json")); err == nil {
		seeds = append(seeds, string(b))
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	targets := []func() any{
		func() any { return new(persistence.Domain) }, func() any { return new(persistence.Customer) },
		func() any { return new(persistence.SIPAccount) }, func() any { return new(persistence.IncomingTrunk) },
		func() any { return new(persistence.TerminationGateway) }, func() any { return new(persistence.TerminationRoute) },
		func() any { return new(tokenRequest) },
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if checkJSON(body) != nil {
			return
		}
		for _, mk := range targets {
			rec := mk()
			if err := decodeInto(body, rec); err != nil {
				continue
			}
			if r, ok := rec.(persistence.Record); ok {
				r.ApplyDefaults()
				_ = r.Validate()
			}
		}
	})
}
