package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const publishExamples = `  funcd publish --topic orders --data '{"orderId":20,"customerName":"Customer 20","amount":200.0,"status":"Pending"}'
  funcd publish --pubsub orderpubsub --topic orders --file order.json
`

func runPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("publish", "publish --topic TOPIC [flags]", publishExamples, stderr)
	var gateway, pubsubName, topic, data, file, contentType, token string
	fs.StringVar(&gateway, "url", "http://127.0.0.1:8080", "gateway URL of a running funcd up")
	fs.StringVar(&pubsubName, "pubsub", "orderpubsub", "pub/sub component name")
	fs.StringVar(&topic, "topic", "", "topic to publish to (required)")
	fs.StringVar(&data, "data", "", "event data")
	fs.StringVar(&file, "file", "", "read event data from this file ('-' for stdin)")
	fs.StringVar(&contentType, "content-type", "application/json", "data content type")
	fs.StringVar(&token, "api-token", "", "dapr-api-token to send (when funcd up requires one)")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageError(fs, stderr, "unexpected argument "+fs.Arg(0))
	case topic == "":
		return usageError(fs, stderr, "--topic is required")
	case file != "" && data != "":
		return usageError(fs, stderr, "use --data or --file, not both")
	}
	if file != "" {
		b, err := readFile(file)
		if err != nil {
			return err
		}
		data = string(b)
	}
	u := strings.TrimSuffix(gateway, "/") + "/v1.0/publish/" + url.PathEscape(pubsubName) + "/" + url.PathEscape(topic)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("dapr-api-token", token)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("is funcd up running? %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("publish answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(stdout, "published to %s/%s\n", pubsubName, topic)
	return nil
}
