package persistence

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/rs/zerolog"
)

func TestAuditDiff(t *testing.T) {
	s := openTest(t, "")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.now = func() time.Time { return t0 }
	d, c := fixture(t, s, "acme", "11111")
	who := Actor{Identity: "token:ops", DomainID: 0}
	a, err := Create(s, account(d, c, "100"), who)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return t0.Add(time.Minute) }
	a.CallerIDName = "Front desk"
	a.Password = "brand-new-pass"
	if _, err := Update(s, a, who); err != nil {
		t.Fatal(err)
	}
	d.Defaults.Language = "fr"
	if _, err := Update(s, d, who); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return t0.Add(2 * time.Minute) }
	if _, err := Delete[*SIPAccount](s, a.ID, who); err != nil {
		t.Fatal(err)
	}

	entries, err := s.ListAudit(d.ID, time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// domain create, customer create, account create, account update, domain update, account delete
	if len(entries) != 6 {
		t.Fatalf("got %d entries: %+v", len(entries), entries)
	}
	diff := func(e AuditEntry) map[string]change {
		var m map[string]change
		if err := json.Unmarshal(e.Diff, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	create := entries[2]
	if create.Action != ActionCreate || create.Kind != KindSIPAccount || create.Who != "token:ops" || !create.Time.Equal(t0) {
		t.Fatalf("create entry %+v", create)
	}
	cd := diff(create)
	if cd["password"].New != redacted || cd["password"].Old != nil || cd["username"].New != "100" {
		t.Fatalf("create diff %s", create.Diff)
	}
	if bytes.Contains(create.Diff, []byte("secret-pass")) {
		t.Fatal("password leaked into audit")
	}
	upd := diff(entries[3])
	if len(upd) != 2 || upd["caller_id_name"].Old != "" || upd["caller_id_name"].New != "Front desk" || upd["password"].New != redacted {
		t.Fatalf("update diff %s", entries[3].Diff)
	}
	dupd := diff(entries[4])
	if len(dupd) != 1 || dupd["defaults.language"].Old != "en" || dupd["defaults.language"].New != "fr" {
		t.Fatalf("domain update diff %s", entries[4].Diff)
	}
	del := entries[5]
	if del.Action != ActionDelete || diff(del)["username"].Old != "100" || diff(del)["username"].New != nil {
		t.Fatalf("delete entry %+v %s", del, del.Diff)
	}
	windowed, _ := s.ListAudit(d.ID, t0.Add(30*time.Second), t0.Add(90*time.Second), 0)
	if len(windowed) != 2 {
		t.Fatalf("time window: %d entries", len(windowed))
	}
	all, _ := s.ListAudit(0, time.Time{}, time.Time{}, 3)
	if len(all) != 3 || all[0].Kind != KindDomain {
		t.Fatalf("all-domain listing %+v", all)
	}
}

func mkCDR(i int, domain int64, start time.Time) CDR {
	ans := start.Add(2 * time.Second)
	c := CDR{UUID: fmt.Sprintf("call-%03d", i), DomainID: domain, Domain: "acme", Caller: "100", Callee: "101",
		Direction: DirectionInternal, Start: start, Answer: &ans, End: start.Add(12 * time.Second),
		HangupCause: "NORMAL_CLEARING", SIPCode: 200, DisconnectedBy: DisconnectCaller}
	c.FillDurations()
	return c
}

func TestCDRAppendAndPage(t *testing.T) {
	s := openTest(t, "")
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var batch []CDR
	for i := 0; i < 25; i++ {
		batch = append(batch, mkCDR(i, 2, base.Add(time.Duration(i)*time.Minute)))
	}
	batch = append(batch, mkCDR(100, 3, base))
	if err := s.AppendCDRs(batch); err != nil {
		t.Fatal(err)
	}
	if batch[0].Duration != 12 || batch[0].Billsec != 10 {
		t.Fatalf("durations %d/%d", batch[0].Duration, batch[0].Billsec)
	}

	var got []CDR
	cursor := ""
	pages := 0
	for {
		page, next, err := s.ListCDRs(2, base.Add(5*time.Minute), base.Add(20*time.Minute), cursor, 4)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		pages++
		if next == "" {
			break
		}
		cursor = next
	}
	if len(got) != 15 || pages != 4 || got[0].UUID != "call-005" || got[14].UUID != "call-019" {
		t.Fatalf("paged %d records in %d pages: first %s", len(got), pages, got[0].UUID)
	}
	for i := 1; i < len(got); i++ {
		if !got[i].Start.After(got[i-1].Start) {
			t.Fatal("not ordered by start")
		}
	}
	all, next, err := s.ListCDRs(0, time.Time{}, time.Time{}, "", 100)
	if err != nil || len(all) != 26 || next != "" {
		t.Fatalf("all domains: %d, %q, %v", len(all), next, err)
	}
	first, next, _ := s.ListCDRs(0, time.Time{}, time.Time{}, "", 25)
	rest, _, _ := s.ListCDRs(0, time.Time{}, time.Time{}, next, 25)
	if len(first) != 25 || len(rest) != 1 || rest[0].DomainID != 3 {
		t.Fatalf("all-domain paging %d + %d", len(first), len(rest))
	}

	bad := []struct {
		name  string
		mut   func(*CDR)
		field string
	}{
		{"no uuid", func(c *CDR) { c.UUID = "" }, "[1].uuid"},
		{"slash uuid", func(c *CDR) { c.UUID = "a/b" }, "[1].uuid"},
		{"bad direction", func(c *CDR) { c.Direction = "sideways" }, "[1].direction"},
		{"no start", func(c *CDR) { c.Start = time.Time{} }, "[1].start"},
		{"end before start", func(c *CDR) { c.End = c.Start.Add(-time.Second) }, "[1].end"},
		{"answer after end", func(c *CDR) { a := c.End.Add(time.Second); c.Answer = &a }, "[1].answer"},
		{"billsec over duration", func(c *CDR) { c.Billsec = c.Duration + 1 }, "[1].billsec"},
		{"bad sip code", func(c *CDR) { c.SIPCode = 42 }, "[1].sip_code"},
		{"bad disconnected_by", func(c *CDR) { c.DisconnectedBy = "nobody" }, "[1].disconnected_by"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			before := checksum(t, s)
			c := mkCDR(500, 2, base)
			tc.mut(&c)
			wantField(t, s.AppendCDRs([]CDR{mkCDR(499, 2, base), c}), tc.field, "")
			if checksum(t, s) != before {
				t.Fatal("rejected batch wrote something")
			}
		})
	}
	if _, _, err := s.ListCDRs(2, time.Time{}, time.Time{}, "%%%", 10); err == nil {
		t.Fatal("garbage cursor must fail")
	}
}

func TestBindings(t *testing.T) {
	s := openTest(t, "")
	exp := time.Now().Add(time.Hour)
	b1 := Binding{DomainID: 2, AccountID: 5, AOR: "sip:001*100@acme", Contact: "sip:100@192.0.2.1:5060", ExpiresAt: exp, UserAgent: "Yealink"}
	b2 := b1
	b2.Contact = "sip:100@192.0.2.2:5060"
	other := b1
	other.AccountID = 6
	for _, b := range []Binding{b1, b2, other} {
		if err := s.PutBinding(b); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.ListBindings(2, 5)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListBindings = %+v, %v", list, err)
	}
	if list[0].ContactHash == "" || list[0].UserAgent != "Yealink" {
		t.Fatalf("binding %+v", list[0])
	}
	// Re-registering the same contact replaces it.
	b1.CSeq = 7
	if err := s.PutBinding(b1); err != nil {
		t.Fatal(err)
	}
	if list, _ = s.ListBindings(2, 5); len(list) != 2 {
		t.Fatalf("refresh duplicated the binding: %d", len(list))
	}
	if err := s.DeleteBinding(2, 5, ContactHash(b1.Contact)); err != nil {
		t.Fatal(err)
	}
	if list, _ = s.ListBindings(2, 5); len(list) != 1 || list[0].Contact != b2.Contact {
		t.Fatalf("after DeleteBinding: %+v", list)
	}
	if err := s.DeleteBindings(2, 5); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.AllBindings(); len(all) != 1 || all[0].AccountID != 6 {
		t.Fatalf("AllBindings = %+v", all)
	}
	bad := []struct {
		name  string
		b     Binding
		field string
	}{
		{"no domain", Binding{AccountID: 1, Contact: "sip:x@y", ExpiresAt: exp}, "domain_id"},
		{"no account", Binding{DomainID: 1, Contact: "sip:x@y", ExpiresAt: exp}, "account_id"},
		{"no contact", Binding{DomainID: 1, AccountID: 1, ExpiresAt: exp}, "contact"},
		{"bad hash", Binding{DomainID: 1, AccountID: 1, Contact: "sip:x@y", ContactHash: "../x", ExpiresAt: exp}, "contact_hash"},
		{"no expiry", Binding{DomainID: 1, AccountID: 1, Contact: "sip:x@y"}, "expires_at"},
		{"expired", Binding{DomainID: 1, AccountID: 1, Contact: "sip:x@y", ExpiresAt: time.Now().Add(-time.Second)}, "expires_at"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			wantField(t, s.PutBinding(tc.b), tc.field, "")
		})
	}
	wantField(t, s.DeleteBinding(1, 1, "a/b"), "contact_hash", "")
}

