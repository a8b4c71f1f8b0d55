#!/usr/bin/env bash
# Renders a status page in headless Chromium and writes its screenshot, with the network closed
# (a proxy on a closed loopback port, every host name unresolvable): the page must need nothing
# from elsewhere. `scripts/status-page-screenshot.sh PAGE.html OUT.png [WIDTHxHEIGHT]`.
#
# The README's scripts/status-page.png is made by the status page test
# (`cargo test --test it status_page`), which runs this on a page from a real run against the
# simulator and the emulator and copies the result there when INTACCT_SNOWFLAKE_UPDATE_SCREENSHOT=1.
set -euo pipefail
page="$(realpath "$1")"
out="$(realpath -m "$2")"
size="${3:-1280x1600}"
browser="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
if [[ -z "$browser" ]]; then
    echo "chromium is not installed (Debian: apt-get install -y chromium)" >&2
    exit 3
fi
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --proxy-server=127.0.0.1:9 --host-resolver-rules='MAP * ~NOTFOUND' \
    --user-data-dir="$profile" --hide-scrollbars --window-size="${size/x/,}" \
    --screenshot="$out" "file://$page" >/dev/null 2>&1
test -s "$out"
