package sidecar

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// recoverHTTP turns a panic into a 500, so no input takes the server down.
func (s *Sidecar) recoverHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic in http handler", "path", r.URL.Path, "panic", v)
				writeJSON(w, http.StatusInternalServerError, genericError(errors.New("internal error")))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *Sidecar) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic in grpc handler", "method", info.FullMethod, "panic", v)
			resp, err = nil, status.Error(codes.Internal, "internal error")
		}
	}()
	return next(ctx, req)
}

func (s *Sidecar) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic in grpc stream", "method", info.FullMethod, "panic", v)
			err = status.Error(codes.Internal, "internal error")
		}
	}()
	return next(srv, ss)
}

// genericError is daprd's fallback body (errorcodes.CommonGeneric).
func genericError(err error) []byte {
	b, _ := json.Marshal(struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}{"ERROR", err.Error()})
	return b
}
