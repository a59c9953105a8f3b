package admin

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/persistence"
)

// fixture is a domain with one customer and one gateway to hang the other
// records on.
type fixture struct {
	domainID, customerID, gatewayID int64
}

func (e *env) fixture(name string, n int) fixture {
	e.t.Helper()
	d := e.domain(name, n)
	c := e.create(fmt.Sprintf("/admin/domain/%d/customer/", d), `{"name":"Main","client_prefix":"001"}`)
	g := e.create(fmt.Sprintf("/admin/domain/%d/termination_gateway/", d),
		fmt.Sprintf(`{"customer_id":%d,"name":"gw","host":"gw.example.net","auth_name":"u1","auth_password":"gwsecret99"}`, c))
	return fixture{domainID: d, customerID: c, gatewayID: g}
}

func TestCRUDEveryResource(t *testing.T) {
	e := newEnv(t)
	fx := e.fixture("acme", 10001)
	sub := func(seg string) string { return fmt.Sprintf("/admin/domain/%d/%s/", fx.domainID, seg) }
	tests := []struct {
		name       string
		kind       persistence.Kind
		collection string
		create     string
		update     string
		field      string
		want       string
	}{
		{"domain", persistence.KindDomain, "/admin/domain/", `{"name":"ACME_Ltd","domain_prefix":"20002"}`,
			`{"description":"Acme Limited"}`, "description", "Acme Limited"},
		{"alias", persistence.KindDomainAlias, sub("alias"), `{"name":"192.0.2.1"}`, `{"comment":"pbx ip"}`, "comment", "pbx ip"},
		{"force_src", persistence.KindForceSource, sub("force_src"), `{"ip":"192.0.2.10"}`, `{"comment":"office"}`, "comment", "office"},
		{"force_dst", persistence.KindForceDestination, sub("force_dst"), `{"ip":"192.0.2.20"}`, `{"comment":"nat"}`, "comment", "nat"},
		{"customer", persistence.KindCustomer, sub("customer"), `{"name":"Second","client_prefix":"002"}`, `{"name":"Second Ltd"}`, "name", "Second Ltd"},
		{"sip_account", persistence.KindSIPAccount, sub("sip_account"),
			fmt.Sprintf(`{"customer_id":%d,"username":"100","password":"s3cretpass"}`, fx.customerID), `{"caller_id_name":"Bob"}`, "caller_id_name", "Bob"},
		{"number", persistence.KindNumber, sub("number"), fmt.Sprintf(`{"number":"+441234567890","customer_id":%d}`, fx.customerID),
			`{"comment":"main line"}`, "comment", "main line"},
		{"incoming_trunk", persistence.KindIncomingTrunk, sub("incoming_trunk"),
			fmt.Sprintf(`{"customer_id":%d,"name":"carrier","source_ips":["198.51.100.0/24"]}`, fx.customerID), `{"transport":"TCP"}`, "transport", "TCP"},
		{"termination_gateway", persistence.KindTerminationGateway, sub("termination_gateway"),
			fmt.Sprintf(`{"customer_id":%d,"name":"gw2","host":"gw2.example.net"}`, fx.customerID), `{"port":5070}`, "port", "5070"},
		{"termination_route", persistence.KindTerminationRoute, sub("termination_route"),
			fmt.Sprintf(`{"customer_id":%d,"name":"uk","gateway_id":%d,"dst_prefix":"44"}`, fx.customerID, fx.gatewayID), `{"priority":5}`, "priority", "5"},
		{"esl_user", persistence.KindESLUser, sub("esl_user"), `{"username":"ops","password":"eslpassword1"}`, `{"comment":"noc"}`, "comment", "noc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			before := len(e.live.all())
			r := e.op(http.MethodPost, tc.collection, tc.create, http.StatusCreated)
			id := int64(r.obj(t)["id"].(float64))
			item := strings.TrimSuffix(tc.collection, "/") + "/" + strconv.FormatInt(id, 10)
			if tc.name == "domain" {
				item = "/admin/domain/" + strconv.FormatInt(id, 10)
			}
			if loc := r.header.Get("Location"); loc != item {
				t.Errorf("Location %q, want %q", loc, item)
			}

			got := e.op(http.MethodGet, item, "", http.StatusOK).obj(t)
			if int64(got["id"].(float64)) != id {
				t.Errorf("GET returned id %v", got["id"])
			}
			for _, path := range []string{tc.collection, strings.TrimSuffix(tc.collection, "/")} {
				var list []map[string]any
				e.op(http.MethodGet, path, "", http.StatusOK).json(t, &list)
				if !containsID(list, id) {
					t.Errorf("GET %s does not list id %d", path, id)
				}
			}

			upd := e.op(http.MethodPut, item, tc.update, http.StatusOK).obj(t)
			if fmt.Sprint(upd[tc.field]) != tc.want {
				t.Errorf("PUT: %s = %v, want %s", tc.field, upd[tc.field], tc.want)
			}
			got = e.op(http.MethodGet, item+"/", "", http.StatusOK).obj(t)
			if fmt.Sprint(got[tc.field]) != tc.want {
				t.Errorf("GET after PUT: %s = %v, want %s", tc.field, got[tc.field], tc.want)
			}

			e.op(http.MethodDelete, item, "", http.StatusNoContent)
			wantProblem(t, e.do(http.MethodGet, item, e.opToken, ""), http.StatusNotFound, codeNotFound, "")
			var list []map[string]any
			e.op(http.MethodGet, tc.collection, "", http.StatusOK).json(t, &list)
			if containsID(list, id) {
				t.Errorf("deleted id %d still listed", id)
			}

			changes := e.live.all()[before:]
			var actions []string
			for _, c := range changes {
				if c.Kind != tc.kind || c.ID != id {
					t.Errorf("unexpected change %+v", c)
				}
				actions = append(actions, c.Action)
			}
			if strings.Join(actions, ",") != "create,update,delete" {
				t.Errorf("ConfigChanged actions %v", actions)
			}
		})
	}
}

