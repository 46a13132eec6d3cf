package delivery_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/funcd/funcd/runtime/delivery"
)

// Classify is the one place a function's answer gets its meaning.
func ExampleClassify() {
	fmt.Println(delivery.Classify(http.StatusOK, nil))
	fmt.Println(delivery.Classify(http.StatusUnprocessableEntity, nil))
	fmt.Println(delivery.Classify(http.StatusNotFound, nil))
	fmt.Println(delivery.Classify(0, errors.New("connection refused")))
	fmt.Println(delivery.Classify(0, delivery.ErrCircuitOpen))
	// Output:
	// ack
	// dead-letter
	// retry
	// retry
	// requeue
}
