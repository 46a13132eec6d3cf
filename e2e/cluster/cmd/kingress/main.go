// Command kingress runs the kingress TEST FIXTURE (package kingress): the
// ingress controller and its two gateways, for the local cluster test only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/rest"
	clientset "knative.dev/networking/pkg/client/clientset/versioned"

	"github.com/funcd/funcd/e2e/cluster/kingress"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "kingress:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	var (
		class   = flag.String("class", "kingress.fixture.funcd.dev", "the networking.knative.dev/ingress.class to serve")
		public  = flag.String("public-address", ":8080", "listen address of the public gateway (ExternalIP rules)")
		private = flag.String("private-address", ":8081", "listen address of the private gateway (every rule)")
		pubSvc  = flag.String("public-service", "kingress-public.kingress-fixture.svc.cluster.local", "the public gateway's Service (load balancer in Ingress status)")
		privSvc = flag.String("private-service", "kingress-private.kingress-fixture.svc.cluster.local", "the private gateway's Service")
	)
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return err
	}
	client, err := clientset.NewForConfig(cfg)
	if err != nil {
		return err
	}
	pub, priv := kingress.NewProxy(true, nil, log), kingress.NewProxy(false, nil, log)
	c := &kingress.Controller{
		Client: client, Class: *class, Public: *pubSvc, Private: *privSvc,
		Gateways: []*kingress.Proxy{pub, priv}, Log: log, Resync: 10 * time.Minute,
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.Run(ctx) })
	for addr, h := range map[string]http.Handler{*public: pub, *private: priv} {
		srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
		g.Go(func() error {
			if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		g.Go(func() error {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		})
	}
	log.Info("kingress test fixture serving", "class", *class, "public", *public, "private", *private)
	return g.Wait()
}
