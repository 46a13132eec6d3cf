package resources

import (
	"strings"
	"testing"
	"time"
)

func TestRedelivery(t *testing.T) {
	tests := []struct {
		name      string
		typ       string
		meta      map[string]string
		want      time.Duration
		wantKnown bool
		wantErr   string
	}{
		{name: "redis default", typ: "pubsub.redis", want: 60 * time.Second, wantKnown: true},
		{name: "redis duration", typ: "pubsub.redis", meta: map[string]string{"processingTimeout": "2m"}, want: 2 * time.Minute, wantKnown: true},
		{name: "redis milliseconds", typ: "pubsub.redis", meta: map[string]string{"processingTimeout": "3000"}, want: 3 * time.Second, wantKnown: true},
		{name: "redis processingTimeout 0 is off", typ: "pubsub.redis", meta: map[string]string{"processingTimeout": "0"}, want: 0, wantKnown: true},
		{name: "redis redeliverInterval 0 is off", typ: "pubsub.redis", meta: map[string]string{"redeliverInterval": "0"}, want: 0, wantKnown: true},
		{name: "redis redeliverInterval 0s is ignored", typ: "pubsub.redis", meta: map[string]string{"redeliverInterval": "0s"}, want: 60 * time.Second, wantKnown: true},
		{name: "redis bad", typ: "pubsub.redis", meta: map[string]string{"processingTimeout": "soon"}, wantKnown: true, wantErr: "processingTimeout"},
		{name: "jetstream default", typ: "pubsub.jetstream", want: 30 * time.Second, wantKnown: true},
		{name: "jetstream ackWait", typ: "pubsub.jetstream", meta: map[string]string{"ackWait": "3s"}, want: 3 * time.Second, wantKnown: true},
		{name: "jetstream ackWait milliseconds", typ: "pubsub.jetstream", meta: map[string]string{"ackWait": "1500"}, want: 1500 * time.Millisecond, wantKnown: true},
		{name: "jetstream bad", typ: "pubsub.jetstream", meta: map[string]string{"ackWait": "-1s"}, wantKnown: true, wantErr: "ackWait"},
		{name: "kafka", typ: "pubsub.kafka", meta: map[string]string{"sessionTimeout": "5s"}, want: 60 * time.Second, wantKnown: true},
		{name: "in-memory", typ: "pubsub.in-memory", want: 0, wantKnown: true},
		{name: "other type", typ: "pubsub.rabbitmq", wantKnown: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, known, err := Component{Name: "c", Type: tt.typ, Metadata: tt.meta}.Redelivery()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if known != tt.wantKnown || r.After != tt.want {
				t.Errorf("got %v (known %v), want %v (known %v)", r.After, known, tt.want, tt.wantKnown)
			}
			if known && r.Setting == "" {
				t.Error("got no Setting, want where the value comes from")
			}
		})
	}
}
