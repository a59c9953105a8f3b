package admin

import (
	"fmt"
	"net/http"
	"testing"
)

// subBodies gives every domain sub-resource with a valid create body
// (customer id and gateway id substituted).
func subBodies(fx fixture, n int) map[string]string {
	return map[string]string{
		"alias":               fmt.Sprintf(`{"name":"x%d.example.org"}`, n),
		"force_src":           fmt.Sprintf(`{"ip":"203.0.113.%d"}`, n),
		"force_dst":           fmt.Sprintf(`{"ip":"203.0.113.%d"}`, 100+n),
		"customer":            `{"name":"X","client_prefix":"009"}`,
		"sip_account":         fmt.Sprintf(`{"customer_id":%d,"username":"900","password":"password123"}`, fx.customerID),
		"number":              fmt.Sprintf(`{"number":"+1555000%04d","customer_id":%d}`, n, fx.customerID),
		"incoming_trunk":      fmt.Sprintf(`{"customer_id":%d,"name":"t"}`, fx.customerID),
		"termination_gateway": fmt.Sprintf(`{"customer_id":%d,"name":"g","host":"203.0.113.50"}`, fx.customerID),
		"termination_route":   fmt.Sprintf(`{"customer_id":%d,"name":"r","gateway_id":%d}`, fx.customerID, fx.gatewayID),
		"esl_user":            `{"username":"x","password":"password123"}`,
	}
}

func TestDomainAdminIsolation(t *testing.T) {
	e := newEnv(t)
	mine := e.fixture("mine", 10001)
	theirs := e.fixture("theirs", 10002)
	admin := e.token(RoleDomainAdmin, mine.domainID, 0)

	// One record of every kind in the other domain.
	ids := map[string]int64{}
	for seg, body := range subBodies(theirs, 1) {
		ids[seg] = e.create(fmt.Sprintf("/admin/domain/%d/%s/", theirs.domainID, seg), body)
	}
	before := e.snapshot()
	for seg, id := range ids {
		coll := fmt.Sprintf("/admin/domain/%d/%s/", theirs.domainID, seg)
		item := fmt.Sprintf("/admin/domain/%d/%s/%d", theirs.domainID, seg, id)
		ownItem := fmt.Sprintf("/admin/domain/%d/%s/%d", mine.domainID, seg, id)
		t.Run(seg, func(t *testing.T) {
			e := e.with(t)
			for _, c := range []struct{ method, path, body string }{
				{"GET", coll, ""}, {"POST", coll, subBodies(theirs, 1)[seg]},
				{"GET", item, ""}, {"PUT", item, `{}`}, {"DELETE", item, ""},
			} {
				wantProblem(t, e.do(c.method, c.path, admin, c.body), http.StatusForbidden, codeForbidden, "domain_id")
			}
			// Addressing the foreign id through its own domain: not found there.
			for _, m := range []string{"GET", "PUT", "DELETE"} {
				body := ""
				if m == "PUT" {
					body = `{}`
				}
				wantProblem(t, e.do(m, ownItem, admin, body), http.StatusNotFound, codeNotFound, "")
			}
		})
	}
	t.Run("other domain itself", func(t *testing.T) {
		e := e.with(t)
		path := fmt.Sprintf("/admin/domain/%d", theirs.domainID)
		for _, m := range []string{"GET", "DELETE"} {
			wantProblem(t, e.do(m, path, admin, ""), http.StatusForbidden, codeForbidden, "")
		}
		for _, sub := range []string{"live", "cdr"} {
			wantProblem(t, e.do("GET", path+"/"+sub, admin, ""), http.StatusForbidden, codeForbidden, "domain_id")
		}
		wantProblem(t, e.do("GET", fmt.Sprintf("/admin/audit?domain_id=%d", theirs.domainID), admin, ""), http.StatusForbidden, codeForbidden, "domain_id")
	})
	t.Run("domain list shows only own domain", func(t *testing.T) {
		e := e.with(t)
		var list []map[string]any
		r := e.do("GET", "/admin/domain/", admin, "")
		r.json(t, &list)
		if len(list) != 1 || int64(list[0]["id"].(float64)) != mine.domainID {
			t.Fatalf("domain admin sees %s", r.body)
		}
	})
	t.Run("no tokens, no domain create or delete", func(t *testing.T) {
		e := e.with(t)
		wantProblem(t, e.do("POST", "/admin/token/", admin, `{"name":"x","role":"operator"}`), http.StatusForbidden, codeForbidden, "")
		wantProblem(t, e.do("GET", "/admin/token/", admin, ""), http.StatusForbidden, codeForbidden, "")
		wantProblem(t, e.do("DELETE", "/admin/token/1", admin, ""), http.StatusForbidden, codeForbidden, "")
		wantProblem(t, e.do("DELETE", fmt.Sprintf("/admin/domain/%d", mine.domainID), admin, ""), http.StatusForbidden, codeForbidden, "")
	})
	if e.snapshot() != before {
		t.Fatal("store changed by refused requests")
	}
	t.Run("own domain works", func(t *testing.T) {
		e := e.with(t)
		for seg, body := range subBodies(mine, 2) {
			r := e.do("POST", fmt.Sprintf("/admin/domain/%d/%s/", mine.domainID, seg), admin, body)
			if r.status != http.StatusCreated {
				t.Errorf("%s: %d %s", seg, r.status, r.body)
			}
		}
		r := e.do("PUT", fmt.Sprintf("/admin/domain/%d", mine.domainID), admin, `{"description":"ours","name":"mine","limitations":{}}`)
		if r.status != http.StatusOK {
			t.Fatalf("own domain PUT (operator-only fields unchanged): %d %s", r.status, r.body)
		}
		r = e.do("GET", fmt.Sprintf("/admin/domain/%d/live", mine.domainID), admin, "")
		if r.status != http.StatusOK {
			t.Fatalf("own live: %d %s", r.status, r.body)
		}
	})
}

