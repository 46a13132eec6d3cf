//go:build funcd_noredis

package embedded

// redisKind: this build leaves pubsub.redis out; see optional.
func redisKind() (kind, string) { return kind{}, "funcd_noredis" }
