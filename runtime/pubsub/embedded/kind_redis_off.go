//go:build funcd_noredis

package embedded

func init() { omitted["pubsub.redis"] = "funcd_noredis" }
