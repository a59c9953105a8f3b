package persistence

import (
	"testing"
	"time"
)

func TestAppendAuditEvent(t *testing.T) {
	s := openTest(t, t.TempDir())
	if err := s.AppendAuditEvent(0, "sip-edge", "ban", map[string]string{"ip": "127.0.0.2", "reason": "InvalidPassword"}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListAudit(0, time.Time{}, time.Now().Add(time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range list {
		if e.Kind == KindSecurity && e.Action == "ban" && e.Who == "sip-edge" && string(e.Diff) != "" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no security audit entry in %+v", list)
	}
}
