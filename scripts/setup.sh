#!/usr/bin/env bash
# `make setup` (run first by `make local` and `make test`): installs and
# builds, once, what the local platform needs, saying what and how long:
#   1/3 Debian packages   scripts/deps.sh             (~1 min; root or sudo)
#   2/3 Kubernetes tools  fixtures/kubelab/build-tools.sh  (~15-25 min on 2 cores)
#   3/3 Postgres image    images/postgres/build.sh    (~5 min; root, Docker)
# Each is probed cheaply first (dpkg-query, the tools' READY stamp, docker
# image inspect): on a ready machine this takes well under a second and
# runs none of them. The scripts themselves are idempotent and cached.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
pkgs=(debootstrap ca-certificates prometheus postgresql-client openssl git libxml2-utils chromium)
image=${RUNBOOK_POSTGRES_IMAGE:-runbook/postgres:15-bookworm}

need_deps=0
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_deps=1
done
need_tools=0
if command -v go >/dev/null; then
	bash fixtures/kubelab/build-tools.sh --print-dir >/dev/null 2>&1 || need_tools=1
elif ! compgen -G "${RUNBOOK_CACHE:-$HOME/.cache/runbook}/kube-tools/*/READY" >/dev/null; then
	# Without Go the tools' key (which includes the Go version) cannot be
	# computed here, nor the tools built: the built binaries name the
	# folder they need (kubelab.ToolsDir) and say so when it is missing.
	echo "setup: no Kubernetes tools in ${RUNBOOK_CACHE:-$HOME/.cache/runbook}/kube-tools and no go on PATH to build them: run make setup where Go is installed" >&2
	exit 2
fi
need_image=0
docker image inspect "$image" >/dev/null 2>&1 || need_image=1

if (( need_deps + need_tools + need_image == 0 )); then
	echo "setup: ready (Debian packages, Kubernetes tools, $image)"
	exit 0
fi
est=0
(( need_deps )) && est=$((est + 1))
(( need_tools )) && est=$((est + 20))
(( need_image )) && est=$((est + 5))
echo "setup: first use on this machine: building what is missing, about $est min in all (cached afterwards)"
step() { printf '\nsetup [%s, %dm%02ds elapsed] %s\n' "$1" $(((SECONDS - t0) / 60)) $(((SECONDS - t0) % 60)) "$2"; }
if (( need_deps )); then
	step 1/3 "Debian packages (${pkgs[*]}): about 1 min"
	bash scripts/deps.sh
fi
if (( need_tools )); then
	step 2/3 "Kubernetes tools (etcd, kube-apiserver, controller-manager, scheduler, kwok) from source: about 20 min on 2 cores"
	bash fixtures/kubelab/build-tools.sh
fi
if (( need_image )); then
	step 3/3 "Postgres image $image from Debian packages: about 5 min"
	bash images/postgres/build.sh
fi
step done "setup finished in $(((SECONDS - t0) / 60))m$(((SECONDS - t0) % 60))s"
