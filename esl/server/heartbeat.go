package server

import (
	"strconv"
	"time"

	"github.com/switchyard/switchyard/actors/events"
)

// HeartbeatEvent builds a HEARTBEAT with FreeSWITCH's fields (PROTOCOL §7.2). Each session adds
// its own Switchyard-Lost-Events count when it writes the event (DECISIONS 15).
func (s *Server) HeartbeatEvent() *events.Event {
	st := s.sw.Status()
	up := s.uptime(st)
	e := events.New("HEARTBEAT")
	e.SetOrigin("switch_core.c", "send_heartbeat", 1)
	e.Add("Event-Info", "System Ready")
	e.Add("Up-Time", upTime(up))
	e.Add("FreeSWITCH-Version", fsVersionShort+"-switchyard-"+s.opts.Version)
	e.Add("Uptime-msec", strconv.FormatInt(up.Milliseconds(), 10))
	e.Add("Session-Count", strconv.Itoa(st.SessionsActive))
	e.Add("Max-Sessions", strconv.Itoa(st.MaxSessions))
	ps := strconv.Itoa(int(st.SessionsPerSec))
	e.Add("Session-Per-Sec", strconv.Itoa(st.MaxSessionsPerS))
	e.Add("Session-Per-Sec-Last", ps)
	e.Add("Session-Per-Sec-Max", ps)
	e.Add("Session-Per-Sec-FiveMin", ps)
	e.Add("Session-Since-Startup", strconv.FormatUint(st.SessionsTotal, 10))
	e.Add("Session-Peak-Max", strconv.Itoa(st.SessionsPeak))
	e.Add("Session-Peak-FiveMin", strconv.Itoa(st.SessionsPeak5m))
	e.Add("Idle-CPU", "100.000000")
	return e
}

func (s *Server) heartbeatLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.bus.Publish(s.HeartbeatEvent())
		}
	}
}
