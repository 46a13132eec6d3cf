package sidecar

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	apierrors "github.com/dapr/dapr/pkg/api/errors"
	kiterrors "github.com/dapr/kit/errors"

	"github.com/funcd/funcd/runtime/pubsub"
)

const (
	publishPrefix   = "/v1.0/publish/"
	bulkPrefix      = "/v1.0-alpha1/publish/bulk/"
	metadataPrefix  = "metadata."
	jsonContentType = "application/json"
)

// HTTPHandler returns the Dapr HTTP API: publish, bulk publish, healthz and
// metadata; every other path answers in Dapr's error shape (handleUnsupported);
// behind the API token check, the body size limit and daprd's path
// cleaning.
func (s *Sidecar) HTTPHandler() http.Handler {
	mux := http.NewServeMux()
	for _, method := range []string{http.MethodPost, http.MethodPut} {
		mux.HandleFunc(method+" "+publishPrefix+"{pubsub}/{topic...}", s.handlePublish)
		mux.HandleFunc(method+" "+bulkPrefix+"{pubsub}/{topic...}", s.handleBulkPublish)
	}
	// Without these, ServeMux would redirect ".../{pubsub}" to ".../{pubsub}/";
	// daprd answers 404.
	mux.HandleFunc(publishPrefix+"{pubsub}", http.NotFound)
	mux.HandleFunc(bulkPrefix+"{pubsub}", http.NotFound)
	mux.HandleFunc("GET /v1.0/healthz", s.handleHealthz)
	mux.HandleFunc("GET /v1.0/healthz/outbound", handleNoContent)
	mux.HandleFunc("GET /v1.0/metadata", s.handleMetadata)
	mux.HandleFunc("/", s.handleUnsupported)
	return s.recoverHTTP(s.authHTTP(s.limitBody(cleanPath(mux))))
}

// handlePublish mirrors daprd pkg/api/http/http.go onPublish.
func (s *Sidecar) handlePublish(w http.ResponseWriter, r *http.Request) {
	m, err := s.publishRequest(r)
	if err != nil {
		s.writeError(w, err, m.pubsub, m.topic)
		return
	}
	p, raw, err := s.resolveHTTP(r, m)
	if err == nil {
		err = s.publish(r.Context(), p, m, raw)
	}
	if err != nil {
		s.writeError(w, err, m.pubsub, m.topic)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// publishRequest reads the names, metadata and trace context of r.
func (s *Sidecar) publishRequest(r *http.Request) (*message, error) {
	m := &message{
		contentType: r.Header.Get("Content-Type"),
		metadata:    queryMetadata(r.URL),
		trace:       traceFromHTTP(r.Header),
	}
	var err error
	m.pubsub, m.topic, err = pathTarget(r, publishPrefix)
	return m, err
}

// resolveHTTP validates m's names, reads the body into m and parses
// rawPayload, in daprd's order.
func (s *Sidecar) resolveHTTP(r *http.Request, m *message) (pubsub.Publisher, bool, error) {
	p, err := s.resolve(m.pubsub, m.topic, m.metadata, m.metadata)
	if err != nil {
		return nil, false, err
	}
	if m.data, err = readBody(r, s.cfg.MaxBodyBytes); err != nil {
		if apiErr, ok := refusal(m.pubsub, m.topic, err); ok {
			return nil, false, apiErr
		}
		return nil, false, apierrors.PubSub(m.pubsub).PublishMessage(m.topic, err)
	}
	raw, err := rawPayload(m.pubsub, m.metadata)
	return p, raw, err
}

// readBody reads r's body in one allocation when its length is known and
// within the limit.
func readBody(r *http.Request, limit int) ([]byte, error) {
	n := r.ContentLength
	if n <= 0 || n > int64(limit) {
		return io.ReadAll(r.Body)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r.Body, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// pathTarget returns the pub/sub name and topic after prefix, unescaped as
// daprd does (url.QueryUnescape of the escaped path: "+" becomes a space,
// "%2F" a slash inside the topic).
func pathTarget(r *http.Request, prefix string) (name, topic string, err error) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), prefix)
	if !ok {
		return "", "", &plainError{code: http.StatusNotFound, msg: "404 page not found"}
	}
	rawName, rawTopic, _ := strings.Cut(rest, "/")
	if name, err = url.QueryUnescape(rawName); err != nil {
		return "", "", paramError("pubsubname", err)
	}
	if topic, err = url.QueryUnescape(rawTopic); err != nil {
		return name, "", paramError("*", err)
	}
	return name, topic, nil
}

// queryMetadata is daprd's getMetadataFromRequest: metadata.<key>=<value>
// query parameters, first value wins.
func queryMetadata(u *url.URL) map[string]string {
	q := u.Query()
	md := make(map[string]string, len(q))
	for k, v := range q {
		if key, ok := strings.CutPrefix(k, metadataPrefix); ok {
			md[key] = v[0]
		}
	}
	return md
}

// handleHealthz mirrors daprd's onGetHealthz for a sidecar that is ready.
func (s *Sidecar) handleHealthz(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Has("appid") && q.Get("appid") != s.appID {
		writeJSON(w, http.StatusInternalServerError,
			[]byte(`{"errorCode":"ERR_HEALTH_APPID_NOT_MATCH","message":"dapr app-id does not match"}`))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func handleNoContent(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusNoContent)
}

// cleanPath routes on path.Clean of the escaped path, as daprd's
// CleanPathMiddleware does, so ServeMux never redirects.
func cleanPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		esc := r.URL.EscapedPath()
		if clean := path.Clean(esc); strings.HasPrefix(esc, "/") && clean != esc {
			if p, err := url.PathUnescape(clean); err == nil {
				r = r.Clone(r.Context())
				r.URL.Path, r.URL.RawPath = p, clean
			}
		}
		next.ServeHTTP(w, r)
	})
}

// plainError is an error daprd answers with text/plain (http.Error).
type plainError struct {
	code int
	msg  string
}

func (e *plainError) Error() string { return e.msg }

func paramError(key string, err error) error {
	return &plainError{
		code: http.StatusBadRequest,
		msg:  "failed to unescape request parameter \"" + key + "\". Error: " + err.Error(),
	}
}

// writeError answers with err as daprd's respondWithError does, and logs it.
func (s *Sidecar) writeError(w http.ResponseWriter, err error, name, topic string) {
	_ = s.refused(err, name, topic)
	var pe *plainError
	switch kerr, ok := kiterrors.FromError(err); {
	case ok:
		writeJSON(w, kerr.HTTPStatusCode(), kerr.JSONErrorValue())
	case errors.As(err, &pe):
		http.Error(w, pe.msg, pe.code)
	default:
		writeJSON(w, http.StatusInternalServerError, genericError(err))
	}
}

func writeJSON(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", jsonContentType)
	w.WriteHeader(code)
	_, _ = w.Write(body)
}
