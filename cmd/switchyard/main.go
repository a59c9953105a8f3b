// Command switchyard is the multi-tenant SIP switch: `switchyard` (or `switchyard serve`)
// runs it; `backup`, `restore` and `token` manage its data directory.
package main

import (
	"fmt"
	"os"
)

const usage = `usage: switchyard [serve] [flags]     run the switch (flags: switchyard serve -h)
       switchyard backup  [--data DIR] FILE   write a backup of the store to FILE
       switchyard restore [--data DIR] FILE   restore FILE into an empty data directory
       switchyard token   [--data DIR]        print a new operator token and store its hash
       switchyard bench   <scenario> [flags]  load-test a switch (switchyard bench -h)
       switchyard version`

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args)
	case "backup":
		err = backup(args)
	case "restore":
		err = restore(args)
	case "token":
		err = newToken(args)
	case "bench":
		err = runBench(args)
	case "version":
		fmt.Println("switchyard", version)
	case "help", "-h", "--help":
		fmt.Println(usage)
	default:
		err = fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "switchyard:", err)
		os.Exit(1)
	}
}
