#!/usr/bin/env bash
# Installs what buildkit-ts needs on a Debian 12 machine (as root): the Debian packages the
# engine and its tests use, then the npm dependencies (bun itself comes from npm).
# Used by both README set-up commands and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# runc: the standalone worker's executor. busybox-static: test images and the offline demo.
# git: git sources. skopeo, docker-registry, openssl, apache2-utils (htpasswd), zstd: the
# registry tests (zstd, bzip2, xz-utils also ADD's archive unpacking). tmux: the terminal display
# tests. containerd: the image archive import tests. tar, ca-certificates: the basics.
APT_PACKAGES=(ca-certificates git tar runc crun busybox-static skopeo docker-registry openssl apache2-utils zstd bzip2 xz-utils tmux containerd)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q </dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
fi
# Debian's docker-registry and containerd packages start daemons; tests start their own.
systemctl disable --now docker-registry containerd >/dev/null 2>&1 || true

npm ci --no-audit --no-fund </dev/null
