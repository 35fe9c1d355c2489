#!/usr/bin/env bash
# Installs the Debian packages the sandbox layers need (and Chromium, for the report's browser
# test), when missing and when we can.
set -euo pipefail
needed=()
command -v bwrap >/dev/null 2>&1 || needed+=(bubblewrap)
[ -x /usr/bin/chromium ] || needed+=(chromium)
if [ ${#needed[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "selftaught: missing system packages: ${needed[*]} (not root or no apt-get);" \
       "the sandbox will fall back to weaker layers (see 'selftaught doctor');" \
       "without chromium the report's browser test is skipped." >&2
  exit 0
fi
echo "selftaught: installing system packages: ${needed[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${needed[@]}" >/dev/null
