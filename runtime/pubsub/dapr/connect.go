package dapr

import (
	"context"
	"fmt"
	"slices"
	"time"

	daprc "github.com/dapr/go-sdk/client"
)

// Dial connects to the sidecar's gRPC API at addr (host:port), sending token
// as dapr-api-token on every call when it is not empty, and waits until the
// connection is ready or ctx ends. The caller closes the client.
func Dial(ctx context.Context, addr, token string) (daprc.Client, error) {
	c, err := daprc.NewClientWithAddressContext(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("dial dapr sidecar at %s: %w", addr, err)
	}
	c.WithAuthToken(token)
	return c, nil
}

// Metadata is the part of the SDK client WaitComponents uses.
type Metadata interface {
	GetMetadata(ctx context.Context) (*daprc.GetMetadataResponse, error)
}

// WaitComponents polls the sidecar's metadata until every pub/sub component
// in names is loaded, or ctx ends. daprd answers gRPC before its components
// are initialised; subscribing earlier fails.
func WaitComponents(ctx context.Context, c Metadata, names ...string) error {
	var last error
	for {
		missing, err := missingComponents(ctx, c, names)
		if err == nil && len(missing) == 0 {
			return nil
		}
		last = err
		if err == nil {
			last = fmt.Errorf("components not loaded yet: %v", missing)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for dapr components %v: %w (last: %v)", names, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func missingComponents(ctx context.Context, c Metadata, names []string) ([]string, error) {
	md, err := c.GetMetadata(ctx)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, n := range names {
		if !slices.ContainsFunc(md.RegisteredComponents, func(rc *daprc.MetadataRegisteredComponents) bool {
			return rc.Name == n
		}) {
			missing = append(missing, n)
		}
	}
	return missing, nil
}
