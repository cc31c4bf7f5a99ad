#!/usr/bin/env bash
# install-debian.sh DEST PACKAGE BINARY...
#
# Installs a Debian package (default: from forky = testing) into a private prefix DEST/root
# WITHOUT touching the host's dpkg/apt state, and writes for each BINARY (a path inside the
# package, e.g. /usr/bin/turnserver or /usr/lib/chromium/chromium) a wrapper DEST/<its name>
# that behaves like it (args passed through, exit code kept). No root needed.
#
# How: an isolated apt (own config, own sources, own lists/cache, EMPTY dpkg status)
# resolves the full dependency closure of PACKAGE (incl. Debian's libc6/ld.so), downloads
# it, `dpkg-deb -x`s every .deb into DEST/root, then patchelf (also from Debian) points
# each BINARY's ELF interpreter at DEST/root's ld-linux-x86-64.so.2 and its DT_RPATH at
# DEST/root's lib dirs ($ORIGIN-relative). Host libraries are never mixed in,
# /proc/self/exe is the real binary (so programs that re-execute themselves, like
# godot's OS.get_executable_path() or chromium's zygote, work), and child processes
# (/bin/sh ...) are not polluted by LD_LIBRARY_PATH. When a BINARY lives in a directory
# of its own (not */bin or */sbin, e.g. /usr/lib/chromium), every other executable there
# (helpers the program starts, e.g. chrome_crashpad_handler) is relocated the same way.
#
# Idempotent: a second run with an intact install is a no-op (no network). Downloaded
# .debs are kept in $DEB_CACHE (default DEST/cache) and re-used. DEST/.lock serialises
# concurrent runs for the same DEST (and $DEB_CACHE/.lock those sharing a cache).
#
# Environment knobs:
#   DEB_SUITE          default "forky" (Debian testing; "sid" works the same, moves faster)
#   DEB_MIRROR         default "http://deb.debian.org/debian"
#   DEB_CACHE          default "DEST/cache" (apt lists + .debs; cache this dir in CI)
#   DEB_PRUNE=0        keep packages a headless program never loads, which are left out by
#                      default: the GPU driver stack (mesa-libgallium/libLLVM/libz3, ~50 MB
#                      download, ~230 MB on disk) and maintainer-script-only packages. If
#                      the pruned install misses a library or fails its smoke test, the
#                      full closure is installed instead.
#   DEB_PRUNE_MORE     extended regex of more package names to leave out (e.g. "systemd|dbus")
#   DEB_PRUNE_FILES    paths (globs, relative to the prefix) to delete after unpacking, e.g.
#                      "usr/lib/chromium/libVkLayer_*" (with DEB_PRUNE=1 only)
#   DEB_REFRESH=1      re-read the archive index and reinstall if the closure changed
#   DEB_SMOKE          arguments of the smoke test run with the first BINARY's wrapper,
#                      default "--version" (word-split); its first output line is logged
#   DEB_WRAPPER_PRELUDE  sh lines written into each wrapper before its exec, "@DEST@"
#                      replaced by DEST (e.g. environment defaults)
#   DEB_FONTCONFIG=1   write DEST/fonts.conf (the prefix's fonts only, cache under DEST)
#                      and make the wrappers use it unless FONTCONFIG_FILE is set
#   DEB_QUIET=1        print nothing when already installed
#   DEB_EXTRA          more packages installed with PACKAGE (space-separated), e.g. the C
#                      library a cross compiler only recommends
#   DEB_ARCH           Debian architecture of the packages, default amd64. Another one (e.g.
#                      arm64) is unpacked as is (no patchelf) and each wrapper runs its BINARY
#                      with DEB_EMULATOR -L DEST/root (qemu-user: the program's ld.so and
#                      libraries are then read from the prefix)
#   DEB_EMULATOR       the qemu-user binary for DEB_ARCH (required with a foreign DEB_ARCH)
#   DEB_LOG            prefix of messages, default "install-debian"
# Requires: bash, apt-get, dpkg-deb, flock, debian-archive-keyring (all on stock Debian).
set -euo pipefail

NAME=${DEB_LOG:-install-debian}
die() { echo "$NAME: $*" >&2; exit 1; }
log() { echo "$NAME: $*" >&2; }

