package function

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"reflect"
	"strconv"
	"strings"
	"unicode"

	"github.com/cloudevents/sdk-go/v2/event"
)

// errInvalidOrder marks an event that will never be processed as sent: it
// is answered 400 so that no one retries it.
var errInvalidOrder = errors.New("invalid order")

// DefaultStatus is the status of an order that arrives without one.
const DefaultStatus = "Pending"

// Order is the order checkout publishes to the orders topic.
type Order struct {
	OrderID      int     `json:"orderId"`
	CustomerName string  `json:"customerName"`
	Amount       float64 `json:"amount"`
	Status       string  `json:"status"`
}

// String is the seed subscriber's log line, amount printed like Python's
// str(float): 10 -> 10.0, 12.5 -> 12.5. It is always one line: text with
// control characters is quoted, so a customer name cannot forge log lines.
func (o Order) String() string {
	amount := strconv.FormatFloat(o.Amount, 'f', -1, 64)
	if !strings.Contains(amount, ".") {
		amount += ".0"
	}
	return fmt.Sprintf("Subscriber received: orderId=%d, customerName=%s, amount=%s, status=%s",
		o.OrderID, oneLine(o.CustomerName), amount, oneLine(o.Status))
}

// oneLine returns s, quoted if it holds control characters such as newlines.
func oneLine(s string) string {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return strconv.Quote(s)
	}
	return s
}

// wireOrder is Order as sent, telling a missing orderId from a zero one.
type wireOrder struct {
	OrderID      *int    `json:"orderId"`
	CustomerName string  `json:"customerName"`
	Amount       float64 `json:"amount"`
	Status       string  `json:"status"`
}

// decodeOrder returns the order carried by e, or an error wrapping
// errInvalidOrder that says what is wrong.
func decodeOrder(e event.Event) (Order, error) {
	if err := checkContentType(e.DataContentType()); err != nil {
		return Order{}, err
	}
	return parseOrder(e.Data())
}

// checkContentType accepts JSON types and the types Dapr uses to wrap a
// payload published without one: text/plain (data is a JSON string holding
// the order, which the CloudEvents SDK unquotes) and application/octet-stream
// (data_base64). The data must be a JSON order in every case.
func checkContentType(contentType string) error {
	if contentType == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil {
		switch {
		case mt == "application/json", mt == "text/json", strings.HasSuffix(mt, "+json"),
			mt == "text/plain", mt == "application/octet-stream":
			return nil
		}
	}
	return fmt.Errorf("%w: data content type %q is not JSON; publish the order as application/json",
		errInvalidOrder, contentType)
}

// parseOrder decodes and validates an order, defaulting its status.
func parseOrder(data []byte) (Order, error) {
	if len(data) == 0 {
		return Order{}, fmt.Errorf("%w: event has no data", errInvalidOrder)
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
