package pgbackup

// WithLossyRestore restores the way the runbook used to, with
// `pg_restore --no-owner --no-privileges`: the verification must catch it.
func WithLossyRestore() Option {
	return func(o *options) { o.restoreArgs = []string{"--no-owner", "--no-privileges"} }
}

// SwitchPoints are the points of the switch, in order.
var SwitchPoints = []string{pointRefused, pointTerminated, pointRenamed, pointCommitted, pointAllowed}

// WithSwitchHook calls at after each point of the switch (pointRenamed:
// inside the renaming transaction, before its commit). at returns true to
// stop the switch dead there, as a SIGKILL would: nothing is repaired and
// the restored copy is left behind.
func WithSwitchHook(at func(point string) (kill bool)) Option {
	return func(o *options) { o.switchHook = at }
}
