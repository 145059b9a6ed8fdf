# Sourced by the install scripts: `apt_ensure PKG...` installs the Debian packages that are not
# installed yet (nothing to do, no apt call, on a warm machine). Logs through the caller's `log`.
apt_ensure() {
  local need=() p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  if ((${#need[@]})); then
    log "apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "${need[@]}" >&2
  fi
}
