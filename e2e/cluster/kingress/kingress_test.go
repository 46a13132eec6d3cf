package kingress

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
	"knative.dev/networking/pkg/apis/networking/v1alpha1"
)

// ingress is what Knative's route controller makes for a Service "fn" in
// "default": a public rule and a cluster-local one, each to revision fn-1.
func ingress() *v1alpha1.Ingress {
	path := v1alpha1.HTTPIngressPath{
		Splits: []v1alpha1.IngressBackendSplit{{
			IngressBackend: v1alpha1.IngressBackend{ServiceNamespace: "default", ServiceName: "fn-1", ServicePort: intstr.FromInt(80)},
			Percent:        100,
			AppendHeaders:  map[string]string{"Knative-Serving-Revision": "fn-1", "Knative-Serving-Namespace": "default"},
		}},
	}
	return &v1alpha1.Ingress{Spec: v1alpha1.IngressSpec{Rules: []v1alpha1.IngressRule{
		{Hosts: []string{"fn.default.example.com"}, Visibility: v1alpha1.IngressVisibilityExternalIP,
			HTTP: &v1alpha1.HTTPIngressRuleValue{Paths: []v1alpha1.HTTPIngressPath{path}}},
		{Hosts: []string{"fn.default", "fn.default.svc", "fn.default.svc.cluster.local"}, Visibility: v1alpha1.IngressVisibilityClusterLocal,
			HTTP: &v1alpha1.HTTPIngressRuleValue{Paths: []v1alpha1.HTTPIngressPath{path}}},
	}}}
}

func TestLookup(t *testing.T) {
	table := Build([]*v1alpha1.Ingress{ingress()})
	none := func(string) string { return "" }
	for _, tc := range []struct {
		name   string
		host   string
		public bool
		found  bool
	}{
		{"public host on the public gateway", "fn.default.example.com", true, true},
		{"public host with a port", "fn.default.example.com:80", true, true},
		{"host is case-insensitive", "FN.default.example.com", true, true},
		{"cluster-local host on the public gateway", "fn.default.svc.cluster.local", true, false},
		{"cluster-local host on the private gateway", "fn.default.svc.cluster.local", false, true},
		{"public host on the private gateway", "fn.default.example.com", false, true},
		{"unknown host", "other.default.example.com", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, ok := table.Lookup(tc.host, "/", none, tc.public)
			if ok != tc.found {
				t.Fatalf("found = %v, want %v", ok, tc.found)
			}
			if ok && (b.Service != "fn-1" || b.Namespace != "default" || b.Port != "80" || b.Headers["Knative-Serving-Revision"] != "fn-1") {
				t.Errorf("got %+v, want fn-1.default:80 with the revision header", b)
			}
		})
	}
}

func TestLookupHeadersAndSplits(t *testing.T) {
	ing := ingress()
	p := &ing.Spec.Rules[0].HTTP.Paths[0]
	p.Headers = map[string]v1alpha1.HeaderMatch{"K-Tag": {Exact: "blue"}}
	table := Build([]*v1alpha1.Ingress{ing})
	if _, ok := table.Lookup("fn.default.example.com", "/", func(string) string { return "green" }, true); ok {
		t.Error("a header that does not match routed")
	}
	if _, ok := table.Lookup("fn.default.example.com", "/", func(string) string { return "blue" }, true); !ok {
		t.Error("a matching header did not route")
	}

	split := func(name string, pct int) v1alpha1.IngressBackendSplit {
		return v1alpha1.IngressBackendSplit{IngressBackend: v1alpha1.IngressBackend{ServiceName: name}, Percent: pct}
	}
	counts := map[string]int{}
	for range 1000 {
		counts[pick([]v1alpha1.IngressBackendSplit{split("a", 90), split("b", 10), split("c", 0)}).ServiceName]++
	}
	if counts["c"] != 0 || counts["a"] < 800 || counts["b"] < 50 {
		t.Errorf("splits 90/10/0 picked %v", counts)
	}
}

func TestProxy(t *testing.T) {
	var got *http.Request
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		io.WriteString(w, "hello")
	}))
	defer backend.Close()
	u, _ := url.Parse(backend.URL)
	p := NewProxy(true, func(b Backend) string { return u.Host }, slog.New(slog.DiscardHandler))
	p.SetTable(Build([]*v1alpha1.Ingress{ingress()}))

	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "http://fn.default.example.com/path?q=1", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "hello" {
		t.Fatalf("got %d %q, want 200 hello", rec.Code, rec.Body)
	}
	if got.Host != "fn.default.example.com" || got.URL.Path != "/path" || got.URL.RawQuery != "q=1" {
		t.Errorf("backend got host %q path %q query %q", got.Host, got.URL.Path, got.URL.RawQuery)
	}
	if got.Header.Get("Knative-Serving-Revision") != "fn-1" || got.Header.Get("Knative-Serving-Namespace") != "default" {
		t.Errorf("backend got headers %v, want the split's", got.Header)
	}

	rec = httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "http://fn.default.svc.cluster.local/", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("cluster-local host on the public gateway: got %d, want 404", rec.Code)
	}
}
