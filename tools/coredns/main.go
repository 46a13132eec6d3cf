// Command coredns is CoreDNS built with the plugins a Kubernetes cluster's
// Corefile uses (kubeadm's default Corefile), the way CoreDNS documents
// custom builds: coremain plus the plugin packages, instead of every plugin
// (core/plugin), whose cloud back ends are most of the build.
package main

import (
	"github.com/coredns/coredns/coremain"

	// The plugins of kubeadm's Corefile, plus log.
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

func main() {
	coremain.Run()
}
