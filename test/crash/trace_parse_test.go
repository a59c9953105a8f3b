package crash

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseTrace(t *testing.T) {
	real3 := []string{"1-13222@127.0.0.3", "2-13222@127.0.0.3", "3-13222@127.0.0.3"}
	tests := []struct {
		name    string
		file    string
		invites []string
		byes    []string
		wantErr string // substring of the error; empty means success
	}{
		{name: "real SIPp caller log of three answered calls", file: "three_calls.log", invites: real3, byes: real3},
		{name: "BYE sent but never answered (switch killed)", file: "bye_unanswered.log", invites: []string{"7-4242@127.0.0.3"}},
		{name: "compact Call-ID, retransmitted 200, TCP, lower-case names", file: "compact_retransmit_tcp.log",
			byes: []string{"10-4242@127.0.0.3", "9-4242@127.0.0.3"}},
		{name: "a 200 the log's owner sent is not an acknowledgement", file: "callee_sent_200_bye.log"},
		{name: "log cut off inside the last message", file: "truncated_tail.log", byes: []string{"11-4242@127.0.0.3"}},
		{name: "empty log", file: "empty.log"},
		{name: "received 200 without Call-ID", file: "missing_callid.log", wantErr: "line 1: received 200 without a Call-ID"},
		{name: "received 200 without CSeq", file: "missing_cseq.log", wantErr: `received 200 for call "12-4242@127.0.0.3" without a valid CSeq`},
		{name: "text before the first separator", file: "not_a_trace.log", wantErr: "line 1: \"SipP v3.6.1 statistics\" before the first message separator"},
		{name: "block without a direction line", file: "no_direction.log", wantErr: "line 1: message block without"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatalf("read fixture: %v", err)
			}
			sum, err := parseTrace(string(data))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseTrace: %v", err)
			}
			if got := sortedIDs(sum.InviteAnswered); !slices.Equal(got, sortedOrNil(tc.invites)) {
				t.Errorf("INVITE answered = %v, want %v", got, tc.invites)
			}
			if got := sortedIDs(sum.ByeAnswered); !slices.Equal(got, sortedOrNil(tc.byes)) {
				t.Errorf("BYE answered = %v, want %v", got, tc.byes)
			}
			if want := strings.Count(string(data), traceSeparator); sum.Messages != want {
				t.Errorf("Messages = %d, want %d", sum.Messages, want)
			}
		})
	}
}

func sortedOrNil(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(ids))
}
