// Command checkpointd serves the MongoDB Cloud legacy backup checkpoints API
// over its own store. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/checkpointd/checkpointd/internal/clock"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	e := &env{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr, clock: clock.System}
	err := e.run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkpointd:", err)
		os.Exit(1)
	}
}
