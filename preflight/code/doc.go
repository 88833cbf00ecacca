// Package code is checklist item 4 of the PRE-DEPLOYMENT CHECKLIST:
//
//	[ ] 4. Final Code Verification
//	      - Latest code pulled
//	      - All tests passing
//	      - No uncommitted changes
//	      - Version tag ready
//
// Latest code pulled: after `git fetch <remote>`, HEAD of the checkout
// (code.repo) is exactly <remote>/<branch>, neither ahead nor behind.
//
// All tests passing: the test status of HEAD, read from ci.statusFile or
// printed by ci.statusCommand as {"commit": "<sha>", "status": "..."}, is
// for HEAD and is passing (or success).
//
// No uncommitted changes: `git status --porcelain` lists nothing: no
// modified, staged or untracked file.
//
// Version tag ready: the tag VERSION (RUNBOOK_VERSION, `make ...
// VERSION=v2.0.0`) exists, points at HEAD, is on the remote at the same
// commit, and code.versionFile (package.json's "version") declares it.
//
// It needs git on the PATH, read access to the remote without a prompt (a
// fetch that would ask for a password fails instead), and code.*, ci.*.
// When it fails, the message names the commits, the files or the tag; the
// fix is the git command it suggests.
package code