[ $# -ge 3 ] || die "usage: $0 DEST PACKAGE BINARY..."
DEST=$(realpath -m -- "$1")
PKG=$2
shift 2
BINARIES=()
for b in "$@"; do
  case "$b" in /*) ;; *) b=/$b ;; esac
  BINARIES+=("$b")
done
PKGNAME=${PKG%%=*}
read -ra EXTRA <<<"${DEB_EXTRA:-}"
ARCH=${DEB_ARCH:-amd64}
EMULATOR=${DEB_EMULATOR:-}
FOREIGN=0
if [ "$ARCH" != amd64 ]; then
  FOREIGN=1
  [ -x "$EMULATOR" ] || die "DEB_ARCH=$ARCH needs DEB_EMULATOR (a qemu-user binary), got '$EMULATOR'"
fi
SUITE=${DEB_SUITE:-forky}
MIRROR=${DEB_MIRROR:-http://deb.debian.org/debian}
CACHE=$(realpath -m -- "${DEB_CACHE:-$DEST/cache}")
PRUNE=${DEB_PRUNE:-1}
PRUNE_MORE=${DEB_PRUNE_MORE:-}
PRUNE_FILES=${DEB_PRUNE_FILES:-}
REFRESH=${DEB_REFRESH:-0}
SMOKE=${DEB_SMOKE:---version}
PRELUDE=${DEB_WRAPPER_PRELUDE:-}
FONTCONFIG=${DEB_FONTCONFIG:-0}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
TRIPLET=x86_64-linux-gnu

[ "$(uname -m)" = x86_64 ] || die "only x86_64 is supported by this recipe"
for t in apt-get apt-cache dpkg-deb flock realpath; do
  command -v "$t" >/dev/null || die "missing tool: $t"
done
[ -r "$KEYRING" ] || die "missing $KEYRING (apt-get install debian-archive-keyring)"

mkdir -p "$DEST" "$CACHE"
exec 9>"$DEST/.lock"
flock 9

ROOT=$DEST/root
LDSO=$ROOT/usr/lib/$TRIPLET/ld-linux-x86-64.so.2
STAMP=$DEST/.installed
# The first line of the stamp: what was asked for (a change reinstalls).
KEY="spec=$PKG${EXTRA[*]:+ extra=${EXTRA[*]}}${DEB_ARCH:+ arch=$ARCH} suite=$SUITE prune=$PRUNE${PRUNE_MORE:+ prune_more=$PRUNE_MORE}${PRUNE_FILES:+ prune_files=$PRUNE_FILES}"
FIRST=$DEST/$(basename "${BINARIES[0]}")

# ---- wrappers ------------------------------------------------------------------------
wrapper_text() {  # $1 = binary path inside the package
  echo "#!/bin/sh"
  echo "# Generated by install-debian.sh: runs $1 of Debian's $PKGNAME from a private prefix."
  [ -z "$PRELUDE" ] || printf '%s\n' "${PRELUDE//@DEST@/$DEST}"
  if [ "$FONTCONFIG" = 1 ]; then
    echo "# Fonts of the prefix only (set FONTCONFIG_FILE to use others)."
    echo ": \"\${FONTCONFIG_FILE:=$DEST/fonts.conf}\""
    echo "export FONTCONFIG_FILE"
  fi
  if [ "$FOREIGN" = 1 ]; then
    echo "exec \"$EMULATOR\" -L \"$ROOT\" \"$ROOT$1\" \"\$@\""
  else
    echo "exec \"$ROOT$1\" \"\$@\""
  fi
}
write_wrappers() {  # rewrites a wrapper only when its text changed
  local b w
  for b in "${BINARIES[@]}"; do
    w=$DEST/$(basename "$b")
    if [ "$(wrapper_text "$b")" != "$(cat "$w" 2>/dev/null)" ]; then
      wrapper_text "$b" >"$w.tmp"
      chmod +x "$w.tmp"
      mv "$w.tmp" "$w"
    fi
  done
  if [ "$FONTCONFIG" = 1 ]; then
    fonts_conf >"$DEST/fonts.conf.tmp"
    if cmp -s "$DEST/fonts.conf.tmp" "$DEST/fonts.conf"; then rm "$DEST/fonts.conf.tmp"
    else mv "$DEST/fonts.conf.tmp" "$DEST/fonts.conf"; fi
  fi
}
fonts_conf() {
  cat <<EOF
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<!-- Generated by install-debian.sh: the fonts of $ROOT only. -->
<fontconfig>
  <dir>$ROOT/usr/share/fonts</dir>
  <cachedir>$DEST/fontconfig-cache</cachedir>
  <alias><family>sans-serif</family><prefer><family>DejaVu Sans</family></prefer></alias>
  <alias><family>serif</family><prefer><family>DejaVu Serif</family></prefer></alias>
  <alias><family>monospace</family><prefer><family>DejaVu Sans Mono</family></prefer></alias>
</fontconfig>
EOF
}
smoke() {  # prints the first output line of the smoke test
  local out
  # shellcheck disable=SC2086  # DEB_SMOKE is a list of arguments
  out=$("$FIRST" $SMOKE 2>/dev/null </dev/null) || return 1
  head -n1 <<<"$out"
}
installed_binaries() {
  local b
  for b in "${BINARIES[@]}"; do [ -x "$ROOT$b" ] || return 1; done
}
have_wrappers() {  # a BINARY without its wrapper was added since: relocate it first
  local b
  for b in "${BINARIES[@]}"; do [ -x "$DEST/$(basename "$b")" ] || return 1; done
}

# ---- fast path: already installed and working -> nothing to do (no network) --------
if [ "$REFRESH" != 1 ] && [ -f "$STAMP" ] && grep -qxF "$KEY" "$STAMP" && installed_binaries &&
   have_wrappers && write_wrappers && v=$(smoke); then
  [ "${DEB_QUIET:-0}" = 1 ] || log "already installed: $v ($FIRST)"
  exit 0
fi

if [ "$CACHE" != "$DEST/cache" ]; then  # a cache shared by several DESTs
  exec 8>"$CACHE/.lock"
  flock 8
fi

# ---- isolated apt configuration (never reads /etc/apt) -----------------------------
A=$CACHE/apt
mkdir -p "$A"/etc/apt.conf.d "$A"/etc/sources.list.d "$A"/etc/preferences.d \
         "$A"/etc/trusted.gpg.d "$A"/state/lists/partial "$A"/cache/archives/partial \
         "$A"/dpkg/updates "$A"/dpkg/info "$CACHE/debs"
: >"$A/dpkg/status"              # empty dpkg database => apt resolves the FULL closure
: >"$A/etc/apt.conf"
rm -f "$A"/etc/sources.list.d/*.sources
cat >"$A/etc/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE
Components: main
Signed-By: $KEYRING
Check-Valid-Until: no
EOF
cat >"$A/apt.conf" <<EOF
Dir::Etc "$A/etc/";
Dir::Etc::main "apt.conf";
Dir::Etc::Parts "apt.conf.d";
Dir::Etc::SourceList "sources.list";
Dir::Etc::SourceParts "sources.list.d";
Dir::Etc::Preferences "preferences";
Dir::Etc::PreferencesParts "preferences.d";
Dir::Etc::TrustedParts "trusted.gpg.d";
Dir::State "$A/state/";
Dir::State::status "$A/dpkg/status";
Dir::Cache "$A/cache/";
Dir::Log "$A/log/";
APT::Architecture "$ARCH";
APT::Architectures { "$ARCH"; };
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT::Sandbox::User "root";
Acquire::Languages "none";
Acquire::Retries "3";
Acquire::GzipIndexes "true";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
EOF
export APT_CONFIG=$A/apt.conf
APT_Q=(-q -o Dpkg::Use-Pty=0)

update_lists() { log "apt-get update ($SUITE)"; apt-get "${APT_Q[@]}" update >&2; }
if [ "$REFRESH" = 1 ] || ! ls "$A"/state/lists/*_Packages* >/dev/null 2>&1; then
  update_lists
fi

# ---- resolve the dependency closure -------------------------------------------------
resolve() {  # prints name=version lines (patchelf only for the host's architecture)
  local tools=(patchelf)
  [ "$FOREIGN" = 1 ] && tools=()
  apt-get -s "${APT_Q[@]}" install "$PKG" "${EXTRA[@]}" "${tools[@]}" 2>/dev/null |
    sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1=\2/p'
}
CLOSURE=$(resolve) || true
if ! grep -q "^$PKGNAME=" <<<"$CLOSURE"; then
  update_lists                     # stale lists (e.g. pinned version is newer)
  CLOSURE=$(resolve) || true
  grep -q "^$PKGNAME=" <<<"$CLOSURE" ||
    { apt-get -s install "$PKG" >&2 || true; die "cannot resolve '$PKG' in $SUITE"; }
fi
# Packages a headless program never loads: Mesa's gallium driver (dlopen'ed by libgbm
# only with a GPU) and what only it pulls in, plus maintainer-script-only packages.
PRUNE_RE='mesa-libgallium|libllvm[0-9]+|libz3-[0-9]+|libxml2(-[0-9]+)?|libedit2|libsensors[0-9]+|libsensors-config|libelf1(t64)?|libdrm-amdgpu1|libdrm-intel1|libpciaccess0|pci\.ids|libtinfo6|libbsd0|libmd0|debconf|sysvinit-utils|lsb-base|isa-support|sse4\.2-support'
PRUNE_RE="^($PRUNE_RE${PRUNE_MORE:+|$PRUNE_MORE})="

# Executables to relocate: the BINARYs, and the other executables of their own directories.
targets() {  # $1 = root
  local b d f
  for b in "${BINARIES[@]}"; do
    echo "$1$b"
    d=$(dirname "$b")
    case "$d" in */bin|*/sbin) continue ;; esac
    for f in "$1$d"/*; do
      [ -f "$f" ] && [ -x "$f" ] && [ ! -L "$f" ] && [ "$f" != "$1$b" ] &&
        "${PE[@]}" --print-interpreter "$f" >/dev/null 2>&1 && echo "$f"
    done
  done | sort -u
}

relocate() {  # $1 = root being built (installed later as $ROOT)
  if [ "$FOREIGN" = 1 ]; then  # run by qemu -L: nothing to rewrite, but the loader's path
    local d                    # (/lib/ld-linux-*.so.1) must exist in the prefix
    for d in lib lib64; do [ -e "$1/$d" ] || ln -s usr/$d "$1/$d"; done
    return 0
  fi
  local nldso=$1/usr/lib/$TRIPLET/ld-linux-x86-64.so.2 f rp e out rel
  PE=("$nldso" --library-path "$1/usr/lib/$TRIPLET" "$1/usr/bin/patchelf")
  [ -x "$nldso" ] || die "ld.so missing in the closure"
  for f in "${BINARIES[@]}"; do [ -x "$1$f" ] || die "$f is not in $PKG's closure"; done
  # interpreter + rpath of the executables point into DEST/root
  while IFS= read -r f; do
    "${PE[@]}" --print-interpreter "$f" >/dev/null 2>&1 || continue  # static: nothing to point
    rel=\$ORIGIN/$(realpath -m --relative-to="$(dirname "$f")" "$1/usr/lib/$TRIPLET")
    rp=$rel
    [ -d "$1/usr/lib/$TRIPLET/pulseaudio" ] && rp=$rp:$rel/pulseaudio
    # (an executable relocated already is left alone: it may be running)
    [ "$("${PE[@]}" --print-interpreter "$f")" = "$LDSO" ] &&
      [ "$("${PE[@]}" --print-rpath "$f")" = "$rp" ] && continue
    # Two runs, the rpath first: patchelf 0.18 doing both at once (or the interpreter
    # first) leaves large non-PIE executables (gcc's cc1) segfaulting at start.
    "${PE[@]}" --force-rpath --set-rpath "$rp" "$f"
    "${PE[@]}" --set-interpreter "$LDSO" "$f"
  done < <(targets "$1")
  # libraries with an absolute RUNPATH (e.g. libpulse -> /usr/lib/.../pulseaudio) would
  # search the HOST; rewrite each absolute entry to an $ORIGIN-relative one.
  while IFS= read -r -d '' f; do
    rp=$("${PE[@]}" --print-rpath "$f" 2>/dev/null) || continue
    case "$rp" in /*|*:/*) ;; *) continue ;; esac
    out=
    IFS=: read -ra parts <<<"$rp"
    for e in "${parts[@]}"; do
      case "$e" in /*) e="\$ORIGIN/$(realpath -m --relative-to="$(dirname "$f")" "$1$e")" ;; esac
      out=${out:+$out:}$e
    done
    "${PE[@]}" --set-rpath "$out" "$f"
  done < <(find "$1/usr/lib/$TRIPLET" -path '*/gconv' -prune -o -type f -name '*.so*' -print0)
}

