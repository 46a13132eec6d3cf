package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/dapr/go-sdk/service/common"

	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
)

// streamCases are the answers of a streaming subscriber and what daprd
// does with them on a topic with a deadLetterTopic.
var streamCases = map[string]struct {
	status common.SubscriptionResponseStatus
	want   string
}{
	"success": {common.SubscriptionResponseStatusSuccess, "1 attempt"},
	"retry":   {common.SubscriptionResponseStatusRetry, "1 attempt, dead-lettered"},
	"drop":    {common.SubscriptionResponseStatusDrop, "1 attempt, dead-lettered"},
}

// streamOutcomes subscribes with the Dapr Go SDK's SubscribeWithHandler
// through the Dapr gRPC API at grpcAddr, publishes every case and returns
// what happened to each.
func streamOutcomes(t *testing.T, grpcAddr, token string) map[string]string {
	t.Helper()
	t.Setenv("DAPR_API_TOKEN", token)
	client, err := dapr.NewClientWithAddress(grpcAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var mu sync.Mutex
	attempts, dead, sources := map[string]int{}, map[string]bool{}, map[string]string{}
	caseOf := func(e *common.TopicEvent) string {
		var d struct {
			Case string `json:"case"`
		}
		_ = json.Unmarshal(e.RawData, &d)
		return d.Case
	}
	ctx, cancel := context.WithCancel(context.Background())
	// Subscribe with the SDK's Subscribe and one goroutine per stream that
	// receives, answers and closes: SubscribeWithHandler answers from
	// goroutines that race with its Close (go-sdk v1.11.0).
	subscribe := func(opts dapr.SubscriptionOptions, handle func(*common.TopicEvent) common.SubscriptionResponseStatus) (wait func()) {
		sub, err := client.Subscribe(ctx, opts)
		if err != nil {
			t.Fatalf("subscribe to %s: %v", opts.Topic, err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer sub.Close()
			for {
				msg, err := sub.Receive()
				if err != nil {
					return
				}
				switch handle(msg.TopicEvent) {
				case common.SubscriptionResponseStatusRetry:
					_ = msg.Retry()
				case common.SubscriptionResponseStatusDrop:
					_ = msg.Drop()
				default:
					_ = msg.Success()
				}
			}
		}()
		return func() { <-done }
	}
	dlq := "s-dlq"
	waitMain := subscribe(dapr.SubscriptionOptions{PubsubName: "orderpubsub", Topic: "s-dl", DeadLetterTopic: &dlq},
		func(e *common.TopicEvent) common.SubscriptionResponseStatus {
			c := caseOf(e)
			mu.Lock()
			defer mu.Unlock()
			attempts[c]++
			sources[c] = e.Source + " " + e.Type + " " + e.DataContentType + " " + e.Topic + " " + e.PubsubName
			if attempts[c] > 1 {
				return common.SubscriptionResponseStatusSuccess
			}
			return streamCases[c].status
		})
	waitDead := subscribe(dapr.SubscriptionOptions{PubsubName: "orderpubsub", Topic: "s-dlq"},
		func(e *common.TopicEvent) common.SubscriptionResponseStatus {
			mu.Lock()
			dead[caseOf(e)] = true
			mu.Unlock()
			return common.SubscriptionResponseStatusSuccess
		})
	defer func() { cancel(); waitMain(); waitDead() }()
	for name := range streamCases {
		if err := client.PublishEvent(ctx, "orderpubsub", "s-dl", []byte(fmt.Sprintf(`{"case":%q}`, name)),
			dapr.PublishEventWithContentType("application/json")); err != nil {
			t.Fatalf("publish %s: %v", name, err)
		}
	}
	outcomes := func() map[string]string {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]string{}
		for name := range streamCases {
			s := fmt.Sprintf("%d attempt", attempts[name])
			if attempts[name] != 1 {
				s += "s"
			}
			if dead[name] {
				s += ", dead-lettered"
			}
			out[name] = s + " (" + sources[name] + ")"
		}
		return out
	}
	waitFor(t, time.Minute, "every streamed case settled", func() bool {
		got := outcomes()
		for name, c := range streamCases {
			if !strings.HasPrefix(got[name], c.want) {
				return false
			}
		}
		return true
	})
	time.Sleep(3 * time.Second)
	return outcomes()
}

// TestDaprStreamingSubscription subscribes with the Dapr Go SDK's
// SubscribeWithHandler through an app's Dapr API under funcd and through
// the real daprd 1.16 (with Redis), and compares what the handler sees
// and what becomes of each answer.
func TestDaprStreamingSubscription(t *testing.T) {
	const token = "stream-token"
	grpcPort := freePort(t)
	dir := appsProject(t, fmt.Sprintf(`  - appID: streamer
    appDirPath: .
    daprGRPCPort: %d
`, grpcPort), nil, nil)
	startFuncd(t, "", t.TempDir(), nil, "--dir", dir, "--api-token", token)
	underFuncd := streamOutcomes(t, addr(grpcPort), token)

	res := writeResources(t, map[string]string{"pubsub.yaml": redisComponent("orderpubsub", pubsubtest.StartRedis(t))})
	d := startDaprd(t, daprdOptions{appID: "streamer", resources: res, env: []string{"DAPR_API_TOKEN="}}) // not the token set above
	underDaprd := streamOutcomes(t, d.grpcAddr, "")

	for name, c := range streamCases {
		t.Logf("%-8s funcd: %-60s daprd: %s", name, underFuncd[name], underDaprd[name])
		if underFuncd[name] != underDaprd[name] || !strings.HasPrefix(underFuncd[name], c.want) {
			t.Errorf("%s: funcd %q, daprd %q, want %q", name, underFuncd[name], underDaprd[name], c.want)
		}
	}
}
