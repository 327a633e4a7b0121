#!/bin/bash
# RepSim end to end in a real VS Code: code-server 4.100.3 (= VS Code 1.100.3, the last release
# whose engines allow Node 20) driven by playwright-core with Debian's chromium. Works offline
# (npm registry and Debian apt only), as root, on Node 20.
#
#   1. apt, for what is missing: chromium, libkrb5-dev (code-server's kerberos module builds
#      against gssapi), ripgrep (replaces the binary @vscode/ripgrep would download from
#      GitHub), unzip, curl, build-essential;
#   2. npm: code-server and playwright-core into $E2E_DIR/tools (once; reused after).
#      Their native modules build with node-gyp against the Node headers of `nodedir`;
#   3. builds the bundles (production) and packages this platform's .vsix with
#      scripts/package.mjs (`npm run package -- --target linux-x64` here: onnxruntime-node's
#      linux/x64 binaries only), checks it, its onnxruntime-node, server and CLI unpacked
#      (packagedServer.ts);
#   4. installs it into a private code-server, starts that on 127.0.0.1 (setsid; the whole
#      process group is killed on exit), and drives it: driver/ui.ts (palette → Compare Models
#      → panel, heatmap, cancel) and driver/extensionTests.ts (extension-host/index.ts inside
#      the extension host).
#
# usage: bash test/e2e/run-e2e.sh
# env:   E2E_DIR (default <repo>/.e2e), PORT (default: a free one), COLD=1 (private npm cache),
#        E2E_RUN_TIMEOUT_S (a run's time limit in the UI test, default 420)
# Prints one 'e2e-check PASS|FAIL …' line per check, then 'e2e: N passed, M failed'; exits
# non-zero on any failure. Screenshots go to test-artifacts/ (e2e-panel.png and friends).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
E2E=${E2E_DIR:-$REPO/.e2e}
ARTIFACTS=$REPO/test-artifacts
CODE_SERVER_VERSION=4.100.3
TOOLS_SPEC="code-server@$CODE_SERVER_VERSION playwright-core@1"
T0=$(date +%s)
step() { echo "[$(($(date +%s) - T0))s] $*"; }

# Each run starts from a fresh VS Code profile (no window state, extensions or logs of the last one).
rm -rf "$E2E/state" "$E2E/logs" "$ARTIFACTS/e2e-logs" && rm -f "$ARTIFACTS"/e2e-*.png
mkdir -p "$E2E"/{tmp,tools,state/ud/User,state/exts,logs} "$ARTIFACTS"
# Nothing lands in the home directory: temp files, config, caches all go under $E2E.
export TMPDIR=$E2E/tmp XDG_CONFIG_HOME=$E2E/state/config XDG_DATA_HOME=$E2E/state/data XDG_CACHE_HOME=$E2E/state/cache
[ "${COLD:-0}" = 1 ] && export npm_config_cache=$E2E/npm-cache
cd "$REPO"

step "system packages: chromium, libkrb5-dev, ripgrep, unzip, curl (+ g++/make for code-server's native modules)"
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v rg >/dev/null || need+=(ripgrep)
[ -e /usr/include/gssapi/gssapi.h ] || need+=(libkrb5-dev)
command -v unzip >/dev/null || need+=(unzip)
command -v curl >/dev/null || need+=(curl)
{ command -v g++ && command -v make; } >/dev/null || need+=(build-essential)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "run-e2e: install ${need[*]} (apt) first, or run as root" >&2; exit 2; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

step "tools: $TOOLS_SPEC"
if [ "$(cat "$E2E/tools/.installed" 2>/dev/null)" != "$TOOLS_SPEC" ]; then
  # @vscode/ripgrep's postinstall downloads rg from GitHub unless its cache already holds it.
  mkdir -p "$TMPDIR/vscode-ripgrep-cache-1.15.11" "$TMPDIR/rgseed" && cp "$(command -v rg)" "$TMPDIR/rgseed/rg"
  tar czf "$TMPDIR/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$TMPDIR/rgseed" rg
  (cd "$E2E/tools" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    # unsafe_perm: code-server's postinstall refuses root without it; yes: node-pty's runs 'npx node-gyp';
    # allow scripts: npm 11 skips dependencies' install scripts (code-server builds its native modules in one).
    npm_config_unsafe_perm=true npm_config_yes=true npm_config_dangerously_allow_all_scripts=true \
      npm install --no-audit --no-fund $TOOLS_SPEC >"$E2E/logs/npm-install.log" 2>&1) ||
    { tail -40 "$E2E/logs/npm-install.log"; exit 1; }
  [ -e "$E2E/tools/node_modules/code-server/lib/vscode/node_modules.asar" ] ||
    { echo "run-e2e: code-server's postinstall did not run (see $E2E/logs/npm-install.log)" >&2; exit 1; }
  echo "$TOOLS_SPEC" >"$E2E/tools/.installed"
