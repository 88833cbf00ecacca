#!/usr/bin/env bash
# Installs the Debian packages the local platform needs. Idempotent: packages
# already present are skipped. Run as root (CI runs as root).
#   debootstrap, ca-certificates: `make images` builds Postgres from Debian's packages
#   prometheus:                   the real Prometheus server the fixtures start
#   postgresql-client:            pg_dump/psql on the host for staging and prod runs
#   openssl, git:                 TLS and code-verification checks
#   libxml2-utils:                xmllint validates the JUnit files against their schema
#   chromium:                     the headless browser web-frontend is checked in (browser.path)
set -euo pipefail
pkgs=(debootstrap ca-certificates prometheus postgresql-client openssl git libxml2-utils chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all present (${pkgs[*]})"
  exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing ${missing[*]}"
# Never let a package start its own daemon (prometheus would bind :9090):
# the fixtures start what they need on free ports.
policy=/usr/sbin/policy-rc.d
had_policy=0; [ -e "$policy" ] && had_policy=1
if [ $had_policy -eq 0 ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod +x "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${missing[*]}"
