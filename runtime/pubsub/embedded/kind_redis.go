//go:build !funcd_noredis

package embedded

import "github.com/dapr/components-contrib/pubsub/redis"

// redisKind is pubsub.redis; see optional.
func redisKind() (kind, string) {
	return kind{open: redis.NewRedisStreams, consumerKey: "consumerID"}, ""
}