func TestCustomerTokenReadOnly(t *testing.T) {
	e := newEnv(t)
	fx := e.fixture("acme", 10001)
	otherCust := e.create(fmt.Sprintf("/admin/domain/%d/customer/", fx.domainID), `{"name":"Other","client_prefix":"002"}`)
	myAcc := e.create(fmt.Sprintf("/admin/domain/%d/sip_account/", fx.domainID),
		fmt.Sprintf(`{"customer_id":%d,"username":"100","password":"password123"}`, fx.customerID))
	theirAcc := e.create(fmt.Sprintf("/admin/domain/%d/sip_account/", fx.domainID),
		fmt.Sprintf(`{"customer_id":%d,"username":"100","password":"password123"}`, otherCust))
	cust := e.token(RoleCustomer, fx.domainID, fx.customerID)
	dom := fmt.Sprintf("/admin/domain/%d", fx.domainID)
	before := e.snapshot()

	t.Run("reads own records", func(t *testing.T) {
		e := e.with(t)
		for _, p := range []string{dom, fmt.Sprintf("%s/sip_account/%d", dom, myAcc), fmt.Sprintf("%s/customer/%d", dom, fx.customerID)} {
			if r := e.do("GET", p, cust, ""); r.status != http.StatusOK {
				t.Errorf("GET %s: %d %s", p, r.status, r.body)
			}
		}
		var list []map[string]any
		e.do("GET", dom+"/sip_account/", cust, "").json(t, &list)
		if len(list) != 1 || int64(list[0]["id"].(float64)) != myAcc {
			t.Errorf("customer list = %v", list)
		}
	})
	t.Run("other customer is invisible", func(t *testing.T) {
		e := e.with(t)
		wantProblem(t, e.do("GET", fmt.Sprintf("%s/sip_account/%d", dom, theirAcc), cust, ""), http.StatusNotFound, codeNotFound, "")
		wantProblem(t, e.do("GET", fmt.Sprintf("%s/customer/%d", dom, otherCust), cust, ""), http.StatusNotFound, codeNotFound, "")
	})
	t.Run("writes refused", func(t *testing.T) {
		e := e.with(t)
		for _, c := range []struct{ method, path, body string }{
			{"POST", dom + "/sip_account/", fmt.Sprintf(`{"customer_id":%d,"username":"101","password":"password123"}`, fx.customerID)},
			{"PUT", fmt.Sprintf("%s/sip_account/%d", dom, myAcc), `{"caller_id_name":"x"}`},
			{"DELETE", fmt.Sprintf("%s/sip_account/%d", dom, myAcc), ""},
			{"PUT", dom, `{"description":"x"}`},
		} {
			wantProblem(t, e.do(c.method, c.path, cust, c.body), http.StatusForbidden, codeForbidden, "")
		}
	})
	t.Run("domain-level resources refused", func(t *testing.T) {
		e := e.with(t)
		for _, p := range []string{dom + "/alias/", dom + "/esl_user/", dom + "/live", "/admin/audit"} {
			wantProblem(t, e.do("GET", p, cust, ""), http.StatusForbidden, codeForbidden, "")
		}
	})
	if e.snapshot() != before {
		t.Fatal("store changed")
	}
}

func TestLockedDomainRefusesTenantTokens(t *testing.T) {
	e := newEnv(t)
	fx := e.fixture("acme", 10001)
	admin := e.token(RoleDomainAdmin, fx.domainID, 0)
	cust := e.token(RoleCustomer, fx.domainID, fx.customerID)
	dom := fmt.Sprintf("/admin/domain/%d", fx.domainID)
	if r := e.do("GET", dom, admin, ""); r.status != http.StatusOK {
		t.Fatalf("before lock: %d", r.status)
	}
	e.op("PUT", dom, `{"status":"locked"}`, http.StatusOK)
	for name, tok := range map[string]string{"domain_admin": admin, "customer": cust} {
		t.Run(name, func(t *testing.T) {
			e := e.with(t)
			wantProblem(t, e.do("GET", dom, tok, ""), http.StatusForbidden, codeForbidden, "status")
		})
	}
	e.op("GET", dom+"/customer/", "", http.StatusOK)
	e.op("PUT", dom, `{"status":"active"}`, http.StatusOK)
	if r := e.do("GET", dom, admin, ""); r.status != http.StatusOK {
		t.Fatalf("after unlock: %d", r.status)
	}
}
