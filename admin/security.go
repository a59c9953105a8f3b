package admin

import (
	"net/http"
	"net/netip"
	"reflect"
	"time"
)

// Ban is one source address the SIP edge is dropping after repeated failed logins.
type Ban struct {
	IP     string    `json:"ip"`
	Until  time.Time `json:"until"`
	Reason string    `json:"reason"`
}

// SecurityControl is what the admin API needs from the SIP edge's guard (implemented in cmd
// over switch/edge): the active bans, lifting one, and the drop counters.
type SecurityControl interface {
	Bans() []Ban
	LiftBan(ip string) bool
	Stats() any
}

func (s *Server) registerSecurityRoutes() {
	s.handle(route{method: http.MethodGet, path: "/admin/security/bans/", summary: "List banned SIP sources (operator only)",
		schema: reflect.TypeFor[Ban](), list: true, status: http.StatusOK, handler: s.authed(s.listBans)})
	s.handle(route{method: http.MethodDelete, path: "/admin/security/bans/{ip}", summary: "Lift a ban (operator only); audited",
		status: http.StatusNoContent, handler: s.authed(s.liftBan)})
	s.handle(route{method: http.MethodGet, path: "/admin/security", summary: "SIP edge drop counters (operator only)",
		status: http.StatusOK, respDoc: "counters: dropped_banned, dropped_flood, dropped_scanner, malformed, active_bans", handler: s.authed(s.securityStats)})
}

func (s *Server) securityReady(p principal) error {
	if !p.isOperator() {
		return errForbidden("", "only the operator may manage security")
	}
	if s.security == nil {
		return &apiError{status: http.StatusServiceUnavailable, code: codeUnavailable, reason: "no_sip_edge", detail: "the SIP edge is not attached"}
	}
	return nil
}

func (s *Server) listBans(w http.ResponseWriter, _ *http.Request, p principal) {
	if err := s.securityReady(p); err != nil {
		s.fail(w, err)
		return
	}
	bans := s.security.Bans()
	if bans == nil {
		bans = []Ban{}
	}
	writeJSON(w, http.StatusOK, bans)
}

func (s *Server) liftBan(w http.ResponseWriter, r *http.Request, p principal) {
	if err := s.securityReady(p); err != nil {
		s.fail(w, err)
		return
	}
	ip := r.PathValue("ip")
	if _, err := netip.ParseAddr(ip); err != nil {
		s.fail(w, errParam("ip", "not an IP address"))
		return
	}
	if !s.security.LiftBan(ip) {
		s.fail(w, errNotFound("no ban for "+ip))
		return
	}
	if err := s.store.AppendAuditEvent(0, p.identity(), "lift_ban", map[string]string{"ip": ip}); err != nil {
		s.log.Error().Err(err).Msg("audit lifted ban")
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) securityStats(w http.ResponseWriter, _ *http.Request, p principal) {
	if err := s.securityReady(p); err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.security.Stats())
}
