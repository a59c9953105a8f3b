package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/persistence"
)

// Token roles (persistence.APIToken.Role).
const (
	RoleOperator    = persistence.RoleOperator
	RoleDomainAdmin = persistence.RoleDomainAdmin
	RoleCustomer    = persistence.RoleCustomer
)

// DefaultFailedAuthPerMinute is the failed-token budget per client IP and
// minute used when Options.FailedAuthPerMinute is 0.
const DefaultFailedAuthPerMinute = 20

// HashToken returns the lowercase hex SHA-256 of a plaintext token, the form
// in which the operator token is kept in <data>/admin.token.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// GenerateToken returns a new random token: 32 bytes from crypto/rand,
// base64url-encoded without padding.
func GenerateToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate admin token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// principal is the authenticated caller of one request.
type principal struct {
	Role       string
	DomainID   int64
	CustomerID int64
	TokenID    int64
	Name       string
}

// identity is the audit "who" of the principal; it never contains secrets.
func (p principal) identity() string {
	if p.TokenID == 0 {
		return "operator"
	}
	return "token:" + strconv.FormatInt(p.TokenID, 10) + ":" + p.Name
}

func (p principal) actor() persistence.Actor {
	return persistence.Actor{Identity: p.identity(), DomainID: p.DomainID}
}

func (p principal) isOperator() bool { return p.Role == RoleOperator }

// authenticate resolves the bearer token of r. ok is false when the header
// is missing or the token unknown.
func (s *Server) authenticate(r *http.Request) (principal, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return principal{}, false
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return principal{}, false
	}
	if s.opHash != nil {
		sum := sha256.Sum256([]byte(tok))
		if subtle.ConstantTimeCompare(sum[:], s.opHash) == 1 {
			return principal{Role: RoleOperator}, true
		}
	}
	t, ok := s.store.LookupToken(tok)
	if !ok {
		return principal{}, false
	}
	return principal{Role: t.Role, DomainID: t.DomainID, CustomerID: t.CustomerID, TokenID: t.ID, Name: t.Name}, true
}

// failLimiter counts failed authentications per client IP in a one-minute
// window that starts at the first failure.
type failLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	now    func() time.Time
	byIP   map[string]*failWindow
}

type failWindow struct {
	start time.Time
	count int
}

// maxTrackedIPs bounds the limiter's memory; expired windows are pruned
// when it is reached.
const maxTrackedIPs = 10000

func newFailLimiter(limit int) *failLimiter {
	return &failLimiter{limit: limit, window: time.Minute, now: time.Now, byIP: map[string]*failWindow{}}
}

// blocked reports whether ip has used up its failure budget, and for how
// long it stays blocked.
func (l *failLimiter) blocked(ip string) (bool, time.Duration) {
	if l.limit < 0 {
		return false, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fw, ok := l.byIP[ip]
	if !ok {
		return false, 0
	}
	now := l.now()
	if now.Sub(fw.start) >= l.window {
		delete(l.byIP, ip)
		return false, 0
	}
	if fw.count > l.limit {
		return true, fw.start.Add(l.window).Sub(now)
	}
	return false, 0
}

// fail records one failed attempt from ip.
func (l *failLimiter) fail(ip string) {
	if l.limit < 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	fw, ok := l.byIP[ip]
	if !ok || now.Sub(fw.start) >= l.window {
		if !ok && len(l.byIP) >= maxTrackedIPs {
			for k, v := range l.byIP {
				if now.Sub(v.start) >= l.window {
					delete(l.byIP, k)
				}
			}
		}
		fw = &failWindow{start: now}
		l.byIP[ip] = fw
	}
	fw.count++
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authed wraps h with bearer-token authentication, the failed-attempt
// limiter and the locked-domain rule (DECISIONS 28).
func (s *Server) authed(h func(w http.ResponseWriter, r *http.Request, p principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(r)
		if blocked, wait := s.limiter.blocked(ip); blocked {
			secs := int(wait.Seconds()) + 1
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeProblem(w, newProblem(http.StatusTooManyRequests, codeTooMany, "Authorization", "rate_limited",
				"too many failed authentication attempts from this address"))
			return
		}
		p, ok := s.authenticate(r)
		if !ok {
			s.limiter.fail(ip)
			s.log.Warn().Str("remote", ip).Str("path", r.URL.Path).Msg("admin authentication failed")
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchyard-admin"`)
			writeProblem(w, newProblem(http.StatusUnauthorized, codeUnauthorized, "Authorization", "invalid_token",
				"a valid bearer token is required"))
			return
		}
		if !p.isOperator() {
			if err := s.checkTenantActive(p); err != nil {
				s.fail(w, err)
				return
			}
		}
		setPrincipal(r, p)
		h(w, r, p)
	}
}

// checkTenantActive refuses tenant tokens whose domain is locked or gone.
func (s *Server) checkTenantActive(p principal) error {
	if p.Role != RoleDomainAdmin && p.Role != RoleCustomer {
		return errForbidden("role", fmt.Sprintf("token role %q has no access", p.Role))
	}
	d, err := persistence.Get[*persistence.Domain](s.store, p.DomainID)
	if err != nil {
		return errForbidden("domain_id", "the token's domain does not exist")
	}
	if d.Status == "locked" {
		return errForbidden("status", "the token's domain is locked")
	}
	return nil
}
