//! `cargo xtask package [--cross] [--run-arm64]`: the release zip of
//! `.github/workflows/release.yml`, `target/package/webrtc-rs-godot-<version>.zip`, for the
//! platforms this machine can build: the Linux x86_64 and arm64 libraries for glibc 2.28
//! (`zig`: cargo-zigbuild, from PyPI; the highest glibc version each needs is checked), and
//! Windows x86_64 when its cross toolchain is here (`cross`; `--cross` installs it, and Rust's
//! arm64 standard library, privately). The zip
//! holds `addons/webrtc_rs/` as the Asset Library expects it; what was built and what was
//! skipped, and why, is printed. `--run-arm64` then loads the arm64 library in Debian's arm64
//! Godot under qemu-user (`emulated`).

use crate::project::{cargo_build, target_dir};
use crate::workspace::{cargo, root, run};
use crate::zip_files::write_zip;
use crate::{cross, emulated, zig};
use anyhow::{Context, Result, anyhow, bail};
use std::path::{Path, PathBuf};

/// A library this command can build, and its file name in the addon's `bin/` (the one the
/// `.gdextension` and release.yml use).
struct Target {
    platform: &'static str,
    triple: &'static str,
    built: &'static str,
    file: &'static str,
    /// Built with cargo-zigbuild for glibc [`zig::GLIBC`] (Linux).
    zig: bool,
}

const TARGETS: &[Target] = &[
    Target { platform: "Linux x86_64", triple: "x86_64-unknown-linux-gnu", built: "libwebrtc_rs.so", file: "libwebrtc_rs.so", zig: true },
    Target { platform: "Linux arm64", triple: "aarch64-unknown-linux-gnu", built: "libwebrtc_rs.so", file: "libwebrtc_rs.arm64.so", zig: true },
    // MinGW here; release.yml builds the MSVC one. Godot loads either.
    Target { platform: "Windows x86_64", triple: "x86_64-pc-windows-gnu", built: "webrtc_rs.dll", file: "webrtc_rs.dll", zig: false },
];

/// The addon's files in the zip besides the libraries, as release.yml copies them: every
/// `.gd` and `.gdextension` of `addons/webrtc_rs`, these, and the repository's README.
const ADDON_FILES: &[&str] = &["plugin.cfg", "LICENSE", "THIRD_PARTY_NOTICES.md", "icon.svg"];

const GDEXTENSION: &str = "webrtc_rs.gdextension";

