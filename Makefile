# funcd: Knative Functions on Dapr pub/sub, locally in one binary.
#
#   make run    the main job: the order system on the embedded broker, with
#               the 19 demo checkouts
#   make test   every module's tests with -race (what CI runs)

GO        ?= go
FUNCTIONS := $(sort $(dir $(wildcard functions/*/func.yaml)))
VALIDATE  := deploy/validate
ARGS      ?= --demo

.PHONY: run build deps test test-root test-functions test-deploy vet bench clean

run: build
	./bin/funcd up $(ARGS)

build:
	$(GO) build -ldflags='-s -w' -o bin/funcd ./cmd/funcd

test: deps vet test-root test-functions test-deploy

# What the tests run for real: redis-server and shellcheck (apt, when
# missing), daprd, func and the conformance CLI (tools/build.sh, cached).
deps:
	tools/deps.sh

vet:
	$(GO) vet ./...
	@for d in $(FUNCTIONS) $(VALIDATE); do echo "go vet $$d"; (cd $$d && $(GO) vet ./...) || exit 1; done

test-root:
	$(GO) test -race -timeout 80m ./...

test-functions:
	@for d in $(FUNCTIONS); do echo "go test $$d"; (cd $$d && $(GO) test -race ./...) || exit 1; done

# The cluster manifests, validated with Knative's, Dapr's and KEDA's own
# types (no concurrency there, so no -race: it would only slow the build).
test-deploy:
	cd $(VALIDATE) && $(GO) test ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./runtime/...

clean:
	rm -rf bin .funcd
