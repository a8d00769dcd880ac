#!/usr/bin/env bash
# Finds Firefox for the Firefox test stage, installing Debian's `firefox-esr` when none is found:
#   FIREFOX_PATH="$(bash scripts/ensure-firefox.sh)"
source "$(dirname "${BASH_SOURCE[0]}")/lib/ensure.sh"
ensure Firefox FIREFOX_PATH firefox-esr "
The Firefox tests need Firefox: apt-get install -y firefox-esr (Debian), or point FIREFOX_PATH at one." \
  /usr/bin/firefox-esr firefox-esr firefox
