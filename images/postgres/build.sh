#!/usr/bin/env bash
# Builds the local PostgreSQL image the fixtures run (fixtures/pgcontainer),
# for machines that cannot pull the official `postgres` image.
#
#   images/postgres/build.sh            # called by `make images`
#   images/postgres/build.sh --force    # rebuild even if the image exists
#
# Image name: $RUNBOOK_POSTGRES_IMAGE, default runbook/postgres:15-bookworm.
#   - If that image is already in the Docker engine: says so, exits 0.
#   - If it is not the default name: `docker pull` it first (a machine with a
#     registry never needs debootstrap). If the pull fails, a runbook/* name is
#     built from Debian packages below; any other name is an error.
#   - Otherwise: debootstrap a Debian bookworm (minbase) root filesystem with
#     postgresql-15 from the Debian mirror apt uses on this machine, trim it,
#     add docker-entrypoint.sh (which behaves like the official image's) and
#     `docker import` it. Needs root (debootstrap) and the Docker engine.
#
# Other settings (environment):
#   RUNBOOK_DEBIAN_MIRROR   Debian mirror (default: read from apt's sources)
#   RUNBOOK_DEBOOTSTRAP_CACHE  where downloaded .debs are kept between builds
#                           (default /var/cache/runbook/debootstrap; "" = none)
#   RUNBOOK_POSTGRES_JIT=1  keep the LLVM JIT (about 150 MB: libLLVM, libz3,
#                           bitcode); by default it is removed and jit=off
#   RUNBOOK_BUILD_LOG       debootstrap log (default: in the temp dir; shown
#                           on failure, kept at /tmp/runbook-postgres-build.log)
set -Eeuo pipefail

readonly DEFAULT_IMAGE=runbook/postgres:15-bookworm
readonly PG_MAJOR=15
readonly SUITE=bookworm
IMAGE=${RUNBOOK_POSTGRES_IMAGE:-$DEFAULT_IMAGE}
FORCE=0
case "${1:-}" in
	--force) FORCE=1 ;;
	"") ;;
	-h | --help) sed -n '2,/^set -E/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "build.sh: unknown argument $1 (use --force or --help)" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
start=$SECONDS
step() { printf '[postgres image %4ds] %s\n' "$((SECONDS - start))" "$*"; }
die() { printf '[postgres image %4ds] ERROR: %s\n' "$((SECONDS - start))" "$*" >&2; exit 1; }

image_summary() {
	docker image inspect --format '{{.Id}} {{.Size}}' "$1" |
		awk '{ printf "%s, %.0f MB", substr($1, 1, 19), $2 / 1000000 }'
}

# --- 0. already there? ------------------------------------------------------
command -v docker >/dev/null || die "docker CLI not found"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (docker info failed)"
previous=$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
if [[ $FORCE == 0 && -n $previous ]]; then
	step "image $IMAGE already present ($(image_summary "$IMAGE")): nothing to do (--force rebuilds)"
	exit 0
fi

