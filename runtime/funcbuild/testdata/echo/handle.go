// Package function is a tiny CloudEvent function used by the tests of
// funcbuild and runner. It replies to every event with an "echo.reply"
// event carrying the same data, except to "echo.env" events, whose data
// names an environment variable: the reply carries its value.
package function

import (
	"context"
	"os"

	"github.com/cloudevents/sdk-go/v2/event"
)

// Handle answers e with a reply event.
func Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	r := event.New()
	r.SetID(e.ID())
	r.SetSource("function/echo")
	r.SetType("echo.reply")
	data := e.Data()
	if e.Type() == "echo.env" {
		data = []byte(os.Getenv(string(data)))
	}
	if err := r.SetData("text/plain", data); err != nil {
		return nil, err
	}
	return &r, nil
}