install_closure() {  # $1 = prune flag
  local list=$CLOSURE what
  [ "$1" = 1 ] && list=$(grep -Ev "$PRUNE_RE" <<<"$list")
  what=$list
  [ "$1" = 1 ] && [ -n "$PRUNE_FILES" ] && what+=$'\n'"# without $PRUNE_FILES"
  if installed_binaries && [ "$what" = "$(cat "$DEST/packages.txt" 2>/dev/null)" ]; then
    log "closure unchanged; keeping $ROOT"
    relocate "$ROOT"               # BINARYs added since are relocated too
    return 0
  fi
  mapfile -t SPECS <<<"$list"
  log "closure: ${#SPECS[@]} packages (prune=$1)"
  # exact file names, then download only what is not cached yet
  # (--print-uris omits files already present in the cwd, so ask from an empty dir)
  local tmpd; tmpd=$(mktemp -d)
  mapfile -t FILES < <(cd "$tmpd" && apt-get "${APT_Q[@]}" --print-uris download "${SPECS[@]}" | awk '{print $2}')
  rmdir "$tmpd"
  [ "${#FILES[@]}" -eq "${#SPECS[@]}" ] || die "could not map packages to files"
  (cd "$CACHE/debs" && apt-get "${APT_Q[@]}" download "${SPECS[@]}" >&2)

  local new=$DEST/root.new
  rm -rf "$new" && mkdir -p "$new"
  log "extracting into $ROOT"
  printf '%s\n' "${FILES[@]}" | (cd "$CACHE/debs" && xargs -P 2 -I{} dpkg-deb -x {} "$new")
  # documentation, and translations: the prefix's libc looks for them in the host's /usr/share
  rm -rf "$new"/usr/share/doc "$new"/usr/share/man "$new"/usr/share/lintian "$new"/usr/share/locale
  if [ "$1" = 1 ] && [ -n "$PRUNE_FILES" ]; then
    local g
    for g in $PRUNE_FILES; do (cd "$new" && rm -rf -- $g); done
  fi

  relocate "$new"
  rm -rf "$DEST/root.old"
  [ -e "$ROOT" ] && mv "$ROOT" "$DEST/root.old"
  mv "$new" "$ROOT"
  rm -rf "$DEST/root.old"
  printf '%s\n' "$what" >"$DEST/packages.txt"
}

