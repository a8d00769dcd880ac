#!/usr/bin/env bash
# Finds a Chrome/Chromium for the browser tests, installing Debian's `chromium` with
# apt-get when none is found and we may (root or passwordless sudo).
#
# Messages go to stderr; the chosen executable's path is the only thing on stdout:
#   CHROME_PATH="$(bash scripts/ensure-chromium.sh)"
set -euo pipefail

log() { printf '%s\n' "$*" >&2; }

find_chrome() {
  if [[ -n "${CHROME_PATH:-}" ]]; then
    if [[ -x "$CHROME_PATH" && ! -d "$CHROME_PATH" ]]; then
      printf '%s\n' "$CHROME_PATH"
      return 0
    fi
    log "CHROME_PATH is set to '$CHROME_PATH' but that is not an executable file; looking elsewhere."
  fi
  if [[ -x /usr/bin/chromium ]]; then
    printf '%s\n' /usr/bin/chromium
    return 0
  fi
  local name found
  for name in chromium chromium-browser google-chrome google-chrome-stable; do
    if found="$(command -v "$name" 2>/dev/null)" && [[ -n "$found" ]]; then
      printf '%s\n' "$found"
      return 0
    fi
  done
  return 1
}

if chrome="$(find_chrome)"; then
  log "Using Chromium: $chrome"
  printf '%s\n' "$chrome"
  exit 0
fi

log "No Chrome or Chromium found (checked \$CHROME_PATH, /usr/bin/chromium, chromium, chromium-browser, google-chrome)."

if command -v apt-get >/dev/null 2>&1; then
  SUDO=()
  can_install=0
  if [[ "$(id -u)" == 0 ]]; then
    can_install=1
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
    can_install=1
  fi
  if [[ "$can_install" == 1 ]]; then
    log "Installing Chromium with apt-get (about a minute)…"
    # Progress goes to stderr, so stdout stays just the path.
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
    if chrome="$(find_chrome)"; then
      log "Installed. Using Chromium: $chrome"
      printf '%s\n' "$chrome"
      exit 0
    fi
    log "apt-get finished but no chromium binary was found on PATH."
  else
    log "apt-get is available, but installing needs root or passwordless sudo."
  fi
fi

cat >&2 <<'MSG'

The browser tests need Chrome or Chromium. Either:
  - Debian/Ubuntu (as root):  apt-get update && apt-get install -y chromium
    (on Ubuntu the apt package is a snap wrapper; Google Chrome's .deb works everywhere:
     https://www.google.com/chrome/)
  - Fedora:                   dnf install chromium
  - macOS:                    brew install --cask chromium   (or install Google Chrome)
  - or point CHROME_PATH at an existing binary, e.g.
      CHROME_PATH="/Applications/Google Chrome.app/Contents/MacOS/Google Chrome" npm test
MSG
exit 1
