// Command kfake is a TEST FIXTURE for the local cluster's Kafka swap: no
// Kafka broker can be had where that test runs, so franz-go's kfake (an
// in-memory broker that speaks the real Kafka protocol) stands in for
// apache/kafka in deploy/brokers/kafka.yaml. It reads the same environment
// as that image: KAFKA_ADVERTISED_LISTENERS (the PLAINTEXT one is what
// clients are told to connect to), KAFKA_NUM_PARTITIONS and
// KAFKA_AUTO_CREATE_TOPICS_ENABLE. It listens on every address at the
// advertised port. Never shipped; users run Kafka.
package main

import (
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	advertised, err := plaintext(os.Getenv("KAFKA_ADVERTISED_LISTENERS"))
	if err != nil {
		log.Fatalf("kfake: KAFKA_ADVERTISED_LISTENERS: %v", err)
	}
	_, port, _ := net.SplitHostPort(advertised)
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			ln, err := net.Listen(network, ":"+port)
			return advertise{ln, advertised}, err
		}),
	}
	if n, err := strconv.Atoi(os.Getenv("KAFKA_NUM_PARTITIONS")); err == nil && n > 0 {
		opts = append(opts, kfake.DefaultNumPartitions(n))
	}
	if os.Getenv("KAFKA_AUTO_CREATE_TOPICS_ENABLE") != "false" {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		log.Fatalf("kfake: %v", err)
	}
	log.Printf("kfake (test fixture): Kafka protocol on :%s, advertised as %s", port, advertised)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	c.Close()
}

// plaintext returns host:port of the PLAINTEXT listener in a Kafka
// listeners list ("PLAINTEXT://host:9092,CONTROLLER://:9093").
func plaintext(listeners string) (string, error) {
	for _, l := range strings.Split(listeners, ",") {
		if hp, ok := strings.CutPrefix(strings.TrimSpace(l), "PLAINTEXT://"); ok {
			if _, _, err := net.SplitHostPort(hp); err != nil {
				return "", err
			}
			return hp, nil
		}
	}
	return "", fmt.Errorf("no PLAINTEXT listener in %q", listeners)
}

// advertise is a listener whose address is the advertised one: kfake tells
// clients its listener's address.
type advertise struct {
	net.Listener
	addr string
}

func (a advertise) Addr() net.Addr { return addr(a.addr) }

type addr string

func (a addr) Network() string { return "tcp" }
func (a addr) String() string  { return string(a) }
