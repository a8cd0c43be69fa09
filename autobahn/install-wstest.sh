#!/usr/bin/env bash
# Installs Autobahn|Testsuite (`wstest`, Python 2.7 only) into an isolated
# virtualenv outside the repo, once. Re-running is cheap: a working install is reused.
#
#   autobahn/install-wstest.sh [DEST]
#
#   DEST           default: $WSTEST_HOME or ${XDG_CACHE_HOME:-$HOME/.cache}/sockwire/autobahn
#   WSTEST_PYTHON  the Python 2.7 interpreter (default: ~/.pyenv/versions/2.7.18/bin/python)
#
# On success prints the path of the wstest executable as the last line of stdout.
# On failure prints ONE line starting with "install-wstest:" on stderr and exits 1;
# the full pip log stays in DEST/install.log.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONSTRAINTS="$HERE/requirements-wstest.txt"
PY="${WSTEST_PYTHON:-$HOME/.pyenv/versions/2.7.18/bin/python}"
DEST="${1:-${WSTEST_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/sockwire/autobahn}}"
VENV="$DEST/venv"
WSTEST="$VENV/bin/wstest"
LOG="$DEST/install.log"
# The stamp records which constraints file the env was built from; a changed file means a rebuild.
STAMP="$VENV/.sockwire-installed"
WANT_STAMP="$(sha256sum "$CONSTRAINTS" | cut -d' ' -f1)"

fail() { echo "install-wstest: $*" >&2; exit 1; }

works() {
  [ -x "$WSTEST" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT_STAMP" ] &&
    "$VENV/bin/python" -c 'import autobahntestsuite, twisted, autobahn' >/dev/null 2>&1
}

# Explain a failed pip step in one line, using the log.
pip_failed() {
  if grep -qiE 'NewConnectionError|Max retries exceeded|Temporary failure in name resolution|Network is unreachable|ProxyError|timed out|ConnectTimeout' "$LOG"; then
    fail "PyPI is unreachable ($1); see $LOG"
  fi
  fail "pip failed at step '$1'; see $LOG"
}

mkdir -p "$DEST"
# Two runners (or two directions) must not install at the same time.
exec 9>"$DEST/.lock"
flock 9

if works; then echo "$WSTEST"; exit 0; fi

[ -x "$PY" ] || fail "no Python 2.7 interpreter at $PY (set WSTEST_PYTHON to one)"
"$PY" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (2, 7) else 1)' 2>/dev/null ||
  fail "$PY is not Python 2.7 (Autobahn|Testsuite runs only on Python 2.7)"

echo "installing wstest into $VENV (log: $LOG)" >&2
rm -rf "$VENV" "$DEST/bootstrap"
: >"$LOG"
PIP_OPTS=(--disable-pip-version-check --no-input --retries 2 --timeout 30)

step() { # step NAME CMD...
  local name="$1"; shift
  echo "== $name: $*" >>"$LOG"
  "$@" >>"$LOG" 2>&1 || pip_failed "$name"
}

# 1. virtualenv<20.22 creates Python 2.7 environments; 20.15.1 is the newest that also runs
#    on 2.7 itself. The pyenv interpreter has no venv module, so bootstrap virtualenv into a
#    private --target dir (the interpreter's own site-packages stays untouched).
step "bootstrap virtualenv" "$PY" -m pip install "${PIP_OPTS[@]}" --target "$DEST/bootstrap" 'virtualenv==20.15.1'
step "create virtualenv" env PYTHONPATH="$DEST/bootstrap" "$PY" -m virtualenv --no-download --no-periodic-update "$VENV"
VPIP=("$VENV/bin/python" -m pip)
# 2. pip 19.2 (the interpreter's) knows no manylinux2014 tags; 20.3.4 is the last pip for 2.7.
step "upgrade pip" "${VPIP[@]}" install "${PIP_OPTS[@]}" 'pip==20.3.4'
# 3. cryptography only as a wheel: its source build fails against OpenSSL 3 headers.
step "cryptography wheel" "${VPIP[@]}" install "${PIP_OPTS[@]}" -c "$CONSTRAINTS" --only-binary cryptography cryptography
# 4. Twisted 19.10.0 builds from source; its setup needs incremental already installed.
step "incremental" "${VPIP[@]}" install "${PIP_OPTS[@]}" -c "$CONSTRAINTS" incremental
step "Twisted" "${VPIP[@]}" install "${PIP_OPTS[@]}" -c "$CONSTRAINTS" --no-build-isolation Twisted
# 5. The suite itself, every dependency pinned by the constraints file.
step "autobahntestsuite" "${VPIP[@]}" install "${PIP_OPTS[@]}" -c "$CONSTRAINTS" --only-binary cryptography autobahntestsuite
rm -rf "$DEST/bootstrap"

"$VENV/bin/python" -c 'import autobahntestsuite, twisted, autobahn' >>"$LOG" 2>&1 ||
  fail "installed, but autobahntestsuite does not import; see $LOG"
echo "$WANT_STAMP" >"$STAMP"
echo "$WSTEST"
