package function

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	defaults := Config{PubsubName: "orderpubsub", Topic: "orders", GRPCPort: 50001, LogFormat: "text"}
	tests := []struct {
		name     string
		env      map[string]string
		want     Config
		wantAddr string
	}{
		{"defaults", nil, defaults, "127.0.0.1:50001"},
		{"pubsub and topic", map[string]string{"PUBSUB_NAME": "ps", "TOPIC": "t"},
			Config{PubsubName: "ps", Topic: "t", GRPCPort: 50001, LogFormat: "text"}, "127.0.0.1:50001"},
		{"grpc port", map[string]string{"DAPR_GRPC_PORT": "50007"},
			Config{PubsubName: "orderpubsub", Topic: "orders", GRPCPort: 50007, LogFormat: "text"}, "127.0.0.1:50007"},
		{"endpoint wins over port", map[string]string{"DAPR_GRPC_ENDPOINT": "dapr:443", "DAPR_GRPC_PORT": "50007"},
			Config{PubsubName: "orderpubsub", Topic: "orders", GRPCEndpoint: "dapr:443", GRPCPort: 50007, LogFormat: "text"},
			"dapr:443"},
		{"json logs", map[string]string{"LOG_FORMAT": "json"},
			Config{PubsubName: "orderpubsub", Topic: "orders", GRPCPort: 50001, LogFormat: "json"}, "127.0.0.1:50001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setenv(t, tt.env)
			got, err := loadConfig()
			if err != nil {
				t.Fatalf("loadConfig: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if addr := got.DaprAddress(); addr != tt.wantAddr {
				t.Errorf("DaprAddress: got %q, want %q", addr, tt.wantAddr)
			}
		})
	}
}

func TestLoadConfigRejects(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"empty pubsub", map[string]string{"PUBSUB_NAME": ""}, "PUBSUB_NAME must not be empty"},
		{"empty topic", map[string]string{"TOPIC": ""}, "TOPIC must not be empty"},
		{"port out of range", map[string]string{"DAPR_GRPC_PORT": "70000"}, "DAPR_GRPC_PORT must be 1-65535"},
		{"port not a number", map[string]string{"DAPR_GRPC_PORT": "grpc"}, "DAPR_GRPC_PORT"},
		{"log format", map[string]string{"LOG_FORMAT": "xml"}, `LOG_FORMAT must be text or json, got "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setenv(t, tt.env)
			_, err := loadConfig()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	err := Config{GRPCPort: 0}.Validate()
	for _, want := range []string{"PUBSUB_NAME", "TOPIC", "DAPR_GRPC_PORT", "LOG_FORMAT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to mention %s", err, want)
		}
	}
}

// setenv clears checkout's variables, then sets env for the test.
func setenv(t *testing.T, env map[string]string) {
	t.Helper()
	unsetenv(t, "PUBSUB_NAME", "TOPIC", "DAPR_GRPC_ENDPOINT", "DAPR_GRPC_PORT", "LOG_FORMAT")
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// unsetenv removes keys for the duration of the test.
func unsetenv(t *testing.T, keys ...string) {
	t.Helper()
	for _, k := range keys {
		t.Setenv(k, "") // restores the old value at cleanup
		if err := os.Unsetenv(k); err != nil {
			t.Fatal(err)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
