// Package kingress is a TEST FIXTURE, never shipped: a minimal
// implementation of Knative's KIngress (networking.internal.knative.dev
// Ingress) for the local cluster test (e2e/cluster). Every Knative ingress
// (Kourier, Contour, Istio) has Envoy as its data plane, and Envoy cannot be
// had where that test runs; this stands in for Kourier there, and only
// there. Users keep Kourier (deploy/setup.sh installs it).
//
// What it does is what Knative asks of an ingress: route each request by its
// Host (and path and headers) to the Ingress's splits by their percentages,
// add the headers the Ingress names (Knative-Serving-Revision and
// Knative-Serving-Namespace, which the activator reads), serve cluster-local
// rules only on the private gateway, and mark each Ingress ready with the two
// gateways' Services as its load balancers (the route controller points a
// cluster-local Service at the private one). It does no TLS, no HTTP/2 and no
// probing of its own gateways: they take the new table in the same process
// before the Ingress is marked ready.
package kingress
