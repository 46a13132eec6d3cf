package kingress

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// Proxy is one gateway: it routes each request by its Host to the backend
// the Table names, adding the headers the Ingress asks for. The public
// gateway serves only ExternalIP rules, the private one every rule (as
// Kourier's external and internal gateways do).
type Proxy struct {
	table   atomic.Pointer[Table]
	public  bool
	address func(Backend) string
	log     *slog.Logger
	rp      *httputil.ReverseProxy
}

// NewProxy returns a gateway with an empty table. address turns a backend
// into host:port; nil means the Service's cluster DNS name.
func NewProxy(public bool, address func(Backend) string, log *slog.Logger) *Proxy {
	if address == nil {
		address = func(b Backend) string {
			return fmt.Sprintf("%s.%s.svc.cluster.local:%s", b.Service, b.Namespace, b.Port)
		}
	}
	p := &Proxy{public: public, address: address, log: log}
	p.table.Store(Build(nil))
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(*httputil.ProxyRequest) {}, // ServeHTTP sets the target
		Transport: &http.Transport{
			Proxy:                 nil,
			MaxIdleConnsPerHost:   100,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: 0, // the activator holds requests while it scales from zero
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.log.Warn("backend failed", "host", r.Host, "backend", r.URL.Host, "err", err)
			http.Error(w, "kingress: backend: "+err.Error(), http.StatusBadGateway)
		},
	}
	return p
}

// SetTable replaces the routing table.
func (p *Proxy) SetTable(t *Table) { p.table.Store(t) }

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, ok := p.table.Load().Lookup(r.Host, r.URL.Path, r.Header.Get, p.public)
	if !ok {
		http.Error(w, fmt.Sprintf("kingress: no route for host %q path %q", r.Host, r.URL.Path), http.StatusNotFound)
		return
	}
	out := r.Clone(r.Context())
	out.URL = &url.URL{Scheme: "http", Host: p.address(b), Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	out.RequestURI = ""
	if b.RewriteHost != "" {
		out.Host = b.RewriteHost
	}
	for k, v := range b.Headers {
		out.Header.Set(k, v)
	}
	p.rp.ServeHTTP(w, out)
}
