package cluster

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// TestJaegerConfig runs the Jaeger v1.76.0 that tools/build.sh built with
// the configuration deploy/tracing/jaeger.yaml gives it (its listeners moved
// to free loopback ports): it starts, reports healthy where the probes ask,
// takes a span over OTLP/HTTP and answers it on the query API the cluster
// test reads, in the form parseTrace reads. Jaeger is $JAEGER or the tools
// cache's (make test builds it); a missing one fails the test, as in e2e,
// and only -short skips it.
func TestJaegerConfig(t *testing.T) {
	bin := os.Getenv("JAEGER")
	if bin == "" {
		out, err := exec.Command("bash", "../../tools/build.sh", "--dir", "jaeger").Output()
		if err != nil {
			t.Fatalf("tools/build.sh --dir jaeger: %v", err)
		}
		bin = filepath.Join(strings.TrimSpace(string(out)), "jaeger")
	}
	if _, err := os.Stat(bin); err != nil {
		if testing.Short() {
			t.Skipf("-short: no Jaeger (%v)", err)
		}
		t.Fatalf("no Jaeger: %v. Build it with: tools/build.sh jaeger (or set $JAEGER)", err)
	}
	data, err := os.ReadFile("../../deploy/tracing/jaeger.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(bytes.SplitN(data, []byte("\n---\n"), 2)[0], &cm); err != nil || cm.Data["config.yaml"] == "" {
		t.Fatalf("deploy/tracing/jaeger.yaml: no ConfigMap with config.yaml first (%v)", err)
	}
	ports := map[string]string{}
	cfg := regexp.MustCompile(`0\.0\.0\.0:(\d+)`).ReplaceAllStringFunc(cm.Data["config.yaml"], func(m string) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports[strings.TrimPrefix(m, "0.0.0.0:")] = l.Addr().String()
		return l.Addr().String()
	})
	for _, p := range []string{"4318", "16686", "13133"} {
		if ports[p] == "" {
			t.Fatalf("the configuration does not listen on 0.0.0.0:%s", p)
		}
	}
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--config", file)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("jaeger's log:\n%s", logs.String())
		}
	}()

	get := func(url string) (int, []byte) {
		resp, err := http.Get(url)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _ := get("http://" + ports["13133"] + "/status"); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("jaeger not healthy on the readiness probe's /status after 30s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// A consumer span both child of and linked to its producer's, as the
	// binding's process span is: api/v3 keeps the parent and the link.
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	now := time.Now().UnixNano()
	body := fmt.Sprintf(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},`+
		`"scopeSpans":[{"spans":[{"traceId":%[1]q,"spanId":"00f067aa0ba902b7","name":"/dapr.proto.runtime.v1.Dapr/PublishEvent","kind":3,`+
		`"startTimeUnixNano":"%[2]d","endTimeUnixNano":"%[3]d"},`+
		`{"traceId":%[1]q,"spanId":"00f067aa0ba902b8","parentSpanId":"00f067aa0ba902b7","name":"process orders","kind":5,`+
		`"startTimeUnixNano":"%[3]d","endTimeUnixNano":"%[4]d","links":[{"traceId":%[1]q,"spanId":"00f067aa0ba902b7"}]}]}]}]}`,
		id, now, now+int64(time.Millisecond), now+int64(2*time.Millisecond))
	resp, err := http.Post("http://"+ports["4318"]+"/v1/traces", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("OTLP/HTTP export: %s", resp.Status)
	}
	for {
		_, b := get("http://" + ports["16686"] + "/api/v3/traces/" + id)
		spans, err := parseTrace(b, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(spans) == 2 {
			if s := spans[0]; s.Service != "checkout" || s.Name != "/dapr.proto.runtime.v1.Dapr/PublishEvent" || s.Duration != time.Millisecond {
				t.Errorf("read back %+v", s)
			}
			if s := spans[1]; s.Parent != "00f067aa0ba902b7" || !slices.Equal(s.Links, []string{"00f067aa0ba902b7"}) {
				t.Errorf("process span read back with parent %q and links %v, want both the publish", s.Parent, s.Links)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the spans were not on the query API after 30s: %s", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
