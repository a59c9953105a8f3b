package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"

	"github.com/switchyard/switchyard/persistence"
)

// resource serves the five REST verbs for one record type. segment is the
// URL segment under /admin/domain/{domain_id}/ ("" for domains).
type resource[T persistence.Record] struct {
	s       *Server
	segment string
	kind    persistence.Kind
	title   string
	newRec  func() T
	// customerRead lets customer-role tokens read records of their own
	// customer (records carrying customer_id, or the customer itself).
	customerRead bool
}

// domainOperatorOnly are the domain fields a domain-admin token may not change.
var domainOperatorOnly = []string{"name", "domain_prefix", "domain_suffix", "status", "limitations"}

func (rs *resource[T]) isDomain() bool { return rs.segment == "" }

// collectionPath is the documented collection path (with trailing slash).
func (rs *resource[T]) collectionPath() string {
	if rs.isDomain() {
		return "/admin/domain/"
	}
	return "/admin/domain/{domain_id}/" + rs.segment + "/"
}

func (rs *resource[T]) itemPath() string {
	if rs.isDomain() {
		return "/admin/domain/{domain_id}"
	}
	return "/admin/domain/{domain_id}/" + rs.segment + "/{id}"
}

// register adds the five routes of the resource.
func (rs *resource[T]) register() {
	typ := reflect.TypeOf(rs.newRec()).Elem()
	s := rs.s
	s.handle(route{method: http.MethodPost, path: rs.collectionPath(), summary: "Create a " + rs.title, schema: typ,
		reqBody: true, status: http.StatusCreated, handler: s.authed(rs.create)})
	s.handle(route{method: http.MethodGet, path: rs.collectionPath(), summary: "List " + rs.title + " records", schema: typ,
		list: true, query: filterNames(typ), status: http.StatusOK, handler: s.authed(rs.list)})
	s.handle(route{method: http.MethodGet, path: rs.itemPath(), summary: "Get a " + rs.title, schema: typ,
		status: http.StatusOK, handler: s.authed(rs.get)})
	s.handle(route{method: http.MethodPut, path: rs.itemPath(), summary: "Update a " + rs.title + " (omitted fields keep their values)",
		schema: typ, reqBody: true, status: http.StatusOK, handler: s.authed(rs.update)})
	s.handle(route{method: http.MethodDelete, path: rs.itemPath(), summary: "Delete a " + rs.title,
		status: http.StatusNoContent, handler: s.authed(rs.del)})
}

// ids parses the URL's domain id and, for items, record id.
func (rs *resource[T]) ids(r *http.Request, item bool) (domainID, id int64, err error) {
	domainID, err = pathID(r, "domain_id")
	if err != nil {
		return 0, 0, err
	}
	if rs.isDomain() {
		return domainID, domainID, nil
	}
	if item {
		id, err = pathID(r, "id")
	}
	return domainID, id, err
}

func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, errParam(name, fmt.Sprintf("%s %q is not a positive integer", name, v))
	}
	return id, nil
}

// access checks the principal may reach domainID (and write to it) and
// that the domain exists.
func (s *Server) access(p principal, domainID int64, write bool) error {
	if !p.isOperator() {
		if domainID != p.DomainID {
			return errForbidden("domain_id", "the token is not valid for this domain")
		}
		if write && p.Role != RoleDomainAdmin {
			return errForbidden("", "the token is read-only")
		}
	}
	if _, err := persistence.Get[*persistence.Domain](s.store, domainID); err != nil {
		if errors.Is(err, persistence.ErrNotFound) {
			return errNotFound(fmt.Sprintf("domain %d does not exist", domainID))
		}
		return fmt.Errorf("load domain %d: %w", domainID, err)
	}
	return nil
}

// customerVisible reports whether a customer-role principal may see rec.
func (rs *resource[T]) customerVisible(p principal, rec T) bool {
	if p.Role != RoleCustomer {
		return true
	}
	if !rs.customerRead {
		return false
	}
	if rs.kind == persistence.KindCustomer {
		return rec.GetID() == p.CustomerID
	}
	if rs.isDomain() {
		return true
	}
	cid, ok := customerIDOf(rec)
	return ok && cid == p.CustomerID
}

// readAllowed refuses customer tokens on resources they may never read.
func (rs *resource[T]) readAllowed(p principal) error {
	if p.Role == RoleCustomer && !rs.customerRead {
		return errForbidden("", "customer tokens cannot read "+string(rs.kind)+" records")
	}
	return nil
}

