# Sourced by scripts that need the Node packages: `node_ensure` checks Node.js (20 or later, the
# machine's) and installs the workspace's packages from the committed lockfile (`npm ci`, with
# npm's cache in ~/.npm), again only when the lockfile changed. Logs through the caller's `log`.
node_ensure() {
  local major stamp want
  major=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/')
  if [ "${major:-0}" -lt 20 ]; then
    log "Node.js 20 or later is needed (found: $(node --version 2>/dev/null || echo none))"
    return 1
  fi
  stamp=node_modules/.ballast-lock.sha256
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error >&2
    echo "$want" >"$stamp"
  fi
}
