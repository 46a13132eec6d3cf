package platform

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/funcd/funcd/runtime/gateway"
)

// newToken returns a random credential for one run.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Ports lists the ports funcd listens on and what a caller needs to use
// each, for funcd status.
func (p *Platform) Ports() []gateway.PortInfo {
	gw := "nothing but being on this machine (loopback): start with --api-token to require dapr-api-token for functions and publishing"
	if p.cfg.APIToken != "" {
		gw = "dapr-api-token (--api-token) to invoke functions and publish; GET / and /metrics are open"
	}
	ports := []gateway.PortInfo{{What: "gateway (functions, publish API, status)", Address: p.gwAddr, Protected: gw}}
	if p.grpcAddr != "" {
		grpcGW := "nothing but being on this machine (loopback): start with --api-token to require dapr-api-token"
		if p.cfg.APIToken != "" {
			grpcGW = "dapr-api-token (--api-token)"
		}
		ports = append(ports, gateway.PortInfo{What: "gateway publish API (gRPC, --grpc-port)", Address: p.grpcAddr, Protected: grpcGW})
	}
	fromFlag := "dapr-api-token (--api-token), given to the function as DAPR_API_TOKEN"
	if p.cfg.APIToken == "" {
		fromFlag = "dapr-api-token made for this run, given to the function only (DAPR_API_TOKEN)"
	}
	p.fnsMu.RLock()
	names := make([]string, 0, len(p.fns))
	for name := range p.fns {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f := p.fns[name]
		ports = append(ports,
			gateway.PortInfo{What: "publish API (gRPC) of " + name, Address: f.grpcAddr, Protected: fromFlag},
			gateway.PortInfo{What: "publish API (HTTP) of " + name, Address: f.httpAddr, Protected: fromFlag},
			gateway.PortInfo{What: "instances of " + name, Address: "127.0.0.1:<a free port each>",
				Protected: "nothing but being on this machine (loopback): functions check no credentials, as under Knative"})
	}
	p.fnsMu.RUnlock()
	appToken := "dapr-api-token made for this run, given to the app only (DAPR_API_TOKEN); GET /v1.0/healthz is open, as in daprd"
	if p.cfg.APIToken != "" {
		appToken = "dapr-api-token (--api-token), given to the app as DAPR_API_TOKEN; GET /v1.0/healthz is open, as in daprd"
	}
	for _, a := range p.Apps() {
		ports = append(ports,
			gateway.PortInfo{What: "Dapr API (gRPC) of app " + a.ID, Address: fmt.Sprintf("127.0.0.1:%d", a.GRPCPort), Protected: appToken},
			gateway.PortInfo{What: "Dapr API (HTTP) of app " + a.ID, Address: fmt.Sprintf("127.0.0.1:%d", a.HTTPPort), Protected: appToken})
	}
	if p.broker != nil {
		addr := p.broker.URL()
		if u, err := url.Parse(addr); err == nil {
			addr = u.Host
		}
		ports = append(ports, gateway.PortInfo{What: "embedded broker (NATS)", Address: addr,
			Protected: "token made for this run, known to funcd's components only"})
	}
	return ports
}

// Topics lists the embedded broker's topics and the bound on them; max is
// 0 without an embedded broker.
func (p *Platform) Topics() (topics []gateway.TopicInfo, max int) {
	if p.broker == nil {
		return nil, 0
	}
	ts, max := p.broker.Topics()
	for _, t := range ts {
		topics = append(topics, gateway.TopicInfo{Topic: t.Topic, Messages: t.Msgs, Bytes: t.Bytes,
			MaxAge: t.Limits.MaxAge.String(), MaxBytes: t.Limits.MaxBytes, MaxMsgs: t.Limits.MaxMsgs,
			DuplicateWindow: t.Limits.DuplicateWindow.String()})
	}
	slices.SortFunc(topics, func(a, b gateway.TopicInfo) int { return strings.Compare(a.Topic, b.Topic) })
	return topics, max
}
