//! Cross C toolchains for `cargo xtask package`: the Rust target's standard library (rustup)
//! and a C compiler, archiver and linker for it, which ring's build script and the final link
//! need (Windows x86_64; the Linux libraries are built with zig, see `zig`). The compiler is
//! Debian's cross gcc found on `PATH` (`gcc-mingw-w64-x86-64`), else the private install in
//! `~/.cache/webrtc-rs/<dir>` made by `recipes/install-debian.sh` (only when asked:
//! `cargo xtask package --cross`).
//!
//! The private installs come from Debian 13 (trixie), a stable release: its gcc major version,
//! which is part of the paths below, does not change under us. mingw's gcc finds its headers
//! and libraries relative to itself, so its relocated driver needs no `--sysroot`.

use anyhow::{Context, Result, anyhow, bail};
use crate::debian;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How to get a C toolchain for one Rust target.
struct Spec {
    triple: &'static str,
    /// The compiler and archiver as Debian's packages put them on `PATH`.
    gcc: &'static str,
    ar: &'static str,
    /// What to `apt-get install` for them (said when they are missing).
    apt: &'static str,
    /// The private install: cache folder, package, more packages, and the programs in it that
    /// run (each relocated by the recipe: the driver, the compiler proper, assembler, linker).
    dir: &'static str,
    package: &'static str,
    extra: &'static str,
    programs: &'static [&'static str],
    /// The driver's wrapper name (the recipe names it after the program).
    driver: &'static str,
}

const SPECS: &[Spec] = &[
    Spec {
        triple: "x86_64-pc-windows-gnu",
        gcc: "x86_64-w64-mingw32-gcc",
        ar: "x86_64-w64-mingw32-ar",
        apt: "gcc-mingw-w64-x86-64",
        dir: "gcc-mingw-w64",
        // The win32 thread model: the DLL then needs no libwinpthread-1.dll beside it.
        package: "gcc-mingw-w64-x86-64-win32",
        extra: "",
        programs: &[
            "/usr/bin/x86_64-w64-mingw32-gcc-win32",
            "/usr/lib/gcc/x86_64-w64-mingw32/14-win32/cc1",
            "/usr/bin/x86_64-w64-mingw32-as",
            "/usr/bin/x86_64-w64-mingw32-ld",
            "/usr/bin/x86_64-w64-mingw32-ar",
            // rustc runs it for `raw-dylib` imports (windows-link).
            "/usr/bin/x86_64-w64-mingw32-dlltool",
        ],
        driver: "x86_64-w64-mingw32-gcc-win32",
    },
];

/// Debian release of the private toolchains.
const SUITE: &str = "trixie";

/// A toolchain ready for `cargo build --target`: the environment that points cargo, rustc and
/// the `cc` crate at it.
pub struct Toolchain {
    env: Vec<(String, OsString)>,
    /// Prepended to `PATH` (for programs found by name, like dlltool).
    path: Option<PathBuf>,
    /// Where it came from, for the summary.
    pub origin: String,
}

impl Toolchain {
    pub fn apply(&self, cmd: &mut Command) {
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if let Some(dir) = &self.path {
            let mut paths = vec![dir.clone()];
            paths.extend(std::env::var_os("PATH").iter().flat_map(std::env::split_paths));
            cmd.env("PATH", std::env::join_paths(paths).expect("PATH entries"));
        }
    }
}

/// The toolchain for `triple`, installing what is missing when `install`; `Err` is the reason
/// the target cannot be built here (printed as "skipped").
pub fn toolchain(triple: &str, install: bool) -> Result<Toolchain> {
    let spec = SPECS.iter().find(|s| s.triple == triple).with_context(|| format!("no cross toolchain known for {triple}"))?;
    rust_std(triple, install)?;
    let (gcc, ar, path, origin) = if let (Some(gcc), Some(ar)) = (debian::on_path(spec.gcc), debian::on_path(spec.ar)) {
        let origin = format!("{} on PATH", gcc.display());
        (gcc, ar, None, origin)
    } else {
        let dir = debian::cache_dir(spec.dir, &format!("WEBRTC_RS_{}_DIR", spec.dir.to_uppercase().replace('-', "_")));
        if !install && !dir.join(".installed").is_file() {
            bail!(
                "no {} on PATH (Debian: apt-get install {}); `cargo xtask package --cross` installs Debian's cross gcc privately into {}",
                spec.gcc,
                spec.apt,
                dir.display()
            );
        }
        private_install(spec, &dir)?;
        let gcc = write_driver(spec, &dir)?;
        let ar = dir.join(spec.ar);
        let origin = format!("Debian {SUITE}'s {} in {}", spec.package, dir.display());
        (gcc, ar, Some(dir), origin)
    };
    let var = triple.replace('-', "_");
    let env = vec![
        (format!("CC_{var}"), gcc.clone().into_os_string()),
        (format!("AR_{var}"), ar.into_os_string()),
        (format!("CARGO_TARGET_{}_LINKER", var.to_uppercase()), gcc.into_os_string()),
    ];
    Ok(Toolchain { env, path, origin })
}

/// The target's standard library: present, or added with rustup when `install`.
pub fn rust_std(triple: &str, install: bool) -> Result<()> {
    let installed = || {
        Command::new("rustc")
            .args(["--print", "target-libdir", "--target", triple])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            .is_some_and(|dir| dir.is_dir())
    };
    if installed() {
        return Ok(());
    }
    if !install {
        bail!("Rust's standard library for {triple} is not installed (rustup target add {triple}, or --cross)");
    }
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", triple]);
    crate::workspace::run(cmd, &format!("rustup target add {triple}"))?;
    if installed() { Ok(()) } else { Err(anyhow!("rustup target add {triple} left no standard library")) }
}

fn private_install(spec: &Spec, dir: &Path) -> Result<()> {
    if !debian::supported() {
        bail!("{} is not on PATH, and the private install needs Debian/Ubuntu x86_64 (Debian: apt-get install {})", spec.gcc, spec.apt);
    }
    if !dir.join(".installed").is_file() {
        println!("xtask: installing Debian {SUITE}'s {} into {} (private apt, the system is not touched)", spec.package, dir.display());
    }
    let dest = dir.to_string_lossy();
    let mut args = vec![dest.as_ref(), spec.package];
    args.extend_from_slice(spec.programs);
    let env = [("DEB_QUIET", "1"), ("DEB_LOG", "install-debian"), ("DEB_SUITE", SUITE), ("DEB_EXTRA", spec.extra)];
    debian::run_recipe("install-debian.sh", &args, &env)
}

/// `<dir>/<gcc>`: the recipe's wrapper of the driver, under the name cargo is given.
fn write_driver(spec: &Spec, dir: &Path) -> Result<PathBuf> {
    let driver = dir.join(spec.driver);
    let text = format!("#!/bin/sh\n# Written by cargo xtask package: Debian's cross gcc from its private prefix.\nexec \"{}\" \"$@\"\n", driver.display());
    let path = dir.join(spec.gcc);
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&path, &text).with_context(|| path.display().to_string())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(path)
}
