package journal

// RollbackCommand is the exact command that rolls back the deployment
// recorded in the run folder runDir on env: a rollback undoes one named
// deployment run, so every line that tells a person to roll back names
// it (RUN=). confirm is the target's confirmation word ("" for none).
func RollbackCommand(env, confirm, runDir string) string {
	cmd := "make rollback ENV=" + env
	if confirm != "" {
		cmd += " CONFIRM=" + confirm
	}
	if runDir == "" {
		runDir = "runs/<timestamp>-" + env
	}
	return cmd + " RUN=" + runDir
}
