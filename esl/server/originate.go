package server

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/actors"
	"github.com/switchyard/switchyard/actors/events"
)

const originateUsage = "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n"

// ErrOriginateSyntax is returned by ParseOriginate for malformed arguments.
var ErrOriginateSyntax = errors.New("originate: bad syntax")

// splitOriginateArgs splits on spaces outside {}, [], <>, () and single quotes.
func splitOriginateArgs(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '{' || c == '[' || c == '<' || c == '(':
			depth++
		case c == '}' || c == ']' || c == '>' || c == ')':
			if depth > 0 {
				depth--
			}
		case c == ' ' && depth == 0:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteByte(c)
	}
	if quoted || depth != 0 {
		return nil, fmt.Errorf("%w: unbalanced brackets or quotes", ErrOriginateSyntax)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out, nil
}

// parseVars reads a {a=b,c='d e'} block (also [] and <>) into ordered headers.
func parseVars(block string) ([]events.Header, error) {
	var out []events.Header
	var cur strings.Builder
	quoted := false
	flush := func() error {
		item := strings.TrimSpace(cur.String())
		cur.Reset()
		if item == "" {
			return nil
		}
		k, v, ok := strings.Cut(item, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return fmt.Errorf("%w: variable %q has no name=value", ErrOriginateSyntax, item)
		}
		out = append(out, events.Header{Name: strings.TrimSpace(k), Value: strings.Trim(v, "'")})
		return nil
	}
	for i := 0; i < len(block); i++ {
		c := block[i]
		switch {
		case c == '\'':
			quoted = !quoted
			cur.WriteByte(c)
		case c == ',' && !quoted:
			if err := flush(); err != nil {
				return nil, err
			}
		default:
			cur.WriteByte(c)
		}
	}
	return out, flush()
}

// ParseOriginate parses FreeSWITCH's originate arguments (DECISIONS 27):
// `[{vars}][[vars]]<endpoint> <exten>|&bridge(<endpoint>)|&park() [dialplan] [context] [cid_name]
// [cid_num] [timeout_s]`, with "undef" meaning an omitted positional argument.
// origination_uuid, origination_caller_id_name/number and originate_timeout become fields too.
func ParseOriginate(args string) (actors.OriginateRequest, error) {
	var req actors.OriginateRequest
	argv, err := splitOriginateArgs(strings.TrimSpace(args))
	if err != nil {
		return req, err
	}
	if len(argv) < 2 || len(argv) > 7 {
		return req, fmt.Errorf("%w: want 2 to 7 arguments, got %d", ErrOriginateSyntax, len(argv))
	}
	dial := argv[0]
	for len(dial) > 0 && (dial[0] == '{' || dial[0] == '[' || dial[0] == '<') {
		closer := map[byte]byte{'{': '}', '[': ']', '<': '>'}[dial[0]]
		end := strings.IndexByte(dial, closer)
		if end < 0 {
			return req, fmt.Errorf("%w: unterminated variable block", ErrOriginateSyntax)
		}
		vars, err := parseVars(dial[1:end])
		if err != nil {
			return req, err
		}
		req.Vars = append(req.Vars, vars...)
		dial = dial[end+1:]
	}
	if dial == "" {
		return req, fmt.Errorf("%w: missing endpoint", ErrOriginateSyntax)
	}
	req.Endpoint = dial
	req.Destination = argv[1]
	if strings.HasPrefix(req.Destination, "&") {
		open := strings.IndexByte(req.Destination, '(')
		if open < 2 || !strings.HasSuffix(req.Destination, ")") {
			return req, fmt.Errorf("%w: inline application must be &app(args)", ErrOriginateSyntax)
		}
	}
	pos := func(i int) string {
		if i < len(argv) && argv[i] != "undef" {
			return argv[i]
		}
		return ""
	}
	req.Dialplan, req.Context, req.CallerIDName, req.CallerIDNum = pos(2), pos(3), pos(4), pos(5)
	if t := pos(6); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return req, fmt.Errorf("%w: bad timeout %q", ErrOriginateSyntax, t)
		}
		req.Timeout = time.Duration(n) * time.Second
	}
	for _, v := range req.Vars {
		switch v.Name {
		case "origination_uuid":
			req.UUID = v.Value
		case "origination_caller_id_name":
			if req.CallerIDName == "" {
				req.CallerIDName = v.Value
			}
		case "origination_caller_id_number":
			if req.CallerIDNum == "" {
				req.CallerIDNum = v.Value
			}
		case "originate_timeout":
			if n, err := strconv.Atoi(v.Value); err == nil && n > 0 && req.Timeout == 0 {
				req.Timeout = time.Duration(n) * time.Second
			}
		}
	}
	return req, nil
}
