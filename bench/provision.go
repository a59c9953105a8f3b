package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// adminClient speaks the switch's admin REST API with an operator token.
type adminClient struct {
	base  string
	token string
	http  *http.Client
}

func newAdminClient(base, token string) *adminClient {
	return &adminClient{base: strings.TrimSuffix(base, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}
}

// problem is the admin API's application/problem+json body (the parts the harness shows).
type problem struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Field  string `json:"field"`
	Error  string `json:"error"`
}

// statusError is a non-2xx admin answer.
type statusError struct {
	Status int
	Body   problem
}

func (e *statusError) Error() string {
	msg := e.Body.Detail
	if msg == "" {
		msg = e.Body.Title
	}
	if e.Body.Field != "" {
		msg = e.Body.Field + ": " + msg
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, msg)
}

// do sends a JSON request and decodes a JSON answer into out (when not nil).
func (a *adminClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encode: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if res.StatusCode/100 != 2 {
		se := &statusError{Status: res.StatusCode}
		if json.Unmarshal(raw, &se.Body) != nil {
			se.Body.Detail = strings.TrimSpace(string(raw))
		}
		return fmt.Errorf("%s %s: %w", method, path, se)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// benchAccount is one provisioned SIP account.
type benchAccount struct {
	Domain   string // realm and From host
	User     string // extension
	Identity string // client_prefix*user: the digest username and From user
	Password string
}

// tenant is one provisioned domain.
type tenant struct {
	ID       int64
	Name     string
	Accounts []benchAccount
}

type idRecord struct {
	ID int64 `json:"id"`
}

// provision creates n domains, each with one customer and m accounts. On error the domains
// already created are returned too, so the caller can delete them.
func (a *adminClient) provision(ctx context.Context, runID string, n, m int) ([]tenant, error) {
	var out []tenant
	base := 10000 + rand.IntN(80000)
	for d := 0; d < n; d++ {
		name := fmt.Sprintf("bench-%s-d%d.test", runID, d)
		var dom idRecord
		var err error
		// domain_prefix must be unique: on a conflict try the next one.
		for try := 0; try < 20; try++ {
			prefix := strconv.Itoa(10000 + (base+d*20+try)%90000)
			err = a.do(ctx, http.MethodPost, "/admin/domain/", map[string]any{
				"name": name, "domain_prefix": prefix, "allow_cross_domain_dialling": true,
				"description": "switchyard bench " + runID,
			}, &dom)
			var se *statusError
			if err == nil || !errors.As(err, &se) || se.Status != http.StatusConflict {
				break
			}
		}
		if err != nil {
			return out, fmt.Errorf("provision domain %q: %w", name, err)
		}
		t := tenant{ID: dom.ID, Name: name}
		out = append(out, t)
		var cust idRecord
		if err := a.do(ctx, http.MethodPost, fmt.Sprintf("/admin/domain/%d/customer/", dom.ID), map[string]any{
			"name": "bench", "client_prefix": "1",
		}, &cust); err != nil {
			return out, fmt.Errorf("provision customer in %q: %w", name, err)
		}
		for i := 0; i < m; i++ {
			user := strconv.Itoa(1000 + i)
			pw := fmt.Sprintf("bench-%s-%s", runID, user)
			if err := a.do(ctx, http.MethodPost, fmt.Sprintf("/admin/domain/%d/sip_account/", dom.ID), map[string]any{
				"customer_id": cust.ID, "username": user, "password": pw,
			}, nil); err != nil {
				return out, fmt.Errorf("provision account %s in %q: %w", user, name, err)
			}
			out[len(out)-1].Accounts = append(out[len(out)-1].Accounts, benchAccount{
				Domain: name, User: user, Identity: "1*" + user, Password: pw,
			})
		}
	}
	return out, nil
}

// deprovision deletes the domains (the switch cascades to their records).
func (a *adminClient) deprovision(ctx context.Context, ts []tenant) error {
	var errs []string
	for _, t := range ts {
		if err := a.do(ctx, http.MethodDelete, fmt.Sprintf("/admin/domain/%d", t.ID), nil, nil); err != nil {
			errs = append(errs, fmt.Sprintf("delete domain %q: %v", t.Name, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("deprovision: %s", strings.Join(errs, "; "))
	}
	return nil
}
