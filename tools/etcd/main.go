// Command etcd is etcd's own main (go.etcd.io/etcd/v3 main.go), which the
// module proxy does not serve: the server module's etcdmain.Main.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
