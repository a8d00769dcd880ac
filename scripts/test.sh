#!/usr/bin/env bash
# Everything `npm test` runs, in order; stops at the first failure with a non-zero exit.
#   1. find (or install) Chromium and Firefox   2. build   3. typecheck   3b. lint (and its boundary rules' tests)
#   4. browser unit tests (web-test-runner)   5. relay (node)   5a. end-to-end and fidelity
#   5b. scale-out: relay processes on a real redis-server (found or installed first)
#   5c. chaos: faults between the pages, the relay nodes and Redis (5 seeds, 60 s each)
#   6. Firefox: the browser unit tests and the main end-to-end flow again
#   7. Storybook: build it, typecheck the stories, open every story
#   8. Package: what `npm pack` ships, installed from its tarball into a fresh project
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Never let a dependency download its own browser: we use the system's Chromium and Firefox.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1

STARTED=$SECONDS
STAGE=""
STAGE_STARTED=$SECONDS
TIMINGS=()
# Closes the running stage's clock; `stage NAME` opens the next one.
stage_done() {
  if [[ -n "$STAGE" ]]; then TIMINGS+=("$(printf '%6ss  %s' "$((SECONDS - STAGE_STARTED))" "$STAGE")"); fi
}
stage() {
  stage_done
  STAGE="$1"
  STAGE_STARTED=$SECONDS
  printf '\n\033[1m==> %s\033[0m\n' "$1"
}
timings() {
  printf '\nStage timings:\n'
  printf '  %s\n' "${TIMINGS[@]}"
  printf '%8ss  total\n' "$((SECONDS - STARTED))"
}
finish() {
  local rc=$1
  rm -rf "${TEST_HOME:-}"
  if [[ $rc -ne 0 ]]; then
    stage_done
    timings
    printf "\n\033[1;31mFAILED at: %s (exit %s)\033[0m\n" "$STAGE" "$rc" >&2
  fi
}
trap 'finish $?' EXIT

# A test stage's command. It stops the run at its failure, unless COBROWSE_KEEP_GOING=1 (test:repeat
# sets it, to count every failing test of a run): then the stage is noted and the next one runs.
FAILED_STAGES=()
check() {
  if [[ "${COBROWSE_KEEP_GOING:-}" != 1 ]]; then
    "$@"
    return
  fi
  "$@" || FAILED_STAGES+=("$STAGE")
}

stage "Chromium"
CHROME_PATH="$(bash scripts/ensure-chromium.sh)"
export CHROME_PATH

stage "Firefox"
FIREFOX_PATH="$(bash scripts/ensure-firefox.sh)"
export FIREFOX_PATH

# Chromium writes into ~/.config and ~/.cache; keep that out of the user's home.
TEST_HOME="$(mktemp -d "${TMPDIR:-/tmp}/cobrowse-test.XXXXXX")"
export XDG_CONFIG_HOME="$TEST_HOME/config" XDG_CACHE_HOME="$TEST_HOME/cache"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"

stage "Build (tsc + rollup)"
npm run build

stage "Typecheck"
npm run typecheck

# ESLint (typescript-eslint, Lit, web components, lit-a11y, no .only, the layers' import boundaries), then
# Prettier's check, then proof that each boundary rule refuses a crossing (test/lint/).
stage "Lint (eslint) and format (prettier --check)"
npm run lint
npm run format:check
check node --test test/lint/

stage "Browser unit tests (web-test-runner, $CHROME_PATH)"
check npx web-test-runner

stage "Relay (node --test test/relay/)"
check node --test --test-concurrency=1 --test-reporter=spec test/relay/

stage "End-to-end and fidelity: customer and agent pages through a real relay (node --test)"
check node --test --test-concurrency=1 --test-reporter=spec test/e2e/ test/fidelity/

# Firefox through WebDriver BiDi (puppeteer-core): the same browser tests, then the main flow with
# the customer's page in Firefox and the agent in Chromium, then both in Firefox.
stage "Firefox: browser unit tests (web-test-runner, $FIREFOX_PATH)"
check npx web-test-runner --config web-test-runner.firefox.config.mjs

stage "Firefox: end-to-end session (node --test test/e2e-firefox/)"
check node --test --test-concurrency=1 --test-reporter=spec test/e2e-firefox/

stage "Scale-out: relays on Redis (node --test test/cluster/)"
REDIS_SERVER="$(bash scripts/ensure-redis.sh)"
export REDIS_SERVER
check node --test --test-concurrency=1 --test-reporter=spec test/cluster/

stage "Chaos: faults between pages, relays and Redis (node --test test/chaos/)"
check node --test --test-concurrency=1 --test-reporter=spec test/chaos/

stage "Storybook build + smoke test (every story in $CHROME_PATH)"
npm run build-storybook   # generates custom-elements.json first, which the stories' typecheck reads
npx tsc -p storybook
check node --test --test-reporter=spec test/storybook/

stage "Package: npm pack contents + install from the tarball (node --test)"
check node --test --test-reporter=spec test/package/

stage_done
STAGE=""
timings
if ((${#FAILED_STAGES[@]})); then
  printf '\n\033[1;31mFailed stages:\033[0m\n' >&2
  printf '  %s\n' "${FAILED_STAGES[@]}" >&2
  exit 1
fi
printf '\n\033[1;32mAll tests passed in %ss.\033[0m\n' "$((SECONDS - STARTED))"
