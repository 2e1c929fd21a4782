#!/usr/bin/env bash
# Installs the Debian packages the test suites and the benchmark use: a real CNCF
# Distribution registry, skopeo as an independent client, wabt for test modules, real
# credential helpers, a forward proxy (tinyproxy, for HTTPS_PROXY/HTTP_PROXY), a keychain
# (gnome-keyring on D-Bus), pass/gnupg, libsecret so keytar can build, and Go with sprig (the
# go-template differential test runs Go's text/template + sprig, as oras does, beside ours).
# Idempotent: it only calls apt-get when something is missing.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have docker-registry || need+=(docker-registry)
have skopeo || need+=(skopeo)
have wat2wasm || need+=(wabt)
have openssl || need+=(openssl)
have htpasswd || need+=(apache2-utils)
have jq || need+=(jq)
have curl || need+=(curl)
have script || need+=(util-linux)
have dbus-run-session || need+=(dbus)
have gnome-keyring-daemon || need+=(gnome-keyring)
have docker-credential-pass || need+=(golang-docker-credential-helpers)
have pass || need+=(pass)
have gpg || need+=(gnupg)
have tinyproxy || need+=(tinyproxy)
[ -x /usr/bin/time ] || need+=(time)
dpkg -s libsecret-1-dev >/dev/null 2>&1 || need+=(libsecret-1-dev)
have go || need+=(golang-go)
[ -f /usr/share/gocode/src/github.com/Masterminds/sprig/functions.go ] || need+=(golang-github-masterminds-sprig-dev)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "install-system-deps: missing ${need[*]}; run as root or install them" >&2
    exit 1
  fi
fi
echo "install-system-deps: installing ${need[*]}"
# Non-interactive: CI runs with no stdin, and tzdata/keyboard prompts would hang it.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
