// Package access applies Dapr's pub/sub access rules to funcd's apps, the
// functions: a Component's scopes (the app IDs that load it) and its
// publishingScopes, subscriptionScopes, allowedTopics and protectedTopics
// metadata, read with daprd's own parser (github.com/dapr/dapr/pkg/scopes)
// and decided as daprd decides (pkg/runtime/pubsub.IsOperationAllowed).
//
// The local platform (package platform) applies it to each function's
// publish API and to the subscriptions it starts; on a cluster daprd
// applies the same rules itself, so the binding function does not use it.
package access
