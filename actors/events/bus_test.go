package events

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func fixedBus() *Bus {
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 123456000, time.UTC)
	return NewBus(BusConfig{Identity: Identity{CoreUUID: "core", Hostname: "pbx1", IPv4: "10.0.0.5"}, Now: func() time.Time { return t0 }, Location: time.UTC})
}

func names(e *Event) []string {
	var out []string
	for _, h := range e.Headers {
		out = append(out, h.Name)
	}
	return out
}

func TestPublishStampsStandardHeaders(t *testing.T) {
	tests := []struct {
		name  string
		event func() *Event
		want  string
	}{
		{"plain event", func() *Event { e := New("TRAP"); e.Add("X", "1"); return e }, "Event-Name,Core-UUID,FreeSWITCH-Hostname,FreeSWITCH-Switchname,FreeSWITCH-IPv4,FreeSWITCH-IPv6,Event-Date-Local,Event-Date-GMT,Event-Date-Timestamp,Event-Calling-File,Event-Calling-Function,Event-Calling-Line-Number,Event-Sequence,X"},
		{"custom subclass after block", func() *Event { return NewCustom("callcenter::info") }, "Event-Name,Core-UUID,FreeSWITCH-Hostname,FreeSWITCH-Switchname,FreeSWITCH-IPv4,FreeSWITCH-IPv6,Event-Date-Local,Event-Date-GMT,Event-Date-Timestamp,Event-Calling-File,Event-Calling-Function,Event-Calling-Line-Number,Event-Sequence,Event-Subclass"},
		{"packet event appends block", func() *Event {
			return NewFromPacket("CUSTOM", []Header{{"Command", "sendevent CUSTOM"}, {"Event-UUID", "u"}, {"Event-Subclass", "a::b"}})
		}, "Command,Event-UUID,Event-Subclass,Event-Name,Core-UUID,FreeSWITCH-Hostname,FreeSWITCH-Switchname,FreeSWITCH-IPv4,FreeSWITCH-IPv6,Event-Date-Local,Event-Date-GMT,Event-Date-Timestamp,Event-Calling-File,Event-Calling-Function,Event-Calling-Line-Number,Event-Sequence"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := fixedBus()
			s := b.Subscribe(SubscribeOptions{})
			b.Publish(tc.event())
			e := <-s.C()
			if got := strings.Join(names(e), ","); got != tc.want {
				t.Fatalf("order\n got %s\nwant %s", got, tc.want)
			}
			if e.Get("Event-Date-GMT") != "Wed, 01 May 2024 10:00:00 GMT" || e.Get("Event-Date-Local") != "2024-05-01 10:00:00" || e.Get("Event-Date-Timestamp") != "1714557600123456" || e.Get("Event-Sequence") != "1" {
				t.Fatalf("values %v", e.Headers)
			}
		})
	}
}

func TestFanOutAndFilter(t *testing.T) {
	b := fixedBus()
	all := b.Subscribe(SubscribeOptions{})
	onlyTrap := b.Subscribe(SubscribeOptions{Filter: func(e *Event) bool { return e.Name() == "TRAP" }})
	b.Publish(New("HEARTBEAT"))
	b.Publish(New("TRAP"))
	if all.Len() != 2 || onlyTrap.Len() != 1 {
		t.Fatalf("all=%d trap=%d", all.Len(), onlyTrap.Len())
	}
	if e := <-onlyTrap.C(); e.Name() != "TRAP" {
		t.Fatal(e.Name())
	}
	onlyTrap.Close()
	b.Publish(New("TRAP"))
	if onlyTrap.Len() != 0 || b.Subscribers() != 1 {
		t.Fatal("closed subscription still receives")
	}
}

func TestStalledSubscriberDropsAndIsKilled(t *testing.T) {
	b := fixedBus()
	killed := make(chan struct{})
	s := b.Subscribe(SubscribeOptions{QueueCap: 8, OnKill: func() { close(killed) }})
	other := b.Subscribe(SubscribeOptions{QueueCap: 10000})
	for range 8 + MaxConsecutiveDrops {
		b.Publish(New("TRAP")) // never blocks
	}
	if s.Dropped() != MaxConsecutiveDrops || s.ConsecutiveDropped() != MaxConsecutiveDrops {
		t.Fatalf("dropped %d consecutive %d", s.Dropped(), s.ConsecutiveDropped())
	}
	select {
	case <-s.Killed():
		t.Fatal("killed at exactly 500 drops")
	default:
	}
	<-s.C() // one push succeeds: the consecutive count resets
	b.Publish(New("TRAP"))
	if s.ConsecutiveDropped() != 0 || s.Dropped() != MaxConsecutiveDrops {
		t.Fatalf("after a successful push: consecutive %d", s.ConsecutiveDropped())
	}
	for range MaxConsecutiveDrops + 1 {
		b.Publish(New("TRAP"))
	}
	<-killed
	<-s.Killed()
	if s.Len() > s.Cap() || other.Dropped() != 0 {
		t.Fatal("queue beyond cap or other subscriber affected")
	}
	if b.Subscribers() != 1 {
		t.Fatal("killed subscriber not removed")
	}
}

func TestSequenceOrderedUnderConcurrency(t *testing.T) {
	b := fixedBus()
	s := b.Subscribe(SubscribeOptions{QueueCap: 4000})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				b.Publish(New("TRAP"))
			}
		})
	}
	wg.Wait()
	prev := 0
	for range 4000 {
		e := <-s.C()
		n := 0
		for _, c := range e.Get("Event-Sequence") {
			n = n*10 + int(c-'0')
		}
		if n <= prev {
			t.Fatalf("sequence %d after %d", n, prev)
		}
		prev = n
	}
}

func TestParseCause(t *testing.T) {
	for in, want := range map[string]string{"": "NORMAL_CLEARING", "user_busy": "USER_BUSY", "17": "USER_BUSY", "9999": "UNKNOWN", "bogus": "NORMAL_CLEARING", "487": "ORIGINATOR_CANCEL"} {
		t.Run(in, func(t *testing.T) {
			if got := ParseCause(in); got != want {
				t.Fatalf("ParseCause(%q) = %q, want %q", in, got, want)
			}
		})
	}
}
