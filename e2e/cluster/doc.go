// Package cluster is the cluster half of the end-to-end tests: deploy/ run
// as users run it, on a real single-node Kubernetes made on this machine from
// the real binaries (cluster.sh): kubelet on containerd + runc, the control
// plane and kube-proxy as processes in their own network namespace, CoreDNS,
// Knative Serving built from its module and installed from release files
// made from its config/, Dapr from its own Helm chart, Redis from Debian's
// binary, and the functions deployed with the real func CLI.
//
// Two parts are test fixtures, for what cannot be had here: kingress, a
// minimal Knative ingress (every real one runs Envoy), and cmd/kfake, franz-go's
// in-memory Kafka as the Kafka swap's broker. Neither is shipped.
//
//	make test-cluster        TestCluster (build tag "cluster"): up, deploy/setup.sh, the
//	                         scenario, down; prints a timeline
//	make cluster-up          the cluster alone (e2e/cluster/cluster.sh up|down|status|env|setup)
//
// Without the tag, go test here runs the fixtures' unit tests and checks
// the scripts; make test does that.
package cluster
