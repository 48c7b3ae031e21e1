#!/usr/bin/env bash
# Puts the ONNX Runtime C/C++ API headers (Debian's libonnxruntime-dev) under
#   <dest>/usr/include/onnxruntime/        (default dest: <repo>/build/deps/onnxruntime)
# where framework/onnxruntime/CMakeLists.txt looks for them. The PyPI onnxruntime wheel ships no
# headers, and Debian 12 (bookworm) has no libonnxruntime-dev; a newer suite has (trixie: 1.21,
# sid: 1.23). The package is DOWNLOADED from the machine's own configured Debian mirror with a
# temporary sources list and only unpacked (dpkg-deb -x): nothing is installed, no system file
# changes. Headers of API version <= the runtime's work (a library built against 1.21 headers
# runs under the newer PyPI runtime). No-op when the headers are already there (CI caches build/deps).
#
# Environment: MOE_RE_ROUTING_ORT_SUITES (suites to try, default "trixie sid").
# Exit status 0 when the headers are in place, 1 otherwise (with the reason on stderr); build.sh
# treats a failure as "ONNX Runtime adapter skipped", never as a build failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:-$(cd "$here/../.." && pwd)/build/deps/onnxruntime}"
header="$dest/usr/include/onnxruntime/onnxruntime_c_api.h"
if [ -f "$header" ]; then
    echo "ONNX Runtime headers: $(dirname "$header") (cached)"
    exit 0
fi
fail() { echo "fetch_headers.sh: $*; the ONNX Runtime adapter will be skipped" >&2; exit 1; }
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || fail "needs apt-get and dpkg-deb (Debian/Ubuntu)"

# The machine's Debian mirror: the URI of its main-archive entry (one-line or deb822 format).
debian_mirror() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i; exit } }' "$f" |
            grep -E '/debian/?$' | head -n1 && return 0
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f" | grep -E '/debian/?$' |
            head -n1 && return 0
    done
    return 1
}
mirror="$(debian_mirror)" || fail "no Debian archive entry in the apt configuration"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || fail "$keyring is missing (package debian-archive-keyring)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
apt_opts=(-q -o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/none"
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "Debug::NoLocking=1"
          -o "APT::Sandbox::User=root" -o "Acquire::Retries=1" -o "Acquire::http::Timeout=30"
          -o "Acquire::https::Timeout=30")
for suite in ${MOE_RE_ROUTING_ORT_SUITES:-trixie sid}; do
    echo "deb [signed-by=$keyring] $mirror $suite main" > "$work/sources.list"
    if apt-get "${apt_opts[@]}" update >"$work/log" 2>&1 &&
        (cd "$work" && apt-get "${apt_opts[@]}" download libonnxruntime-dev >>"$work/log" 2>&1); then
        deb="$(ls "$work"/libonnxruntime-dev_*.deb)"
        mkdir -p "$dest"
        dpkg-deb -x "$deb" "$dest"
        [ -f "$header" ] || fail "$(basename "$deb") has no onnxruntime_c_api.h"
        echo "ONNX Runtime headers: $(dirname "$header") (from $(basename "$deb"), suite $suite)"
        exit 0
    fi
    echo "fetch_headers.sh: suite $suite: $(tail -n1 "$work/log")" >&2
done
fail "libonnxruntime-dev could not be downloaded"
