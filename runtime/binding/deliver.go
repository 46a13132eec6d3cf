package binding

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// maxReplyBytes bounds how much of a function's answer is read.
const maxReplyBytes = 4 << 20

// result is one delivery attempt's answer.
type result struct {
	status int
	reply  []byte
	header http.Header
}

// send POSTs ev in binary mode to url and returns the function's answer.
func send(ctx context.Context, client *http.Client, url string, ev *event.Event, timeout time.Duration) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return result{}, permanentf("build request for %s: %w", url, err)
	}
	if err := cehttp.WriteRequest(ctx, binding.ToMessage(ev), req); err != nil {
		return result{}, permanentf("encode event %s: %w", ev.ID(), err)
	}
	if tp, ok := ev.Extensions()["traceparent"].(string); ok {
		req.Header.Set("traceparent", tp)
	}
	resp, err := client.Do(req)
	if err != nil {
		return result{}, fmt.Errorf("post to %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	if err != nil {
		return result{}, fmt.Errorf("read answer from %s: %w", url, err)
	}
	return result{status: resp.StatusCode, reply: bytes.Clone(body), header: resp.Header}, nil
}
