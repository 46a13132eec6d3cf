package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/dapr"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/sidecar"
)

// orderLine is order-processor's log line for one order.
var orderLine = regexp.MustCompile(`Subscriber received: orderId=(\d+),`)

// orderSystem is the seed's order system on real Dapr: Redis, checkout with
// its daprd, the binding function with its daprd, and order-processor
// (which needs no sidecar: the binding posts CloudEvents to it).
type orderSystem struct {
	redis          string
	checkout       *function
	checkoutDaprd  *daprd
	binding        *function
	bindingDaprd   *daprd
	orderProcessor *function
}

// startOrderSystem starts the order system; env goes to both daprds and
// both Dapr clients (checkout, binding), e.g. DAPR_API_TOKEN.
func startOrderSystem(t *testing.T, env ...string) *orderSystem {
	t.Helper()
	start := time.Now()
	s := &orderSystem{redis: pubsubtest.StartRedis(t)}
	comp := redisComponent("orderpubsub", s.redis)
	// daprd reads the Component only: a declarative Subscription routing
	// to order-processor would make daprd deliver to the binding's Handle.
	sidecarRes := writeResources(t, map[string]string{"pubsub.yaml": comp})
	// The binding's deliveries must fit inside the Component's short
	// processingTimeout (2s): 3 attempts of 500ms, 200ms apart.
	bindingRes := writeResources(t, map[string]string{"pubsub.yaml": comp,
		"subscription.yaml": subscription("order-processor-orders", "orderpubsub", "orders", "order-processor", "orders-deadletter"),
		"resiliency.yaml":   deliveryResiliency("500ms", "200ms", 2)})

	opFn, opBin := buildFunction(t, "../functions/order-processor")
	coFn, coBin := buildFunction(t, "../functions/checkout")
	bFn, bBin := buildFunction(t, rootFunctionCopy(t))
	built := time.Now()

	s.orderProcessor = startFunction(t, opFn, opBin, true)
	s.checkoutDaprd = startDaprd(t, daprdOptions{appID: "checkout", resources: sidecarRes, env: env})
	s.checkout = startFunction(t, coFn, coBin, true, append(env, "DAPR_GRPC_PORT="+strconv.Itoa(s.checkoutDaprd.grpcPort))...)

	grpcPort := freePort(t)
	s.binding = startFunction(t, bFn, bBin, false, append(env, "DAPR_GRPC_PORT="+strconv.Itoa(grpcPort),
		"RESOURCES_PATH="+bindingRes, "FUNCTION_URL_ORDER_PROCESSOR="+s.orderProcessor.url, "LOG_LEVEL=debug")...)
	s.bindingDaprd = startDaprd(t, daprdOptions{appID: "funcd-binding", resources: sidecarRes,
		appPort: s.binding.port, grpcPort: grpcPort, env: env})
	waitHTTP(t, s.binding.proc, s.binding.url+"/health/readiness", 200, 60*time.Second)
	t.Logf("order system up in %s (builds %s, processes %s)", time.Since(start).Round(time.Millisecond),
		built.Sub(start).Round(time.Millisecond), time.Since(built).Round(time.Millisecond))
	return s
}

// processed returns how many times order-processor logged each order.
func (s *orderSystem) processed() map[int]int {
	got := map[int]int{}
	for _, m := range s.orderProcessor.matches(orderLine) {
		id, _ := strconv.Atoi(m[1])
		got[id]++
	}
	return got
}

func (s *orderSystem) waitProcessed(t *testing.T, ids ...int) {
	t.Helper()
	waitFor(t, 60*time.Second, fmt.Sprintf("orders %v in order-processor's log", ids), func() bool {
		got := s.processed()
		for _, id := range ids {
			if got[id] == 0 {
				return false
			}
		}
		return true
	})
}

