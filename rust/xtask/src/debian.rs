//! Programs the tests need (Godot, Chromium, coturn), found on `PATH` or else unpacked from
//! Debian's archive into a private cache folder by `recipes/install-debian.sh`: a private apt
//! configuration with an empty dpkg status, `dpkg-deb -x`, patchelf. No root needed, the
//! system's apt sources and dpkg state are never touched. Debian or Ubuntu on x86_64 only.
//!
//! The recipes are shell scripts in `rust/xtask/recipes/`, run from there by path: they are
//! plain files a developer can read and run by hand (`bash install-debian.sh DEST PACKAGE
//! BINARY`), and each run uses the copy of its own checkout.

use anyhow::{Context, Result, anyhow, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `$<env>` when set, else `$XDG_CACHE_HOME/webrtc-rs/<name>` (default `~/.cache/webrtc-rs/<name>`).
pub fn cache_dir(name: &str, env: &str) -> PathBuf {
    if let Ok(dir) = std::env::var(env) {
        return PathBuf::from(dir);
    }
    let base = std::env::var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|_| std::env::var("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|_| crate::workspace::root().join("target"));
    base.join("webrtc-rs").join(name)
}

/// `WEBRTC_RS_PRIVATE_DEPS=1`: ignore `PATH` and use (or make) the private installs, to test
/// what a machine without the programs gets.
pub fn private_only() -> bool {
    std::env::var("WEBRTC_RS_PRIVATE_DEPS").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The first `name` found on `PATH` (none with `WEBRTC_RS_PRIVATE_DEPS=1`).
pub fn on_path(name: &str) -> Option<PathBuf> {
    if private_only() {
        return None;
    }
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()))
}

/// Whether the recipe can run here (Debian or Ubuntu, or a derivative, on x86_64).
pub fn supported() -> bool {
    let debian_like = std::fs::read_to_string("/etc/os-release")
        .map(|s| s.lines().any(|l| l.starts_with("ID=debian") || l.starts_with("ID=ubuntu") || (l.starts_with("ID_LIKE=") && l.contains("debian"))))
        .unwrap_or(false);
    debian_like && std::env::consts::ARCH == "x86_64"
}

/// The folder of the recipes.
fn recipes() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes")
}

/// Runs `bash recipes/<script> args...` with `env`. The recipe locks its destination folder,
/// so parallel runs wait for each other, and returns at once when the install is already there.
pub fn run_recipe(script: &str, args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let mut cmd = Command::new("bash");
    cmd.arg(recipes().join(script)).args(args).envs(env.iter().copied());
    let status = cmd.status().context("bash")?;
    if status.success() { Ok(()) } else { Err(anyhow!("{script} {} failed ({status})", args.join(" "))) }
}

/// A program the tests run, and how to get it from Debian.
pub struct Program {
    /// Names looked up on `PATH`, in order.
    pub names: &'static [&'static str],
    /// The Debian package, and the program's path inside it (the wrapper gets its file name).
    pub package: &'static str,
    pub binary: &'static str,
    /// The cache folder's name under `~/.cache/webrtc-rs`, and the variable that overrides it.
    pub dir: &'static str,
    pub dir_env: &'static str,
    /// Settings of `install-debian.sh` (`DEB_*`).
    pub env: &'static [(&'static str, &'static str)],
}

/// The program from `PATH`, else the private install (made if needed). Prints which one.
pub fn find_or_install(p: &Program) -> Result<PathBuf> {
    if let Some(found) = p.names.iter().find_map(|n| on_path(n)) {
        println!("{}: {} (on PATH)", p.package, found.display());
        return Ok(found);
    }
    if !supported() {
        bail!(
            "{} is not on PATH and can be installed automatically only on Debian/Ubuntu x86_64 (Debian: apt-get install {})",
            p.names[0], p.package
        );
    }
    let dir = cache_dir(p.dir, p.dir_env);
    let wrapper = dir.join(Path::new(p.binary).file_name().expect("binary has a file name"));
    if !wrapper.is_file() {
        println!("xtask: installing Debian's {} into {} (private apt, the system is not touched)", p.package, dir.display());
    }
    let dest = dir.to_string_lossy();
    let mut env = vec![("DEB_QUIET", "1"), ("DEB_LOG", "install-debian")];
    env.extend_from_slice(p.env);
    run_recipe("install-debian.sh", &[&dest, p.package, p.binary], &env)?;
    let version = std::fs::read_to_string(dir.join(".installed"))
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("version=").map(|v| v.trim().to_string())))
        .unwrap_or_default();
    println!("{}: {} (private install of Debian's {}: {version})", p.package, wrapper.display(), p.package);
    Ok(wrapper)
}

#[cfg(test)]
mod tests {
    #[test]
    fn recipes_parse() {
        for script in ["install-debian.sh", "install-godot.sh"] {
            let path = super::recipes().join(script);
            let status = std::process::Command::new("bash").arg("-n").arg(&path).status().expect("bash");
            assert!(status.success(), "bash -n {script}");
        }
    }
}
