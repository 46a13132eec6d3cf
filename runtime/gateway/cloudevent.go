package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
)

// specVersions are the CloudEvents versions the functions' SDK reads.
var specVersions = []string{event.CloudEventsVersionV1, event.CloudEventsVersionV03}

const structuredJSON = "application/cloudevents+json"

// problem is why a request is refused, with the status that says so.
type problem struct {
	status int
	reason string
}

func (p *problem) Error() string { return p.reason }

func badRequest(format string, args ...any) *problem {
	return &problem{status: http.StatusBadRequest, reason: fmt.Sprintf(format, args...)}
}

func unsupported(format string, args ...any) *problem {
	return &problem{status: http.StatusUnsupportedMediaType, reason: fmt.Sprintf(format, args...)}
}

// checkEvent refuses a request that is not a CloudEvent a function's SDK
// can read: binary mode without the required headers (400) or with a
// specversion it does not know (415); structured mode in another format
// than JSON (415), that is not JSON, has no or an unknown specversion, or
// misses required attributes (400). A structured event is read here, within
// the body limit, and put back for the function.
func (g *gateway) checkEvent(r *http.Request) *problem {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if !strings.HasPrefix(mt, "application/cloudevents") {
		return binaryProblem(r.Header)
	}
	if mt != structuredJSON {
		return unsupported("structured CloudEvents in %s are not supported; send %s", mt, structuredJSON)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return readProblem(err)
	}
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	return structuredProblem(body)
}

// binaryProblem checks the ce-* headers of a binary-mode event.
func binaryProblem(h http.Header) *problem {
	var missing []string
	for _, k := range []string{"ce-specversion", "ce-id", "ce-source", "ce-type"} {
		if h.Get(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return badRequest("not a CloudEvent: binary mode needs the headers %s; or send the whole event as JSON with Content-Type: %s",
			strings.Join(missing, ", "), structuredJSON)
	}
	if v := h.Get("ce-specversion"); !knownVersion(v) {
		return unsupported("CloudEvents specversion %.32q is not supported; use one of %s", v, strings.Join(specVersions, ", "))
	}
	return nil
}

// structuredProblem checks a structured-mode JSON event.
func structuredProblem(body []byte) *problem {
	var head struct {
		SpecVersion *string `json:"specversion"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return badRequest("not a CloudEvent: the body is not a JSON object: %v", err)
	}
	switch {
	case head.SpecVersion == nil:
		return badRequest("not a CloudEvent: specversion is missing")
	case !knownVersion(*head.SpecVersion):
		return unsupported("CloudEvents specversion %.32q is not supported; use one of %s", *head.SpecVersion, strings.Join(specVersions, ", "))
	}
	var ev event.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return badRequest("not a valid CloudEvent: %v", err)
	}
	if err := ev.Validate(); err != nil {
		return badRequest("not a valid CloudEvent: %s", strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; "))
	}
	return nil
}

func knownVersion(v string) bool { return slices.Contains(specVersions, v) }

// readProblem turns a failed body read into its answer: 413 past the
// limit, 400 for a body that broke off.
func readProblem(err error) *problem {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &problem{status: http.StatusRequestEntityTooLarge,
			reason: fmt.Sprintf("request body larger than %d bytes", tooLarge.Limit)}
	}
	return badRequest("reading the request body: %v", err)
}
