package kingress

import (
	"math/rand/v2"
	"net"
	"sort"
	"strings"

	"knative.dev/networking/pkg/apis/networking/v1alpha1"
)

// Table is the routing table of a set of Ingresses: for each host, the
// paths of every rule that names it. A Table is immutable; Build makes a new
// one when the Ingresses change.
type Table struct {
	hosts map[string][]route
}

// route is one HTTPIngressPath of one rule.
type route struct {
	visibility    v1alpha1.IngressVisibility
	path          string
	rewriteHost   string
	headers       map[string]v1alpha1.HeaderMatch
	splits        []v1alpha1.IngressBackendSplit
	appendHeaders map[string]string
}

// Backend is where a request goes: the Service, the port, and the headers
// the Ingress asks to add (the path's, then the split's).
type Backend struct {
	Namespace, Service, Port string
	Headers                  map[string]string
	RewriteHost              string
}

// Build makes the Table of the given Ingresses. Paths are tried longest
// first, as Knative's ingresses match the most specific path.
func Build(ingresses []*v1alpha1.Ingress) *Table {
	t := &Table{hosts: map[string][]route{}}
	for _, ing := range ingresses {
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				r := route{
					visibility:    rule.Visibility,
					path:          p.Path,
					rewriteHost:   p.RewriteHost,
					headers:       p.Headers,
					splits:        p.Splits,
					appendHeaders: p.AppendHeaders,
				}
				for _, h := range rule.Hosts {
					t.hosts[strings.ToLower(h)] = append(t.hosts[strings.ToLower(h)], r)
				}
			}
		}
	}
	for h := range t.hosts {
		sort.SliceStable(t.hosts[h], func(i, j int) bool {
			return len(t.hosts[h][i].path) > len(t.hosts[h][j].path)
		})
	}
	return t
}

// Lookup finds the backend for a request to host and path with the given
// header getter. public limits the search to ExternalIP rules, as a public
// gateway serves only those; the private gateway serves every rule.
func (t *Table) Lookup(host, path string, header func(string) string, public bool) (Backend, bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	for _, r := range t.hosts[strings.ToLower(host)] {
		if public && r.visibility == v1alpha1.IngressVisibilityClusterLocal {
			continue
		}
		if !strings.HasPrefix(path, r.path) || !matches(r.headers, header) || len(r.splits) == 0 {
			continue
		}
		s := pick(r.splits)
		b := Backend{
			Namespace:   s.ServiceNamespace,
			Service:     s.ServiceName,
			Port:        s.ServicePort.String(),
			Headers:     map[string]string{},
			RewriteHost: r.rewriteHost,
		}
		for k, v := range r.appendHeaders {
			b.Headers[k] = v
		}
		for k, v := range s.AppendHeaders {
			b.Headers[k] = v
		}
		return b, true
	}
	return Backend{}, false
}

func matches(want map[string]v1alpha1.HeaderMatch, header func(string) string) bool {
	for k, m := range want {
		if header(k) != m.Exact {
			return false
		}
	}
	return true
}

// pick chooses a split by its percentage (splits without one share what the
// others leave).
func pick(splits []v1alpha1.IngressBackendSplit) v1alpha1.IngressBackendSplit {
	if len(splits) == 1 {
		return splits[0]
	}
	total := 0
	for _, s := range splits {
		total += s.Percent
	}
	if total == 0 {
		return splits[rand.IntN(len(splits))]
	}
	n := rand.IntN(total)
	for _, s := range splits {
		if n < s.Percent {
			return s
		}
		n -= s.Percent
	}
	return splits[len(splits)-1]
}
