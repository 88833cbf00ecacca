package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/webhook"
	"github.com/granter/runbook/internal/notify"
)

func TestSendReachesTheChannel(t *testing.T) {
	sink := webhook.StartT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := notify.New(sink.URL(), "#granter-deploy", 5*time.Second)
	require.NoError(t, c.Send(ctx, "Starting production deployment at 14:15"))
	m, err := sink.WaitFor(ctx, "Starting production deployment")
	require.NoError(t, err)
	assert.Equal(t, "#granter-deploy", m.Channel)
}

func TestFailureNamesChannelAndStatusNotURL(t *testing.T) {
	sink := webhook.StartT(t)
	sink.SetFailing(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := notify.New(sink.URL(), "#granter-deploy", 5*time.Second).Send(ctx, "ROLLBACK IN PROGRESS")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "#granter-deploy")
	assert.Contains(t, err.Error(), "500")
	assert.NotContains(t, err.Error(), sink.URL())

	require.NoError(t, sink.Close())
	err = notify.New(sink.URL(), "#granter-deploy", 2*time.Second).Send(ctx, "x")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no answer")
	assert.NotContains(t, err.Error(), sink.URL(), "the webhook URL is a secret")
}