# --- 1. a registry image? ---------------------------------------------------
if [[ $IMAGE != "$DEFAULT_IMAGE" ]]; then
	step "RUNBOOK_POSTGRES_IMAGE=$IMAGE: trying docker pull"
	if timeout 300 docker pull "$IMAGE"; then
		step "pulled $IMAGE ($(image_summary "$IMAGE"))"
		exit 0
	fi
	[[ $IMAGE == runbook/* ]] ||
		die "could not pull $IMAGE, and only runbook/* images are built here. Unset RUNBOOK_POSTGRES_IMAGE to build $DEFAULT_IMAGE from Debian packages."
	step "pull failed: building $IMAGE from Debian packages"
fi

# --- 2. prerequisites --------------------------------------------------------
[[ $(id -u) == 0 ]] || die "debootstrap needs root: run as root (sudo -E $0)"
if ! command -v debootstrap >/dev/null; then
	step "installing debootstrap (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null ||
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null; } ||
		die "apt-get install debootstrap failed"
fi

# The Debian mirror apt uses here: first "deb URI bookworm ..." line of a
# one-line .list file, or first deb822 stanza whose Suites has "bookworm".
find_mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -r $f ]] || continue
		awk -v s="$SUITE" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			if ($(i + 1) == s) { print $i; exit } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -r $f ]] || continue
		awk -v s="$SUITE" 'BEGIN { RS = ""; FS = "\n" }
			{ uri = ""; ok = 0; deb = 0
			  for (j = 1; j <= NF; j++) {
			    if ($j ~ /^URIs:/) { split($j, a, /[ \t]+/); uri = a[2] }
			    if ($j ~ /^Types:/ && $j ~ /(^|[ \t])deb([ \t]|$)/) deb = 1
			    if ($j ~ /^Suites:/) { n = split($j, b, /[ \t]+/); for (k = 2; k <= n; k++) if (b[k] == s) ok = 1 }
			  }
			  if (ok && deb && uri != "") { print uri; exit } }' "$f"
	done
}
MIRROR=${RUNBOOK_DEBIAN_MIRROR:-$(find_mirror | head -n1)}
if [[ -z $MIRROR ]]; then
	MIRROR=http://deb.debian.org/debian
	step "no '$SUITE' source found in /etc/apt: using $MIRROR"
fi

# --- 3. debootstrap -----------------------------------------------------------
workdir=$(mktemp -d /var/tmp/runbook-postgres.XXXXXX)
rootfs=$workdir/rootfs
log=${RUNBOOK_BUILD_LOG:-$workdir/debootstrap.log}
ticker=
boot=
in_debootstrap=0
cleanup() {
	local rc=$?
	set +e # best effort from here: a failing step must not skip the rm below
	[[ -n $ticker ]] && kill "$ticker" 2>/dev/null
	# Interrupted: stop debootstrap and its children (its own process group).
	if [[ -n $boot ]] && kill -0 "$boot" 2>/dev/null; then
		kill -TERM -- "-$boot" 2>/dev/null
		wait "$boot" 2>/dev/null
	fi
	# debootstrap mounts proc/sys inside the target; a failed run may leave them.
	awk -v d="$rootfs" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount -l "$m" || true; done
	if ((rc != 0 && in_debootstrap)) && [[ -f $log ]]; then
		echo "----- last 40 lines of $log -----" >&2
		tail -n 40 "$log" >&2
		echo "---------------------------------" >&2
		[[ $log == "$workdir"/* ]] && cp "$log" /tmp/runbook-postgres-build.log &&
			echo "full log: /tmp/runbook-postgres-build.log" >&2
	fi
	rm -rf --one-file-system "$workdir"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# postgresql-15 brings postgresql-client-15 (psql, pg_dump, pg_restore) and
# the contrib extensions (pg_stat_statements among them). ca-certificates is
# for sslmode=verify-* clients inside the container.
packages=postgresql-$PG_MAJOR,postgresql-client-$PG_MAJOR,ca-certificates
cache_opt=()
cache=${RUNBOOK_DEBOOTSTRAP_CACHE-/var/cache/runbook/debootstrap}
if [[ -n $cache ]]; then
	mkdir -p "$cache"
	cache_opt=(--cache-dir="$cache")
fi
step "debootstrap --variant=minbase $SUITE from $MIRROR (log: $log)"
in_debootstrap=1
setsid debootstrap --variant=minbase --include="$packages" "${cache_opt[@]}" \
	"$SUITE" "$rootfs" "$MIRROR" >"$log" 2>&1 &
boot=$!
# Progress: the latest debootstrap stage every 10 seconds.
(
	# The sleep is killed with the ticker, so that it does not hold stdout.
	trap 'kill "$nap" 2>/dev/null; exit 0' TERM
	while :; do
		sleep 10 &
		nap=$!
		wait "$nap"
		last=$(grep -E '^[IWE]: ' "$log" 2>/dev/null | tail -n1 || true)
		step "debootstrap: ${last:-starting}"
	done
) &
ticker=$!
wait "$boot" || { rc=$?; boot=; die "debootstrap failed (exit $rc)"; }
boot=
kill "$ticker" 2>/dev/null || true
wait "$ticker" 2>/dev/null || true
ticker=
in_debootstrap=0
step "debootstrap done ($(du -sm --one-file-system "$rootfs" | cut -f1) MB)"

# --- 4. configure -------------------------------------------------------------
step "configuring"
[[ -x $rootfs/usr/lib/postgresql/$PG_MAJOR/bin/postgres ]] || die "postgres binary missing from the root filesystem"
for bin in psql pg_dump pg_restore; do
	[[ -x $rootfs/usr/lib/postgresql/$PG_MAJOR/bin/$bin ]] || die "$bin missing from the root filesystem"
done
[[ -f $rootfs/usr/share/postgresql/$PG_MAJOR/extension/pg_stat_statements.control ]] ||
	die "pg_stat_statements extension missing"
[[ -x $rootfs/usr/bin/setpriv ]] || die "setpriv (util-linux) missing: the entrypoint needs it"
# postgresql-common made a "main" cluster in /var/lib/postgresql/15/main:
# the image's data lives in $PGDATA instead, made by the entrypoint.
rm -rf "$rootfs/var/lib/postgresql/$PG_MAJOR" "$rootfs/etc/postgresql/$PG_MAJOR"
# As in the official image: listen on all interfaces (the temporary init server
# overrides this with listen_addresses='').
sample=$rootfs/usr/share/postgresql/$PG_MAJOR/postgresql.conf.sample
sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" "$sample"
grep -q "^listen_addresses = '\*'" "$sample" || die "could not set listen_addresses in $sample"
pg_uid=$(chroot "$rootfs" id -u postgres)
pg_gid=$(chroot "$rootfs" id -g postgres)
install -d -m 0755 "$rootfs/docker-entrypoint-initdb.d"
install -d -m 3775 -o "$pg_uid" -g "$pg_gid" "$rootfs/var/run/postgresql"
# As in the official image: 1777 so that `docker run --user ...` can initdb
# too (the entrypoint makes it 0700 when it runs as root).
install -d -m 1777 -o "$pg_uid" -g "$pg_gid" "$rootfs/var/lib/postgresql/data"
install -m 0755 "$here/docker-entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"
# apt inside the container should use the same mirror.
printf 'deb %s %s main\n' "$MIRROR" "$SUITE" >"$rootfs/etc/apt/sources.list"

# --- 5. trim ------------------------------------------------------------------
step "trimming (apt caches, docs, man, translations)"
before=$(du -sm --one-file-system "$rootfs" | cut -f1)
rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
	"$rootfs"/var/cache/apt/archives/partial/* "$rootfs"/var/lib/apt/lists/* \
	"$rootfs"/var/cache/debconf/*-old "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* \
	"$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
	"$rootfs"/usr/share/locale/* "$rootfs"/usr/share/i18n/* "$rootfs"/usr/share/lintian \
	"$rootfs"/usr/share/bash-completion "$rootfs"/tmp/* "$rootfs"/var/tmp/*
if [[ ${RUNBOOK_POSTGRES_JIT:-0} != 1 ]]; then
	# The JIT is 40% of the image and does nothing for test-sized queries.
	# Without llvmjit.so PostgreSQL reports the JIT as unavailable
	# (pg_jit_available() = false) and runs as usual; libLLVM and libz3 have
	# no other user here. dpkg still lists them as installed.
	rm -rf "$rootfs/usr/lib/postgresql/$PG_MAJOR/lib/llvmjit.so" \
		"$rootfs/usr/lib/postgresql/$PG_MAJOR/lib/llvmjit_types.bc" \
		"$rootfs/usr/lib/postgresql/$PG_MAJOR/lib/bitcode" \
		"$rootfs"/usr/lib/x86_64-linux-gnu/libLLVM-*.so* "$rootfs"/usr/lib/x86_64-linux-gnu/libz3.so*
	sed -ri "s!^#?(jit)\s*=\s*\S+.*!\1 = off\t\t\t\t# no JIT in this image (images/postgres/build.sh)!" "$sample"
	grep -q '^jit = off' "$sample" || die "could not set jit = off in $sample"
fi
# Keep dpkg from bringing them back if someone apt-get installs in the container.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/runbook-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
EOF
step "trimmed ${before} MB -> $(du -sm --one-file-system "$rootfs" | cut -f1) MB"

# --- 6. import ----------------------------------------------------------------
step "docker import -> $IMAGE"
# shellcheck disable=SC2016 # ${Version} is dpkg-query's, not the shell's
version=$(chroot "$rootfs" dpkg-query -W -f '${Version}' "postgresql-$PG_MAJOR")
imported=$(tar -C "$rootfs" --numeric-owner --one-file-system -c . |
	docker import \
		--change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
		--change 'CMD ["postgres"]' \
		--change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/lib/postgresql/$PG_MAJOR/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
		--change "ENV PG_MAJOR=$PG_MAJOR" \
		--change "ENV PG_VERSION=$version" \
		--change 'ENV PGDATA=/var/lib/postgresql/data' \
		--change 'ENV LANG=C.UTF-8' \
		--change 'VOLUME /var/lib/postgresql/data' \
		--change 'EXPOSE 5432' \
		--change 'LABEL org.opencontainers.image.title=runbook-postgres' \
		--change "LABEL org.opencontainers.image.description=\"PostgreSQL $version from Debian $SUITE, official-image compatible entrypoint\"" \
		--change "LABEL org.opencontainers.image.version=$version" \
		--change 'LABEL org.opencontainers.image.source=images/postgres/build.sh' \
		--message "runbook images/postgres/build.sh: postgresql-$PG_MAJOR $version from $MIRROR" \
		-) || die "docker import failed"
# `docker import --change` does not take STOPSIGNAL; a metadata-only build
# step (no layer, no context) adds it. SIGINT is PostgreSQL's "fast" shutdown:
# with SIGTERM ("smart") `docker stop` waits for every client to disconnect.
# DOCKER_BUILDKIT=0: the classic builder uses the local image as it is (no
# registry lookup, no buildx plugin needed).
if ! out=$(printf 'FROM %s\nSTOPSIGNAL SIGINT\n' "$imported" |
	DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE" - 2>&1); then
	docker rmi "$imported" >/dev/null 2>&1 || true
	die "docker build (STOPSIGNAL) failed: $out"
fi

# --force: drop the image this one replaces (kept if a container still uses it).
if [[ -n ${previous:-} && $previous != "$(docker image inspect --format '{{.Id}}' "$IMAGE")" ]]; then
	if docker rmi "$previous" >/dev/null 2>&1; then
		step "removed the previous image ${previous:7:12}"
	fi
fi

# --- 7. smoke check -----------------------------------------------------------
step "checking the image runs (postgres --version, pg_dump --version)"
[[ $(docker image inspect --format '{{.Config.StopSignal}}' "$IMAGE") == SIGINT ]] || die "STOPSIGNAL missing from $IMAGE"
docker run --rm --entrypoint /bin/sh "$IMAGE" -c 'postgres --version && pg_dump --version && pg_restore --version && psql --version' ||
	die "the imported image does not run"
step "done: $IMAGE ($(image_summary "$IMAGE")), postgresql-$PG_MAJOR $version"
