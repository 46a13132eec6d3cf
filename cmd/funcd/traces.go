package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/funcd/funcd/runtime/tracing"
)

const tracesExamples = `  funcd traces
  funcd traces --limit 10 --url http://127.0.0.1:9090
`

const traceExamples = `  funcd trace 4bf92f3577b34da6a3ce929d0e0e4736
  funcd trace --url http://127.0.0.1:9090 4bf92f3577b34da6a3ce929d0e0e4736
`

// maxTraceAnswer bounds what the CLI reads of one answer.
const maxTraceAnswer = 32 << 20

func runTraces(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("traces", "traces [flags]", tracesExamples, stderr)
	gatewayURL := fs.String("url", "http://127.0.0.1:8080", "gateway URL of a running funcd up")
	token := fs.String("api-token", os.Getenv("DAPR_API_TOKEN"), "dapr-api-token to send (when funcd up requires one; default $DAPR_API_TOKEN)")
	limit := fs.Int("limit", 20, "how many of the most recent traces to list (1-1000)")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, "unexpected argument "+fs.Arg(0))
	}
	if *limit < 1 || *limit > 1000 {
		return usageError(fs, stderr, "--limit must be from 1 to 1000")
	}
	var list struct {
		Traces []tracing.Summary `json:"traces"`
	}
	if err := getJSON(ctx, *gatewayURL, tracing.ListPath+"?limit="+fmt.Sprint(*limit), *token, &list); err != nil {
		return err
	}
	if len(list.Traces) == 0 {
		fmt.Fprintln(stdout, "no traces yet: send an event, then run funcd traces again")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TRACE\tSTARTED\tROOT\tFUNCTIONS\tDURATION\tSPANS\tOUTCOME")
	for _, s := range list.Traces {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", s.TraceID, s.Start.Local().Format("15:04:05.000"), s.Root,
			strings.Join(s.Functions, ","), roundDuration(s.Duration), s.Spans, s.Outcome)
	}
	return tw.Flush()
}

func runTrace(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("trace", "trace [flags] TRACE-ID", traceExamples, stderr)
	gatewayURL := fs.String("url", "http://127.0.0.1:8080", "gateway URL of a running funcd up")
	token := fs.String("api-token", os.Getenv("DAPR_API_TOKEN"), "dapr-api-token to send (when funcd up requires one; default $DAPR_API_TOKEN)")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError(fs, stderr, "give one trace id (funcd traces lists them)")
	}
	var t tracing.Trace
	if err := getJSON(ctx, *gatewayURL, tracing.ListPath+"/"+url.PathEscape(fs.Arg(0)), *token, &t); err != nil {
		return err
	}
	return tracing.Waterfall(stdout, t)
}

// getJSON GETs path from the gateway and decodes the JSON answer into v;
// an error answer's reason becomes the error.
func getJSON(ctx context.Context, gatewayURL, path, token string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(gatewayURL, "/")+path, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("dapr-api-token", token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("is funcd up running? %w", err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxTraceAnswer)
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.NewDecoder(body).Decode(&e) == nil && e.Error != "" {
			return fmt.Errorf("%s", e.Error)
		}
		return fmt.Errorf("unexpected answer from %s: %s", gatewayURL, resp.Status)
	}
	if err := json.NewDecoder(body).Decode(v); err != nil {
		return fmt.Errorf("unexpected answer from %s: %w", gatewayURL, err)
	}
	return nil
}

func roundDuration(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(100 * time.Microsecond)
}
