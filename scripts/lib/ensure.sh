# Sourced by scripts/ensure-*.sh: find a program the tests need, or install its Debian package with
# apt-get when none is found and we may (root or passwordless sudo). Messages go to stderr; the
# program's path is the only thing on stdout.
#
#   ensure LABEL ENV_VAR APT_PACKAGE HINT CANDIDATE...
#     ENV_VAR     names a variable that may point at the program (checked first)
#     CANDIDATE   an absolute path, or a name looked up on PATH, in order
#     HINT        printed when nothing is found and nothing can be installed
set -euo pipefail

log() { printf '%s\n' "$*" >&2; }

# Prints the first usable program: $ENV_VAR, then the candidates.
find_program() {
  local var="$1"
  shift
  local given="${!var:-}"
  if [[ -n "$given" ]]; then
    if [[ -x "$given" && ! -d "$given" ]]; then
      printf '%s\n' "$given"
      return 0
    fi
    log "$var is set to '$given' but that is not an executable file; looking elsewhere."
  fi
  local candidate found
  for candidate in "$@"; do
    if [[ "$candidate" == /* ]]; then
      found="$candidate"
    else
      found="$(command -v "$candidate" 2>/dev/null || true)"
    fi
    if [[ -n "$found" && -x "$found" && ! -d "$found" ]]; then
      printf '%s\n' "$found"
      return 0
    fi
  done
  return 1
}

ensure() {
  local label="$1" var="$2" package="$3" hint="$4"
  shift 4
  local found
  if found="$(find_program "$var" "$@")"; then
    log "Using $label: $found"
    printf '%s\n' "$found"
    return 0
  fi
  log "No $label found (checked \$$var, $*)."
  if command -v apt-get >/dev/null 2>&1; then
    local sudo=()
    if [[ "$(id -u)" != 0 ]]; then
      if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo=(sudo -n)
      else
        log "apt-get is available, but installing $package needs root or passwordless sudo."
        log "$hint"
        return 1
      fi
    fi
    log "Installing $package with apt-get (about a minute)…"
    # Progress goes to stderr, so stdout stays just the path; a package's own service is not started.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >&2
    if found="$(find_program "$var" "$@")"; then
      log "Installed. Using $label: $found"
      printf '%s\n' "$found"
      return 0
    fi
    log "apt-get finished but no $label was found."
  fi
  log "$hint"
  return 1
}
