#!/usr/bin/env bash
# `make test`: every package's tests against the local platform, once each
# (-count=1: a cached pass is not a check), with JUnit XML and go test -json
# in runs/test-<time>/, then proof that no container outlived the tests.
# -p 1: one package at a time, so latency budgets (p95 < 200ms) measure the
# platform, not a neighbouring package starting its own.
set -uo pipefail
out=${RUN_DIR:-runs/test-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
export TESTCONTAINERS_RYUK_DISABLED=${TESTCONTAINERS_RYUK_DISABLED:-true}
export TESTCONTAINERS_HOST_OVERRIDE=${TESTCONTAINERS_HOST_OVERRIDE:-127.0.0.1}
start=$(date +%s)
go tool gotestsum --format testname --junitfile "$out/junit.xml" --jsonfile "$out/go-test.json" \
  -- -count=1 -p 1 -timeout 30m ${GOTESTFLAGS:-} ./...
rc=$?
echo "make test: go test exited $rc after $(( $(date +%s) - start ))s; results in $out"
# The fixed sample of mutants (make mutation QUICK=1): each must still be
# killed by the smoke gate and the postdeploy checks.
mstart=$(date +%s)
go run ./cmd/mutation -quick 2>&1 | tee "$out/mutation-quick.log"
mrc=${PIPESTATUS[0]}
echo "make test: make mutation QUICK=1 exited $mrc after $(( $(date +%s) - mstart ))s"
[ $rc -ne 0 ] || rc=$mrc
left=$(docker ps -aq --filter label=org.testcontainers=true | wc -l)
if [ "$left" -gt 0 ]; then
  echo "FAIL: $left testcontainers container(s) outlived the tests:"
  docker ps -a --filter label=org.testcontainers=true --format '  {{.ID}} {{.Image}} {{.Status}} {{.Names}}'
  echo "remove them with: make clean-containers"
  [ $rc -ne 0 ] || rc=1
fi
exit $rc
