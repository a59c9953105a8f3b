package auth

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

const validHex32 = "0123456789abcdef0123456789abcdef"

func TestParseCredentials(t *testing.T) {
	base := `Digest username="100", realm="acme.example", nonce="n1", uri="sip:acme.example", response="` + validHex32 + `"`
	tests := []struct {
		name    string
		in      string
		want    Credentials
		wantErr error
	}{
		{name: "minimal no qop defaults to MD5", in: base,
			want: Credentials{Username: "100", Realm: "acme.example", Nonce: "n1", URI: "sip:acme.example", Response: validHex32, Algorithm: MD5}},
		{name: "qop auth with nc and cnonce", in: base + `, qop=auth, nc=00000001, cnonce="c1", opaque="op"`,
			want: Credentials{Username: "100", Realm: "acme.example", Nonce: "n1", URI: "sip:acme.example", Response: validHex32, Algorithm: MD5, QOP: "auth", NC: "00000001", CNonce: "c1", Opaque: "op"}},
		{name: "quoted qop and nc tolerated", in: base + `, qop="auth", nc="00000001", cnonce="c1"`,
			want: Credentials{Username: "100", Realm: "acme.example", Nonce: "n1", URI: "sip:acme.example", Response: validHex32, Algorithm: MD5, QOP: "auth", NC: "00000001", CNonce: "c1"}},
		{name: "sha-256 canonicalised", in: base + `, algorithm=sha-256`,
			want: Credentials{Username: "100", Realm: "acme.example", Nonce: "n1", URI: "sip:acme.example", Response: validHex32, Algorithm: SHA256}},
		{name: "escaped quote in username", in: `Digest username="a\"b", realm="r", nonce="n", uri="u", response="00"`,
			want: Credentials{Username: `a"b`, Realm: "r", Nonce: "n", URI: "u", Response: "00", Algorithm: MD5}},
		{name: "upper-case hex response lower-cased", in: `Digest username="a", realm="r", nonce="n", uri="u", response="ABCDEF"`,
			want: Credentials{Username: "a", Realm: "r", Nonce: "n", URI: "u", Response: "abcdef", Algorithm: MD5}},
		{name: "nc and cnonce dropped without qop", in: base + `, nc=00000001, cnonce="c"`,
			want: Credentials{Username: "100", Realm: "acme.example", Nonce: "n1", URI: "sip:acme.example", Response: validHex32, Algorithm: MD5}},
		{name: "unknown parameter ignored", in: base + `, userhash=false`,
			want: Credentials{Username: "100", Realm: "acme.example", Nonce: "n1", URI: "sip:acme.example", Response: validHex32, Algorithm: MD5}},
		{name: "Basic rejected (A5)", in: "Basic YWxpY2U6c2VjcmV0", wantErr: ErrUnsupportedScheme},
		{name: "unknown scheme", in: `Foo username="a"`, wantErr: ErrUnsupportedScheme},
		{name: "empty", in: "", wantErr: ErrUnsupportedScheme},
		{name: "scheme only", in: "Digest", wantErr: ErrMissingField},
		{name: "missing response", in: `Digest username="a", realm="r", nonce="n", uri="u"`, wantErr: ErrMissingField},
		{name: "missing username", in: `Digest realm="r", nonce="n", uri="u", response="00"`, wantErr: ErrMissingField},
		{name: "qop without nc", in: base + `, qop=auth, cnonce="c"`, wantErr: ErrMissingField},
		{name: "qop without cnonce", in: base + `, qop=auth, nc=00000001`, wantErr: ErrMissingField},
		{name: "auth-int unsupported", in: base + `, qop=auth-int, nc=00000001, cnonce="c"`, wantErr: ErrUnsupportedQOP},
		{name: "MD5-sess unsupported", in: base + `, algorithm=MD5-sess`, wantErr: ErrUnsupportedAlgorithm},
		{name: "SHA-512 unsupported", in: base + `, algorithm=SHA-512`, wantErr: ErrUnsupportedAlgorithm},
		{name: "nc not hex", in: base + `, qop=auth, nc=0000000g, cnonce="c"`, wantErr: ErrMalformed},
		{name: "nc too long", in: base + `, qop=auth, nc=000000001, cnonce="c"`, wantErr: ErrMalformed},
		{name: "response not hex", in: `Digest username="a", realm="r", nonce="n", uri="u", response="zz"`, wantErr: ErrMalformed},
		{name: "duplicate parameter", in: base + `, username="200"`, wantErr: ErrMalformed},
		{name: "duplicate parameter different case", in: base + `, USERNAME="200"`, wantErr: ErrMalformed},
		{name: "unterminated quote", in: `Digest username="a, realm="r"`, wantErr: ErrMalformed},
		{name: "trailing backslash", in: `Digest username="a\`, wantErr: ErrMalformed},
		{name: "missing equals", in: `Digest username`, wantErr: ErrMalformed},
		{name: "empty token value", in: `Digest username=, realm="r"`, wantErr: ErrMalformed},
		{name: "missing comma", in: `Digest username="a" realm="r"`, wantErr: ErrMalformed},
		{name: "control byte in quoted value", in: "Digest username=\"a\x00b\"", wantErr: ErrMalformed},
		{name: "garbage byte", in: `Digest @@@`, wantErr: ErrMalformed},
		{name: "header too long", in: base + `, x="` + strings.Repeat("a", MaxHeaderLen) + `"`, wantErr: ErrTooLong},
		{name: "field too long", in: `Digest username="` + strings.Repeat("a", maxFieldLen+1) + `"`, wantErr: ErrTooLong},
		{name: "uri too long", in: `Digest uri="` + strings.Repeat("a", maxURILen+1) + `"`, wantErr: ErrTooLong},
		{name: "too many parameters", in: "Digest " + manyParams(maxParams+1), wantErr: ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCredentials(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if got != (Credentials{}) {
					t.Fatalf("credentials returned with error: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCredentials: %v", err)
			}
			if got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// readFixtures returns (expectOK, value) pairs from testdata/authorization_headers.txt.
func readFixtures(t testing.TB) [][2]string {
	t.Helper()
	f, err := os.Open("testdata/authorization_headers.txt")
	if err != nil {
		t.Fatalf("open fixtures: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	var out [][2]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		want, val, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("fixture line without tab: %q", line)
		}
		out = append(out, [2]string{want, val})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read fixtures: %v", err)
	}
	return out
}

func TestParseCredentialsFixtures(t *testing.T) {
	for i, fx := range readFixtures(t) {
		t.Run(fx[0]+"_line_"+strconv.Itoa(i+1), func(t *testing.T) {
			_, err := ParseCredentials(fx[1])
			if (err == nil) != (fx[0] == "ok") {
				t.Fatalf("%q: err = %v, want %s", fx[1], err, fx[0])
			}
		})
	}
}

func FuzzParseCredentials(f *testing.F) {
	for _, fx := range readFixtures(f) {
		f.Add(fx[1])
	}
	f.Add(`Digest username="\`)
	f.Add("Digest ,,,,")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseCredentials(in)
		if err != nil {
			return
		}
		if c.Username == "" || c.Nonce == "" || c.Response == "" || c.URI == "" || c.Realm == "" {
			t.Fatalf("accepted credentials with a missing field: %+v", c)
		}
		if c.Algorithm != MD5 && c.Algorithm != SHA256 {
			t.Fatalf("accepted algorithm %q", c.Algorithm)
		}
		if c.QOP != "" && (c.NC == "" || len(c.NC) > 8 || c.CNonce == "") {
			t.Fatalf("accepted qop without a valid nc/cnonce: %+v", c)
		}
	})
}

func manyParams(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("x" + strconv.Itoa(i) + "=1,")
	}
	return b.String()
}