/// `cargo xtask package [--cross] [--run-arm64]`: `install` is `--cross`.
pub fn package(install: bool, run_arm64: bool) -> Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    let host = host_triple()?;

    // Build what can be built here; the rest is said, with why.
    let mut built: Vec<(&Target, PathBuf, String)> = Vec::new();
    let mut skipped: Vec<(String, String, String)> = Vec::new();
    let mut zigbuild = None;
    for t in TARGETS {
        if t.zig {
            if let Err(why) = cross::rust_std(t.triple, install) {
                skipped.push((t.platform.to_string(), t.file.to_string(), format!("{why:#}")));
                continue;
            }
            if zigbuild.is_none() {
                zigbuild = Some(zig::ZigBuild::ensure()?);
            }
            let zigbuild = zigbuild.as_ref().expect("just set");
            println!("== {}: cargo zigbuild --release --target {}.{}", t.platform, t.triple, zig::GLIBC);
            run(zigbuild.build_command("webrtc-rs-extension", t.triple), &format!("cargo zigbuild --target {}", t.triple))?;
            let lib = target_dir().join(t.triple).join("release").join(t.built);
            let (major, minor) = zig::glibc_floor(&lib)?;
            if (major, minor) > zig::glibc_target() {
                bail!("{} needs glibc {major}.{minor}, above the {} it was built for", lib.display(), zig::GLIBC);
            }
            built.push((t, lib, format!("{}, needs GLIBC_{major}.{minor} at most (cargo-zigbuild)", t.triple)));
            continue;
        }
        if t.triple == host {
            let lib = cargo_build("webrtc-rs-extension", true)?.join(t.built);
            built.push((t, lib, format!("{}, this machine", t.triple)));
            continue;
        }
        let toolchain = if host == "x86_64-unknown-linux-gnu" {
            cross::toolchain(t.triple, install)
        } else {
            Err(anyhow!("cross builds are set up for a Linux x86_64 host only (this is {host})"))
        };
        match toolchain {
            Ok(toolchain) => {
                println!("== {}: cargo build --release --target {} ({})", t.platform, t.triple, toolchain.origin);
                let mut cmd = cargo();
                cmd.args(["build", "--release", "-p", "webrtc-rs-extension", "--target", t.triple]);
                toolchain.apply(&mut cmd);
                run(cmd, &format!("cargo build --target {}", t.triple))?;
                let lib = target_dir().join(t.triple).join("release").join(t.built);
                built.push((t, lib, format!("{}, {}", t.triple, toolchain.origin)));
            }
            Err(why) => skipped.push((t.platform.to_string(), t.file.to_string(), format!("{why:#}"))),
        }
    }

    // Lay out addons/webrtc_rs as release.yml does, then zip it.
    let out = target_dir().join("package");
    let staging = out.join("addons");
    let _ = std::fs::remove_dir_all(&staging);
    let addon = staging.join("webrtc_rs");
    std::fs::create_dir_all(addon.join("bin"))?;
    for file in addon_files()? {
        let name = if file.ends_with("README.md") { "README.md".into() } else { file.file_name().expect("file name").to_owned() };
        copy(&file, &addon.join(name))?;
    }
    for (t, lib, _) in &built {
        copy(lib, &addon.join("bin").join(t.file))?;
    }
    let named = gdextension_libraries(&std::fs::read_to_string(addon.join(GDEXTENSION))?);
    for t in TARGETS {
        if !named.iter().any(|(_, file)| file == t.file) {
            bail!("{GDEXTENSION} does not name bin/{} ({})", t.file, t.platform);
        }
    }
    // The .gdextension's other libraries come from release.yml only.
    let mut elsewhere: Vec<(String, String)> = Vec::new();
    for (key, file) in &named {
        if TARGETS.iter().all(|t| t.file != file) && !elsewhere.iter().any(|(_, f)| f == file) {
            elsewhere.push((key.clone(), file.clone()));
        }
    }
    for (key, file) in elsewhere {
        let why = if key.starts_with("android") {
            "needs the Android NDK; release.yml builds it (cargo-ndk)"
        } else if key.starts_with("windows") {
            "needs MSVC's arm64 tools; release.yml builds it on Windows"
        } else {
            "needs Apple's SDK; release.yml builds the framework on macOS"
        };
        skipped.push((platform_name(&key), file, why.to_string()));
    }

    let zip_path = out.join(format!("webrtc-rs-godot-{version}.zip"));
    let entries = write_zip(&staging, &zip_path)?;

    println!("\n== webrtc-rs-godot {version}");
    for (t, lib, how) in &built {
        let size = std::fs::metadata(lib).map(|m| m.len()).unwrap_or(0);
        println!("  built    {:<15} bin/{:<34} {:>5.2} MB  ({how})", t.platform, t.file, size as f64 / 1e6);
    }
    for (platform, file, why) in &skipped {
        println!("  skipped  {platform:<15} bin/{file:<34} {why}");
    }
    let zip_size = std::fs::metadata(&zip_path).map(|m| m.len()).unwrap_or(0);
    println!("\n{} ({:.2} MB):", zip_path.display(), zip_size as f64 / 1e6);
    for (name, size) in &entries {
        println!("  {size:>9}  {name}");
    }

    if run_arm64 {
        if !built.iter().any(|(t, ..)| t.triple == "aarch64-unknown-linux-gnu") {
            bail!("--run-arm64: the arm64 library was not built (see above; --cross installs the toolchain)");
        }
        emulated::run_arm64(&zip_path, &out.join("arm64-run"))?;
    }
    Ok(())
}

