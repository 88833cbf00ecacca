#!/usr/bin/env bash
# check-static.sh BIN...: fails unless every binary is statically linked
# (no program interpreter, no shared library): it runs on a bare deploy
# host or in a scratch image. `make build` runs it.
set -euo pipefail
rc=0
for b in "$@"; do
	what=$(file -b "$b" 2>/dev/null || true)
	if [[ -n $what && $what != *"statically linked"* ]]; then
		echo "FAIL: $b is not statically linked: file says: $what" >&2
		rc=1
		continue
	fi
	if ldd "$b" >/dev/null 2>&1; then
		echo "FAIL: $b is dynamically linked: ldd lists $(ldd "$b" | tr '\n' ' ')" >&2
		rc=1
		continue
	fi
	echo "static: $b (${what:-file(1) not installed; ldd: not a dynamic executable})"
done
exit $rc
