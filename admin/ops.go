package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/persistence"
)

// Paging limits for CDR and audit listings.
const (
	defaultPageLimit = 100
	maxPageLimit     = 1000
)

// liveTimeout bounds a LiveSwitch.DomainLive call.
const liveTimeout = 5 * time.Second

// farFuture is the default upper time bound (the largest instant whose
// unix-nanos fit in an int64).
var farFuture = time.Unix(0, math.MaxInt64).UTC()

func (s *Server) domainLive(w http.ResponseWriter, r *http.Request, p principal) {
	domainID, err := pathID(r, "domain_id")
	if err == nil && p.Role == RoleCustomer {
		err = errForbidden("", "customer tokens cannot read the live view")
	}
	if err == nil {
		err = s.access(p, domainID, false)
	}
	if err == nil && s.live == nil {
		err = &apiError{status: http.StatusServiceUnavailable, code: codeUnavailable, reason: "no_live_switch",
			detail: "the live switch is not attached"}
	}
	var v any
	if err == nil {
		ctx, cancel := context.WithTimeout(r.Context(), liveTimeout)
		defer cancel()
		v, err = s.live.DomainLive(ctx, domainID)
		if err != nil && !errors.Is(err, persistence.ErrNotFound) {
			s.log.Error().Err(err).Int64("domain_id", domainID).Msg("live view failed")
			err = &apiError{status: http.StatusServiceUnavailable, code: codeUnavailable, reason: "live_failed",
				detail: "the live switch could not answer"}
		}
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// timeParam parses an optional RFC 3339 query parameter.
func timeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, errParam(name, fmt.Sprintf("%s %q is not an RFC 3339 time", name, v))
	}
	return t.UTC(), nil
}

// limitParam parses an optional page size (1..maxPageLimit).
func limitParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return defaultPageLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPageLimit {
		return 0, errParam("limit", fmt.Sprintf("limit %q must be an integer from 1 to %d", v, maxPageLimit))
	}
	return n, nil
}

// timeRange reads from/to and checks from <= to.
func timeRange(r *http.Request) (from, to time.Time, err error) {
	if from, err = timeParam(r, "from", time.Unix(0, 0).UTC()); err != nil {
		return
	}
	if to, err = timeParam(r, "to", farFuture); err != nil {
		return
	}
	if to.Before(from) {
		err = errParam("to", "to is before from")
	}
	return
}

// cdrPage is the response of the CDR listing.
type cdrPage struct {
	Items []persistence.CDR `json:"items"`
	Next  string            `json:"next"`
}

