package tracing

import (
	"encoding/json"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/trace"
)

// Paths the gateway serves the Store on.
const (
	ListPath  = "/v1.0/traces"
	TracePath = "/v1.0/traces/{id}"
)

// maxList bounds one list answer.
const maxList = 1000

// ListHandler answers GET ListPath[?limit=N] with the most recent traces'
// summaries, newest first (default 50).
func (s *Store) ListHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := 50
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxList {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "limit must be a number from 1 to 1000"})
				return
			}
			limit = n
		}
		writeJSON(w, http.StatusOK, map[string]any{"traces": nonNil(s.List(limit))})
	})
}

// TraceHandler answers GET TracePath with one trace's spans.
func (s *Store) TraceHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if _, err := trace.TraceIDFromHex(id); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "a trace id is 32 lowercase hex digits, not all zero"})
			return
		}
		t, ok := s.Trace(id)
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no trace " + id +
				" in memory (funcd keeps the most recent ones; GET " + ListPath + " lists them)"})
			return
		}
		writeJSON(w, http.StatusOK, t)
	})
}

func nonNil(s []Summary) []Summary {
	if s == nil {
		return []Summary{}
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
