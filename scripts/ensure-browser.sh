#!/bin/sh
# Makes sure a headless Chromium is available for the HTML report's browser test.
# Debian/Ubuntu: installs the distribution's chromium package when it is missing.
# Never fails the build: when it cannot install, it says why in one line and the
# browser test reports itself skipped with the same reason.
set -u

browser="${TRAILHOUND_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$browser" ]; then
  exit 0
fi
if [ "${TRAILHOUND_SKIP_BROWSER_INSTALL:-}" = "1" ]; then
  echo "ensure-browser: $browser is missing and TRAILHOUND_SKIP_BROWSER_INSTALL=1; the browser test will be skipped" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-browser: $browser is missing and apt-get is not available; install Chromium and set TRAILHOUND_CHROMIUM to its path to run the browser test" >&2
  exit 0
fi

if [ "$(id -u)" = "0" ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root="sudo -n"
else
  echo "ensure-browser: $browser is missing and installing it needs root (or password-less sudo); run: apt-get install -y --no-install-recommends chromium" >&2
  exit 0
fi

echo "ensure-browser: installing chromium with apt-get (once; needed by the HTML report's browser test)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $as_root apt-get update -qq >/dev/null 2>&1; then
  echo "ensure-browser: apt-get update failed; check the package mirror, then run: apt-get install -y --no-install-recommends chromium" >&2
  exit 0
fi
if ! $as_root apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; then
  echo "ensure-browser: apt-get install chromium failed; run it by hand to see why: apt-get install -y --no-install-recommends chromium" >&2
  exit 0
fi
if [ -x "$browser" ]; then
  echo "ensure-browser: chromium installed at $browser" >&2
else
  echo "ensure-browser: the chromium package installed but $browser is not there; set TRAILHOUND_CHROMIUM to the browser's path" >&2
fi
exit 0
