package sidecar

import (
	"encoding/json"
	"net/http"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
)

// metadataJSON is the subset of daprd's GET /v1.0/metadata answer served here.
type metadataJSON struct {
	ID         string                              `json:"id,omitempty"`
	Components []*runtimev1pb.RegisteredComponents `json:"components,omitempty"`
}

func (s *Sidecar) handleMetadata(w http.ResponseWriter, _ *http.Request) {
	b, err := json.Marshal(metadataJSON{ID: s.appID, Components: s.registeredComponents()})
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, genericError(err))
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// registeredComponents lists the pub/sub components when Components is a
// Lister.
func (s *Sidecar) registeredComponents() []*runtimev1pb.RegisteredComponents {
	l, ok := s.comps.(Lister)
	if !ok {
		return nil
	}
	infos := l.ListPubSubs()
	out := make([]*runtimev1pb.RegisteredComponents, 0, len(infos))
	for _, c := range infos {
		out = append(out, &runtimev1pb.RegisteredComponents{Name: c.Name, Type: c.Type, Version: c.Version})
	}
	return out
}