func (s *Server) listCDRs(w http.ResponseWriter, r *http.Request, p principal) {
	domainID, err := pathID(r, "domain_id")
	var from, to time.Time
	var limit int
	if err == nil {
		from, to, err = timeRange(r)
	}
	if err == nil {
		limit, err = limitParam(r)
	}
	if err == nil {
		err = s.access(p, domainID, false)
	}
	var page []persistence.CDR
	var next string
	if err == nil {
		page, next, err = s.store.ListCDRs(domainID, from, to, r.URL.Query().Get("cursor"), limit)
		// A cursor the store cannot use is the caller's mistake.
		var fe *persistence.FieldError
		if errors.As(err, &fe) {
			err = errParam(fe.Field, fe.Reason)
		}
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	out := cdrPage{Items: make([]persistence.CDR, 0, len(page)), Next: next}
	for _, c := range page {
		if p.Role == RoleCustomer && c.CustomerID != p.CustomerID {
			continue
		}
		out.Items = append(out.Items, c)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, p principal) {
	var domainID int64
	var err error
	if v := r.URL.Query().Get("domain_id"); v != "" {
		domainID, err = strconv.ParseInt(v, 10, 64)
		if err != nil || domainID < 0 {
			err = errParam("domain_id", fmt.Sprintf("domain_id %q is not an integer", v))
		}
	}
	if err == nil && !p.isOperator() {
		switch {
		case p.Role != RoleDomainAdmin:
			err = errForbidden("", "customer tokens cannot read the audit log")
		case domainID != 0 && domainID != p.DomainID:
			err = errForbidden("domain_id", "the token is not valid for this domain")
		default:
			domainID = p.DomainID
		}
	}
	var from, to time.Time
	var limit int
	if err == nil {
		from, to, err = timeRange(r)
	}
	if err == nil {
		limit, err = limitParam(r)
	}
	var entries []persistence.AuditEntry
	if err == nil {
		entries, err = s.store.ListAudit(domainID, from, to, limit)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	if entries == nil {
		entries = []persistence.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, entries)
}

// tokenRequest is the body of POST /admin/token/.
type tokenRequest struct {
	Name       string `json:"name"`
	DomainID   int64  `json:"domain_id"`
	Role       string `json:"role"`
	CustomerID int64  `json:"customer_id"`
}

func operatorOnly(p principal) error {
	if !p.isOperator() {
		return errForbidden("", "only the operator may manage tokens")
	}
	return nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, p principal) {
	err := operatorOnly(p)
	var body []byte
	if err == nil {
		body, err = readJSONBody(w, r)
	}
	var req tokenRequest
	if err == nil {
		err = decodeInto(body, &req)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	res, err := s.write(persistence.KindAPIToken, ActionCreate, func() (writeResult, error) {
		if err := s.checkTokenTarget(req); err != nil {
			return writeResult{}, err
		}
		plain, tok, err := s.store.CreateToken(persistence.APIToken{Name: req.Name, DomainID: req.DomainID,
			Role: req.Role, CustomerID: req.CustomerID}, p.actor())
		if err != nil {
			return writeResult{}, err
		}
		return writeResult{rec: &tok, plaintext: plain}, nil
	})
	if err != nil {
		s.fail(w, err)
		return
	}
	v, err := toView(res.rec)
	if err == nil {
		var b []byte
		b, err = json.Marshal(res.plaintext)
		v["token"] = b
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Location", "/admin/token/"+strconv.FormatInt(res.rec.GetID(), 10))
	writeJSON(w, http.StatusCreated, v)
}

// checkTokenTarget makes sure a tenant token points at an existing domain
// (and customer of that domain).
func (s *Server) checkTokenTarget(req tokenRequest) error {
	if req.DomainID > 0 {
		if _, err := persistence.Get[*persistence.Domain](s.store, req.DomainID); err != nil {
			if errors.Is(err, persistence.ErrNotFound) {
				return errInvalid("domain_id", "not_found", fmt.Sprintf("domain %d does not exist", req.DomainID))
			}
			return fmt.Errorf("load domain %d: %w", req.DomainID, err)
		}
	}
	if req.CustomerID > 0 {
		c, err := persistence.Get[*persistence.Customer](s.store, req.CustomerID)
		if err != nil && !errors.Is(err, persistence.ErrNotFound) {
			return fmt.Errorf("load customer %d: %w", req.CustomerID, err)
		}
		if err != nil || c.DomainID != req.DomainID {
			return errInvalid("customer_id", "not_found", fmt.Sprintf("customer %d does not exist in domain %d", req.CustomerID, req.DomainID))
		}
	}
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, _ *http.Request, p principal) {
	if err := operatorOnly(p); err != nil {
		s.fail(w, err)
		return
	}
	toks, err := persistence.List[*persistence.APIToken](s.store, 0)
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]view, 0, len(toks))
	for _, t := range toks {
		v, err := toView(t)
		if err != nil {
			s.fail(w, err)
			return
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, p principal) {
	err := operatorOnly(p)
	var id int64
	if err == nil {
		id, err = pathID(r, "id")
	}
	if err == nil {
		_, err = s.write(persistence.KindAPIToken, ActionDelete, func() (writeResult, error) {
			tok, err := persistence.Delete[*persistence.APIToken](s.store, id, p.actor())
			if err != nil {
				return writeResult{}, err
			}
			return writeResult{rec: tok}, nil
		})
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
