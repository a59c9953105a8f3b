package dialplan

import (
	"fmt"
	"reflect"
	"testing"
)

func ids(rs []Route) []int64 {
	out := make([]int64, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestSelectRoutes(t *testing.T) {
	tests := []struct {
		name     string
		routes   []Route
		src, dst string
		want     []int64
	}{
		{name: "no routes", routes: nil, src: "100", dst: "44", want: []int64{}},
		{name: "empty prefixes match any", routes: []Route{{ID: 1}}, src: "", dst: "", want: []int64{1}},
		{name: "dst prefix must match", routes: []Route{{ID: 1, DstPrefix: "44"}, {ID: 2, DstPrefix: "33"}}, src: "1", dst: "4420", want: []int64{1}},
		{name: "src prefix must match", routes: []Route{{ID: 1, SrcPrefix: "001"}, {ID: 2, SrcPrefix: "002"}}, src: "002100", dst: "44", want: []int64{2}},
		{name: "prefix longer than number does not match", routes: []Route{{ID: 1, DstPrefix: "44207"}}, src: "", dst: "4420", want: []int64{}},
		{name: "longest dst prefix first", routes: []Route{{ID: 1, DstPrefix: "4"}, {ID: 2, DstPrefix: "4420"}, {ID: 3, DstPrefix: "44"}, {ID: 4}}, dst: "442079", want: []int64{2, 3, 1, 4}},
		{name: "dst length beats src length", routes: []Route{{ID: 1, DstPrefix: "4", SrcPrefix: "00112"}, {ID: 2, DstPrefix: "44"}}, src: "00112", dst: "44", want: []int64{2, 1}},
		{name: "then longest src prefix", routes: []Route{{ID: 1, DstPrefix: "44"}, {ID: 2, DstPrefix: "44", SrcPrefix: "001"}, {ID: 3, DstPrefix: "44", SrcPrefix: "0"}}, src: "001", dst: "44", want: []int64{2, 3, 1}},
		{name: "src length beats priority", routes: []Route{{ID: 1, DstPrefix: "44", Priority: 0}, {ID: 2, DstPrefix: "44", SrcPrefix: "0", Priority: 9}}, src: "0", dst: "44", want: []int64{2, 1}},
		{name: "then lower priority number first", routes: []Route{{ID: 1, DstPrefix: "44", Priority: 20}, {ID: 2, DstPrefix: "44", Priority: 10}, {ID: 3, DstPrefix: "44", Priority: -1}}, dst: "44", want: []int64{3, 2, 1}},
		{name: "then lower id", routes: []Route{{ID: 9, Priority: 1}, {ID: 3, Priority: 1}, {ID: 5, Priority: 1}}, dst: "1", want: []int64{3, 5, 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]Route(nil), tt.routes...)
			got := ids(SelectRoutes(in, tt.src, tt.dst))
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if !reflect.DeepEqual(in, tt.routes) {
				t.Fatal("input slice modified")
			}
		})
	}
}

func BenchmarkSelectRoutes(b *testing.B) {
	var routes []Route
	for i := 0; i < 1000; i++ {
		routes = append(routes, Route{ID: int64(i), DstPrefix: fmt.Sprintf("%d", 4400+i%100)[:2+i%3], SrcPrefix: fmt.Sprintf("%03d", i%7)[:i%4], Priority: i % 5})
	}
	b.ReportAllocs()
	for b.Loop() {
		SelectRoutes(routes, "001100", "4420794600")
	}
}
