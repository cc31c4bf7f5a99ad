//! vendor/ is the published crates plus the patches listed in vendor/README.md, nothing else:
//! runs vendor/check.sh, which rebuilds every vendored crate from its pinned .crate file and
//! vendor/patches and compares it with vendor/<crate>. The .crate files are cached under this
//! target directory (downloaded from crates.io when neither it nor cargo's cache has them).

use std::path::Path;
use std::process::Command;

#[test]
fn vendor_is_the_published_crates_plus_the_listed_patches() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let out = Command::new("sh")
        .arg(root.join("vendor/check.sh"))
        .arg(tmp.join("vendor-check"))
        .env("VENDOR_CRATE_CACHE", tmp.join("vendor-crates"))
        .output()
        .expect("run sh vendor/check.sh");
    assert!(
        out.status.success(),
        "vendor/check.sh failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
