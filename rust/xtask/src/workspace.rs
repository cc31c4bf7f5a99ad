//! The repository and its cargo: the root folder, a `cargo` command run from there, and
//! running a command to its end.

use anyhow::{Context, Result, anyhow};
use std::path::PathBuf;
use std::process::Command;

/// The repository root (the workspace's top folder).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    // Without the variables `cargo run` set for xtask itself: build scripts that watch them
    // (ring's watches CARGO_MANIFEST_DIR, CARGO_PKG_NAME, ...) would otherwise rebuild, with
    // everything above them, at every switch between `cargo xtask` and a plain `cargo`.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_") || key.starts_with("CARGO_MANIFEST_") || ["CARGO_CRATE_NAME", "CARGO_BIN_NAME", "CARGO_PRIMARY_PACKAGE", "OUT_DIR"].contains(&key.as_ref()) {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd
}

pub fn run(mut cmd: Command, what: &str) -> Result<()> {
    let status = cmd.status().with_context(|| what.to_string())?;
    if status.success() { Ok(()) } else { Err(anyhow!("{what} failed ({status})")) }
}

#[cfg(test)]
mod tests {
    /// The version is set once, in the workspace; the README quotes it.
    #[test]
    fn the_readme_states_the_workspace_version() {
        let readme = std::fs::read_to_string(super::root().join("README.md")).unwrap();
        let version = env!("CARGO_PKG_VERSION");
        assert!(readme.contains(&format!("Version {version} ")), "README.md's Install section must say 'Version {version}'");
        assert!(readme.contains(&format!("webrtc-rs-godot-{version}.zip")), "README.md must name the release zip of {version}");
    }
}
