package rollback

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/target"
)

// Steps 2-4 run with a deadline (a hung pg_restore or API call must not
// hang the rollback); the waits of Steps 5-6 keep their own.
func TestStepDeadlines(t *testing.T) {
	j, err := journal.Open(t.TempDir(), "run", "test", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	tgt := &target.Target{Thresholds: target.Thresholds{RolloutTimeout: 5 * time.Minute}}
	r := &runner{tgt: tgt, j: j, out: io.Discard}
	for _, tc := range []struct {
		name string
		want time.Duration
	}{
		{"scale-down", KubeCallTimeout + 5*time.Minute},
		{"restore", RestoreTimeout},
		{"set-image", KubeCallTimeout},
		{"rollout", 0},
		{"smoke", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got time.Duration
			err := r.step(context.Background(), PlannedStep{N: 1, Name: tc.name, Title: tc.name}, func(ctx context.Context) ([]map[string]string, error) {
				if d, ok := ctx.Deadline(); ok {
					got = time.Until(d)
				}
				return nil, nil
			})
			require.NoError(t, err)
			if tc.want == 0 {
				assert.Zero(t, got, "no deadline expected")
				return
			}
			assert.InDelta(t, tc.want.Seconds(), got.Seconds(), 5, "deadline of %s", tc.name)
		})
	}
}
