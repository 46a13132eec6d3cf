package binding

import (
	"errors"
	"fmt"
	"net/http"
)

// Outcome is what the binding does with a message after one delivery attempt.
type Outcome int

const (
	// Ack: the function accepted the event; acknowledge the message.
	Ack Outcome = iota
	// Retry: a transient failure; deliver again after a backoff.
	Retry
	// DeadLetter: a permanent failure; move the message to the dead-letter
	// topic (or drop it, logged, when the subscription has none).
	DeadLetter
)

func (o Outcome) String() string {
	switch o {
	case Ack:
		return "ack"
	case Retry:
		return "retry"
	case DeadLetter:
		return "dead-letter"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// permanent lists the status codes that no retry can fix.
var permanent = map[int]bool{
	http.StatusBadRequest:            true,
	http.StatusForbidden:             true,
	http.StatusRequestEntityTooLarge: true,
	http.StatusUnsupportedMediaType:  true,
	http.StatusUnprocessableEntity:   true,
}

// Classify maps one delivery's answer to an outcome. err is a transport error
// (timeout, refused connection); status is the HTTP status otherwise. The
// response body is never consulted: a reply such as {"status":"shipped"} is
// an event, not a Dapr status.
func Classify(status int, err error) Outcome {
	switch {
	case err != nil:
		var perm *PermanentError
		if errors.As(err, &perm) {
			return DeadLetter
		}
		return Retry
	case status >= 200 && status < 300:
		return Ack
	case permanent[status]:
		return DeadLetter
	}
	// 404, 408, 409, 429, 5xx and anything unexpected: try again.
	return Retry
}

// PermanentError marks a failure that happens before delivery and that no
// retry can fix, such as a message that is not a CloudEvent.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

func permanentf(format string, args ...any) error {
	return &PermanentError{Err: fmt.Errorf(format, args...)}
}
