package gateway

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/tracing"
)

// Target resolves a function name to the base URL of a ready instance with
// room for one more request, starting one if needed. release is called
// once the answer is sent; failed reports a 5xx or a proxy failure.
type Target interface {
	Acquire(ctx context.Context, function string) (url string, release func(failed bool), err error)
}

// Errors a Target wraps to pick the answer: 404 for an unknown function;
// anything else is 503 with Retry-After.
var ErrUnknownFunction = errors.New("unknown function")

// Config configures the gateway handler.
type Config struct {
	Target Target
	Lister Lister
	// CloudEvents, when set, reports the functions that take CloudEvents;
	// requests to them that are not CloudEvents get 400 with the reason
	// instead of reaching the function.
	CloudEvents func(function string) bool
	// Publish, when set, serves /v1.0/ and /v1.0-alpha1/ (the Dapr publish API).
	Publish http.Handler
	// Metrics, when set, serves GET /metrics (Prometheus).
	Metrics http.Handler
	// MaxBodyBytes bounds one request body (default DefaultMaxBodyBytes):
	// a longer one gets 413.
	MaxBodyBytes int64
	// BodyMemory bounds the request bodies read into memory at once
	// (default DefaultBodyMemory): past it requests get 503 with
	// Retry-After.
	BodyMemory int64
	// OnIdle, when set, runs once the bodies in memory went back to none
	// after a burst, e.g. to hand memory back to the system.
	OnIdle func()
	// APIToken, when set, is required as the dapr-api-token header to
	// invoke a function (401 without it); it is not passed on. The publish
	// API checks its own.
	APIToken string
	// TracerProvider, when set, records a span per request to a function
	// and per call to its instance (OpenTelemetry HTTP conventions).
	TracerProvider trace.TracerProvider
	// Traces, when set, serves the recent traces as JSON at
	// tracing.ListPath and tracing.TracePath, behind APIToken: spans name
	// events, topics and the reasons deliveries failed.
	Traces Traces
	Logger *slog.Logger
}

// New returns the gateway's handler.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.BodyMemory <= 0 {
		cfg.BodyMemory = DefaultBodyMemory
	}
	transport := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}
	g := &gateway{cfg: cfg, bodies: newBodies(cfg.MaxBodyBytes, max(cfg.BodyMemory, cfg.MaxBodyBytes), cfg.OnIdle)}
	rt := g.tracedTransport(transport)
	g.deliverer = delivery.NewDeliverer(cfg.Target, rt, cfg.Logger)
	g.proxy = &httputil.ReverseProxy{Rewrite: g.rewrite, ErrorHandler: g.proxyError, Transport: rt,
		ModifyResponse: g.giveReason}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", g.list)
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics)
	}
	traces := cfg.Traces
	if traces == nil {
		traces = noTraces{}
	}
	mux.Handle("GET "+tracing.ListPath, g.authorized(traces.ListHandler()))
	mux.Handle("GET "+tracing.TracePath, g.authorized(traces.TraceHandler()))
	// Any method: plain HTTP functions get requests as Knative routes them.
	invoke := g.traced(g.authorized(http.HandlerFunc(g.invoke)))
	mux.Handle("/{function}", invoke)
	mux.Handle("/{function}/{rest...}", invoke)
	publish := cfg.Publish
	if publish == nil {
		publish = http.HandlerFunc(noPublishAPI)
	} else {
		publish = g.inMemory(publish)
	}
	// Method-qualified, as the Dapr API answers GET, POST and PUT (daprd
	// publishes on both); more specific than /{function}/{rest...}.
	for _, prefix := range []string{"/v1.0/", "/v1.0-alpha1/"} {
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut} {
			mux.Handle(method+" "+prefix, publish)
		}
	}
	return mux
}

// noPublishAPI answers the Dapr API paths when no publish API is mounted,
// rather than taking "v1.0" for a function name.
func noPublishAPI(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusNotFound, "the Dapr publish API is not served here")
}

