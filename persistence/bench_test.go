package persistence

import (
	"fmt"
	"testing"
	"time"
)

func BenchmarkAppendCDRs100(b *testing.B) {
	s, err := Open(Options{Dir: b.TempDir(), Small: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	base := time.Now()
	batch := make([]CDR, 100)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range batch {
			batch[j] = mkCDR(j, 2, base.Add(time.Duration(i*100+j)*time.Millisecond))
			batch[j].UUID = fmt.Sprintf("b%d-%d", i, j)
		}
		if err := s.AppendCDRs(batch); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutBinding(b *testing.B) {
	s, err := Open(Options{Dir: b.TempDir(), Small: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	exp := time.Now().Add(time.Hour)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := s.PutBinding(Binding{DomainID: 2, AccountID: int64(i%1000 + 1), Contact: fmt.Sprintf("sip:u@10.0.0.%d", i%250), ExpiresAt: exp})
		if err != nil {
			b.Fatal(err)
		}
	}
}
