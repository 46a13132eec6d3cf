package sidecar

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
)

// apiTokenHeader is daprd's security consts.APITokenHeader.
const apiTokenHeader = "dapr-api-token"

// AuthInterceptors returns the unary and stream interceptors NewGRPCServer
// uses to check the API token; for servers built with RegisterGRPC.
func (s *Sidecar) AuthInterceptors() (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	return s.authUnary, s.authStream
}

func (s *Sidecar) authUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	ctx, err := s.checkGRPCToken(ctx)
	if err != nil {
		return nil, err
	}
	return next(ctx, req)
}

func (s *Sidecar) authStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, next grpc.StreamHandler) error {
	ctx, err := s.checkGRPCToken(ss.Context())
	if err != nil {
		return err
	}
	return next(srv, &ctxStream{ServerStream: ss, ctx: ctx})
}

// authTap refuses a call without the API token before the server reads
// its message (the interceptors check again, and strip the token).
func (s *Sidecar) authTap(ctx context.Context, info *tap.Info) (context.Context, error) {
	if s.cfg.APIToken == "" {
		return ctx, nil
	}
	switch got := info.Header.Get(apiTokenHeader); {
	case len(got) == 0:
		return ctx, unauthenticated("missing api token in request metadata")
	case !tokenEqual(got[0], s.cfg.APIToken):
		return ctx, unauthenticated("authentication error: api token mismatch")
	}
	return ctx, nil
}

type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (c *ctxStream) Context() context.Context { return c.ctx }

// checkGRPCToken mirrors daprd pkg/api/grpc/auth.go checkAPITokenInContext,
// including removing the token from the metadata handlers see.
func (s *Sidecar) checkGRPCToken(ctx context.Context) (context.Context, error) {
	if s.cfg.APIToken == "" {
		return ctx, nil
	}
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return ctx, unauthenticated("missing metadata in request")
	}
	if len(md[apiTokenHeader]) == 0 {
		return ctx, unauthenticated("missing api token in request metadata")
	}
	if !tokenEqual(md[apiTokenHeader][0], s.cfg.APIToken) {
		return ctx, unauthenticated("authentication error: api token mismatch")
	}
	md = md.Copy()
	delete(md, apiTokenHeader)
	return metadata.NewIncomingContext(ctx, md), nil
}

// unauthenticated is daprd's invokev1.ErrorFromHTTPResponseCode(401, detail).
func unauthenticated(detail string) error {
	const maxDetail = 63
	if len(detail) >= maxDetail {
		detail = detail[:maxDetail]
	}
	text := http.StatusText(http.StatusUnauthorized)
	st := status.New(codes.Unauthenticated, text)
	withInfo, err := st.WithDetails(&errdetails.ErrorInfo{
		Reason: text,
		Domain: "dapr.io",
		Metadata: map[string]string{
			"http.code":          strconv.Itoa(http.StatusUnauthorized),
			"http.error_message": detail,
		},
	})
	if err == nil {
		st = withInfo
	}
	return st.Err()
}

// authHTTP mirrors daprd pkg/api/http/middlewares.go APITokenAuthMiddleware.
func (s *Sidecar) authHTTP(next http.Handler) http.Handler {
	if s.cfg.APIToken == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !tokenEqual(r.Header.Get(apiTokenHeader), s.cfg.APIToken) && !authExempt(r.Method, r.URL) {
			s.log.Debug("http call refused: invalid api token", "path", r.URL.Path)
			http.Error(w, "invalid api token", http.StatusUnauthorized)
			return
		}
		r.Header.Del(apiTokenHeader)
		next.ServeHTTP(w, r)
	})
}

// authExempt is daprd's isRouteExcludedFromAPITokenAuth.
func authExempt(method string, u *url.URL) bool {
	switch strings.Trim(u.Path, "/") {
	case "v1.0/healthz", "v1.0/healthz/outbound":
		return method == http.MethodGet
	}
	return false
}

func tokenEqual(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
