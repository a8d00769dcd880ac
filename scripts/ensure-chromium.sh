#!/usr/bin/env bash
# Finds a Chrome/Chromium for the browser tests, installing Debian's `chromium` when none is found:
#   CHROME_PATH="$(bash scripts/ensure-chromium.sh)"
source "$(dirname "${BASH_SOURCE[0]}")/lib/ensure.sh"
ensure Chromium CHROME_PATH chromium "
The browser tests need Chrome or Chromium. Either:
  - Debian/Ubuntu (as root):  apt-get update && apt-get install -y chromium
    (on Ubuntu the apt package is a snap wrapper; Google Chrome's .deb works everywhere)
  - Fedora:                   dnf install chromium
  - macOS:                    brew install --cask chromium   (or install Google Chrome)
  - or point CHROME_PATH at an existing binary, e.g.
      CHROME_PATH=\"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome\" npm test" \
  /usr/bin/chromium chromium chromium-browser google-chrome google-chrome-stable
