package sidecar

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error codes of the answers to the Dapr APIs a Sidecar does not serve.
const (
	// CodeNotSupported answers a building block other than pub/sub.
	CodeNotSupported = "ERR_API_NOT_SUPPORTED"
	// codeDirectInvoke is daprd's answer to a path no API matches (it takes
	// it as service invocation without an app id).
	codeDirectInvoke = "ERR_DIRECT_INVOKE"
)

// servedOnly is how every such answer starts.
const servedOnly = "funcd serves Dapr's pub/sub API only (publish, bulk publish, subscriptions, healthz, metadata)"

// httpBlocks names the building block of each Dapr HTTP API path segment
// (/v1.0/<segment>/..., also under -alpha1 and -beta1) a Sidecar does not
// serve.
var httpBlocks = map[string]string{
	"state": "state management", "invoke": "service invocation", "bindings": "bindings",
	"secrets": "secrets", "actors": "actors", "configuration": "configuration",
	"lock": "distributed lock", "unlock": "distributed lock", "crypto": "cryptography",
	"subtlecrypto": "cryptography", "workflows": "workflow", "jobs": "jobs",
	"conversation": "conversation", "shutdown": "shutdown", "metadata": "metadata labels",
}

// handleUnsupported answers every path the mux does not route: a Dapr
// building block funcd lacks gets 501 with CodeNotSupported; any other path
// gets what daprd answers, 404 with ERR_DIRECT_INVOKE, with a message that
// says why. Both in Dapr's error shape.
func (s *Sidecar) handleUnsupported(w http.ResponseWriter, r *http.Request) {
	what := r.Method + " " + r.URL.Path
	if block := httpBlock(r.URL.Path); block != "" {
		writeAPIError(w, http.StatusNotImplemented, CodeNotSupported,
			fmt.Sprintf("%s: the %s API (%s) is not available; run this app with daprd for it", servedOnly, block, what))
		return
	}
	writeAPIError(w, http.StatusNotFound, codeDirectInvoke,
		fmt.Sprintf("%s: %s is not part of it (daprd would take it as service invocation without an app id)", servedOnly, what))
}

// httpBlock is the building block of a Dapr API path, or "".
func httpBlock(path string) string {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "v1.0") {
		return ""
	}
	return httpBlocks[parts[1]]
}

func writeAPIError(w http.ResponseWriter, code int, errorCode, msg string) {
	b, _ := json.Marshal(struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}{errorCode, msg})
	writeJSON(w, code, b)
}

// grpcBlocks names the building block of a Dapr gRPC method by a word in
// its name; the first match wins.
var grpcBlocks = []struct{ word, block string }{
	{"Actor", "actors"}, {"Reminder", "actors"}, {"Timer", "actors"},
	{"State", "state management"}, {"InvokeService", "service invocation"},
	{"Binding", "bindings"}, {"Secret", "secrets"}, {"Configuration", "configuration"},
	{"Lock", "distributed lock"}, {"Subtle", "cryptography"}, {"crypt", "cryptography"},
	{"Workflow", "workflow"}, {"Job", "jobs"}, {"Converse", "conversation"},
	{"Shutdown", "shutdown"}, {"SetMetadata", "metadata labels"},
}

// unsupportedMessage is the message of Unimplemented for a gRPC method.
func unsupportedMessage(fullMethod string) string {
	method := fullMethod[strings.LastIndex(fullMethod, "/")+1:]
	for _, b := range grpcBlocks {
		if strings.Contains(method, b.word) {
			return fmt.Sprintf("%s: the %s API (%s) is not available; run this app with daprd for it", servedOnly, b.block, fullMethod)
		}
	}
	return fmt.Sprintf("%s: %s is not available", servedOnly, fullMethod)
}

// isStubAnswer reports an Unimplemented answer from the generated stubs
// (a method the Sidecar does not implement), not one of its own.
func isStubAnswer(err error) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.Unimplemented && strings.HasSuffix(st.Message(), " not implemented")
}

// unsupportedUnary turns the stubs' Unimplemented into one that says what
// funcd serves.
func unsupportedUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	if isStubAnswer(err) {
		return nil, status.Error(codes.Unimplemented, unsupportedMessage(info.FullMethod))
	}
	return resp, err
}

// unsupportedStream is unsupportedUnary for streaming methods.
func unsupportedStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	err := handler(srv, ss)
	if isStubAnswer(err) {
		return status.Error(codes.Unimplemented, unsupportedMessage(info.FullMethod))
	}
	return err
}

// unknownService answers a gRPC service the server does not have.
func unknownService(_ any, ss grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(ss)
	return status.Error(codes.Unimplemented, unsupportedMessage(method))
}