// load returns record id of the domain, or a 404 when it belongs elsewhere.
func (rs *resource[T]) load(domainID, id int64) (T, error) {
	rec, err := persistence.Get[T](rs.s.store, id)
	if err != nil {
		var zero T
		if errors.Is(err, persistence.ErrNotFound) {
			return zero, errNotFound(fmt.Sprintf("%s %d does not exist", rs.kind, id))
		}
		return zero, fmt.Errorf("load %s %d: %w", rs.kind, id, err)
	}
	if rec.Scope() != domainID {
		var zero T
		return zero, errNotFound(fmt.Sprintf("%s %d does not exist in domain %d", rs.kind, id, domainID))
	}
	return rec, nil
}

func (rs *resource[T]) list(w http.ResponseWriter, r *http.Request, p principal) {
	filters, err := parseFilters(r, reflect.TypeOf(rs.newRec()).Elem())
	if err != nil {
		rs.s.fail(w, err)
		return
	}
	var recs []T
	if rs.isDomain() {
		if p.isOperator() {
			recs, err = persistence.List[T](rs.s.store, 0)
		} else {
			var own T
			own, err = persistence.Get[T](rs.s.store, p.DomainID)
			recs = []T{own}
		}
	} else {
		var domainID int64
		if domainID, err = pathID(r, "domain_id"); err == nil {
			if err = rs.readAllowed(p); err == nil {
				if err = rs.s.access(p, domainID, false); err == nil {
					recs, err = persistence.List[T](rs.s.store, domainID)
				}
			}
		}
	}
	if err != nil {
		rs.s.fail(w, err)
		return
	}
	out := make([]json.RawMessage, 0, len(recs))
	for _, rec := range recs {
		if !rs.customerVisible(p, rec) {
			continue
		}
		view, err := rs.s.render(rec)
		if err != nil {
			rs.s.fail(w, err)
			return
		}
		if !filters.match(view) {
			continue
		}
		b, err := json.Marshal(view)
		if err != nil {
			rs.s.fail(w, err)
			return
		}
		out = append(out, b)
	}
	writeJSON(w, http.StatusOK, out)
}

func (rs *resource[T]) get(w http.ResponseWriter, r *http.Request, p principal) {
	domainID, id, err := rs.ids(r, true)
	if err == nil {
		err = rs.readAllowed(p)
	}
	if err == nil {
		err = rs.s.access(p, domainID, false)
	}
	var rec T
	if err == nil {
		rec, err = rs.load(domainID, id)
	}
	if err == nil && !rs.customerVisible(p, rec) {
		err = errNotFound(fmt.Sprintf("%s %d does not exist", rs.kind, id))
	}
	if err != nil {
		rs.s.fail(w, err)
		return
	}
	rs.s.writeRecord(w, http.StatusOK, rec)
}

func (rs *resource[T]) create(w http.ResponseWriter, r *http.Request, p principal) {
	var domainID int64
	var err error
	if rs.isDomain() {
		if !p.isOperator() {
			err = errForbidden("", "only the operator may create domains")
		}
	} else if domainID, err = pathID(r, "domain_id"); err == nil {
		err = rs.s.access(p, domainID, true)
	}
	var body []byte
	if err == nil {
		body, err = readJSONBody(w, r)
	}
	if err != nil {
		rs.s.fail(w, err)
		return
	}
	res, err := rs.s.write(rs.kind, ActionCreate, func() (writeResult, error) {
		rec := rs.newRec()
		if err := decodeInto(body, rec); err != nil {
			return writeResult{}, err
		}
		if rec.GetID() != 0 {
			return writeResult{}, errInvalid("id", "read_only", "id is assigned by the server")
		}
		if d, ok := any(rec).(*persistence.Domain); ok && d.Management {
			return writeResult{}, errInvalid("management", "read_only", "management is set only by the bootstrap")
		}
		if !rs.isDomain() {
			if err := setDomainID(rec, domainID); err != nil {
				return writeResult{}, err
			}
		}
		created, err := persistence.Create(rs.s.store, rec, p.actor())
		if err != nil {
			return writeResult{}, err
		}
		return writeResult{rec: created}, nil
	})
	if err != nil {
		rs.s.fail(w, err)
		return
	}
	w.Header().Set("Location", rs.location(res.rec))
	rs.s.writeRecord(w, http.StatusCreated, res.rec)
}

func (rs *resource[T]) location(rec persistence.Record) string {
	if rs.isDomain() {
		return "/admin/domain/" + strconv.FormatInt(rec.GetID(), 10)
	}
	return "/admin/domain/" + strconv.FormatInt(rec.Scope(), 10) + "/" + rs.segment + "/" + strconv.FormatInt(rec.GetID(), 10)
}

