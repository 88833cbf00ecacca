#!/usr/bin/env bash
# make rehearse: the runbook end to end through the tagged builds, as a team
# runs it, against the local platform presented as the remote environments
# staging and prod (fixtures/rehearsal, kept up by bin/rehearsal-platform).
#
# It only ever runs what a team runs: make deploy/rollback/preflight/monitor/
# report with ENV=staging|prod, bin/runbook-staging|prod, go test ./smoke
# -tags=prod; each reads its environment file through RUNBOOK_ENV_FILE and
# the secrets it names from the environment (secrets.env). Nothing here
# reaches the platform's insides: no endpoints file, no fault switch.
#
#   scripts/rehearse.sh            make rehearse
#   scripts/rehearse.sh --drill    make rehearse-drill: the broken v2.0.1 deployed to staging
#                                  with AUTO_ROLLBACK=1 (the runbook's "Rollback tested (on
#                                  staging)"), rolled back by itself and proven
#
# Exit 0 only when every step passed. On a failure: the step, the end of its
# output and the run folder. Every step's output is in <run>/steps/.
set -uo pipefail

DRILL=0
[[ ${1:-} == --drill ]] && DRILL=1
VERSION=${VERSION:-v2.0.0}
BROKEN=v2.0.1
# The drill's release is the broken one: the checkout is tagged with it and
# the roster and the confirmations are for it.
[[ $DRILL == 1 ]] && VERSION=$BROKEN
PREVIOUS=v1.9.0
WATCH=${REHEARSE_WATCH:-30s x2}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
NAME=$(date -u +%Y%m%d-%H%M%S)-rehearse$([[ $DRILL == 1 ]] && echo -drill)
R=$ROOT/runs/$NAME
P=$R/platform
mkdir -p "$R/steps"
BEGAN=$SECONDS
N=0
TIMES=()
PLATFORM_PID=
DRAIN_PID=

