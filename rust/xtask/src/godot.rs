//! Finding Godot 4.3+ (`GODOT`, then `PATH`, then our cache), installing Debian's package into
//! the cache with a private apt when there is none (`recipes/install-godot.sh` over
//! `install-debian.sh`, see `debian`), and running it under a timeout (`process`): a GDScript error
//! before `quit()` would otherwise leave Godot running forever.

use anyhow::{Context, Result, anyhow, bail};
use crate::debian::{self, on_path};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Where an installed Godot lives: `$WEBRTC_RS_GODOT_DIR`, else `~/.cache/webrtc-rs/godot`.
fn cache_dir() -> PathBuf {
    debian::cache_dir("godot", "WEBRTC_RS_GODOT_DIR")
}

/// `(major, minor)` of a Godot binary, if it runs.
pub fn version(godot: &Path) -> Option<(u32, u32)> {
    let out = Command::new(godot).args(["--headless", "--version"]).stderr(Stdio::null()).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.trim().split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn usable(godot: &Path) -> bool {
    matches!(version(godot), Some((4, minor)) if minor >= 3)
}

/// A Godot 4.3+ binary: `GODOT`, then `godot`/`godot4` on `PATH`, then the cache, installing
/// it there if needed (Debian or Ubuntu on x86_64).
pub fn find_or_install() -> Result<PathBuf> {
    if let Ok(g) = std::env::var("GODOT") {
        let g = PathBuf::from(g);
        return if usable(&g) { Ok(g) } else { Err(anyhow!("GODOT={} is not a working Godot 4.3+", g.display())) };
    }
    for name in ["godot", "godot4"] {
        if let Some(g) = on_path(name).filter(|g| usable(g)) {
            return Ok(g);
        }
    }
    let dir = cache_dir();
    let cached = dir.join("godot");
    if cached.is_file() && usable(&cached) {
        return Ok(cached);
    }
    install(&dir)?;
    if usable(&cached) { Ok(cached) } else { Err(anyhow!("installed Godot at {} does not run", cached.display())) }
}

fn install(dir: &Path) -> Result<()> {
    if !debian::supported() {
        bail!("no Godot 4.3+ found: set GODOT=/path/to/godot (automatic install needs Debian/Ubuntu x86_64)");
    }
    eprintln!("xtask: installing Debian's godot into {} (private apt, the system is not touched)", dir.display());
    let dest = dir.to_string_lossy();
    // The recipe that unpacks Debian's `godot` into a private prefix (never touches the system).
    debian::run_recipe("install-godot.sh", &[&dest], &[])
        .context("installing Godot failed")
}

/// Runs `godot --headless --path project -s script` and waits at most `limit`; a run that
/// exceeds it is killed and reported.
pub fn run_script(godot: &Path, project: &Path, script: &str, extra: &[&str], limit: Duration) -> Result<()> {
    let mut cmd = command(godot, project, script);
    cmd.args(extra);
    let mut child = cmd.spawn().with_context(|| format!("cannot start {}", godot.display()))?;
    let status = crate::process::wait_bounded(&mut child, script, limit)?;
    if status.success() { Ok(()) } else { Err(anyhow!("{script} exited with {status}")) }
}

/// `godot --headless --path project -s script`, with user data kept under `target/`.
pub fn command(godot: &Path, project: &Path, script: &str) -> Command {
    let mut cmd = Command::new(godot);
    cmd.args(["--headless", "--path"]).arg(project).args(["-s", script]);
    keep_user_data_in_target(&mut cmd);
    cmd
}

/// Points Godot's user data, settings and cache (`XDG_*`) under `target/godot-xdg`, so a run
/// leaves nothing in the developer's home.
pub fn keep_user_data_in_target(cmd: &mut Command) {
    let xdg = crate::project::target_dir().join("godot-xdg");
    for (var, sub) in [("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache")] {
        cmd.env(var, xdg.join(sub));
    }
}
