package esl

import (
	"fmt"
	"strings"
)

// Command keywords, longest-prefix first where one keyword starts another.
var keywords = []string{
	"divert_events", "sendevent", "sendmsg", "nixevent", "noevents", "myevents", "nolinger",
	"nolog", "userauth", "filter", "linger", "getvar", "resume", "connect", "bgapi", "event",
	"auth", "exit", "api", "log", "...",
}

// Parsed is a command line split into its keyword and arguments.
type Parsed struct {
	// Keyword is the canonical lower-case keyword (e.g. "event" for "events plain all").
	Keyword string
	// Args is the text after the first space of the line, untrimmed ("" if none). For api and
	// bgapi it is the text after "api " / "bgapi " exactly (PROTOCOL §1.3 rule 7).
	Args string
	// HasArgs reports whether the line had a space after the keyword.
	HasArgs bool
}

// ParseCommand matches a command line against the ESL keywords case-insensitively by prefix, as
// FreeSWITCH does (`API status` is api, `events plain all` is event). A line that contains both
// "mod_event_socket" and "unload"/"reload" is rewritten to "api bgapi unload|reload
// mod_event_socket" first (§1.3 rule 3).
func ParseCommand(line string) (Parsed, error) {
	if strings.TrimSpace(line) == "" {
		return Parsed{}, ErrEmptyCommand
	}
	low := strings.ToLower(line)
	if strings.Contains(low, "mod_event_socket") {
		switch {
		case strings.Contains(low, "unload"):
			line, low = "api bgapi unload mod_event_socket", "api bgapi unload mod_event_socket"
		case strings.Contains(low, "reload"):
			line, low = "api bgapi reload mod_event_socket", "api bgapi reload mod_event_socket"
		}
	}
	for _, k := range keywords {
		if !strings.HasPrefix(low, k) {
			continue
		}
		p := Parsed{Keyword: k}
		if k == "..." {
			p.Keyword = "exit"
		}
		if i := strings.IndexByte(line, ' '); i >= 0 {
			p.Args, p.HasArgs = line[i+1:], true
		}
		return p, nil
	}
	return Parsed{}, fmt.Errorf("%w: %q", ErrUnknownCommand, truncate(line, 64))
}

// SplitAPI splits api/bgapi arguments at the first space into command and argument, without
// trimming (so "api  status" has an empty command name, §1.3 rule 7).
func SplitAPI(args string) (cmd, arg string) {
	if i := strings.IndexByte(args, ' '); i >= 0 {
		return args[:i], args[i+1:]
	}
	return args, ""
}