elapsed() { local s=$((SECONDS - BEGAN)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

stop_platform() {
	[[ -n $PLATFORM_PID ]] || return 0
	echo "── [$(elapsed)] stopping the platform (pid $PLATFORM_PID)"
	kill -TERM "$PLATFORM_PID" 2>/dev/null
	# The drain ends when the platform closes its output: it has exited.
	if [[ -n $DRAIN_PID ]]; then
		wait "$DRAIN_PID"
	else
		cat <&3 >>"$R/platform.log"
	fi
	tail -n 2 "$R/platform.log"
	PLATFORM_PID=
}
trap stop_platform EXIT
trap 'echo; echo "rehearse: interrupted"; exit 130' INT TERM

summary() {
	echo
	echo "══ make rehearse$([[ $DRILL == 1 ]] && echo -drill): step times ══"
	printf '  %s\n' "${TIMES[@]}"
	echo "  total $(elapsed); run folder $R"
}

fail() { # step name, log, what
	echo "❌ [$(elapsed)] step $N ($1) FAILED: $3"
	if [[ -n $2 && -f $2 ]]; then
		echo "── last 40 lines of $2 ──"
		tail -n 40 "$2"
		echo "────"
	fi
	TIMES+=("$(printf '%2d %-34s FAILED' "$N" "$1")")
	summary
	echo "❌ make rehearse$([[ $DRILL == 1 ]] && echo -drill): FAILED at step $N ($1); run folder $R"
	exit 1
}

# step NAME CMD...: runs CMD with its output in steps/NN-NAME.log.
step() {
	local name=$1
	shift
	N=$((N + 1))
	local log
	log=$R/steps/$(printf %02d $N)-$name.log
	local t0=$SECONDS
	echo "━━ [$(elapsed)] step $N: $name"
	echo "   \$ $*"
	"$@" >"$log" 2>&1
	local rc=$?
	local took=$((SECONDS - t0))
	if [[ $rc != 0 ]]; then
		fail "$name" "$log" "exit $rc after ${took}s"
	fi
	TIMES+=("$(printf '%2d %-34s %4ds' "$N" "$name" "$took")")
	echo "   ✅ ${took}s"
}

# as ENV CMD...: CMD with ENV's environment file.
as() {
	local env=$1
	shift
	RUNBOOK_ENV_FILE=$P/$env/environments/$env.yaml "$@"
}

# requests METRIC_ROUTE: POST requests backend-core of prod answered on
# that route, from its own /metrics (through its TLS front, with the CA the
# file names).
requests() {
	local url
	url=$(awk '/name: backend-core/{f=1} f&&/url:/{print $2; exit}' "$P/prod/environments/prod.yaml")
	curl -sS --fail --cacert "$P/prod/ca.pem" "$url/metrics" |
		awk -v r="route=\"$1\"" 'index($0, "http_requests_total{") == 1 && index($0, r) { n += $NF } END { printf "%d\n", n }'
}

# ── 1. Build what a team has: the tagged binaries (and the platform's command).
echo "make rehearse$([[ $DRILL == 1 ]] && echo -drill): run folder $R"
step build make build
step build-platform go build -o bin/rehearsal-platform ./fixtures/rehearsal/cmd/rehearsal-platform
# The smoke tests of step 11 compile while the platform starts.
COMPILE_PID=
if [[ $DRILL == 0 ]]; then
	go test -c -tags=prod -o "$R/steps/smoke.test" ./smoke >"$R/steps/smoke-compile.log" 2>&1 &
	COMPILE_PID=$!
fi

# ── 2. The platform, presented as staging and prod.
N=$((N + 1))
echo "━━ [$(elapsed)] step $N: platform (staging and prod at $PREVIOUS, over TLS)"
t0=$SECONDS
exec 3< <(exec bin/rehearsal-platform --dir "$P" --repo "$ROOT" --migrator "$ROOT/bin/granter" --version "$VERSION" 2>&1)
PLATFORM_PID=$! # the platform itself (exec): stopped on any exit, even before it is ready
ready=
while IFS= read -r line <&3; do
	echo "$line" >>"$R/platform.log"
	if [[ $line == READY* ]]; then
		ready=1
		break
	fi
done
[[ -n $ready ]] || fail platform "$R/platform.log" "the platform exited before it was ready"
cat <&3 >>"$R/platform.log" &
DRAIN_PID=$!
TIMES+=("$(printf '%2d %-34s %4ds' "$N" platform $((SECONDS - t0)))")
echo "   ✅ $((SECONDS - t0))s (log $R/platform.log)"
# shellcheck source=/dev/null
source "$P/secrets.env"
[[ -z $COMPILE_PID ]] || wait "$COMPILE_PID" || fail smoke-compile "$R/steps/smoke-compile.log" "go test -c -tags=prod ./smoke"

# ── 3. Staging: the release deployed, its rollback drilled, deployed again,
# smoke-tested and recorded (checklist items 5 and 6 of prod read it).
ack_team() { # ENV: the team's confirmations, one command line each (README)
	local env=$1 acks=$P/$1/team/acks-$VERSION.jsonl
	for who in alice bruno chloe david; do
		as "$env" "bin/runbook-$env" checklist ack --file "$acks" --item 3 --sub "All team members online" --by "$who" --note "on the call" || return 1
	done
	as "$env" "bin/runbook-$env" checklist ack --file "$acks" --item 3 --sub "Video call active" --by alice --note "https://meet.example.com/granter-deploy-$VERSION" &&
		as "$env" "bin/runbook-$env" checklist ack --file "$acks" --item 7 --sub "On-call staff ready" --by alice --note "pager in hand"
}
step staging-acks ack_team staging
if [[ $DRILL == 1 ]]; then
	# ── The drill: the broken release through make deploy with AUTO_ROLLBACK=1
	# on staging, where a team drills the rollback (checklist item 6 of prod
	# reads its record). It must fail its Phase 4 gate and roll back by itself.
	N=$((N + 1))
	echo "━━ [$(elapsed)] step $N: staging-deploy-broken ($BROKEN, AUTO_ROLLBACK=1: must fail its Phase 4 gate and roll back)"
	t0=$SECONDS
	log=$R/steps/$(printf %02d $N)-staging-deploy-broken.log
	echo "   \$ make deploy ENV=staging VERSION=$BROKEN CONFIRM=staging AUTO_ROLLBACK=1 RUN_DIR=$R/staging-drill"
	as staging make deploy ENV=staging VERSION="$BROKEN" CONFIRM=staging AUTO_ROLLBACK=1 RUN_DIR="$R/staging-drill" >"$log" 2>&1
	code=$(cat "$R/staging-drill/exitcode" 2>/dev/null)
	case $code in
	5 | 6) ;;
	*) fail staging-deploy-broken "$log" "exit code '$code' in $R/staging-drill/exitcode: want 5 or 6 (the deployment's Phase 4 failure, rolled back); 7 is a failed rollback" ;;
	esac
	grep -q "ROLLBACK COMPLETE" "$log" || fail staging-deploy-broken "$log" "no ROLLBACK COMPLETE in the output"
	TIMES+=("$(printf '%2d %-34s %4ds' "$N" staging-deploy-broken $((SECONDS - t0)))")
	echo "   ✅ $((SECONDS - t0))s: the gate failed (exit $code) and the rollback completed"
	step rollback-proof as staging bin/rehearsal-platform prove-rollback --run "$R/staging-drill" --code "$code" --version "$BROKEN" --previous "$PREVIOUS"
	summary
	echo "✅ make rehearse-drill: $BROKEN failed its Phase 4 gate and was rolled back by itself: database verified equal to the backup, images and services on $PREVIOUS, smoke passed (exit 0)"
	exit 0
