package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/google/uuid"
)

const invokeExamples = `  funcd invoke checkout --data '{"orderId":7,"customerName":"Ada","amount":70.0}'
  funcd invoke checkout --file order.json --type com.example.order --structured
  funcd invoke order-processor --url http://127.0.0.1:9090 --data '{"orderId":1}'
`

// eventSpec is a CloudEvent to send.
type eventSpec struct {
	id, source, typ, contentType, data string
	structured                         bool
	token                              string // dapr-api-token, when funcd up requires one
}

func runInvoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("invoke", "invoke FUNCTION [flags]", invokeExamples, stderr)
	var spec eventSpec
	var gateway, file string
	fs.StringVar(&gateway, "url", "http://127.0.0.1:8080", "gateway URL of a running funcd up")
	fs.StringVar(&spec.id, "id", "", "event id (default: a new UUID)")
	fs.StringVar(&spec.source, "source", "/funcd/invoke", "event source")
	fs.StringVar(&spec.typ, "type", "com.example.event", "event type")
	fs.StringVar(&spec.contentType, "content-type", "application/json", "data content type")
	fs.StringVar(&spec.data, "data", "", "event data")
	fs.StringVar(&file, "file", "", "read event data from this file ('-' for stdin)")
	fs.BoolVar(&spec.structured, "structured", false, "send in structured mode instead of binary mode")
	fs.StringVar(&spec.token, "api-token", os.Getenv("DAPR_API_TOKEN"), "dapr-api-token to send (when funcd up requires one; default $DAPR_API_TOKEN)")
	if help, err := parse(fs, reorder(args)); help || err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError(fs, stderr, "name exactly one function, e.g. funcd invoke checkout")
	}
	if file != "" && spec.data != "" {
		return usageError(fs, stderr, "use --data or --file, not both")
	}
	if file != "" {
		b, err := readFile(file)
		if err != nil {
			return err
		}
		spec.data = string(b)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	status, body, err := sendEvent(ctx, client, strings.TrimSuffix(gateway, "/")+"/"+fs.Arg(0), spec)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d %s\n%s", status, http.StatusText(status), body)
	if body != "" && !strings.HasSuffix(body, "\n") {
		fmt.Fprintln(stdout)
	}
	if status >= 300 {
		return fmt.Errorf("function answered %d", status)
	}
	return nil
}

// sendEvent POSTs spec as a CloudEvent and returns the answer: the status
// and, for a reply event, its headers and data.
func sendEvent(ctx context.Context, client *http.Client, url string, spec eventSpec) (int, string, error) {
	e := event.New()
	e.SetID(spec.id)
	if spec.id == "" {
		e.SetID(uuid.NewString())
	}
	e.SetSource(spec.source)
	e.SetType(spec.typ)
	if err := e.SetData(spec.contentType, []byte(spec.data)); err != nil {
		return 0, "", fmt.Errorf("event data: %w", err)
	}
	if err := e.Validate(); err != nil {
		return 0, "", fmt.Errorf("invalid event: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return 0, "", err
	}
	if spec.structured {
		b, err := json.Marshal(e)
		if err != nil {
			return 0, "", err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.ContentLength = int64(len(b))
		req.Header.Set("Content-Type", "application/cloudevents+json")
	} else if err := cehttp.WriteRequest(ctx, binding.ToMessage(&e), req); err != nil {
		return 0, "", err
	}
	if spec.token != "" {
		req.Header.Set("dapr-api-token", spec.token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("is funcd up running? %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, "", err
	}
	return resp.StatusCode, describeReply(resp.Header, body), nil
}

// describeReply renders a reply event's attributes and data, or the body.
func describeReply(h http.Header, body []byte) string {
	var b strings.Builder
	for _, k := range []string{"Ce-Id", "Ce-Type", "Ce-Source", "Ce-Subject"} {
		if v := h.Get(k); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", strings.ToLower(k), v)
		}
	}
	b.Write(body)
	return b.String()
}

func readFile(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, 4<<20))
	}
	return os.ReadFile(name)
}

// reorder moves a leading positional argument after the flags, so both
// "invoke NAME --data x" and "invoke --data x NAME" work.
func reorder(args []string) []string {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return append(append([]string{}, args[1:]...), args[0])
	}
	return args
}
