#!/bin/sh
# Checks that vendor/ is what vendor/README.md says: each vendor/<crate> is its published
# crate plus vendor/patches and nothing else, every `webrtc-rs-godot patch` marker comes from
# a patch, every patch adds one and is listed in the README. Run by the xtask tests
# (rust/xtask/tests/vendor_patches.rs).
#
#   vendor/check.sh [WORK_DIR]    (default target/vendor-check; the .crate files are cached
#                                  as vendor/apply.sh says)
set -eu

vendor=$(cd "$(dirname "$0")" && pwd)
work=${1:-$vendor/../target/vendor-check}
marker="webrtc-rs-godot patch"
failed=0
problem() {
    echo "vendor/check.sh: $*" >&2
    failed=1
}

names=$(while read -r _ file; do
    base=${file%.crate}
    echo "${base%-"$(echo "$base" | sed -E 's/^.*-([0-9]+\.[0-9]+\.[0-9]+.*)$/\1/')"}"
done < "$vendor/crates.sha256")

# vendor/ holds the crates and the files that make them, nothing else.
for entry in "$vendor"/* "$vendor"/.[!.]*; do
    [ -e "$entry" ] || continue
    case " README.md apply.sh check.sh crates.sha256 patches $(echo $names) " in
    *" $(basename "$entry") "*) ;;
    *) problem "vendor/$(basename "$entry") is neither a pinned crate nor part of the patch machinery" ;;
    esac
done

mkdir -p "$work"
: > "$work/markers.added"
# Each patch belongs to a crate, adds a marker and is listed in the README.
for p in "$vendor"/patches/*; do
    [ -e "$p" ] || continue
    b=$(basename "$p")
    crate=
    for n in $names; do
        case $b in
        [0-9][0-9][0-9][0-9]-"$n"-*.patch) if [ ${#n} -gt ${#crate} ]; then crate=$n; fi ;;
        esac
    done
    [ -n "$crate" ] || problem "patches/$b is not named NNNN-<crate>-<name>.patch for a crate of crates.sha256"
    grep -qF "$b" "$vendor/README.md" || problem "patches/$b is not listed in vendor/README.md"
    # Markers the patch adds (or removes), per file of its crate; only diff lines count,
    # not the message above them.
    added=$(awk -v crate="$crate" -v marker="$marker" '
        /^--- / { in_diff = 1; next }
        /^\+\+\+ b\// { file = crate "/" substr($0, 7); next }
        in_diff && /^\+/ && index($0, marker) { print file, 1 }
        in_diff && /^-/ && index($0, marker) { print file, -1 }
    ' "$p")
    echo "$added" | grep -q ' 1$' || problem "patches/$b adds no '$marker' marker"
    echo "$added" >> "$work/markers.added"
done
for listed in $(grep -o '[0-9]\{4\}-[A-Za-z0-9._-]*\.patch' "$vendor/README.md" | sort -u); do
    [ -f "$vendor/patches/$listed" ] || problem "vendor/README.md lists $listed, which is not in vendor/patches"
done

# Rebuild every crate from the published .crate and the patches; vendor/ must be identical.
rm -rf "$work/tree"
sh "$vendor/apply.sh" "$work/tree"
for n in $names; do
    if ! diff -r "$work/tree/$n" "$vendor/$n" > "$work/$n.diff"; then
        problem "vendor/$n is not the published crate plus its patches (vendor/apply.sh regenerates it):"
        head -n 40 "$work/$n.diff" >&2
    fi
done

# Markers: per file, as many in vendor/ as the patches add. With the trees identical, a
# marker not counted here would be in the published crate, i.e. not ours.
awk 'NF == 2 { n[$1] += $2 } END { for (f in n) if (n[f]) print f, n[f] }' "$work/markers.added" \
    | sort > "$work/markers.patches"
for n in $names; do
    (cd "$vendor" && grep -rc -- "$marker" "$n" | grep -v ':0$' | sed 's|:\([0-9]*\)$| \1|')
done | sort > "$work/markers.vendor"
if ! diff "$work/markers.patches" "$work/markers.vendor" > "$work/markers.diff"; then
    problem "markers in vendor/ (>) and added by patches (<) differ (file, count):"
    cat "$work/markers.diff" >&2
fi

# Files a .gitignore of a published crate hides (their Cargo.lock) must be committed anyway.
if git -C "$vendor" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
    ignored=$(cd "$vendor" && git ls-files --others --ignored --exclude-standard -- $names)
    [ -z "$ignored" ] || problem "ignored by git, add with 'git add -f': $ignored"
fi

[ "$failed" = 0 ] && echo "vendor/check.sh: vendor/ is the published crates plus $(ls "$vendor"/patches/*.patch | wc -l) listed patches"
exit "$failed"
