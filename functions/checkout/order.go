package function

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"reflect"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
)

// errInvalidOrder marks a request that will never succeed as sent: the
// caller must fix it, so it is answered 400 and not retried.
var errInvalidOrder = errors.New("invalid order")

// DefaultStatus is the status given to an order that arrives without one.
const DefaultStatus = "Pending"

// Order is the order checkout accepts, publishes and replies with.
type Order struct {
	OrderID      int     `json:"orderId"`
	CustomerName string  `json:"customerName"`
	Amount       float64 `json:"amount"`
	Status       string  `json:"status"`
}

// wireOrder is Order as sent, telling a missing orderId from a zero one.
type wireOrder struct {
	OrderID      *int    `json:"orderId"`
	CustomerName string  `json:"customerName"`
	Amount       float64 `json:"amount"`
	Status       string  `json:"status"`
}

// decodeOrder returns the order carried by e, or an error wrapping
// errInvalidOrder that says what to fix.
func decodeOrder(e event.Event) (Order, error) {
	if err := checkJSON(e.DataContentType()); err != nil {
		return Order{}, err
	}
	return parseOrder(e.Data())
}

// checkJSON accepts an absent content type, application/json, text/json and
// any +json type.
func checkJSON(contentType string) error {
	if contentType == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil && (mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return fmt.Errorf("%w: data content type %q is not JSON; send the order as application/json",
		errInvalidOrder, contentType)
}

// parseOrder decodes and validates an order, defaulting its status.
func parseOrder(data []byte) (Order, error) {
	if len(data) == 0 {
		return Order{}, fmt.Errorf("%w: event has no data; send the order as JSON", errInvalidOrder)
	}
	if !json.Valid(data) {
		return Order{}, fmt.Errorf("%w: data is not valid JSON", errInvalidOrder)
	}
	var w wireOrder
	if err := json.Unmarshal(data, &w); err != nil {
		return Order{}, fmt.Errorf("%w: %s", errInvalidOrder, describe(err))
	}
	return w.validate()
}

// describe turns a JSON type mismatch into a sentence about the order's
// fields rather than about Go types.
func describe(err error) string {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err.Error()
	}
	if te.Field == "" {
		return "data must be a JSON object, got " + te.Value
	}
	want := "string"
	switch te.Type.Kind() {
	case reflect.Int, reflect.Int64:
		want = "integer"
	case reflect.Float64:
		want = "number"
	}
	return fmt.Sprintf("%s must be a JSON %s, got %s", te.Field, want, te.Value)
}

func (w wireOrder) validate() (Order, error) {
	switch {
	case w.OrderID == nil:
		return Order{}, fmt.Errorf("%w: orderId is missing", errInvalidOrder)
	case *w.OrderID <= 0:
		return Order{}, fmt.Errorf("%w: orderId must be greater than 0, got %d", errInvalidOrder, *w.OrderID)
	case w.Amount < 0:
		return Order{}, fmt.Errorf("%w: amount must not be negative, got %v", errInvalidOrder, w.Amount)
	}
	o := Order{OrderID: *w.OrderID, CustomerName: w.CustomerName, Amount: w.Amount, Status: w.Status}
	if o.Status == "" {
		o.Status = DefaultStatus
	}
	return o, nil
}
