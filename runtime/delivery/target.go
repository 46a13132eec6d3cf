package delivery

import "context"

// Target resolves a function name to the base URL of a ready instance with
// room for one more delivery, starting one if needed; release is called when
// the attempt is over (failed: no 2xx). It fails when the function does not
// exist or cannot start; the delivery is then retried like any transient failure.
type Target interface {
	Acquire(ctx context.Context, function string) (url string, release func(failed bool), err error)
}
