package sidecar

import (
	"net/http"
	"testing"

	"google.golang.org/grpc/metadata"
)

func TestParseTraceParent(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{name: "valid", in: callerTraceparent, want: callerTraceparent, ok: true},
		{name: "flags kept", in: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
			want: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", ok: true},
		{name: "future version normalised", in: "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
			want: callerTraceparent, ok: true},
		{name: "version ff", in: "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
		{name: "version 00 with extra", in: callerTraceparent + "-x"},
		{name: "uppercase hex", in: "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"},
		{name: "zero trace id", in: "00-00000000000000000000000000000000-b7ad6b7169203331-01"},
		{name: "zero span id", in: "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"},
		{name: "short span id", in: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033-01"},
		{name: "bad flags", in: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-x"},
		{name: "empty flags", in: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-"},
		{name: "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseTraceParent(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("parseTraceParent(%q): got %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestTraceFromGRPCBinary(t *testing.T) {
	bin := []byte{0, 0}
	bin = append(bin, 0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c)
	bin = append(bin, 1, 0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31, 2, 1)
	md := metadata.MD{"grpc-trace-bin": {string(bin)}, "traceparent": {"00-11111111111111111111111111111111-2222222222222222-01"}}
	if got := traceFromGRPC(md); got.parent != callerTraceparent || got.state != "" {
		t.Errorf("traceFromGRPC: got %+v, want %s from grpc-trace-bin", got, callerTraceparent)
	}
}

func TestTraceFromHTTP(t *testing.T) {
	tests := []struct {
		name      string
		header    http.Header
		wantState string
		wantSame  bool
	}{
		{name: "propagated", header: http.Header{"Traceparent": {callerTraceparent}, "Tracestate": {"a=1 , b=2"}},
			wantState: "a=1,b=2", wantSame: true},
		{name: "invalid tracestate dropped", header: http.Header{"Traceparent": {callerTraceparent}, "Tracestate": {"=="}},
			wantSame: true},
		{name: "tracestate alone ignored", header: http.Header{"Tracestate": {"a=1"}}},
		{name: "none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := traceFromHTTP(tc.header)
			if (got.parent == callerTraceparent) != tc.wantSame || !w3cTraceparent.MatchString(got.parent) {
				t.Errorf("parent: got %q, want caller's: %v", got.parent, tc.wantSame)
			}
			if got.state != tc.wantState {
				t.Errorf("state: got %q, want %q", got.state, tc.wantState)
			}
		})
	}
}

func TestNewTraceParentUnique(t *testing.T) {
	a, b := newTraceParent(), newTraceParent()
	if a == b || !w3cTraceparent.MatchString(a) || a[53:] != "01" {
		t.Errorf("newTraceParent: got %q and %q, want two distinct sampled W3C values", a, b)
	}
}

func TestCEOverridesExactKeyWins(t *testing.T) {
	for range 20 { // map order is random; exact must win every time
		o := ceOverrides{}
		o.apply(map[string]string{"CLOUDEVENT.TYPE": "folded", "cloudevent.type": "exact", "cloudevent.unknown": "x"})
		if o.typ != "exact" {
			t.Fatalf("type: got %q, want exact key's value", o.typ)
		}
	}
}
