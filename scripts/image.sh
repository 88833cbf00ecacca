#!/usr/bin/env bash
# image.sh BIN IMAGE: the runbook as a container image without a registry
# or a Dockerfile: a scratch root holding only the static binary
# (/runbook), the CA roots (/etc/ssl/certs/ca-certificates.crt, for TLS to
# the cluster, Prometheus, the webhook) and environments/ (the target
# files), imported with `docker import`. Then it proves the image: `docker
# run --rm IMAGE --help` must list every subcommand the binary lists.
set -euo pipefail
bin=${1:?usage: image.sh BIN IMAGE}
image=${2:?usage: image.sh BIN IMAGE}
cd "$(dirname "$0")/.."
ca=/etc/ssl/certs/ca-certificates.crt
[[ -r $ca ]] || { echo "image: no CA roots at $ca (apt-get install ca-certificates)" >&2; exit 2; }
bash scripts/check-static.sh "$bin" >/dev/null
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/work"
install -m 0755 "$bin" "$root/runbook"
install -m 0644 "$ca" "$root/etc/ssl/certs/ca-certificates.crt"
cp -r environments "$root/work/environments"
chmod 1777 "$root/tmp"
tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$root.tar" .
trap 'rm -rf "$root" "$root.tar"' EXIT
docker import \
	--change 'ENTRYPOINT ["/runbook"]' \
	--change 'WORKDIR /work' \
	--change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
	--message "runbook $(basename "$bin") by scripts/image.sh" \
	"$root.tar" "$image" >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$image")
echo "image: $image ($((size / 1024 / 1024)) MB): /runbook, CA roots, environments/"
want=$("$bin" commands)
got=$(docker run --rm "$image" --help)
missing=()
for c in $want; do
	grep -qE "^  $c( |$)" <<<"$got" || missing+=("$c")
done
if ((${#missing[@]})); then
	echo "FAIL: docker run --rm $image --help does not list: ${missing[*]}" >&2
	echo "$got" >&2
	exit 1
fi
echo "image: docker run --rm $image --help lists every subcommand ($(wc -w <<<"$want"))"
