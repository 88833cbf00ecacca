// Package progress says, during every long step of the runbook (Step 1.1's
// backup, the rollback's restore, the rollout waits of Phase 3 and the
// rollback, the four-hour watch), what is happening, how far it got and
// how long it has taken so far:
//
//	backup: dumping granter_db… started: 0.0 MB of ~40.0 MB
//	backup: dumping granter_db… 12.3 MB of ~40.0 MB (31%), 8s
//	backup: dumping granter_db… done: 39.8 MB, 14s
//
// A Progress prints at most one line every Every (DefaultEvery unless
// set): when the caller reports (Update, Add, or writing bytes through it as
// an io.Writer), and, between reports, from a ticker, so a step that is
// stuck still says how long it has been stuck. Done stops the ticker and
// prints the last line. Nothing sleeps: the ticker goroutine ends on Done.
//
// It writes to the writer it is given (the CLI's standard error) and
// returns the first write error from Done; pass redacted text only.
package progress