func containsID(list []map[string]any, id int64) bool {
	for _, m := range list {
		if v, ok := m["id"].(float64); ok && int64(v) == id {
			return true
		}
	}
	return false
}

func TestListIsArrayNeverNull(t *testing.T) {
	e := newEnv(t)
	d := e.domain("empty", 10002)
	for _, seg := range []string{"alias", "force_src", "force_dst", "customer", "sip_account", "number",
		"incoming_trunk", "termination_gateway", "termination_route", "esl_user"} {
		t.Run(seg, func(t *testing.T) {
			e := e.with(t)
			r := e.do(http.MethodGet, fmt.Sprintf("/admin/domain/%d/%s/", d, seg), e.opToken, "")
			if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != "[]" {
				t.Fatalf("got %d %q, want 200 []", r.status, r.body)
			}
		})
	}
}

func TestListFilters(t *testing.T) {
	e := newEnv(t)
	a := e.domain("alpha", 11111)
	b := e.domain("beta", 22222)
	c := e.create("/admin/domain/", `{"name":"gamma","domain_prefix":"33333","comment":"vip","allow_cross_domain_dialling":true}`)
	tests := []struct {
		name  string
		query string
		want  []int64
	}{
		{"one name", "?name=alpha", []int64{a}},
		{"or within name", "?name=alpha&name=beta", []int64{a, b}},
		{"and across fields", "?name=alpha&domain_prefix=22222", nil},
		{"and across fields match", "?name=beta&domain_prefix=22222", []int64{b}},
		{"by id", fmt.Sprintf("?id=%d&id=%d", a, c), []int64{a, c}},
		{"by comment", "?comment=vip", []int64{c}},
		{"no match", "?name=zeta", nil},
		{"boolean as 1", "?allow_cross_domain_dialling=1", []int64{c}},
		{"boolean false", "?allow_cross_domain_dialling=false&name=alpha", []int64{a}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			var list []map[string]any
			e.op(http.MethodGet, "/admin/domain/"+tc.query, "", http.StatusOK).json(t, &list)
			var got []int64
			for _, m := range list {
				got = append(got, int64(m["id"].(float64)))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Fatalf("got ids %v, want %v", got, tc.want)
			}
		})
	}
	bad := []struct{ name, query, field string }{
		{"unknown field", "?colour=red", "colour"},
		{"non-integer id", "?id=abc", "id"},
		{"nested field", "?defaults=x", "defaults"},
		{"bad boolean", "?record=maybe", "record"},
	}
	for _, tc := range bad {
		t.Run("bad "+tc.name, func(t *testing.T) {
			e := e.with(t)
			wantProblem(t, e.do(http.MethodGet, "/admin/domain/"+tc.query, e.opToken, ""), http.StatusBadRequest, codeBadParam, tc.field)
		})
	}
}

func TestSubResourceMustBelongToURLDomain(t *testing.T) {
	e := newEnv(t)
	a := e.domain("one", 10010)
	b := e.domain("two", 10020)
	alias := e.create(fmt.Sprintf("/admin/domain/%d/alias/", a), `{"name":"one.example.net"}`)
	before := e.snapshot()
	wrong := fmt.Sprintf("/admin/domain/%d/alias/%d", b, alias)
	for _, tc := range []struct{ method, body string }{
		{http.MethodGet, ""}, {http.MethodPut, `{"comment":"x"}`}, {http.MethodDelete, ""},
	} {
		t.Run(tc.method, func(t *testing.T) {
			e := e.with(t)
			wantProblem(t, e.do(tc.method, wrong, e.opToken, tc.body), http.StatusNotFound, codeNotFound, "")
		})
	}
	if after := e.snapshot(); after != before {
		t.Fatal("store changed")
	}
}
