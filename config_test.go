package function

import (
	"strings"
	"testing"
)

func TestLoadConfigDefaults(t *testing.T) {
	c, err := loadConfig(map[string]string{})
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if got, want := c.DaprAddress(), "127.0.0.1:50001"; got != want {
		t.Errorf("DaprAddress: got %q, want %q", got, want)
	}
	if got, want := c.FunctionURL("order-processor"), "http://order-processor.default.svc.cluster.local"; got != want {
		t.Errorf("FunctionURL: got %q, want %q", got, want)
	}
	if c.ResourcesPath != "components" || c.PubsubName != "orderpubsub" || c.Topic != "" {
		t.Errorf("got %+v, want resources components, pubsub orderpubsub, no default topic", c)
	}
}

func TestLoadConfigFromEnvironment(t *testing.T) {
	t.Setenv("DAPR_GRPC_PORT", "40001")
	t.Setenv("NAMESPACE", "shop")
	t.Setenv("FUNCTION_URL_TEMPLATE", "http://{function}.{namespace}.example/")
	c, err := loadConfig(map[string]string{
		"FUNCTION_URL_ORDER_PROCESSOR": "http://127.0.0.1:9999/",
		"FUNCTION_URL_TEMPLATE":        "ignored as an override",
	})
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	tests := []struct{ name, fn, want string }{
		{name: "override", fn: "order-processor", want: "http://127.0.0.1:9999"},
		{name: "template", fn: "checkout", want: "http://checkout.shop.example"},
		{name: "no function named template", fn: "template", want: "http://template.shop.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.FunctionURL(tt.fn); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if got, want := c.DaprAddress(), "127.0.0.1:40001"; got != want {
		t.Errorf("DaprAddress: got %q, want %q", got, want)
	}
	t.Setenv("DAPR_GRPC_ENDPOINT", "daprd:50001")
	if c, _ = loadConfig(nil); c.DaprAddress() != "daprd:50001" {
		t.Errorf("DaprAddress with DAPR_GRPC_ENDPOINT: got %q", c.DaprAddress())
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name, key, value, want string
	}{
		{name: "port", key: "DAPR_GRPC_PORT", value: "0", want: "DAPR_GRPC_PORT"},
		{name: "template", key: "FUNCTION_URL_TEMPLATE", value: "http://fixed", want: "{function}"},
		{name: "log format", key: "LOG_FORMAT", value: "xml", want: "LOG_FORMAT"},
		{name: "log level", key: "LOG_LEVEL", value: "loud", want: "LOG_LEVEL"},
		{name: "pubsub", key: "PUBSUB_NAME", value: "", want: "PUBSUB_NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tt.key, tt.value)
			_, err := loadConfig(nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error naming %s", err, tt.want)
			}
		})
	}
}