func TestTokensAndESLUsers(t *testing.T) {
	s := openTest(t, "")
	d, c := fixture(t, s, "acme", "11111")
	plain, tok, err := s.CreateToken(APIToken{Name: "cust", Role: RoleCustomer, DomainID: d.ID, CustomerID: c.ID}, op)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Token != "" || !strings.HasPrefix(plain, "sy_") {
		t.Fatalf("token %+v plaintext %q", tok, plain)
	}
	got, ok := s.LookupToken(plain)
	if !ok || got.ID != tok.ID || got.Role != RoleCustomer {
		t.Fatalf("LookupToken = %+v, %v", got, ok)
	}
	for _, bad := range []string{"", plain + "x", "sy_nope"} {
		if _, ok := s.LookupToken(bad); ok {
			t.Fatalf("LookupToken(%q) succeeded", bad)
		}
	}
	// Rotating the secret through Update invalidates the old one.
	rot := tok
	rot.Token = "a-chosen-operator-token"
	if _, err := Update(s, &rot, op); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.LookupToken(plain); ok {
		t.Fatal("old token still valid after rotation")
	}
	if _, ok := s.LookupToken("a-chosen-operator-token"); !ok {
		t.Fatal("rotated token not found")
	}
	_, err = Create(s, &APIToken{Name: "dup", Role: RoleOperator, Token: "a-chosen-operator-token"}, op)
	wantConflict(t, err, "token")
	_, err = Create(s, &APIToken{Name: "none", Role: RoleOperator}, op)
	wantField(t, err, "token", "")

	u := mustCreate(t, s, &ESLUser{DomainID: d.ID, Username: "ops", Password: "esl-password", AllowedEvents: []string{"CHANNEL_ANSWER"}})
	if u.Password != "" {
		t.Fatal("ESL password returned")
	}
	cases := []struct {
		name, domain, user, pw string
		ok                     bool
	}{
		{"good", "acme", "ops", "esl-password", true},
		{"domain case-insensitive", "ACME", "ops", "esl-password", true},
		{"wrong password", "acme", "ops", "esl-passwordX", false},
		{"unknown user", "acme", "nobody", "esl-password", false},
		{"unknown domain", "nowhere", "ops", "esl-password", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := s.VerifyESLUser(tc.domain, tc.user, tc.pw)
			if ok != tc.ok || (ok && (got.ID != u.ID || len(got.AllowedEvents) != 1)) {
				t.Fatalf("VerifyESLUser = %+v, %v", got, ok)
			}
		})
	}
	t.Run("alias resolves", func(t *testing.T) {
		mustCreate(t, s, &DomainAlias{DomainID: d.ID, Name: "pbx.acme.example"})
		if _, ok := s.VerifyESLUser("pbx.acme.example", "ops", "esl-password"); !ok {
			t.Fatal("alias not accepted")
		}
	})
	t.Run("locked domain refused", func(t *testing.T) {
		x := *d
		x.Status = StatusLocked
		if _, err := Update(s, &x, op); err != nil {
			t.Fatal(err)
		}
		if _, ok := s.VerifyESLUser("acme", "ops", "esl-password"); ok {
			t.Fatal("locked domain accepted userauth")
		}
	})
}

