//! The addon's version, printed once at startup under `godot --verbose` and not otherwise: a
//! bug report's log then says which build it came from, and a normal run stays quiet.

use anyhow::{Result, anyhow};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

pub fn check(godot: &Path, project_dir: &Path) -> Result<()> {
    let banner = format!("webrtc-rs addon {} (", env!("CARGO_PKG_VERSION"));
    // A script that quits at once: the addon prints while Godot starts a scene tree.
    std::fs::write(project_dir.join("quit.gd"), "extends SceneTree\nfunc _init() -> void:\n\tquit()\n")?;
    let count = |verbose: bool| -> Result<usize> {
        let mut cmd = Command::new(godot);
        cmd.args(["--headless", "--path"]).arg(project_dir).args(["-s", "res://quit.gd"]);
        if verbose {
            cmd.arg("--verbose");
        }
        crate::godot::keep_user_data_in_target(&mut cmd);
        let out = crate::process::output_bounded(&mut cmd, &godot.display().to_string(), Duration::from_secs(60))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        Ok(text.lines().filter(|l| l.starts_with(&banner)).count())
    };
    match (count(true)?, count(false)?) {
        (1, 0) => {
            println!("PASS version: '{banner}...' once under --verbose, not without");
            Ok(())
        }
        (v, q) => Err(anyhow!("'{banner}...' printed {v} time(s) under --verbose and {q} without (want 1 and 0)")),
    }
}