/// The target this machine builds for without `--target`.
fn host_triple() -> Result<String> {
    let out = std::process::Command::new("rustc").arg("-vV").output().context("rustc -vV")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .context("rustc -vV names no host")
}

/// The files of the zip other than libraries: the addon's `.gd`, `.gdextension` and
/// [`ADDON_FILES`], and the README.
fn addon_files() -> Result<Vec<PathBuf>> {
    let dir = root().join("addons/webrtc_rs");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| dir.display().to_string())? {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "gd" || e == "gdextension") {
            files.push(path);
        }
    }
    for name in ADDON_FILES {
        let path = dir.join(name);
        if !path.is_file() {
            bail!("{} is missing", path.display());
        }
        files.push(path);
    }
    files.push(root().join("README.md"));
    files.sort();
    Ok(files)
}

/// "Android arm64" for the `.gdextension` key `android.release.arm64`.
fn platform_name(key: &str) -> String {
    let mut parts = key.split('.');
    let os = match parts.next().unwrap_or(key) {
        "linux" => "Linux",
        "windows" => "Windows",
        "macos" => "macOS",
        "android" => "Android",
        "ios" => "iOS",
        other => other,
    };
    match parts.nth(1) {
        Some(arch) => format!("{os} {arch}"),
        None => os.to_string(),
    }
}

