package wait_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/wait"
)

func TestPollSucceedsWhenTheConditionHolds(t *testing.T) {
	n := 0
	err := wait.Poll(t.Context(), "the third look", time.Millisecond, time.Second, func(context.Context) (bool, string, error) {
		n++
		return n == 3, fmt.Sprintf("look %d", n), nil
	})
	require.NoError(t, err)
	require.Equal(t, 3, n)
}

func TestPollTimesOutNamingTheWaitAndTheLastSeen(t *testing.T) {
	n := 0
	err := wait.Poll(t.Context(), "deployment granter-api rollout", time.Millisecond, 30*time.Millisecond, func(context.Context) (bool, string, error) {
		n++
		return false, "2/3 updated replicas", nil
	})
	var te *wait.TimeoutError
	require.ErrorAs(t, err, &te)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, te.Early)
	require.Equal(t, "waiting for deployment granter-api rollout: timed out after 30ms; last seen: 2/3 updated replicas", err.Error())
}

func TestPollKeepsTheLastStateWhenTheDeadlineCutsALook(t *testing.T) {
	err := wait.Poll(t.Context(), "a slow answer", 5*time.Millisecond, 30*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		select {
		case <-ctx.Done():
			return false, "context deadline exceeded", nil
		case <-time.After(10 * time.Millisecond): // a slow look, not a wait
			return false, "status \"degraded\"", nil
		}
	})
	require.EqualError(t, err, `waiting for a slow answer: timed out after 30ms; last seen: status "degraded"`)
}

// A look that runs into the deadline may fail with the deadline's error
// before the context says it is done (Step 1.4's read of pg_stat_activity
// got "dial tcp ...: i/o timeout" in make test): the wait timed out, with
// the last state a whole look saw, and that error is not the answer.
func TestPollTimesOutWhenALookFailsAtTheDeadline(t *testing.T) {
	n := 0
	err := wait.Poll(t.Context(), "no session of backend-core", time.Millisecond, 30*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		n++
		if n == 1 {
			return false, "1 session of backend-core", nil
		}
		dl, _ := ctx.Deadline()
		<-time.After(time.Until(dl)) // a look as long as the time left, not a wait
		return false, "", errors.New("dial tcp 127.0.0.1:5432: i/o timeout")
	})
	require.EqualError(t, err, "waiting for no session of backend-core: timed out after 30ms; last seen: 1 session of backend-core")
}

func TestPollStopsAtOnceOnAnError(t *testing.T) {
	boom := errors.New("404: no such job")
	n := 0
	err := wait.Poll(t.Context(), "job 7", time.Millisecond, time.Second, func(context.Context) (bool, string, error) {
		n++
		return false, "", boom
	})
	require.Same(t, boom, err)
	require.Equal(t, 1, n)
}

func TestPollSaysWhenTheCallerStoppedIt(t *testing.T) {
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(errors.New("operator interrupt"))
	err := wait.Poll(ctx, "backend-core healthy", time.Millisecond, time.Minute, func(context.Context) (bool, string, error) {
		return false, "503", nil
	})
	var te *wait.TimeoutError
	require.ErrorAs(t, err, &te)
	require.True(t, te.Early)
	require.Contains(t, err.Error(), "waiting for backend-core healthy: stopped after")
	require.Contains(t, err.Error(), "of 1m0s: operator interrupt; last seen:")
}

func TestPollTakesTheCallersEarlierDeadlineAsItsLimit(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Millisecond)
	defer cancel()
	err := wait.Poll(ctx, "job 7 to finish", 5*time.Millisecond, time.Hour, func(context.Context) (bool, string, error) {
		return false, "running, 3 of 9 pages", nil
	})
	var te *wait.TimeoutError
	require.ErrorAs(t, err, &te)
	require.False(t, te.Early)
	require.Less(t, te.Timeout, time.Second)
	require.Contains(t, err.Error(), "waiting for job 7 to finish: timed out after ")
	require.Contains(t, err.Error(), "; last seen: running, 3 of 9 pages")
}
