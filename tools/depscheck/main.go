// Command depscheck fails when a package imports against the dependency direction of
// docs/ARCHITECTURE.md (for example actors → sipgo, persistence → actors, anything → cmd).
// `make deps-check` runs it as part of `make test`.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
)

const module = "github.com/switchyard/switchyard"

// rule forbids packages matching From from depending (directly or transitively) on To.
type rule struct {
	From, To string
	Why      string
	Direct   bool // check only direct imports (for stdlib packages such as net)
}

const (
	sipgo      = "github.com/emiago/sipgo"
	badger     = "github.com/dgraph-io/badger"
	protoactor = "github.com/asynkron/protoactor-go"
)

var pure = []string{"switch/auth", "switch/resolve", "switch/dialplan", "esl", "actors/events"}

func rules() []rule {
	rs := []rule{
		{From: "actors", To: sipgo, Why: "actors drive legs through an interface; only switch/edge speaks sipgo"},
		{From: "actors", To: "esl", Why: "esl depends on actors, not the other way"},
		{From: "actors", To: "admin", Why: "admin depends on actors"},
		{From: "actors", To: "switch/edge", Why: "edge implements actors' interfaces"},
		{From: "persistence", To: "actors", Why: "persistence is below the runtime"},
		{From: "persistence", To: sipgo, Why: "persistence is protocol-free"},
		{From: "persistence", To: "esl", Why: "persistence is protocol-free"},
		{From: "persistence", To: "admin", Why: "persistence is below admin"},
		{From: "esl", To: "actors", Why: "the ESL codec is pure (only actors/events)"},
		{From: "esl/client", To: "actors", Why: "the ESL client is a black-box client"},
		{From: "bench", To: "actors", Why: "bench is black-box"},
		{From: "bench", To: "switch/edge", Why: "bench is black-box"},
		{From: "bench", To: "persistence", Why: "bench is black-box"},
		{From: "admin", To: sipgo, Why: "admin speaks HTTP, not SIP"},
		{From: "admin", To: "switch/edge", Why: "admin reaches the switch through actors"},
		{From: "admin", To: "esl", Why: "admin reaches the switch through actors"},
		{From: "switch/edge", To: "esl", Why: "the edge is SIP only"},
		{From: "switch/edge", To: "admin", Why: "the edge is SIP only"},
	}
	for _, p := range pure {
		for _, to := range []string{sipgo, badger, protoactor, "persistence", "switch/edge", "admin"} {
			rs = append(rs, rule{From: p, To: to, Why: p + " is pure"})
		}
		for _, std := range []string{"net", "net/http", "os/exec"} {
			rs = append(rs, rule{From: p, To: std, Why: p + " is pure (no network)", Direct: true})
		}
	}
	return rs
}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func main() {
	cmd := exec.Command("go", "list", "-json", "-test=false", "./...")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "depscheck: go list: %v\n", err)
		os.Exit(2)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			fmt.Fprintf(os.Stderr, "depscheck: decode: %v\n", err)
			os.Exit(2)
		}
		pkgs = append(pkgs, p)
	}
	violations := check(pkgs, rules())
	if len(violations) > 0 {
		sort.Strings(violations)
		fmt.Fprintln(os.Stderr, "dependency direction violated (see docs/ARCHITECTURE.md):")
		for _, v := range violations {
			fmt.Fprintln(os.Stderr, "  "+v)
		}
		os.Exit(1)
	}
	fmt.Printf("depscheck: %d packages, layering ok\n", len(pkgs))
}

// rel returns the module-relative path of an import path, or "" for foreign packages.
func rel(path string) string {
	if path == module {
		return "."
	}
	if strings.HasPrefix(path, module+"/") {
		return strings.TrimPrefix(path, module+"/")
	}
	return ""
}

// within reports whether the module-relative package p is the package prefix or below it.
func within(p, prefix string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }

// matchesTo reports whether import path dep is the rule's target.
func matchesTo(dep, to string) bool {
	if strings.Contains(to, ".") { // a foreign module path
		return dep == to || strings.HasPrefix(dep, to+"/") || strings.HasPrefix(dep, to)
	}
	if r := rel(dep); r != "" {
		if to == "actors" {
			// actors/events is the stdlib-only leaf that every layer may use.
			return within(r, "actors") && !within(r, "actors/events")
		}
		return within(r, to)
	}
	return dep == to // stdlib
}

// fromMatches applies a rule's From to a package. "esl" means only the codec package itself,
// so that esl/server (which may import actors) is not caught by the codec's rule.
func fromMatches(p, from string) bool {
	if from == "esl" || from == "actors" {
		if from == "actors" {
			return within(p, "actors") && !within(p, "actors/events")
		}
		return p == "esl"
	}
	return within(p, from)
}

func check(pkgs []pkg, rs []rule) []string {
	var out []string
	for _, p := range pkgs {
		r := rel(p.ImportPath)
		if r == "" {
			continue
		}
		deps := p.Deps
		for _, d := range deps {
			if dr := rel(d); dr != "" && (dr == "cmd" || within(dr, "cmd")) && !within(r, "cmd") {
				out = append(out, fmt.Sprintf("%s imports %s: nothing imports cmd", r, dr))
			}
		}
		for _, ru := range rs {
			if !fromMatches(r, ru.From) {
				continue
			}
			list := deps
			if ru.Direct {
				list = p.Imports
			}
			for _, d := range list {
				if matchesTo(d, ru.To) {
					out = append(out, fmt.Sprintf("%s → %s (%s)", r, d, ru.Why))
					break
				}
			}
		}
	}
	return out
}