// TestDaprSeedScenario runs the seed on real Dapr: 19 checkouts published
// by checkout through its daprd to Redis Streams, delivered by the binding
// (streaming subscription through its own daprd) to order-processor; then a
// curl-style publish to daprd's HTTP API, and an event curled into the
// binding's Handle.
func TestDaprSeedScenario(t *testing.T) {
	s := startOrderSystem(t)
	start := time.Now()
	var ids []int
	for id := 1; id <= 19; id++ {
		ids = append(ids, id)
		status, body := postOrderTo(t, s.checkout.url, id)
		if status != http.StatusOK {
			t.Fatalf("order %d: got %d %q from checkout, want 200", id, status, body)
		}
	}
	s.waitProcessed(t, ids...)
	t.Logf("19 checkouts processed in %s", time.Since(start).Round(time.Millisecond))

	// The seed's publisher: POST /v1.0/publish/orderpubsub/orders on daprd.
	status, body := post(t, s.checkoutDaprd.httpURL+"/v1.0/publish/orderpubsub/orders", "application/json",
		`{"orderId":100,"customerName":"Curl","amount":1.5,"status":"Pending"}`, nil)
	if status != http.StatusNoContent {
		t.Fatalf("publish through daprd's HTTP API: got %d %q, want 204", status, body)
	}
	s.waitProcessed(t, 100)

	// A CloudEvent curled into the binding function lands on its topic.
	status, body = post(t, s.binding.url, "application/json", `{"orderId":200,"customerName":"Handle","amount":2}`,
		map[string]string{"ce-specversion": "1.0", "ce-id": "handle-200", "ce-source": "/e2e",
			"ce-type": "com.example.order", "ce-topic": "orders", "ce-pubsubname": "orderpubsub"})
	if status != http.StatusOK {
		t.Fatalf("event into the binding's Handle: got %d %q, want 200", status, body)
	}
	s.waitProcessed(t, 200)
	if !strings.Contains(s.orderProcessor.output(), "orderId=200") {
		t.Errorf("order-processor did not log the order curled into the binding")
	}
	for id, n := range s.processed() {
		if n > 1 {
			t.Logf("order %d was processed %d times (at-least-once redelivery)", id, n)
		}
	}
}

