package crash

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCompareCDRs(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	good := func(uuid, callID string) cdr {
		return cdr{UUID: uuid, ACallID: callID, Answer: &at, SIPCode: 200, HangupCause: "NORMAL_CLEARING", DisconnectedBy: "caller"}
	}
	set := func(ids ...string) map[string]bool {
		m := map[string]bool{}
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	tests := []struct {
		name     string
		list     []cdr
		acked    map[string]int
		round    traceSummary
		want     cdrStats
		problems []string // one substring per expected problem, in order
	}{
		{
			name:  "every acknowledged call has one CDR",
			list:  []cdr{good("u1", "c1"), good("u2", "c2"), good("u3", "c3")},
			acked: map[string]int{"c1": 1, "c2": 2},
			round: traceSummary{InviteAnswered: set("c2", "c3"), ByeAnswered: set("c2")},
			want:  cdrStats{total: 3, ackedFound: 2, roundFound: 1, roundCDRs: 2},
		},
		{
			name:     "acknowledged call without a CDR is LOST",
			list:     []cdr{good("u1", "c1")},
			acked:    map[string]int{"c1": 1, "c9": 2},
			round:    traceSummary{InviteAnswered: set("c9"), ByeAnswered: set("c9")},
			want:     cdrStats{total: 1, ackedFound: 1, answeredMissing: 1, answeredMissingIDs: []string{"c9"}},
			problems: []string{"LOST: 1 of 2 calls whose BYE was answered 200 have no CDR after the restart: c9 (round 2)"},
		},
		{
			name:     "two CDRs for one caller Call-ID",
			list:     []cdr{good("u1", "c1"), good("u2", "c1")},
			acked:    map[string]int{"c1": 1},
			want:     cdrStats{total: 2, duplicates: 1, ackedFound: 1},
			problems: []string{`DUPLICATE: caller Call-ID "c1" has 2 CDRs`},
		},
		{
			name:     "one uuid listed twice",
			list:     []cdr{good("u1", "c1"), good("u1", "c2")},
			want:     cdrStats{total: 2, duplicates: 1},
			problems: []string{"DUPLICATE: CDR uuid u1 listed twice"},
		},
		{
			name:     "acknowledged call recorded as unanswered",
			list:     []cdr{{UUID: "u1", ACallID: "c1", SIPCode: 487, HangupCause: "ORIGINATOR_CANCEL", DisconnectedBy: "caller"}},
			acked:    map[string]int{"c1": 1},
			want:     cdrStats{total: 1, ackedFound: 1},
			problems: []string{`CDR of acknowledged call c1: answer <nil> sip_code 487`},
		},
		{
			name:  "answered but unacknowledged calls are only counted",
			list:  []cdr{good("u1", "c1")},
			round: traceSummary{InviteAnswered: set("c1", "c2", "c3")},
			want:  cdrStats{total: 1, roundCDRs: 1, answeredMissing: 2, answeredMissingIDs: []string{"c2", "c3"}},
		},
		{
			name: "empty listing, nothing acknowledged",
			want: cdrStats{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, problems := compareCDRs(tc.list, tc.acked, tc.round)
			if st.total != tc.want.total || st.duplicates != tc.want.duplicates || st.ackedFound != tc.want.ackedFound ||
				st.roundFound != tc.want.roundFound || st.roundCDRs != tc.want.roundCDRs || st.answeredMissing != tc.want.answeredMissing ||
				!slices.Equal(st.answeredMissingIDs, tc.want.answeredMissingIDs) {
				t.Errorf("stats = %+v, want %+v", st, tc.want)
			}
			if len(problems) != len(tc.problems) {
				t.Fatalf("problems = %q, want %d matching %q", problems, len(tc.problems), tc.problems)
			}
			for i, want := range tc.problems {
				if !strings.Contains(problems[i], want) {
					t.Errorf("problem %d = %q, want it to contain %q", i, problems[i], want)
				}
			}
		})
	}
}