func TestBackupRestore(t *testing.T) {
	s := openTest(t, "")
	d, c := fixture(t, s, "acme", "11111")
	a := mustCreate(t, s, account(d, c, "100"))
	if err := s.AppendCDRs([]CDR{mkCDR(1, d.ID, time.Now())}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	want := checksum(t, s)

	dir := t.TempDir()
	if err := Restore(dir, bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	r := openTest(t, dir)
	if got := checksum(t, r); got != want {
		t.Fatal("restored store differs from the original")
	}
	if sec, err := r.GetSIPSecret(a.ID); err != nil || sec.Username != "001*100" {
		t.Fatalf("restored secret %+v, %v", sec, err)
	}
	if next := mustCreate(t, r, account(d, c, "101")); next.ID != a.ID+1 {
		t.Fatalf("sequence after restore: %d", next.ID)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	err := Restore(dir, bytes.NewReader(buf.Bytes()))
	if err == nil || !strings.Contains(err.Error(), "already holds a store") {
		t.Fatalf("restore into a non-empty store: %v", err)
	}
	if err := Restore("", bytes.NewReader(nil)); err == nil {
		t.Fatal("restore without dir must fail")
	}
	if err := Restore(t.TempDir(), strings.NewReader("not a backup stream")); err == nil {
		t.Fatal("garbage backup must fail")
	}
}

func TestSchemaAndLogger(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	var v []byte
	if err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(keySchema))
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	}); err != nil || string(v) != "1" {
		t.Fatalf("schema = %q, %v", v, err)
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(keySchema), []byte("99")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Dir: dir, Small: true, Logger: zerolog.Nop()}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("newer schema must be refused: %v", err)
	}

	var out bytes.Buffer
	l := badgerLogger{zerolog.New(&out)}
	l.Infof("hidden %d", 1)
	l.Debugf("hidden")
	l.Warningf("careful %s\n", "now")
	l.Errorf("broken")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"level":"warn"`) || !strings.Contains(lines[0], "careful now") ||
		!strings.Contains(lines[1], `"level":"error"`) {
		t.Fatalf("logger output %q", out.String())
	}
}

func TestInMemory(t *testing.T) {
	s, err := Open(Options{InMemory: true, Small: true, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	d := mustCreate(t, s, newDomain("mem", "12345"))
	if _, err := Get[*Domain](s, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil || s.Close() != nil {
		t.Fatal("Close must be idempotent")
	}
}
