package admin

import (
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/persistence"
)

// route is one registered endpoint; the same table drives the mux and the
// OpenAPI document.
type route struct {
	method  string
	path    string // documented path; collections end in "/"
	summary string
	schema  reflect.Type // record type in the body/response, if any
	reqBody bool         // the request carries schema as JSON
	list    bool         // the response is an array of schema
	query   []string     // documented query parameters
	status  int          // success status
	public  bool         // no token needed
	respDoc string       // response description when schema is nil
	handler http.HandlerFunc
}

// muxPattern is the ServeMux pattern of a route: trailing slashes are
// removed here and from request paths, so both spellings match.
func (rt route) muxPattern() string {
	p := rt.path
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	return rt.method + " " + p
}

func (s *Server) handle(rt route) {
	s.routes = append(s.routes, rt)
	s.mux.HandleFunc(rt.muxPattern(), rt.handler)
}

// buildRoutes registers every endpoint.
func (s *Server) buildRoutes() {
	s.mux = http.NewServeMux()
	s.handler = http.HandlerFunc(s.serveHTTP)

	s.handle(route{method: http.MethodGet, path: "/healthz", summary: "Liveness probe", public: true,
		status: http.StatusOK, respDoc: `{"status":"ok"}`, handler: s.healthz})
	s.handle(route{method: http.MethodGet, path: "/admin/openapi.json", summary: "This OpenAPI document",
		status: http.StatusOK, respDoc: "OpenAPI 3.0 document", handler: s.authed(s.openapi)})

	(&resource[*persistence.Domain]{s: s, segment: "", kind: persistence.KindDomain, title: "domain",
		newRec: func() *persistence.Domain { return new(persistence.Domain) }, customerRead: true}).register()
	(&resource[*persistence.DomainAlias]{s: s, segment: "alias", kind: persistence.KindDomainAlias, title: "domain alias",
		newRec: func() *persistence.DomainAlias { return new(persistence.DomainAlias) }}).register()
	(&resource[*persistence.ForceSource]{s: s, segment: "force_src", kind: persistence.KindForceSource, title: "domain force source",
		newRec: func() *persistence.ForceSource { return new(persistence.ForceSource) }}).register()
	(&resource[*persistence.ForceDestination]{s: s, segment: "force_dst", kind: persistence.KindForceDestination, title: "domain force destination",
		newRec: func() *persistence.ForceDestination { return new(persistence.ForceDestination) }}).register()
	(&resource[*persistence.Customer]{s: s, segment: "customer", kind: persistence.KindCustomer, title: "customer",
		newRec: func() *persistence.Customer { return new(persistence.Customer) }, customerRead: true}).register()
	(&resource[*persistence.SIPAccount]{s: s, segment: "sip_account", kind: persistence.KindSIPAccount, title: "SIP account",
		newRec: func() *persistence.SIPAccount { return new(persistence.SIPAccount) }, customerRead: true}).register()
	(&resource[*persistence.Number]{s: s, segment: "number", kind: persistence.KindNumber, title: "number",
		newRec: func() *persistence.Number { return new(persistence.Number) }, customerRead: true}).register()
	(&resource[*persistence.IncomingTrunk]{s: s, segment: "incoming_trunk", kind: persistence.KindIncomingTrunk, title: "incoming trunk",
		newRec: func() *persistence.IncomingTrunk { return new(persistence.IncomingTrunk) }, customerRead: true}).register()
	(&resource[*persistence.TerminationGateway]{s: s, segment: "termination_gateway", kind: persistence.KindTerminationGateway, title: "termination gateway",
		newRec: func() *persistence.TerminationGateway { return new(persistence.TerminationGateway) }, customerRead: true}).register()
	(&resource[*persistence.TerminationRoute]{s: s, segment: "termination_route", kind: persistence.KindTerminationRoute, title: "termination route",
		newRec: func() *persistence.TerminationRoute { return new(persistence.TerminationRoute) }, customerRead: true}).register()
	(&resource[*persistence.ESLUser]{s: s, segment: "esl_user", kind: persistence.KindESLUser, title: "ESL user",
		newRec: func() *persistence.ESLUser { return new(persistence.ESLUser) }}).register()

	s.handle(route{method: http.MethodGet, path: "/admin/domain/{domain_id}/live", summary: "Live view of a domain (status, limits, counters)",
		status: http.StatusOK, respDoc: "live view from the running switch", handler: s.authed(s.domainLive)})
	s.handle(route{method: http.MethodGet, path: "/admin/domain/{domain_id}/cdr", summary: "Page through a domain's CDRs (RFC 3339 times)",
		schema: reflect.TypeFor[persistence.CDR](), query: []string{"from", "to", "cursor", "limit"}, status: http.StatusOK,
		respDoc: "page", handler: s.authed(s.listCDRs)})
	s.registerReportRoutes()
	s.registerSecurityRoutes()
	s.handle(route{method: http.MethodGet, path: "/admin/audit", summary: "List audit entries",
		schema: reflect.TypeFor[persistence.AuditEntry](), list: true, query: []string{"domain_id", "from", "to", "limit"},
		status: http.StatusOK, handler: s.authed(s.listAudit)})
	s.handle(route{method: http.MethodPost, path: "/admin/token/", summary: "Create an API token (operator only); the plaintext is returned once",
		schema: reflect.TypeFor[tokenRequest](), reqBody: true, status: http.StatusCreated, respDoc: "token", handler: s.authed(s.createToken)})
	s.handle(route{method: http.MethodGet, path: "/admin/token/", summary: "List API tokens (operator only)",
		schema: reflect.TypeFor[persistence.APIToken](), list: true, status: http.StatusOK, handler: s.authed(s.listTokens)})
	s.handle(route{method: http.MethodDelete, path: "/admin/token/{id}", summary: "Revoke an API token (operator only)",
		status: http.StatusNoContent, handler: s.authed(s.deleteToken)})

	s.mux.HandleFunc("/", s.authed(s.fallback))
}

// fallback answers paths and methods no route serves: 405 with Allow
// when the path exists under another method, else 404.
func (s *Server) fallback(w http.ResponseWriter, r *http.Request, _ principal) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		sort.Strings(allow)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeProblem(w, newProblem(http.StatusMethodNotAllowed, codeMethod, "", "method",
			"method "+r.Method+" is not allowed here"))
		return
	}
	writeProblem(w, newProblem(http.StatusNotFound, codeNotFound, "", "", "no such endpoint"))
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
