package embedded

import "context"

// onEnd runs end, in a goroutine of its own, once ctx is done or the
// PubSub is closed.
func (p *PubSub) onEnd(ctx context.Context, end func()) {
	ctx, cancel := context.WithCancel(ctx)
	stopLife := context.AfterFunc(p.life, cancel)
	context.AfterFunc(ctx, func() {
		stopLife()
		cancel()
		end()
	})
}
