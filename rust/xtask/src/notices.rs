//! `addons/webrtc_rs/THIRD_PARTY_NOTICES.md`: the licenses of every crate linked into the
//! addon's library, which the addon redistributes. `cargo xtask notices` writes it with
//! cargo-about (`notices/about.toml`, `notices/about.hbs`); the tests check that it names
//! exactly the crates `Cargo.lock` links into the library on the release's platforms, so a
//! dependency change without new notices fails.

use anyhow::Result;
#[cfg(test)]
use anyhow::{Context, bail};
use crate::workspace::{cargo, root, run};
#[cfg(test)]
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

/// Where the notices are shipped.
pub fn path() -> PathBuf {
    root().join("addons/webrtc_rs/THIRD_PARTY_NOTICES.md")
}

const CARGO_ABOUT: &str = "0.9.3";

/// Regenerates the notices with cargo-about, installed once under `~/.cache/webrtc-rs/tools`.
pub fn generate() -> Result<()> {
    let tools = crate::debian::cache_dir("tools", "WEBRTC_RS_TOOLS_DIR");
    let about = tools.join("bin/cargo-about");
    if !about.exists() {
        let mut cmd = cargo();
        cmd.args(["install", "--locked", "--features", "cli", "--version", CARGO_ABOUT, "--root"]).arg(&tools).arg("cargo-about");
        run(cmd, "cargo install cargo-about")?;
    }
    let dir = root().join("rust/xtask/notices");
    let mut cmd = Command::new(&about);
    cmd.current_dir(root().join("rust/extension"))
        .arg("generate")
        .arg("--config")
        .arg(dir.join("about.toml"))
        .arg("--output-file")
        .arg(path())
        .arg(dir.join("about.hbs"));
    run(cmd, "cargo about generate")?;
    println!("wrote {}", path().display());
    Ok(())
}

/// `name version` of every crate the notices list under "Used by".
#[cfg(test)]
fn listed(notices: &str) -> BTreeSet<String> {
    notices
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .filter(|l| l.split(' ').count() == 2 && !l.ends_with(')'))
        .map(str::to_string)
        .collect()
}

/// `name version` of every crate linked into the extension for `target`: its normal
/// dependencies, transitively, with the features a build of the extension alone enables
/// (`cargo tree`; `cargo metadata` unifies features across the workspace), without the
/// workspace's own crates.
#[cfg(test)]
fn linked(target: &str) -> Result<BTreeSet<String>> {
    let out = cargo()
        .args(["tree", "--locked", "-p", "webrtc-rs-extension", "-e", "normal", "--prefix", "none", "-f", "{p}", "--target", target])
        .output()
        .context("cargo tree")?;
    if !out.status.success() {
        bail!("cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let (name, version) = (words.next()?, words.next()?.strip_prefix('v')?);
            (!name.starts_with("webrtc-rs-")).then(|| format!("{name} {version}"))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The release's platforms and `cargo xtask package`'s, as in `notices/about.toml`.
    const TARGETS: [&str; 8] = [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "x86_64-pc-windows-msvc",
        "x86_64-pc-windows-gnu",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "aarch64-linux-android",
        "aarch64-apple-ios",
    ];

    #[test]
    fn notices_name_every_linked_crate_and_no_other() {
        let notices = std::fs::read_to_string(path()).expect("addons/webrtc_rs/THIRD_PARTY_NOTICES.md (cargo xtask notices)");
        let in_notices: BTreeSet<String> = listed(&notices).into_iter().filter(|c| !c.starts_with("webrtc-rs-")).collect();
        let mut in_library = BTreeSet::new();
        for target in TARGETS {
            in_library.extend(linked(target).unwrap());
        }
        let missing: Vec<_> = in_library.difference(&in_notices).collect();
        let stale: Vec<_> = in_notices.difference(&in_library).collect();
        assert!(
            missing.is_empty() && stale.is_empty(),
            "THIRD_PARTY_NOTICES.md is out of date (run `cargo xtask notices`): missing {missing:?}, no longer linked {stale:?}"
        );
        assert!(in_notices.len() > 100, "the notices list the crates ({} found)", in_notices.len());
        assert!(notices.contains("Permission is hereby granted"), "license texts are included");
    }
}