// postOrderTo sends order id to a checkout URL as a binary CloudEvent.
func postOrderTo(t *testing.T, url string, id int) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"orderId":%d,"customerName":"Customer %d","amount":%d.0,"status":"Pending"}`, id, id, id*10)
	return post(t, url, "application/json", body, map[string]string{
		"ce-specversion": "1.0", "ce-id": "e2e-order-" + strconv.Itoa(id), "ce-source": "/e2e", "ce-type": "com.example.order",
	})
}

// TestDaprEnvelopesMatchSidecar publishes the same events through daprd
// (to Redis) and through our publish API (runtime/sidecar) and compares the
// stored envelopes: every field but id, time and the trace ids is equal,
// ids the publisher chose survive both, raw payloads are stored as sent.
func TestDaprEnvelopesMatchSidecar(t *testing.T) {
	redisAddr := pubsubtest.StartRedis(t)
	res := writeResources(t, map[string]string{"pubsub.yaml": redisComponent("orderpubsub", redisAddr)})
	d := startDaprd(t, daprdOptions{appID: "checkout", resources: res})
	ours := startSidecar(t, "checkout")
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { rdb.Close() })
	for i, c := range publishCases {
		t.Run(c.name, func(t *testing.T) {
			topic := fmt.Sprintf("diff-%d", i)
			publishTo(t, c, d.httpURL, d.grpcAddr, topic)
			publishTo(t, c, ours.httpURL, ours.grpcAddr, topic)
			theirs := lastOnStream(t, rdb, topic)
			reqs := ours.rec.requests()
			mine := reqs[len(reqs)-1].Data
			if c.raw {
				if string(theirs) != c.body || string(mine) != c.body {
					t.Errorf("raw payload: daprd stored %q, ours %q, want %q", theirs, mine, c.body)
				}
				return
			}
			got, want := comparable(t, mine, c.callerID()), comparable(t, theirs, c.callerID())
			if got != want {
				t.Errorf("envelopes differ:\nours:  %s\ndaprd: %s", got, want)
			}
			t.Logf("same envelope: %s", got)
		})
	}
}

// TestDaprBindingOutcomes drives the binding through the dapr adapter
// (streaming subscriptions on a real daprd, Redis behind it) and through the
// embedded adapter (the same pubsub.redis component in-process) with every
// answer of DESIGN §4's table: both give the table's outcome.
func TestDaprBindingOutcomes(t *testing.T) {
	redisAddr := pubsubtest.StartRedis(t)
	comp := redisComponent("orderpubsub", redisAddr)
	d := startDaprd(t, daprdOptions{appID: "outcomes", resources: writeResources(t, map[string]string{"pubsub.yaml": comp})})
	client, err := dapr.Dial(t.Context(), d.grpcAddr, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	viaDapr, err := dapr.New(client, "orderpubsub", dapr.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { viaDapr.Close() })

	set, err := resources.Parse("pubsub.yaml", []byte(comp), nil)
	if err != nil {
		t.Fatal(err)
	}
	embeddedPS, err := embedded.Open(t.Context(), set.Components[0], embedded.Options{AppID: "outcomes-embedded"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { embeddedPS.Close() })

	results := map[string]map[string]string{}
	var mu sync.Mutex
	t.Run("adapters", func(t *testing.T) {
		for name, ps := range map[string]pubsub.PubSub{"dapr": viaDapr, "embedded": embeddedPS} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				got := driveOutcomes(t, ps, redisAddr, "outcomes-"+name)
				mu.Lock()
				results[name] = got
				mu.Unlock()
			})
		}
	})
	for _, c := range outcomeCases {
		for _, name := range []string{"dapr", "embedded"} {
			if got := results[name][c.answer]; got != c.want {
				t.Errorf("%s adapter, function answers %s: got %q, want %q", name, c.answer, got, c.want)
			}
		}
	}
}

// TestAPITokens shows daprd and our publish API side by side with
// DAPR_API_TOKEN set: both refuse a publish without the token or with a
// wrong one with the same 401 and body, and accept it with the token; over
// gRPC both answer Unauthenticated; funcd up --api-token's gateway refuses
// and accepts the same way.
func TestAPITokens(t *testing.T) {
	const token = "e2e-secret-token"
	redisAddr := pubsubtest.StartRedis(t)
	res := writeResources(t, map[string]string{"pubsub.yaml": redisComponent("orderpubsub", redisAddr)})
	d := startDaprd(t, daprdOptions{appID: "checkout", resources: res, env: []string{"DAPR_API_TOKEN=" + token}})
	ours := startSidecar(t, "checkout", sidecar.WithAPIToken(token))
	gw := startFuncd(t, "../components", t.TempDir(), nil, "--api-token", token)

	path := "/v1.0/publish/orderpubsub/tokens"
	for _, tc := range []struct {
		name, token string
		want        int
	}{{"no token", "", 401}, {"wrong token", "nope", 401}, {"token", token, 204}} {
		t.Run(tc.name, func(t *testing.T) {
			dStatus, dBody := tokenCall(t, d.httpURL+path, tc.token)
			oStatus, oBody := tokenCall(t, ours.httpURL+path, tc.token)
			gStatus, gBody := tokenCall(t, gw.gateway+path, tc.token)
			t.Logf("daprd %d %s | ours %d %s | gateway %d %s", dStatus, dBody, oStatus, oBody, gStatus, gBody)
			if dStatus != tc.want || oStatus != tc.want || gStatus != tc.want {
				t.Errorf("got daprd %d, ours %d, gateway %d, want %d", dStatus, oStatus, gStatus, tc.want)
			}
			if dBody != oBody {
				t.Errorf("bodies differ: daprd %q, ours %q", dBody, oBody)
			}
			dErr, oErr := grpcTokenCall(t, d.grpcAddr, tc.token), grpcTokenCall(t, ours.grpcAddr, tc.token)
			wantCode := codes.OK
			if tc.want == 401 {
				wantCode = codes.Unauthenticated
			}
			if status.Code(errors.Unwrap(dErr)) != wantCode || status.Code(errors.Unwrap(oErr)) != wantCode {
				t.Errorf("gRPC: daprd %s, ours %s, want %s", describeErr(dErr), describeErr(oErr), wantCode)
			}
		})
	}
}

// TestDaprAdapterConformance runs the pub/sub conformance suite
// (runtime/pubsub/pubsubtest) against the dapr adapter on real daprd
// sidecars and Redis Streams, one sidecar per consumer group.
func TestDaprAdapterConformance(t *testing.T) {
	redisAddr := pubsubtest.StartRedis(t)
	res := writeResources(t, map[string]string{"pubsub.yaml": redisComponent("orderpubsub", redisAddr)})
	pubsubtest.Run(t, func(t *testing.T) pubsub.PubSub { return newDaprConsumers(t, res) })
}