/// `(platform key, file in bin/)` of each library the `.gdextension` names.
fn gdextension_libraries(text: &str) -> Vec<(String, String)> {
    let section = text.split("[libraries]").nth(1).unwrap_or("");
    section
        .lines()
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter_map(|l| {
            let (key, value) = l.split_once('=')?;
            let file = value.trim().trim_matches('"').strip_prefix("res://addons/webrtc_rs/bin/")?;
            Some((key.trim().to_string(), file.to_string()))
        })
        .collect()
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to).map(|_| ()).with_context(|| format!("copy {} -> {}", from.display(), to.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each library this command builds has the name the `.gdextension` gives it.
    #[test]
    fn the_gdextension_names_every_library_built_here() {
        let text = std::fs::read_to_string(root().join("addons/webrtc_rs").join(GDEXTENSION)).unwrap();
        let named = gdextension_libraries(&text);
        assert!(named.len() >= 6, "{named:?}");
        for t in TARGETS {
            assert!(named.iter().any(|(_, f)| f == t.file), "{GDEXTENSION} does not name {}", t.file);
        }
        assert!(named.contains(&("linux.release.arm64".into(), "libwebrtc_rs.arm64.so".into())), "{named:?}");
        assert_eq!(platform_name("android.release.arm64"), "Android arm64");
        assert_eq!(platform_name("macos.debug"), "macOS");
    }

    /// Every library release.yml builds (its matrix's `file:` and each job's `out/<name>`) is
    /// named by the `.gdextension`, and every library the `.gdextension` names is built there.
    #[test]
    fn the_gdextension_names_every_library_release_yml_builds() {
        let workflow = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
        let mut built: Vec<String> = Vec::new();
        for line in workflow.lines() {
            if let Some(file) = line.trim().strip_prefix("file: ") {
                built.push(file.trim().to_string());
            }
            for (i, _) in line.match_indices(" out/") {
                let name: String = line[i + 5..].chars().take_while(|c| c.is_ascii_alphanumeric() || "._-".contains(*c)).collect();
                if name.starts_with("lib") || name.ends_with(".dll") {
                    built.push(name);
                }
            }
        }
        built.sort();
        built.dedup();
        let text = std::fs::read_to_string(root().join("addons/webrtc_rs").join(GDEXTENSION)).unwrap();
        let mut named: Vec<String> = gdextension_libraries(&text).into_iter().map(|(_, f)| f).collect();
        named.sort();
        named.dedup();
        assert_eq!(built, named, "release.yml builds (left) and {GDEXTENSION} names (right)");
        // The ABIs Godot exports to, each with a debug and a release entry.
        for abi in ["linux.x86_64", "linux.arm64", "windows.x86_64", "windows.arm64", "android.arm64", "android.x86_64", "android.arm32"] {
            let (os, arch) = abi.split_once('.').unwrap();
            for build in ["debug", "release"] {
                let key = format!("{os}.{build}.{arch}");
                assert!(gdextension_libraries(&text).iter().any(|(k, _)| *k == key), "{GDEXTENSION} has no {key}");
            }
        }
        for os in ["macos", "ios"] {
            for build in ["debug", "release"] {
                let key = format!("{os}.{build}");
                assert!(gdextension_libraries(&text).iter().any(|(k, f)| *k == key && f.ends_with(".framework")), "{GDEXTENSION}'s {key} is not a .framework");
            }
        }
    }

    /// The local zip holds the same addon files as release.yml's: the files its `cp` names.
    #[test]
    fn the_zip_holds_what_release_yml_copies() {
        let workflow = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
        let start = workflow.find("cp addons/webrtc_rs/").expect("release.yml copies the addon's files");
        // The `cp` command with its continuation lines, up to its destination.
        let command: String = workflow[start..].split_inclusive('\n').scan(true, |more, line| {
            let take = *more;
            *more = line.trim_end().ends_with('\\');
            take.then_some(line.trim_end().trim_end_matches('\\').to_string())
        }).collect::<Vec<_>>().join(" ");
        let mut from_workflow: Vec<String> = Vec::new();
        for word in command.split_whitespace().skip(1).filter(|w| !w.starts_with('"')) {
            if let Some(ext) = word.strip_prefix("addons/webrtc_rs/*.") {
                for entry in std::fs::read_dir(root().join("addons/webrtc_rs")).unwrap() {
                    let name = entry.unwrap().file_name().to_string_lossy().to_string();
                    if name.ends_with(&format!(".{ext}")) {
                        from_workflow.push(name);
                    }
                }
            } else {
                from_workflow.push(Path::new(word).file_name().unwrap().to_string_lossy().to_string());
            }
        }
        from_workflow.sort();
        let mut ours: Vec<String> = addon_files().unwrap().iter().map(|p| p.file_name().unwrap().to_string_lossy().to_string()).collect();
        ours.sort();
        assert_eq!(ours, from_workflow);
        assert!(ours.contains(&"README.md".to_string()) && ours.contains(&GDEXTENSION.to_string()), "{ours:?}");
    }

    /// README.md's tree of the release zip lists its files: the addon's and every library the
    /// `.gdextension` names.
    #[test]
    fn the_readme_lists_the_zip() {
        let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
        let start = readme.find(&format!("```\nwebrtc-rs-godot-{}.zip\n", env!("CARGO_PKG_VERSION"))).expect("README.md shows the zip's tree");
        let block = &readme[start + 4..];
        let block = &block[..block.find("```").unwrap()];
        let mut listed: Vec<String> = block
            .lines()
            .skip(2) // the zip, addons/webrtc_rs/
            .filter_map(|l| l.split_once("── ").map(|(_, rest)| rest.split_whitespace().next().unwrap().to_string()))
            .filter(|name| name != "bin/")
            .collect();
        listed.sort();
        let text = std::fs::read_to_string(root().join("addons/webrtc_rs").join(GDEXTENSION)).unwrap();
        let mut expected: Vec<String> = addon_files().unwrap().iter().map(|p| p.file_name().unwrap().to_string_lossy().to_string()).collect();
        for (_, file) in gdextension_libraries(&text) {
            if !expected.contains(&file) {
                expected.push(file);
            }
        }
        expected.sort();
        assert_eq!(listed, expected);
    }
}
