package proc_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"testing"

	"github.com/granter/runbook/internal/proc"
)

// helperEnv makes the test binary a child process for the tests instead
// of running them: "notify" is a runbook waiting in NotifyContext,
// "report" a child that reports the signal it got.
const helperEnv = "PROC_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "notify":
		os.Exit(notifyHelper())
	case "report":
		os.Exit(reportHelper())
	}
	os.Exit(m.Run())
}

// notifyHelper says "ready" once NotifyContext catches the signals,
// prints the context's cause when it ends, then waits for standard input
// to close (the test sends more signals meanwhile).
func notifyHelper() int {
	ctx, stop := proc.NotifyContext(context.Background(), os.Stdout, "helper")
	defer stop()
	fmt.Println("ready")
	<-ctx.Done()
	fmt.Printf("cause: %v\n", context.Cause(ctx))
	_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
	fmt.Println("exiting")
	return 0
}

// reportHelper prints its pid once it catches the signals, then the name
// of the first it gets.
func reportHelper() int {
	c := make(chan os.Signal, 1)
	signal.Notify(c, proc.Signals...)
	fmt.Println(os.Getpid())
	fmt.Println("got " + proc.Name(<-c))
	return 0
}
