# funcd: Knative Functions on Dapr pub/sub, locally in one binary.
#
#   make run    the main job: the order system on the embedded broker, with
#               the 19 demo checkouts
#   make test   every module's tests with -race (what CI runs)
#   make test-cluster   deploy/ on a real single-node Kubernetes made here
#               (e2e/cluster; root, Linux; long: see README "The cluster test")
#   make bench  bin/funcd up against daprd + Redis, side by side; writes
#               docs/performance.md (README "Performance")
#   make memory bin/funcd up's resident memory idle and after a burst
#   make coldstart  cold starts of order-processor through the gateway, by curl

GO        ?= go
comma     := ,
FUNCTIONS := $(sort $(dir $(wildcard functions/*/func.yaml)))
VALIDATE  := deploy/validate
# Example Dapr apps with a Go module of their own (run by e2e's TestDaprAppsGoSDK).
EXAMPLES  := examples/dapr-apps-go
CLUSTER   := e2e/cluster
ARGS      ?= --demo
# The Dapr resources folder make build looks at (funcd up --components).
COMPONENTS ?= components

# bin/funcd carries the Kafka and Redis components only when a Component in
# $(COMPONENTS) uses them: they bring in some 280 packages (their cloud
# providers' authentication SDKs); on 2 cores a first build of bin/funcd takes
# 108 s without them, 166 s with them.
# `go build ./cmd/funcd` or `go install` builds every type.
uses     = $(shell grep -lsE '^[[:space:]]*type:[[:space:]]*["'"'"']?pubsub\.$(1)\b' $(COMPONENTS)/*.yaml $(COMPONENTS)/*.yml)
omit     := $(if $(call uses,kafka),,funcd_nokafka) $(if $(call uses,redis),,funcd_noredis)
TAGS     := $(subst $(eval) ,$(comma),$(strip $(omit)))

.PHONY: run build deps test test-root test-lean test-functions test-deploy test-fixtures vet bench memory coldstart microbench clean soak \
	test-cluster cluster-up cluster-down

run: build
	./bin/funcd up $(ARGS)

# Static (cgo off), as funcd builds the functions: a static binary starts
# sooner, and funcd and the functions share the compiled packages.
build:
	CGO_ENABLED=0 $(GO) build -tags '$(TAGS)' -ldflags='-s -w' -o bin/funcd ./cmd/funcd

test: deps vet test-root test-lean test-functions test-deploy test-fixtures
	$(MAKE) soak SOAK_ORDERS=10000

# What the tests run for real: redis-server and shellcheck (apt, when
# missing), daprd, func and the conformance CLI (tools/build.sh, cached).
deps:
	tools/deps.sh

vet:
	$(GO) vet ./...
	$(GO) vet -tags bench,soak ./e2e/
	@for d in $(FUNCTIONS) $(VALIDATE) $(EXAMPLES); do echo "go vet $$d"; (cd $$d && $(GO) vet ./...) || exit 1; done
	cd $(CLUSTER) && $(GO) vet -tags cluster ./...

# The longest package is e2e (about 5 min on 2 cores, with real daprd, func
# and Jaeger); the timeout leaves room for a slow machine, not for a hang.
test-root:
	$(GO) test -race -timeout 30m ./...

# What make build leaves out when components/ does not use it.
LEAN := funcd_nokafka,funcd_noredis
test-lean:
	$(GO) vet -tags $(LEAN) ./runtime/pubsub/embedded/ ./cmd/funcd/
	$(GO) test -race -tags $(LEAN) -run 'TestTypes|TestOmittedTypes' ./runtime/pubsub/embedded/

test-functions:
	@for d in $(FUNCTIONS); do echo "go test $$d"; (cd $$d && $(GO) test -race ./...) || exit 1; done

# The cluster manifests, validated with Knative's, Dapr's and KEDA's own
# types (no concurrency there, so no -race: it would only slow the build).
test-deploy:
	cd $(VALIDATE) && $(GO) test ./...

# The cluster test's fixtures (kingress, kfake) and scripts, without a cluster.
test-fixtures:
	cd $(CLUSTER) && $(GO) test -race ./...

# deploy/ on a real single-node Kubernetes made here from the real binaries
# (needs root and Linux; builds Kubernetes, Knative, Dapr, CoreDNS, etcd and
# helm into the tools cache the first time). KEEP_CLUSTER=1 leaves it up.
test-cluster:
	cd $(CLUSTER) && $(GO) test -tags cluster -run TestCluster -count=1 -v -timeout 150m .

cluster-up:
	$(CLUSTER)/cluster.sh up

cluster-down:
	$(CLUSTER)/cluster.sh down

# Orders through checkout on the embedded broker, then on Redis, while
# funcd, function processes and redis-server are SIGKILLed at random; every
# accepted order must be processed (e2e/soak_test.go). Bounded: each run
# fails after SOAK_DEADLINE. make test runs it with 10,000 orders.
SOAK_ORDERS   ?= 100000
SOAK_DEADLINE ?= 40m
soak:
	$(GO) test -tags soak -run TestSoak -count=1 -v -timeout 100m ./e2e/ -soak.orders=$(SOAK_ORDERS) -soak.deadline=$(SOAK_DEADLINE)

# The product benchmark: bin/funcd up with the real functions against the
# seed architecture (daprd + redis-server + a Go subscriber), the same load
# generator, BENCH_ROUNDS rounds side by side; writes docs/performance.md,
# .svg and .json (e2e/bench_test.go). It measures; it asserts nothing.
BENCH_ROUNDS ?= 5
BENCH_FLAGS  ?=
bench: build deps
	$(GO) test -tags bench -run TestBench -count=1 -v -timeout 90m ./e2e/ \
		-bench.rounds=$(BENCH_ROUNDS) -bench.funcd=../bin/funcd -bench.out=../docs $(BENCH_FLAGS)

# funcd's resident memory as make bench starts it: idle, during a burst of
# MEMORY_ORDERS orders through checkout, and for a minute after it
# (e2e/bench_memory_test.go); writes the Memory section of
# docs/performance.md. It measures; it asserts nothing.
MEMORY_ORDERS ?= 100000
memory: build
	$(GO) test -tags bench -run TestMemory -count=1 -v -timeout 30m ./e2e/ \
		-bench.funcd=../bin/funcd -memory.orders=$(MEMORY_ORDERS) -memory.out=../docs

# Cold starts as users see them: bin/funcd up --idle 0s, COLDSTARTS
# orders each posted by curl to order-processor at zero instances
# (e2e/bench_coldstart_test.go); writes the Cold start section of
# docs/performance.md. It measures; it asserts nothing.
COLDSTARTS ?= 100
coldstart: build
	$(GO) test -tags bench -run TestColdStart -count=1 -v -timeout 30m ./e2e/ \
		-bench.funcd=../bin/funcd -coldstart.n=$(COLDSTARTS) -coldstart.out=../docs

# Microbenchmarks of the runtime's packages, in-process.
microbench:
	$(GO) test -run '^$$' -bench . -benchmem ./runtime/...

clean:
	rm -rf bin .funcd