fi
CODE_SERVER=$E2E/tools/node_modules/.bin/code-server
export PLAYWRIGHT_CORE=$E2E/tools/node_modules/playwright-core

# This machine's vsce target (linux-x64 in CI): the .vsix carries only its onnxruntime binaries.
TARGET=$(node -p 'process.platform + "-" + process.arch')
step "build (production) and package the $TARGET .vsix (scripts/package.mjs)"
# scripts/package.mjs builds for production, then packages from a staging copy (vsce matches
# every file under its folder against every ignore pattern; $E2E alone holds tens of thousands).
rm -f "$E2E"/repsim-*.vsix
node scripts/package.mjs --target "$TARGET" --out-dir "$E2E" >"$E2E/logs/vsce.log" 2>&1 || { cat "$E2E/logs/vsce.log"; exit 1; }
VSIX=$(ls "$E2E"/repsim-"$TARGET"-*.vsix)
ls -l "$VSIX" | awk '{printf "vsix: %s, %s bytes\n", $9, $5}'
rm -rf "$E2E/unpacked" && mkdir -p "$E2E/unpacked" && unzip -q "$VSIX" -d "$E2E/unpacked"

LOGS=()
step "packaged extension: contents, onnxruntime-node, server and CLI from the unpacked .vsix"
node --import tsx test/e2e/packagedServer.ts "$VSIX" 2>&1 | tee "$E2E/logs/packaged.log" || true
LOGS+=("$E2E/logs/packaged.log")

step "install into code-server; test workspace; extension-host test module"
"$CODE_SERVER" --user-data-dir "$E2E/state/ud" --extensions-dir "$E2E/state/exts" --install-extension "$VSIX" --force >"$E2E/logs/install.log" 2>&1 ||
  { cat "$E2E/logs/install.log"; exit 1; }
cat >"$E2E/state/ud/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "security.workspace.trust.enabled": false
}
JSON
WS=$E2E/ws
node --import tsx test/e2e/makeWorkspace.ts "$WS"
npx --no-install esbuild test/e2e/extension-host/index.ts --bundle --platform=node --format=cjs --target=node20 \
  --external:vscode --outfile="$E2E/ext-tests/index.js" --log-level=warning

PORT=${PORT:-$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")}
step "start code-server on 127.0.0.1:$PORT"
MARKER=$E2E/ext-tests/results.json
REPSIM_E2E_MARKER=$MARKER setsid "$CODE_SERVER" --user-data-dir "$E2E/state/ud" --extensions-dir "$E2E/state/exts" \
  --bind-addr "127.0.0.1:$PORT" --auth none --disable-telemetry --disable-update-check --disable-workspace-trust \
  "$WS" >"$E2E/logs/code-server.log" 2>&1 </dev/null &
CODE_SERVER_PID=$!
# setsid: code-server, its extension hosts and RepSim's compute servers share one process group.
trap 'kill -- -$CODE_SERVER_PID 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { tail -30 "$E2E/logs/code-server.log"; exit 1; }

step "UI: open the experiment, Compare Models, panel + heatmap, cancel a second run"
node --import tsx test/e2e/driver/ui.ts "http://127.0.0.1:$PORT" "$WS" "$ARTIFACTS/e2e-panel.png" 2>&1 | tee "$E2E/logs/ui.log" || true
LOGS+=("$E2E/logs/ui.log")

step "extension tests inside the extension host (URL payload: extensionDevelopmentPath + extensionTestsPath)"
E2E_EXT_TESTS_SHOT=$ARTIFACTS/e2e-extension-tests.png node --import tsx test/e2e/driver/extensionTests.ts \
  "$PORT" "$E2E/unpacked/extension" "$E2E/ext-tests/index.js" "$WS" "$MARKER" 2>&1 | tee "$E2E/logs/extension-tests.log" || true
LOGS+=("$E2E/logs/extension-tests.log")

passed=$(cat "${LOGS[@]}" | grep -c '^e2e-check PASS' || true)
failed=$(cat "${LOGS[@]}" | grep -c '^e2e-check FAIL' || true)
if [ "$failed" != 0 ] || [ "$passed" = 0 ]; then
  # The extension's own log (output channel "RepSim") and the server's, for the failure report.
  for log in $(find "$E2E/state/ud/logs" -name '*RepSim*.log' 2>/dev/null | tail -2); do
    echo "--- $log (last 40 lines)"; tail -40 "$log"
  done
  cp -r "$E2E/logs" "$ARTIFACTS/e2e-logs" 2>/dev/null || true
fi
step "done"
echo "e2e: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" != 0 ]