func (rs *resource[T]) update(w http.ResponseWriter, r *http.Request, p principal) {
	domainID, id, err := rs.ids(r, true)
	if err == nil {
		err = rs.s.access(p, domainID, true)
	}
	var body []byte
	if err == nil {
		body, err = readJSONBody(w, r)
	}
	if err != nil {
		rs.s.fail(w, err)
		return
	}
	res, err := rs.s.write(rs.kind, ActionUpdate, func() (writeResult, error) {
		existing, err := rs.load(domainID, id)
		if err != nil {
			return writeResult{}, err
		}
		rec, err := rs.merge(existing, body)
		if err != nil {
			return writeResult{}, err
		}
		if !p.isOperator() && rs.isDomain() {
			if err := operatorOnlyUnchanged(existing, rec); err != nil {
				return writeResult{}, err
			}
		}
		updated, err := persistence.Update(rs.s.store, rec, p.actor())
		if err != nil {
			return writeResult{}, err
		}
		return writeResult{rec: updated}, nil
	})
	if err != nil {
		rs.s.fail(w, err)
		return
	}
	rs.s.writeRecord(w, http.StatusOK, res.rec)
}

// merge decodes body over a deep copy of existing; the id and owning
// domain cannot be changed through the body.
func (rs *resource[T]) merge(existing T, body []byte) (T, error) {
	var zero T
	rec := rs.newRec()
	cur, err := json.Marshal(existing)
	if err != nil {
		return zero, fmt.Errorf("copy %s %d: %w", rs.kind, existing.GetID(), err)
	}
	if err := json.Unmarshal(cur, rec); err != nil {
		return zero, fmt.Errorf("copy %s %d: %w", rs.kind, existing.GetID(), err)
	}
	if err := decodeInto(body, rec); err != nil {
		return zero, err
	}
	if rec.GetID() != existing.GetID() {
		return zero, errInvalid("id", "immutable", "id cannot be changed")
	}
	if d, ok := any(rec).(*persistence.Domain); ok && d.Management != any(existing).(*persistence.Domain).Management {
		return zero, errInvalid("management", "read_only", "management cannot be changed")
	}
	if !rs.isDomain() && rec.Scope() != existing.Scope() {
		return zero, errInvalid("domain_id", "immutable", "domain_id cannot be changed")
	}
	return rec, nil
}

// operatorOnlyUnchanged refuses a domain-admin change to operator-only
// domain fields.
func operatorOnlyUnchanged(before, after persistence.Record) error {
	b, err := toView(before)
	if err != nil {
		return err
	}
	a, err := toView(after)
	if err != nil {
		return err
	}
	for _, f := range domainOperatorOnly {
		if string(b[f]) != string(a[f]) {
			return errForbidden(f, fmt.Sprintf("only the operator may change %q", f))
		}
	}
	return nil
}

func (rs *resource[T]) del(w http.ResponseWriter, r *http.Request, p principal) {
	domainID, id, err := rs.ids(r, true)
	if err == nil && rs.isDomain() && !p.isOperator() {
		err = errForbidden("", "only the operator may delete domains")
	}
	if err == nil {
		err = rs.s.access(p, domainID, true)
	}
	if err != nil {
		rs.s.fail(w, err)
		return
	}
	_, err = rs.s.write(rs.kind, ActionDelete, func() (writeResult, error) {
		if _, err := rs.load(domainID, id); err != nil {
			return writeResult{}, err
		}
		deleted, err := persistence.Delete[T](rs.s.store, id, p.actor())
		if err != nil {
			return writeResult{}, err
		}
		return writeResult{rec: deleted}, nil
	})
	if err != nil {
		rs.s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// setDomainID sets the DomainID field of a sub-resource from the URL; a
// body naming another domain is refused.
func setDomainID(rec persistence.Record, domainID int64) error {
	f := reflect.ValueOf(rec).Elem().FieldByName("DomainID")
	if !f.IsValid() || f.Kind() != reflect.Int64 {
		return fmt.Errorf("record %s has no DomainID field", rec.Kind())
	}
	if f.Int() != 0 && f.Int() != domainID {
		return errInvalid("domain_id", "mismatch", "domain_id in the body differs from the URL")
	}
	f.SetInt(domainID)
	return nil
}

// customerIDOf returns the CustomerID field of rec, if it has one.
func customerIDOf(rec persistence.Record) (int64, bool) {
	v := reflect.ValueOf(rec)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return 0, false
		}
		v = v.Elem()
	}
	f := v.FieldByName("CustomerID")
	if !f.IsValid() || f.Kind() != reflect.Int64 {
		return 0, false
	}
	return f.Int(), true
}
