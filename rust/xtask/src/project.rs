//! Building the extension and laying `addons/webrtc_rs` into a Godot project so that Godot
//! loads it: the library under `bin/`, and `.godot/extension_list.cfg` listing the
//! `.gdextension` (a fresh project loads extensions only if that file names them).

use anyhow::{Context, Result};
use crate::workspace::{cargo, root, run};
use std::path::{Path, PathBuf};

const GDEXTENSION: &str = "res://addons/webrtc_rs/webrtc_rs.gdextension";

/// File name of the built library on this platform.
pub fn lib_name() -> &'static str {
    if cfg!(windows) { "webrtc_rs.dll" } else if cfg!(target_os = "macos") { "libwebrtc_rs.dylib" } else { "libwebrtc_rs.so" }
}

/// Where `addons/webrtc_rs/bin/` holds this platform's library, as `webrtc_rs.gdextension`
/// names it: on macOS inside its framework (Godot loads `<bundle>/<name>`), on arm64 hosts
/// under the arm64 name.
pub fn addon_lib_path() -> &'static str {
    if cfg!(target_os = "macos") {
        "libwebrtc_rs.macos.framework/libwebrtc_rs.macos"
    } else if cfg!(all(windows, target_arch = "aarch64")) {
        "webrtc_rs.arm64.dll"
    } else if cfg!(all(target_os = "linux", target_arch = "aarch64")) {
        "libwebrtc_rs.arm64.so"
    } else {
        lib_name()
    }
}

pub fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"))
}

/// `cargo build -p package [--release]`; returns the profile's output folder.
pub fn cargo_build(package: &str, release: bool) -> Result<PathBuf> {
    let mut cmd = cargo();
    cmd.args(["build", "-p", package]);
    if release {
        cmd.arg("--release");
    }
    run(cmd, &format!("cargo build -p {package}"))?;
    Ok(target_dir().join(if release { "release" } else { "debug" }))
}

/// Builds the extension; returns the library's path under `target/`.
pub fn build_library(release: bool) -> Result<PathBuf> {
    Ok(cargo_build("webrtc-rs-extension", release)?.join(lib_name()))
}

/// Builds the extension and copies it into `addons/webrtc_rs/bin/` (`cargo xtask build`, for a
/// developer who opens the repository's projects in the editor); returns the copy's path.
pub fn build_extension(release: bool) -> Result<PathBuf> {
    let built = build_library(release)?;
    let dest = root().join("addons/webrtc_rs/bin").join(addon_lib_path());
    std::fs::create_dir_all(dest.parent().expect("bin folder"))?;
    copy(&built, &dest)?;
    Ok(dest)
}

/// Builds the signaling server; returns the binary's path.
pub fn build_signaling(release: bool) -> Result<PathBuf> {
    let exe = if cfg!(windows) { "webrtc-rs-signaling.exe" } else { "webrtc-rs-signaling" };
    Ok(cargo_build("webrtc-rs-signaling", release)?.join(exe))
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    // Replace rather than overwrite: a running Godot may have the old file mapped.
    let _ = std::fs::remove_file(to);
    std::fs::copy(from, to).map(|_| ()).with_context(|| format!("copy {} -> {}", from.display(), to.display()))
}

/// A copy of the repository's Godot project `src` (e.g. `godot_project`) under
/// `target/projects/<name>`, with the addon and `lib` laid in: the commands run Godot there,
/// so they write nothing outside `target/` (Godot's import cache, the addon, logs).
pub fn project_copy(src: &Path, name: &str, lib: &Path) -> Result<PathBuf> {
    let dest = target_dir().join("projects").join(name);
    mirror(src, &dest)?;
    install_addon(lib, &dest)?;
    Ok(dest)
}

/// Copies the files of `src` into `dest`, recursively, without the `.godot/` cache and the
/// `addons/` a developer may have laid there.
fn mirror(src: &Path, dest: &Path) -> Result<()> {
    std::fs::create_dir_all(dest).with_context(|| dest.display().to_string())?;
    for entry in std::fs::read_dir(src).with_context(|| src.display().to_string())? {
        let entry = entry?;
        let name = entry.file_name();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if name != ".godot" && name != "addons" {
                mirror(&entry.path(), &dest.join(&name))?;
            }
        } else if kind.is_file() {
            std::fs::copy(entry.path(), dest.join(&name)).with_context(|| format!("copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Copies the addon (with `lib`) into `project/addons/webrtc_rs` and registers it.
pub fn install_addon(lib: &Path, project: &Path) -> Result<()> {
    let src = root().join("addons/webrtc_rs");
    let dest = project.join("addons/webrtc_rs");
    std::fs::create_dir_all(dest.join("bin"))?;
    for entry in std::fs::read_dir(&src)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            copy(&entry.path(), &dest.join(entry.file_name()))?;
        }
    }
    let lib_dest = dest.join("bin").join(addon_lib_path());
    std::fs::create_dir_all(lib_dest.parent().expect("bin folder"))?;
    copy(lib, &lib_dest)?;
    register_addon(project)
}

/// Writes `.godot/extension_list.cfg` naming the addon's `.gdextension`.
pub fn register_addon(project: &Path) -> Result<()> {
    let godot_dir = project.join(".godot");
    std::fs::create_dir_all(&godot_dir)?;
    Ok(std::fs::write(godot_dir.join("extension_list.cfg"), format!("{GDEXTENSION}\n"))?)
}

/// A new project with nothing but the addon and `bare_test.gd` (from the test suite): what a
/// user gets by copying `addons/webrtc_rs/` into their game.
pub fn bare_project(lib: &Path, dir: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    bare_project_files(dir)?;
    install_addon(lib, dir)
}

/// `project.godot` and `bare_test.gd` in `dir`: the bare project without its addon.
pub fn bare_project_files(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("project.godot"), "config_version=5\n\n[application]\nconfig/name=\"bare\"\n")?;
    copy(&root().join("godot_project/tests/bare_test.gd"), &dir.join("bare_test.gd"))
}

