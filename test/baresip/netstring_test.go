package baresiptest

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestAppendNetstring(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", "0:,"},
		{"json", `{"a":1}`, `7:{"a":1},`},
		{"comma inside", "a,b", "3:a,b,"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendNetstring(nil, []byte(tc.in))); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReadNetstring(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		max     int
		want    []string
		wantErr error // for the read after the wanted frames
	}{
		{"one frame", "5:hello,", 0, []string{"hello"}, io.EOF},
		{"two frames", "1:a,0:,", 0, []string{"a", ""}, io.EOF},
		{"empty input", "", 0, nil, io.EOF},
		{"zero length allowed", "0:,", 0, []string{""}, io.EOF},
		{"letter in length", "1x:a,", 0, nil, ErrFrame},
		{"leading zero", "01:a,", 0, nil, ErrFrame},
		{"empty length", ":a,", 0, nil, ErrFrame},
		{"missing comma", "1:ab", 0, nil, ErrFrame},
		{"over max", "11:hello world,", 10, nil, ErrFrame},
		{"huge length", "99999999999999999999:", 0, nil, ErrFrame},
		{"truncated length", "12", 0, nil, io.ErrUnexpectedEOF},
		{"truncated payload", "5:he", 0, nil, io.ErrUnexpectedEOF},
		{"truncated before comma", "2:he", 0, nil, io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := bufio.NewReader(strings.NewReader(tc.in))
			for _, w := range tc.want {
				got, err := ReadNetstring(r, tc.max)
				if err != nil {
					t.Fatalf("frame %q: %v", w, err)
				}
				if string(got) != w {
					t.Fatalf("got %q, want %q", got, w)
				}
			}
			_, err := ReadNetstring(r, tc.max)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got error %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestNetstringRoundTrip(t *testing.T) {
	payloads := []string{"", "x", `{"command":"dial","params":"sip:101@acme.example","token":"1"}`, strings.Repeat("z", 4096)}
	var buf []byte
	for _, p := range payloads {
		buf = AppendNetstring(buf, []byte(p))
	}
	r := bufio.NewReader(strings.NewReader(string(buf)))
	for i, p := range payloads {
		got, err := ReadNetstring(r, 0)
		if err != nil || string(got) != p {
			t.Fatalf("frame %d: got %q, %v", i, got, err)
		}
	}
}
