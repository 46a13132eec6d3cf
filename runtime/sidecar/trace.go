package sidecar

import (
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"
)

// W3C trace-context and OpenCensus header names daprd reads.
const (
	traceparentHeader = "traceparent"
	tracestateHeader  = "tracestate"
	grpcTraceBinKey   = "grpc-trace-bin"
	maxTraceVersion   = 254
)

// traceContext is what goes into the envelope's traceparent/traceid and
// tracestate.
type traceContext struct {
	parent string
	state  string
	// started: the caller sent none, parent is a new trace's (no span of
	// the caller's to be a child of).
	started bool
}

// traceFromHTTP reads the caller's trace context from HTTP headers.
func traceFromHTTP(h http.Header) traceContext {
	return traceFrom(h.Get(traceparentHeader), h.Get(tracestateHeader))
}

// traceFromGRPC reads the caller's trace context from gRPC metadata,
// grpc-trace-bin first, as daprd does.
func traceFromGRPC(md metadata.MD) traceContext {
	if v := md.Get(grpcTraceBinKey); len(v) > 0 {
		if tp, ok := parseTraceBin([]byte(v[0])); ok {
			return traceContext{parent: tp}
		}
		return traceContext{parent: newTraceParent(), started: true}
	}
	tp, ts := first(md.Get(traceparentHeader)), first(md.Get(tracestateHeader))
	return traceFrom(tp, ts)
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// traceFrom keeps a valid caller traceparent (normalised) with its
// tracestate, or starts a new sampled trace.
func traceFrom(tp, ts string) traceContext {
	parent, ok := parseTraceParent(tp)
	if !ok {
		return traceContext{parent: newTraceParent(), started: true}
	}
	return traceContext{parent: parent, state: normalizeTraceState(ts)}
}

// parseTraceParent validates h like daprd's SpanContextFromW3CString and
// returns it re-encoded like SpanContextToW3CString (version 00, flags byte
// kept).
func parseTraceParent(h string) (string, bool) {
	sections := strings.Split(h, "-")
	if len(sections) < 4 || len(sections[0]) != 2 {
		return "", false
	}
	ver, err := hex.DecodeString(sections[0])
	if err != nil || ver[0] > maxTraceVersion || (ver[0] == 0 && len(sections) != 4) {
		return "", false
	}
	tid, err := trace.TraceIDFromHex(sections[1])
	if err != nil {
		return "", false
	}
	sid, err := trace.SpanIDFromHex(sections[2])
	if err != nil {
		return "", false
	}
	flags, err := hex.DecodeString(sections[3])
	if err != nil || len(flags) < 1 {
		return "", false
	}
	return formatTraceParent(tid, sid, flags[0]), true
}

// parseTraceBin decodes the OpenCensus binary format (daprd
// SpanContextFromBinary); it requires non-zero trace and span ids.
func parseTraceBin(b []byte) (string, bool) {
	var tid trace.TraceID
	var sid trace.SpanID
	var flags byte
	if len(b) < 18 || b[0] != 0 || b[1] != 0 {
		return "", false
	}
	copy(tid[:], b[2:18])
	b = b[18:]
	if len(b) >= 9 && b[0] == 1 {
		copy(sid[:], b[1:9])
		b = b[9:]
	}
	if len(b) >= 2 && b[0] == 2 {
		flags = b[1]
	}
	if !tid.IsValid() || !sid.IsValid() {
		return "", false
	}
	return formatTraceParent(tid, sid, flags), true
}

// normalizeTraceState parses ts as daprd does (otel ParseTraceState) and
// drops it when invalid.
func normalizeTraceState(ts string) string {
	if ts == "" {
		return ""
	}
	state, err := trace.ParseTraceState(ts)
	if err != nil {
		return ""
	}
	return state.String()
}

// newTraceParent starts a new sampled trace.
func newTraceParent() string {
	var tid trace.TraceID
	var sid trace.SpanID
	for !tid.IsValid() {
		putUint64(tid[:8], rand.Uint64())
		putUint64(tid[8:], rand.Uint64())
	}
	for !sid.IsValid() {
		putUint64(sid[:], rand.Uint64())
	}
	return formatTraceParent(tid, sid, byte(trace.FlagsSampled))
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}

// formatTraceParent writes "00-<trace-id>-<span-id>-<flags>".
func formatTraceParent(tid trace.TraceID, sid trace.SpanID, flags byte) string {
	var buf [55]byte
	copy(buf[:3], "00-")
	hex.Encode(buf[3:35], tid[:])
	buf[35] = '-'
	hex.Encode(buf[36:52], sid[:])
	buf[52] = '-'
	hex.Encode(buf[53:55], []byte{flags})
	return string(buf[:])
}
