package gateway

import (
	"mime"
	"net/http"
	"strings"
)

// cloudEventProblem says why r is not a CloudEvent, or returns "" when it is
// one in binary, structured or batch mode. It checks the transport shape
// only; the function's SDK validates the attributes.
func cloudEventProblem(r *http.Request) string {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if strings.HasPrefix(mt, "application/cloudevents") {
		return ""
	}
	var missing []string
	for _, h := range []string{"ce-specversion", "ce-id", "ce-source", "ce-type"} {
		if r.Header.Get(h) == "" {
			missing = append(missing, h)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return "not a CloudEvent: binary mode needs the headers " + strings.Join(missing, ", ") +
		"; or send the whole event as JSON with Content-Type: application/cloudevents+json"
}
