//! Running the packaged arm64 library on this x86_64 machine (`cargo xtask package
//! --run-arm64`): Debian's arm64 `godot` (the package the tests use on x86_64) under
//! qemu-user, in a bare project made of the addon unpacked from the zip and the tests'
//! `bare_test.gd`: two peers connect on loopback and exchange a packet each way.
//!
//! qemu-aarch64 is found on `PATH` or unpacked from Debian 13's `qemu-user` (only that
//! emulator kept); Godot's arm64 package is unpacked as is by `install-debian.sh` with
//! `DEB_ARCH=arm64` and run with `qemu-aarch64 -L <prefix>`, which reads its ld.so and
//! libraries from the prefix. No binfmt registration, no root.

use crate::debian;
use crate::programs::QEMU;
use crate::{godot, project, zip_files};
use anyhow::{Result, anyhow};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The whole run took 6-8 s here (Godot's start, the handshake, a packet each way, all
/// emulated); bare_test.gd gives up after 30 s of its own, this bounds a hung start.
const LIMIT: Duration = Duration::from_secs(300);

/// Debian's arm64 Godot, installed privately if needed; returns its wrapper.
fn godot_arm64(qemu: &Path) -> Result<PathBuf> {
    let dir = debian::cache_dir("godot-arm64", "WEBRTC_RS_GODOT_ARM64_DIR");
    if !dir.join(".installed").is_file() {
        println!("xtask: installing Debian's arm64 godot into {} (private apt, run under qemu-user)", dir.display());
    }
    let qemu = qemu.to_string_lossy();
    debian::run_recipe("install-godot.sh", &[&dir.to_string_lossy()], &[("DEB_ARCH", "arm64"), ("DEB_EMULATOR", &qemu), ("DEB_QUIET", "1")])?;
    Ok(dir.join("godot"))
}

/// Unpacks `zip` into the bare project `dir` and runs `bare_test.gd` with the arm64 Godot.
pub fn run_arm64(zip: &Path, dir: &Path) -> Result<()> {
    println!("\n== Linux arm64: the zip's library in Debian's arm64 Godot under qemu-user");
    let qemu = debian::find_or_install(&QEMU)?;
    let godot = godot_arm64(&qemu)?;
    zip_files::unzip(zip, dir)?;
    project::bare_project_files(dir)?;
    project::register_addon(dir)?;
    let start = Instant::now();
    let result = godot::run_script(&godot, dir, "res://bare_test.gd", &[], LIMIT);
    let took = start.elapsed().as_secs_f64();
    match result {
        Ok(()) => {
            println!("arm64 under qemu: PASS in {took:.1} s (Godot start, connect, a packet each way)");
            Ok(())
        }
        Err(e) => Err(anyhow!("arm64 under qemu: {e:#} (after {took:.1} s)")),
    }
}
