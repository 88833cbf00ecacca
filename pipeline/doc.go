// Package pipeline checks the CI example, .github/workflows/deploy.yml, the
// runbook as CI gates: "if a gate fails after the platform changed, roll
// back". actionlint (make lint) checks that the workflow is well formed;
// these tests check that it does what the runbook says:
//
//   - the rollback job runs when the deploy or postdeploy job exits 4, 5 or
//     6 and when the watch exits 6, and on nothing else;
//   - each job that reads secrets runs in the GitHub environment of the
//     target and sees that environment's secrets only;
//   - every action is pinned by a full commit SHA with its release tag.
//
// When one fails, the message names the job, the exit code or the line.
package pipeline
