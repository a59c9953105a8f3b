package main

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	m := func(p string) string { return module + "/" + p }
	cases := []struct {
		name string
		pkg  pkg
		want string // substring of the violation, "" = none
	}{
		{"actors may use events", pkg{ImportPath: m("actors"), Deps: []string{m("actors/events"), m("persistence")}}, ""},
		{"actors must not use sipgo", pkg{ImportPath: m("actors"), Deps: []string{"github.com/emiago/sipgo/sip"}}, "actors → github.com/emiago/sipgo/sip"},
		{"persistence must not use actors", pkg{ImportPath: m("persistence"), Deps: []string{m("actors")}}, "persistence → "},
		{"esl codec may use events only", pkg{ImportPath: m("esl"), Deps: []string{m("actors/events")}}, ""},
		{"esl codec must not use actors", pkg{ImportPath: m("esl"), Deps: []string{m("actors")}}, "esl → "},
		{"esl server may use actors", pkg{ImportPath: m("esl/server"), Deps: []string{m("actors"), m("esl")}}, ""},
		{"bench is black-box", pkg{ImportPath: m("bench"), Deps: []string{m("switch/edge")}}, "bench → "},
		{"nothing imports cmd", pkg{ImportPath: m("admin"), Deps: []string{m("cmd/switchyard")}}, "nothing imports cmd"},
		{"pure packages have no network", pkg{ImportPath: m("switch/auth"), Imports: []string{"net"}}, "switch/auth → net"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(check([]pkg{tc.pkg}, rules()), "\n")
			if tc.want == "" && got != "" {
				t.Fatalf("unexpected violation: %s", got)
			}
			if tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("want a violation containing %q, got %q", tc.want, got)
			}
		})
	}
}
