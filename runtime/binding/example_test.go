package binding_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/funcd/funcd/runtime/binding"
)

// Classify is the one place a function's answer gets its meaning.
func ExampleClassify() {
	fmt.Println(binding.Classify(http.StatusOK, nil))
	fmt.Println(binding.Classify(http.StatusUnprocessableEntity, nil))
	fmt.Println(binding.Classify(http.StatusNotFound, nil))
	fmt.Println(binding.Classify(0, errors.New("connection refused")))
	fmt.Println(binding.Classify(0, binding.ErrCircuitOpen))
	// Output:
	// ack
	// dead-letter
	// retry
	// retry
	// requeue
}
