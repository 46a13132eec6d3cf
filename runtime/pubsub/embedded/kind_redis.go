//go:build !funcd_noredis

package embedded

import "github.com/dapr/components-contrib/pubsub/redis"

func init() {
	kinds["pubsub.redis"] = kind{open: redis.NewRedisStreams, consumerKey: "consumerID"}
}
