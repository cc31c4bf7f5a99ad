#!/bin/sh
# Builds each vendored crate from its published .crate file (pinned in vendor/crates.sha256)
# plus the patches in vendor/patches, applied in file-name order.
#
#   vendor/apply.sh            replace vendor/<crate> (after a version bump or a patch edit)
#   vendor/apply.sh OUT_DIR    write OUT_DIR/<crate> instead (vendor/check.sh does this)
#
# A .crate is taken from $VENDOR_CRATE_CACHE (default: target/vendor-crates), else from
# cargo's registry cache, else downloaded from crates.io; its SHA-256 must match the pin.
# A patch belongs to the crate named after its number: NNNN-<crate>-<name>.patch, the
# longest crate name that fits (so an rtc patch's name must not start with "sctp-" or "ice-").
set -eu

vendor=$(cd "$(dirname "$0")" && pwd)
out=${1:-$vendor}
cache=${VENDOR_CRATE_CACHE:-$vendor/../target/vendor-crates}
mkdir -p "$out" "$cache"
out=$(cd "$out" && pwd)

# "rtc-sctp-0.21.1.crate" -> "rtc-sctp"
crate_name() {
    base=${1%.crate}
    echo "${base%-"$(echo "$base" | sed -E 's/^.*-([0-9]+\.[0-9]+\.[0-9]+.*)$/\1/')"}"
}

names=$(while read -r _ file; do crate_name "$file"; done < "$vendor/crates.sha256")

# The crate a patch file belongs to (empty if none).
crate_of() {
    patch_file=$(basename "$1")
    best=
    for n in $names; do
        case $patch_file in
        [0-9][0-9][0-9][0-9]-"$n"-*) if [ ${#n} -gt ${#best} ]; then best=$n; fi ;;
        esac
    done
    echo "$best"
}

# Puts the pinned .crate file in the cache and prints its path.
fetch() {
    sum=$1 file=$2 name=$3
    dest=$cache/$file
    if ! echo "$sum  $dest" | sha256sum -c --status 2>/dev/null; then
        registry=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$file" 2>/dev/null | head -n 1 || true)
        if [ -n "$registry" ]; then
            cp "$registry" "$dest.part"
        else
            curl -sSfL --retry 3 -o "$dest.part" "https://static.crates.io/crates/$name/$file" || {
                echo "apply.sh: cannot download $file; put it in $cache" >&2
                exit 1
            }
        fi
        mv "$dest.part" "$dest"
        echo "$sum  $dest" | sha256sum -c --status || {
            echo "apply.sh: $dest does not match its SHA-256 in vendor/crates.sha256" >&2
            exit 1
        }
    fi
    echo "$dest"
}

tmp=$(mktemp -d "$out/.apply.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

while read -r sum file; do
    name=$(crate_name "$file")
    crate=$(fetch "$sum" "$file" "$name")
    tar -xzf "$crate" -C "$tmp"
    dir=$tmp/${file%.crate}
    for p in "$vendor"/patches/*.patch; do
        [ -e "$p" ] && [ "$(crate_of "$p")" = "$name" ] || continue
        # No fuzz: a patch that no longer applies exactly must be rebased, not guessed.
        patch -d "$dir" -p1 --batch --quiet --fuzz=0 --no-backup-if-mismatch -i "$p" >&2 || {
            echo "apply.sh: $(basename "$p") does not apply to $file" >&2
            exit 1
        }
    done
    rm -rf "${out:?}/$name"
    mv "$dir" "$out/$name"
done < "$vendor/crates.sha256"
