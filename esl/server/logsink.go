package server

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"sync"

	"github.com/switchyard/switchyard/esl"
)

// LogSink turns zerolog JSON lines into log/data messages for the sessions that sent `log`
// (PROTOCOL §3.12). Write never blocks: a session whose log queue is full loses that line.
type LogSink struct {
	srv  *Server
	mu   sync.Mutex
	subs map[*session]struct{}
}

var zerologLevels = map[string]int{"trace": 7, "debug": 7, "info": 6, "warn": 4, "error": 3, "fatal": 2, "panic": 0}

func (l *LogSink) add(ss *session) {
	l.mu.Lock()
	if l.subs == nil {
		l.subs = map[*session]struct{}{}
	}
	l.subs[ss] = struct{}{}
	l.mu.Unlock()
}

func (l *LogSink) remove(ss *session) {
	l.mu.Lock()
	delete(l.subs, ss)
	l.mu.Unlock()
}

// Write accepts one or more newline-separated zerolog JSON lines (plain text lines are sent at
// level info). It always reports the whole input as written.
func (l *LogSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	n := len(l.subs)
	l.mu.Unlock()
	if n == 0 {
		return len(p), nil
	}
	for _, raw := range bytes.Split(p, []byte{'\n'}) {
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		line := esl.LogLine{Level: 6, Text: string(raw) + "\n"}
		var rec map[string]any
		if json.Unmarshal(raw, &rec) == nil {
			if lv, ok := rec["level"].(string); ok {
				if n, ok := zerologLevels[lv]; ok {
					line.Level = n
				}
			}
			if c, ok := rec["caller"].(string); ok {
				file, ln, _ := strings.Cut(c, ":")
				line.File = file
				line.Line, _ = strconv.Atoi(ln)
			}
			if u, ok := rec["uuid"].(string); ok {
				line.UserData = u
				line.Channel = 3
			}
		}
		msg := esl.AppendLogData(nil, line)
		l.mu.Lock()
		for ss := range l.subs {
			if lv := ss.logLevel.Load(); lv >= 0 && int32(line.Level) <= lv {
				select {
				case ss.logs <- msg:
				default:
				}
			}
		}
		l.mu.Unlock()
	}
	return len(p), nil
}
