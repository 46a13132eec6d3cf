package apps

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"

	"github.com/funcd/funcd/runtime/resources"
)

// maxSubscribeBytes bounds the answer to GET /dapr/subscribe.
const maxSubscribeBytes = 1 << 20

// programmatic is one item of an app's GET /dapr/subscribe answer, in the
// v1 (route) or v2alpha1 (routes) shape daprd accepts.
type programmatic struct {
	PubsubName      string                  `json:"pubsubname"`
	Topic           string                  `json:"topic"`
	Route           string                  `json:"route"`
	Routes          *resources.Routes       `json:"routes"`
	Metadata        map[string]string       `json:"metadata"`
	DeadLetterTopic string                  `json:"deadLetterTopic"`
	BulkSubscribe   resources.BulkSubscribe `json:"bulkSubscribe"`
}

// discover asks the app for its subscriptions, as daprd does at start:
// 404 means none; any answer but 200 with a JSON array is an error.
func discover(ctx context.Context, client *http.Client, baseURL, token string) ([]programmatic, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/dapr/subscribe", nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("dapr-api-token", token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET /dapr/subscribe: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSubscribeBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET /dapr/subscribe: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET /dapr/subscribe answered %d: %.200s", resp.StatusCode, body)
	case len(body) > maxSubscribeBytes:
		return nil, fmt.Errorf("GET /dapr/subscribe: answer larger than %d KiB", maxSubscribeBytes>>10)
	}
	return parseSubscriptions(body)
}

// parseSubscriptions reads the JSON array of an app's subscriptions.
func parseSubscriptions(body []byte) ([]programmatic, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || string(body) == "null" {
		return nil, nil
	}
	var out []programmatic
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("GET /dapr/subscribe: want a JSON array of subscriptions: %w", err)
	}
	for i, p := range out {
		switch {
		case p.PubsubName == "":
			return nil, fmt.Errorf("GET /dapr/subscribe: item %d: pubsubname is empty", i)
		case p.Topic == "":
			return nil, fmt.Errorf("GET /dapr/subscribe: item %d: topic is empty", i)
		case p.Route == "" && (p.Routes == nil || (p.Routes.Default == "" && len(p.Routes.Rules) == 0)):
			return nil, fmt.Errorf("GET /dapr/subscribe: item %d (%s/%s): no route", i, p.PubsubName, p.Topic)
		}
	}
	return out, nil
}

// resource turns a programmatic subscription into a Subscription resource,
// as daprd does: a v1 route is the default route, and a v2 default wins.
func (p programmatic) resource(appID string) resources.Subscription {
	s := resources.Subscription{
		Name: appID, PubsubName: p.PubsubName, Topic: p.Topic, DeadLetterTopic: p.DeadLetterTopic,
		BulkSubscribe: p.BulkSubscribe, Metadata: p.Metadata, File: "GET /dapr/subscribe of " + appID,
	}
	if p.Routes != nil {
		s.Routes = *p.Routes
	}
	if s.Routes.Default == "" {
		s.Routes.Default = p.Route
	}
	return s
}

// Declared picks the declarative Subscriptions an app loads, as its daprd
// would: read from one of its resource folders, and unscoped or scoped to
// it. forFunctions reports the unscoped ones whose routes name functions:
// those go to the functions, not to apps.
func Declared(subs []resources.Subscription, appID string, dirs []string, forFunctions func(resources.Subscription) bool) []resources.Subscription {
	var out []resources.Subscription
	for _, s := range subs {
		if !slices.Contains(dirs, filepath.Dir(s.File)) {
			continue
		}
		if len(s.Scopes) == 0 && forFunctions(s) {
			continue
		}
		if len(s.Scopes) > 0 && !slices.Contains(s.Scopes, appID) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// topicKey identifies what a subscription reads.
func topicKey(s resources.Subscription) string {
	return s.PubsubName + "/" + s.Topic
}

// describe lists subscriptions for the log line that starts them.
func describe(subs []resources.Subscription) string {
	var parts []string
	for _, s := range subs {
		parts = append(parts, topicKey(s)+" -> "+strings.Join(s.Paths(), ","))
	}
	return strings.Join(parts, "; ")
}
