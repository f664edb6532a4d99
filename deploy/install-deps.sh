#!/usr/bin/env bash
# Installs what citizenhour needs on Debian 12 / Ubuntu 24.04. Idempotent: installs only what is missing.
#   deploy/install-deps.sh          runtime + build dependencies (for `make demo`)
#   deploy/install-deps.sh --test   plus what the test suite needs (for `make test`)
set -euo pipefail

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

pkgs=(
  pkg-config build-essential ca-certificates curl
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-nice
  libnice-dev
  gstreamer1.0-x
  fonts-dejavu-core
  espeak-ng
  ffmpeg
)
if [[ $want_test == 1 ]]; then
  # Real servers the tests start on 127.0.0.1 (see tests/services/).
  pkgs+=(python3 python3-aiosmtpd nginx libnginx-mod-rtmp chromium dovecot-imapd dovecot-lmtpd openssl wrk)
  # Firefox for the WHIP browser test: Debian ships firefox-esr; Ubuntu only `firefox` (or ESR from the
  # mozillateam PPA).
  if apt-cache show firefox-esr >/dev/null 2>&1; then pkgs+=(firefox-esr); else pkgs+=(firefox); fi
  # Node.js may come from elsewhere (nodesource, nvm); only ask apt when there is none.
  command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
  command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -gt 0 ]]; then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  # Keep apt from starting system daemons (nginx, …): tests start their own on loopback.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${sudo_cmd[@]}" chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [[ ${created_policy:-0} == 1 ]]; then
    "${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d
  fi
else
  echo "install-deps: system packages present"
fi

if [[ $want_test == 1 ]]; then
  # playwright-core drives Debian's chromium, puppeteer-core Debian's firefox-esr (both pinned in
  # tests/browser/package.json); neither downloads a browser.
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [[ ! -d "$here/tests/browser/node_modules/playwright-core" || ! -d "$here/tests/browser/node_modules/puppeteer-core" ]]; then
    (cd "$here/tests/browser" && npm ci --no-audit --no-fund --silent)
  fi
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "install-deps: cargo not found; install Rust 1.95 with rustup (https://rustup.rs)" >&2
  exit 1
fi

if [[ $want_test == 1 ]]; then
  # Garage (S3) for the publishing tests: built once (~15 min on 2 cores) and cached in ~/.cargo/bin.
  garage_version=2.5.0
  garage_bin=$(command -v garage || echo "$HOME/.cargo/bin/garage")
  if [[ ! -x $garage_bin ]] || ! "$garage_bin" --version 2>/dev/null | grep -q "$garage_version"; then
    echo "install-deps: building garage $garage_version (once; cached in ~/.cargo/bin)"
    cargo install garage --locked --version "$garage_version"
  fi
fi
