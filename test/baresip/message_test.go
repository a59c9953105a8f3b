package baresiptest

import (
	"strings"
	"testing"
)

func TestEncodeCommand(t *testing.T) {
	cases := []struct {
		name, cmd, params, token string
		want, wantErr            string
	}{
		{name: "dial", cmd: "dial", params: "sip:101@acme.example", token: "1",
			want: `{"command":"dial","params":"sip:101@acme.example","token":"1"}`},
		{name: "no params", cmd: "hangup", token: "7", want: `{"command":"hangup","token":"7"}`},
		{name: "empty command", cmd: "", token: "1", wantErr: "bare command"},
		{name: "slash command", cmd: "/dial", token: "1", wantErr: "bare command"},
		{name: "command with space", cmd: "dial x", token: "1", wantErr: "bare command"},
		{name: "params with newline", cmd: "dial", params: "a\nb", token: "1", wantErr: "one line"},
		{name: "no token", cmd: "dial", wantErr: "token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodeCommand(tc.cmd, tc.params, tc.token)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestDecodeMessage(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    Message
		wantErr string
	}{
		{name: "response", in: `{"response":true,"ok":true,"data":"","token":"3"}`,
			want: Message{Response: true, OK: true, Token: "3"}},
		{name: "failed response", in: `{"response":true,"ok":false,"data":"no such command","token":"4"}`,
			want: Message{Response: true, Data: "no such command", Token: "4"}},
		{name: "event", in: `{"event":true,"class":"call","type":"CALL_ESTABLISHED","accountaor":"sip:001*100@acme.example","direction":"outgoing","peeruri":"sip:101@acme.example","id":"abc"}`,
			want: Message{Event: true, Class: "call", Type: "CALL_ESTABLISHED", AccountAOR: "sip:001*100@acme.example", Direction: "outgoing", PeerURI: "sip:101@acme.example", ID: "abc"}},
		{name: "not json", in: `hello`, wantErr: "decode"},
		{name: "json array", in: `[1,2]`, wantErr: "decode"},
		{name: "neither", in: `{"ok":true}`, wantErr: "neither response nor event"},
		{name: "both", in: `{"response":true,"event":true,"type":"X"}`, wantErr: "both"},
		{name: "event without type", in: `{"event":true}`, wantErr: "without type"},
		{name: "wrong field type", in: `{"response":"yes"}`, wantErr: "decode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeMessage([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
