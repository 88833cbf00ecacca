#!/usr/bin/env bash
# Removes the containers the fixtures left behind (`make clean-containers`):
# those labelled org.testcontainers=true (testcontainers-go) or runbook=fixture
# (fixtures/pgcontainer), running or not, with their anonymous volumes. Ryuk is
# disabled here, so a killed test binary leaves its containers; this is the
# sweep. Prints what it removes; exits 0 when there is nothing to remove.
#
#   scripts/clean-containers.sh            # all of them
#   TESTCONTAINERS_SESSION_ID=... scripts/clean-containers.sh   # one session only
set -Eeuo pipefail

command -v docker >/dev/null || { echo "clean-containers: docker CLI not found" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "clean-containers: the Docker engine does not answer" >&2; exit 1; }

filters=(--filter label=org.testcontainers=true --filter label=runbook=fixture)
if [[ -n ${TESTCONTAINERS_SESSION_ID:-} ]]; then
	# One session: only testcontainers' containers carry the session label.
	filters=(--filter "label=org.testcontainers.sessionId=$TESTCONTAINERS_SESSION_ID")
fi

# `docker ps` ANDs repeated label filters; run one listing per label instead.
ids=()
for f in "${filters[@]}"; do
	[[ $f == --filter ]] && continue
	while read -r id; do
		[[ -n $id ]] && ids+=("$id")
	done < <(docker ps -aq --no-trunc --filter "$f")
done
mapfile -t ids < <(printf '%s\n' "${ids[@]}" | awk 'NF && !seen[$0]++')

if ((${#ids[@]} == 0)); then
	echo "clean-containers: no test containers to remove"
	exit 0
fi

echo "clean-containers: removing ${#ids[@]} container(s):"
for id in "${ids[@]}"; do
	docker inspect --format '  {{slice .Id 0 12}}  {{.Name}}  {{.Config.Image}}  {{.State.Status}}' "$id" 2>/dev/null || true
done
# A container may go away on its own meanwhile: only what remains is an error.
docker rm -f -v "${ids[@]}" >/dev/null 2>&1 || true
left=$(docker ps -aq --filter "id=${ids[0]}" | wc -l)
for id in "${ids[@]:1}"; do
	left=$((left + $(docker ps -aq --filter "id=$id" | wc -l)))
done
if ((left > 0)); then
	echo "clean-containers: $left container(s) could not be removed (docker rm -f -v failed)" >&2
	exit 1
fi
echo "clean-containers: done"
