//go:build !staging && !prod

package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/deploy"
	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/internal/kube"
)

// Step 1.4 gives a drained service's sessions thresholds.drainGrace to
// end, as it does busy ones: the server ends a backend only once it sees
// its client's socket closed, moments after the pod is gone (make rehearse
// failed once in four runs on 4 idle backend-core sessions read right after
// the drain). A session that outlives the grace still stops the sequence,
// named with its pid and application.
func TestDrainedSessionsGetTheGrace(t *testing.T) {
	t.Cleanup(func() { reset(t) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, kube.ScaleAndWait(ctx, env.Cluster.Clientset, env.Namespace, deploy.Drained[0], 0))

	t.Run("ends within the grace", func(t *testing.T) {
		conn := drainedSession(t, ctx)
		out := &onLine{want: "waiting up to", do: func() { _ = conn.Close(context.Background()) }}
		oc := runSessionsStep(t, ctx, 30*time.Second, out)
		require.Nil(t, oc.Failed, "Step 1.4 with a drained session that ended within the grace:\n%s", out)
		assert.Contains(t, out.String(), "1 sessions of the drained "+deploy.Drained[0]+" still on")
		assert.Contains(t, out.String(), "those sessions ended")
	})

	t.Run("outlives the grace", func(t *testing.T) {
		conn := drainedSession(t, ctx)
		pid := conn.PgConn().PID()
		grace := 2 * time.Second
		start := time.Now()
		out := &onLine{}
		oc := runSessionsStep(t, ctx, grace, out)
		require.NotNil(t, oc.Failed, "Step 1.4 must fail on a drained session still open after the grace:\n%s", out)
		assert.GreaterOrEqual(t, time.Since(start), grace, "it fails only once the grace is over")
		msg := oc.Failed.Err.Error()
		for _, want := range []string{"1 sessions of the drained " + deploy.Drained[0] + " still on", fmt.Sprintf("pid %d %s", pid, deploy.Drained[0]), "expected none"} {
			assert.Contains(t, msg, want)
		}
	})
}

// drainedSession opens a session on the platform's database that Step 1.4
// takes for the drained service's (its application_name).
func drainedSession(t *testing.T, ctx context.Context) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(tgt.Database.URL.Reveal())
	require.NoError(t, err)
	cfg.RuntimeParams["application_name"] = deploy.Drained[0]
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// runSessionsStep runs Step 1.4 alone with the given grace.
func runSessionsStep(t *testing.T, ctx context.Context, grace time.Duration, out *onLine) *deploy.Outcome {
	t.Helper()
	tg := *tgt
	tg.Thresholds.DrainGrace = grace
	oc := deploy.Run(ctx, &tg, granter.V2, deploy.Select(deploy.Phase1(&tg, granter.V2), "1.4"), deploy.Options{Out: out})
	oc.WriteSummary(out, "")
	t.Log("\n" + out.String())
	return oc
}

// onLine is the run's output; do runs once, when want is first written.
type onLine struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	do   func()
	done bool
}

func (w *onLine) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if w.do != nil && !w.done && strings.Contains(w.buf.String(), w.want) {
		w.done = true
		w.do()
	}
	return n, err
}

func (w *onLine) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
