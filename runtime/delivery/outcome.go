package delivery

import (
	"errors"
	"fmt"
	"net/http"
)

// Outcome is what the binding does with a message after a delivery attempt.
type Outcome int

const (
	// Ack: the function accepted the event. A CloudEvent in its answer is
	// first published to the subscription's reply topic, when it has one;
	// then the message is acknowledged.
	Ack Outcome = iota
	// Retry: a transient failure; deliver again after a backoff. When the
	// retry budget is spent the message is dead-lettered, or handed back to
	// the broker when the subscription has no dead-letter topic.
	Retry
	// DeadLetter: a permanent failure; move the message to the dead-letter
	// topic (or drop it, logged, when the subscription has none).
	DeadLetter
	// Requeue: do not try now; hand the message back to the broker
	// unacknowledged so it delivers it again later (circuit breaker open,
	// binding stopping, unlimited retries handed back).
	Requeue
	// Drop: acknowledge without delivering again and without the dead-letter
	// topic, as daprd does when a Dapr app answers 404 (see ClassifyApp).
	Drop
)

func (o Outcome) String() string {
	switch o {
	case Ack:
		return "ack"
	case Retry:
		return "retry"
	case DeadLetter:
		return "dead-letter"
	case Requeue:
		return "requeue"
	case Drop:
		return "drop"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

var (
	// ErrStopping is returned to the broker for messages that arrive during
	// Stop; the broker delivers them again later.
	ErrStopping = errors.New("binding is stopping")
	// ErrCircuitOpen means a circuit breaker refused the attempt.
	ErrCircuitOpen = errors.New("circuit breaker is open")
)

// permanent lists the status codes that no retry can fix.
var permanent = map[int]bool{
	http.StatusBadRequest:            true,
	http.StatusForbidden:             true,
	http.StatusRequestEntityTooLarge: true,
	http.StatusUnsupportedMediaType:  true,
	http.StatusUnprocessableEntity:   true,
}

// Classify maps one delivery's answer to an outcome; it is the only place
// that gives status codes and errors a meaning. err is a transport error
// (timeout, refused connection), a PermanentError, or a refusal to try
// (ErrCircuitOpen, ErrStopping); status is the HTTP status otherwise. The
// response body is never consulted: a reply such as {"status":"shipped"} is
// an event, not a Dapr status.
func Classify(status int, err error) Outcome {
	switch {
	case err != nil:
		var perm *PermanentError
		switch {
		case errors.As(err, &perm):
			return DeadLetter
		case errors.Is(err, ErrCircuitOpen), errors.Is(err, ErrStopping):
			return Requeue
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

func Permanentf(format string, args ...any) error {
	return &PermanentError{Err: fmt.Errorf(format, args...)}
}