check_libs() {  # every NEEDED lib of every relocated executable must resolve inside DEST/root
  local out f
  [ "$FOREIGN" = 1 ] && return 0  # (the smoke test runs it under qemu instead)
  PE=("$LDSO" --library-path "$ROOT/usr/lib/$TRIPLET" "$ROOT/usr/bin/patchelf")
  while IFS= read -r f; do
    "${PE[@]}" --print-interpreter "$f" >/dev/null 2>&1 || continue  # static
    out=$("$LDSO" --list "$f" 2>&1) || { echo "$out" >&2; return 1; }
    if grep -E 'not found' <<<"$out" >&2; then return 1; fi
    if grep -E '=> /' <<<"$out" | grep -vF " $ROOT/" >&2; then return 1; fi
  done < <(targets "$ROOT")
}

works() { check_libs && write_wrappers && v=$(smoke); }

install_closure "$PRUNE"
if ! works; then
  [ "$PRUNE" = 1 ] || die "$PKGNAME does not run from $ROOT (its libraries, or: $FIRST $SMOKE)"
  log "the pruned closure misses something; installing the full closure"
  install_closure 0
  works || die "$PKGNAME does not run from $ROOT (its libraries, or: $FIRST $SMOKE)"
fi

{ echo "$KEY"; echo "version=$v"; } >"$STAMP"
rm -f "$A"/cache/*.bin            # apt's binary caches (~100 MB) are rebuilt on demand
log "installed $PKGNAME $v -> $(for b in "${BINARIES[@]}"; do printf '%s ' "$DEST/$(basename "$b")"; done)($(du -sh "$ROOT" | cut -f1) prefix)"