type gateway struct {
	cfg   Config
	proxy *httputil.ReverseProxy
	// deliverer sends the events of a batch, through the proxy's transport.
	deliverer *delivery.Deliverer
	bodies    *bodies
}

// inMemory serves next, which reads the whole body, within the body limit
// and the memory for bodies.
func (g *gateway) inMemory(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.bodies.limitBody(w, r) {
			return
		}
		release, ok := g.bodies.reserve(w, r)
		if !ok {
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}

// targetKey holds the *target of a proxied request in its context.
type targetKey struct{}

type target struct {
	function string
	url      *url.URL
}

func (g *gateway) invoke(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("function")
	if !g.bodies.limitBody(w, r) {
		return
	}
	if g.cfg.CloudEvents != nil && g.cfg.CloudEvents(name) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "function "+name+" takes CloudEvents: POST them")
			return
		}
		if isBatch(r) || isStructured(r) {
			release, ok := g.bodies.reserve(w, r)
			if !ok {
				return
			}
			defer release()
		}
		if isBatch(r) {
			g.invokeBatch(w, r, name)
			return
		}
		if p := g.checkEvent(r); p != nil {
			writeError(w, p.status, p.reason)
			return
		}
	}
	nameFunction(r, name)
	base, release, err := g.cfg.Target.Acquire(r.Context(), name)
	switch {
	case errors.Is(err, ErrUnknownFunction):
		writeError(w, http.StatusNotFound, "no function named "+strings.TrimSpace(name)+"; GET / lists them")
		return
	case err != nil:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "function "+name+" is not available: "+err.Error())
		return
	}
	u, err := url.Parse(base)
	if err != nil {
		release(true)
		writeError(w, http.StatusBadGateway, "function "+name+" has a bad address")
		return
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	g.proxy.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), targetKey{}, &target{function: name, url: u})))
	release(rec.status >= 500)
}

// statusRecorder remembers the status the proxy wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (g *gateway) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(pr.In.Context().Value(targetKey{}).(*target).url)
	pr.Out.URL.Path = "/" + pr.In.PathValue("rest")
	pr.Out.URL.RawPath = ""
	pr.SetXForwarded()
}

func (g *gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		p := readProblem(err)
		writeError(w, p.status, p.reason)
		return
	}
	g.cfg.Logger.WarnContext(r.Context(), "proxy failed", "function", r.PathValue("function"), "error", err)
	w.Header().Set("Retry-After", "1")
	writeError(w, http.StatusBadGateway, "function "+r.PathValue("function")+" did not answer: "+err.Error())
}

// giveReason gives a function's error answer without a body one that
// says what happened, so no error reaches a caller without a reason.
func (g *gateway) giveReason(resp *http.Response) error {
	if resp.StatusCode < 400 || resp.ContentLength != 0 {
		return nil
	}
	body, _ := json.Marshal(map[string]string{"error": fmt.Sprintf("function %s answered %d %s without a reason",
		resp.Request.Context().Value(targetKey{}).(*target).function, resp.StatusCode, http.StatusText(resp.StatusCode))})
	resp.Body.Close()
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	resp.Header.Set("Content-Type", "application/json")
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

// apiTokenHeader is Dapr's header for the API token.
const apiTokenHeader = "dapr-api-token"

// authorized requires the API token, when one is set, and removes it
// from the request before next sees it.
func (g *gateway) authorized(next http.Handler) http.Handler {
	if g.cfg.APIToken == "" {
		return next
	}
	want := []byte(g.cfg.APIToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(apiTokenHeader)), want) != 1 {
			writeError(w, http.StatusUnauthorized, "invalid api token: send funcd up's --api-token in the "+apiTokenHeader+" header")
			return
		}
		r.Header.Del(apiTokenHeader)
		next.ServeHTTP(w, r)
	})
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