fi

step staging-deploy as staging make deploy ENV=staging VERSION="$VERSION" CONFIRM=staging RUN_DIR="$R/staging-deploy"
step staging-rollback-drill as staging make rollback ENV=staging CONFIRM=staging RUN="$R/staging-deploy"
step staging-redeploy as staging make deploy ENV=staging VERSION="$VERSION" CONFIRM=staging RUN_DIR="$R/staging-redeploy"
step staging-smoke as staging bin/runbook-staging smoke --version "$VERSION" --run-dir "$R/staging-smoke"
step staging-smoke-record as staging bash -c 'bin/runbook-staging checklist record-smoke --env staging --version "$1" -o "$2" <"$3"' _ \
	"$VERSION" "$P/records/staging-smoke-$VERSION.json" "$R/staging-smoke/smoke.json"

# ── 4. Production: the team's confirmations, the checklist, the deployment.
step prod-acks ack_team prod
step prod-preflight as prod make preflight ENV=prod VERSION="$VERSION" RUN_DIR="$R/prod-preflight"

step prod-deploy as prod make deploy ENV=prod VERSION="$VERSION" CONFIRM=prod RUN_DIR="$R/prod"

# ── 5. Step 4.1 by hand, twice, as the runbook writes it; each run must
# reach the target (its registrations show in backend-core's own counters).
smoke_reaches() {
	local before after
	before=$(requests /auth/register) || return 1
	as prod go test ./smoke -tags=prod || return 1
	after=$(requests /auth/register) || return 1
	echo "backend-core POST /auth/register answered: $before before, $after after"
	if ((after <= before)); then
		echo "FAIL: go test ./smoke -tags=prod did not reach prod: backend-core's /auth/register count stayed at $before (a cached result?)"
		return 1
	fi
	echo "reached the target: $((after - before)) registrations"
}
step prod-smoke-1 smoke_reaches
step prod-smoke-2 smoke_reaches

# ── 6. The watch, compressed: allowed only because the file says rehearsal: true.
step prod-monitor as prod make monitor ENV=prod RUN="$R/prod" SCHEDULE="$WATCH"

# ── 7. The go-live report: 11 of 11, the watch marked REHEARSAL.
step prod-report as prod make report ENV=prod RUN="$R/prod"
log=$R/steps/$(printf %02d $N)-prod-report.log
# The verdict line: "✅ REHEARSAL PASSED (not a go-live approval) — <run> (...): 11/11 criteria met".
grep -Eq "REHEARSAL PASSED .*: 11/11 criteria met" "$log" || fail prod-report "$log" "the verdict is not REHEARSAL PASSED with 11/11 criteria met"

summary
echo "✅ make rehearse: $VERSION through staging and prod with the tagged builds; the report says REHEARSAL PASSED, 11/11 (exit 0)"
