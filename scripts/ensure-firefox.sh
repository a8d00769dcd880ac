#!/usr/bin/env bash
# Finds a Firefox for the Firefox test stage (puppeteer-core drives it over WebDriver BiDi),
# installing Debian's `firefox-esr` with apt-get when none is found and we may (root or
# passwordless sudo).
#
# Messages go to stderr; the chosen executable's path is the only thing on stdout:
#   FIREFOX_PATH="$(bash scripts/ensure-firefox.sh)"
set -euo pipefail

log() { printf '%s\n' "$*" >&2; }

find_firefox() {
  if [[ -n "${FIREFOX_PATH:-}" ]]; then
    if [[ -x "$FIREFOX_PATH" && ! -d "$FIREFOX_PATH" ]]; then
      printf '%s\n' "$FIREFOX_PATH"
      return 0
    fi
    log "FIREFOX_PATH is set to '$FIREFOX_PATH' but that is not an executable file; looking elsewhere."
  fi
  if [[ -x /usr/bin/firefox-esr ]]; then
    printf '%s\n' /usr/bin/firefox-esr
    return 0
  fi
  local name found
  for name in firefox-esr firefox; do
    if found="$(command -v "$name" 2>/dev/null)" && [[ -n "$found" ]]; then
      printf '%s\n' "$found"
      return 0
    fi
  done
  return 1
}

if firefox="$(find_firefox)"; then
  log "Using Firefox: $firefox"
  printf '%s\n' "$firefox"
  exit 0
fi

log "No Firefox found (checked \$FIREFOX_PATH, /usr/bin/firefox-esr, firefox-esr, firefox)."

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
    log "Installing Firefox ESR with apt-get (about a minute)…"
    # Progress goes to stderr, so stdout stays just the path.
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq firefox-esr >&2
    if firefox="$(find_firefox)"; then
      log "Installed. Using Firefox: $firefox"
      printf '%s\n' "$firefox"
      exit 0
    fi
    log "apt-get finished but no firefox-esr binary was found on PATH."
  else
    log "apt-get is available, but installing needs root or passwordless sudo."
  fi
fi

cat >&2 <<'MSG'

The Firefox tests need Firefox 128 or newer (WebDriver BiDi). Either:
  - Debian (as root):   apt-get update && apt-get install -y firefox-esr
  - Ubuntu:             the apt package is a snap wrapper; Mozilla's apt repository or tarball works:
                        https://www.mozilla.org/firefox/
  - Fedora:             dnf install firefox
  - macOS:              brew install --cask firefox
  - or point FIREFOX_PATH at an existing binary, e.g.
      FIREFOX_PATH=/Applications/Firefox.app/Contents/MacOS/firefox npm test
MSG
exit 1
