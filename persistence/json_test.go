package persistence

import (
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"testing"
)

func keysOf(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var out []string
	for k, v := range m {
		out = append(out, k)
		if sub, ok := v.(map[string]any); ok {
			sb, _ := json.Marshal(sub)
			for _, sk := range keysOf(t, sb) {
				out = append(out, k+"."+sk)
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestJSONFieldNames checks the exact snake_case wire names against fixtures shaped like admin
// API requests, and that the stored form round-trips.
func TestJSONFieldNames(t *testing.T) {
	s := openTest(t, "")
	t.Run("domain", func(t *testing.T) {
		in, err := os.ReadFile("testdata/domain_full.json")
		if err != nil {
			t.Fatal(err)
		}
		var d Domain
		if err := json.Unmarshal(in, &d); err != nil {
			t.Fatal(err)
		}
		got := mustCreate(t, s, &d)
		out, _ := json.Marshal(got)
		want := append(keysOf(t, in), "id", "management")
		sort.Strings(want)
		if have := keysOf(t, out); !reflect.DeepEqual(have, want) {
			t.Fatalf("domain keys\n have %v\n want %v", have, want)
		}
		if got.Limitations.MaxRingGroups != Disabled || got.Limitations.MaxUsers.Limit != 50 || got.Defaults.Timezone != "Europe/London" {
			t.Fatalf("decoded %+v", got.Limitations)
		}
		back, err := Get[*Domain](s, got.ID)
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Fatalf("stored form differs:\n%+v\n%+v", back, got)
		}
	})
	t.Run("sip account", func(t *testing.T) {
		d := mustCreate(t, s, newDomain("other", "54321"))
		c := mustCreate(t, s, &Customer{DomainID: d.ID, Name: "C", ClientPrefix: "7"})
		in, err := os.ReadFile("testdata/sip_account.json")
		if err != nil {
			t.Fatal(err)
		}
		var a SIPAccount
		if err := json.Unmarshal(in, &a); err != nil {
			t.Fatal(err)
		}
		a.DomainID, a.CustomerID = d.ID, c.ID
		got := mustCreate(t, s, &a)
		out, _ := json.Marshal(got)
		want := []string{"allow_outbound", "caller_id_name", "customer_id", "domain_id", "emergency_caller_id",
			"emergency_caller_name", "external_caller_id", "id", "internal_caller_id", "is_online", "user_agent", "username"}
		if have := keysOf(t, out); !reflect.DeepEqual(have, want) {
			t.Fatalf("account keys\n have %v\n want %v", have, want)
		}
		if a.Password != "from-the-api-1" {
			t.Fatal("Create modified the caller's record")
		}
	})
}
