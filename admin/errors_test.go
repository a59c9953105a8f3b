package admin

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestErrorClassesChangeNothing(t *testing.T) {
	e := newEnv(t)
	fx := e.fixture("acme", 10001)
	other := e.domain("other", 10002)
	capped := e.create("/admin/domain/", `{"name":"capped","domain_prefix":"10003","limitations":{"max_users":1,"max_numbers":"disabled"}}`)
	cappedCust := e.create(fmt.Sprintf("/admin/domain/%d/customer/", capped), `{"name":"C","client_prefix":"001"}`)
	e.create(fmt.Sprintf("/admin/domain/%d/sip_account/", capped), fmt.Sprintf(`{"customer_id":%d,"username":"100","password":"password123"}`, cappedCust))
	admin := e.token(RoleDomainAdmin, fx.domainID, 0)
	alias := e.create(fmt.Sprintf("/admin/domain/%d/alias/", fx.domainID), `{"name":"pbx.acme.example"}`)
	aliasPath := fmt.Sprintf("/admin/domain/%d/alias/%d", fx.domainID, alias)
	full, err := os.ReadFile("testdata/domain_full.json")
	if err != nil {
		t.Fatal(err)
	}

	dom := fmt.Sprintf("/admin/domain/%d", fx.domainID)
	big := `{"name":"big","domain_prefix":"30000","description":"` + strings.Repeat("x", maxBodyBytes) + `"}`
	big10 := `{"description":"` + strings.Repeat("y", 10<<20) + `"}`
	deep := `{"description":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`
	tests := []struct {
		name        string
		method      string
		path        string
		token       string
		body        string
		contentType string
		status      int
		code        string
		field       string
		reason      string
	}{
		{"400 truncated JSON", "POST", "/admin/domain/", "", `{"name":"x","domain_prefix":`, "", 400, codeMalformed, "", "syntax"},
		{"400 syntax error", "POST", "/admin/domain/", "", `{"name" "x"}`, "", 400, codeMalformed, "", "syntax"},
		{"400 wrong type", "POST", "/admin/domain/", "", `{"name":5,"domain_prefix":"30000"}`, "", 400, codeMalformed, "name", "wrong_type"},
		{"400 wrong nested type", "POST", "/admin/domain/", "", `{"name":"n","domain_prefix":"30000","defaults":{"randomize_moh":"yes"}}`, "", 400, codeMalformed, "defaults.randomize_moh", "wrong_type"},
		{"400 trailing data", "POST", "/admin/domain/", "", `{"name":"x","domain_prefix":"30000"} {}`, "", 400, codeMalformed, "", "trailing_data"},
		{"400 duplicate key", "POST", "/admin/domain/", "", `{"name":"a","name":"b","domain_prefix":"30000"}`, "", 400, codeMalformed, "name", "duplicate_key"},
		{"400 nested duplicate key", "POST", "/admin/domain/", "", `{"name":"a","domain_prefix":"30000","defaults":{"language":"en","language":"fr"}}`, "", 400, codeMalformed, "defaults.language", "duplicate_key"},
		{"400 deep nesting", "POST", "/admin/domain/", "", deep, "", 400, codeMalformed, "", "too_deep"},
		{"400 invalid UTF-8", "POST", "/admin/domain/", "", "{\"name\":\"a\xff\",\"domain_prefix\":\"30000\"}", "", 400, codeMalformed, "", "invalid_utf8"},
		{"400 not an object", "POST", "/admin/domain/", "", `["name"]`, "", 400, codeMalformed, "", "not_object"},
		{"400 bad feature cap", "POST", "/admin/domain/", "", `{"name":"n","domain_prefix":"30000","limitations":{"max_users":"lots"}}`, "", 400, codeMalformed, "", "invalid_value"},
		{"401 no token", "POST", "/admin/domain/", "-", string(full), "", 401, codeUnauthorized, "Authorization", "invalid_token"},
		{"403 other domain", "PUT", fmt.Sprintf("/admin/domain/%d", other), admin, `{"description":"x"}`, "", 403, codeForbidden, "domain_id", "forbidden"},
		{"403 create domain as tenant", "POST", "/admin/domain/", admin, string(full), "", 403, codeForbidden, "", "forbidden"},
		{"403 operator-only field", "PUT", dom, admin, `{"status":"locked"}`, "", 403, codeForbidden, "status", "forbidden"},
		{"403 operator-only limitations", "PUT", dom, admin, `{"limitations":{"max_users":5}}`, "", 403, codeForbidden, "limitations", "forbidden"},
		{"404 unknown domain", "PUT", "/admin/domain/999", "", `{"description":"x"}`, "", 404, codeNotFound, "", ""},
		{"404 unknown sub id", "DELETE", dom + "/alias/999", "", "", "", 404, codeNotFound, "", ""},
		{"404 tenant unknown id", "GET", dom + "/customer/999", admin, "", "", 404, codeNotFound, "", ""},
		{"409 duplicate name", "POST", "/admin/domain/", "", `{"name":"acme","domain_prefix":"30000"}`, "", 409, codeConflict, "name", ""},
		{"409 duplicate prefix", "POST", "/admin/domain/", "", `{"name":"fresh","domain_prefix":"10002"}`, "", 409, codeConflict, "domain_prefix", ""},
		{"413 body too large", "POST", "/admin/domain/", "", big, "", 413, codeTooLarge, "", "too_large"},
		{"413 10 MB body", "POST", "/admin/domain/", "", big10, "", 413, codeTooLarge, "", "too_large"},
		{"415 text/plain", "POST", "/admin/domain/", "", `{"name":"n","domain_prefix":"30000"}`, "text/plain", 415, codeMediaType, "Content-Type", "unsupported"},
		{"415 missing type", "PUT", dom, "", `{"description":"x"}`, "-", 415, codeMediaType, "Content-Type", "unsupported"},
		{"422 invalid field", "POST", "/admin/domain/", "", `{"name":"n","domain_prefix":"12"}`, "", 422, codeInvalid, "domain_prefix", ""},
		{"422 invalid name chars", "POST", "/admin/domain/", "", `{"name":"bad name!","domain_prefix":"30000"}`, "", 422, codeInvalid, "name", ""},
		{"422 unknown field", "POST", "/admin/domain/", "", `{"name":"n","domain_prefix":"30000","colour":"red"}`, "", 422, codeUnknownField, "colour", "unknown_field"},
		{"422 immutable name", "PUT", dom, "", `{"name":"renamed"}`, "", 422, codeImmutable, "name", "immutable"},
		{"422 immutable domain_suffix", "PUT", dom, "", `{"domain_suffix":"res9"}`, "", 422, codeImmutable, "domain_suffix", "immutable"},
		{"422 id in body", "PUT", dom, "", fmt.Sprintf(`{"id":%d}`, other), "", 422, codeImmutable, "id", "immutable"},
		{"422 id on create", "POST", "/admin/domain/", "", `{"id":77,"name":"n","domain_prefix":"30000"}`, "", 422, codeInvalid, "id", "read_only"},
		{"422 management on create", "POST", "/admin/domain/", "", `{"name":"n","domain_prefix":"30000","management":true}`, "", 422, codeInvalid, "management", "read_only"},
		{"422 management on update", "PUT", dom, "", `{"management":true}`, "", 422, codeInvalid, "management", "read_only"},
		{"422 sub domain_id mismatch", "POST", dom + "/alias/", "", fmt.Sprintf(`{"name":"y.example","domain_id":%d}`, other), "", 422, codeInvalid, "domain_id", "mismatch"},
		{"422 sub domain_id change", "PUT", aliasPath, "", fmt.Sprintf(`{"domain_id":%d}`, other), "", 422, codeImmutable, "domain_id", "immutable"},
		{"422 sub invalid ip", "POST", dom + "/force_src/", "", `{"ip":"not-an-ip"}`, "", 422, codeInvalid, "ip", ""},
		{"409 alias equals a domain name", "POST", dom + "/alias/", "", `{"name":"other"}`, "", 409, codeConflict, "", ""},
		{"409 duplicate alias", "POST", fmt.Sprintf("/admin/domain/%d/alias/", other), "", `{"name":"pbx.acme.example"}`, "", 409, codeConflict, "name", ""},
		{"409 customer with accounts", "DELETE", fmt.Sprintf("/admin/domain/%d/customer/%d", capped, cappedCust), "", "", "", 409, codeConflict, "", ""},
		{"422 limit max_users", "POST", fmt.Sprintf("/admin/domain/%d/sip_account/", capped), "",
			fmt.Sprintf(`{"customer_id":%d,"username":"101","password":"password123"}`, cappedCust), "", 422, codeLimit, "", ""},
		{"422 limit disabled cap", "POST", fmt.Sprintf("/admin/domain/%d/number/", capped), "",
			fmt.Sprintf(`{"number":"+15551230000","customer_id":%d}`, cappedCust), "", 422, codeLimit, "", ""},
		{"405 wrong method", "PATCH", dom, "", `{"description":"x"}`, "", 405, codeMethod, "", "method"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			before := e.snapshot()
			tok := tc.token
			switch tok {
			case "":
				tok = e.opToken
			case "-":
				tok = ""
			}
			var hdr []string
			switch tc.contentType {
			case "":
			case "-":
				hdr = append(hdr, "Content-Type: ")
			default:
				hdr = append(hdr, "Content-Type: "+tc.contentType)
			}
			r := e.do(tc.method, tc.path, tok, tc.body, hdr...)
			p := wantProblem(t, r, tc.status, tc.code, tc.field)
			if tc.reason != "" && p.Reason != tc.reason {
				t.Errorf("reason %q, want %q", p.Reason, tc.reason)
			}
			if after := e.snapshot(); after != before {
				t.Errorf("store changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func TestDeleteManagementDomainRefused(t *testing.T) {
	e := newEnv(t)
	if _, err := e.store.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot()
	wantProblem(t, e.do(http.MethodDelete, "/admin/domain/1", e.opToken, ""), http.StatusUnprocessableEntity, "", "")
	if e.snapshot() != before {
		t.Fatal("store changed")
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, method, path string
		status             int
		allow              string
	}{
		{"unknown path", "GET", "/admin/nothing", 404, ""},
		{"unknown root", "GET", "/", 404, ""},
		{"wrong method on collection", "DELETE", "/admin/domain/", 405, "GET, POST"},
		{"bad id", "GET", "/admin/domain/abc", 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			r := e.do(tc.method, tc.path, e.opToken, "")
			wantProblem(t, r, tc.status, "", "")
			if tc.allow != "" && r.header.Get("Allow") != tc.allow {
				t.Errorf("Allow %q, want %q", r.header.Get("Allow"), tc.allow)
			}
		})
	}
}
