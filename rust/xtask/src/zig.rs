//! Linux libraries for an old glibc: `cargo zigbuild --target <triple>.2.28` links against
//! glibc 2.28's symbol versions (zig ships their stubs), the floor of Godot's own Linux builds,
//! so the library loads on Debian 10+, Ubuntu 20.04+ and Steam's runtime. zig and
//! cargo-zigbuild both come from PyPI (`ziglang`, `cargo-zigbuild`), into a venv under
//! `target/tools/`; `glibc_floor` reads back what a built library really needs.

use anyhow::{Context, Result, bail};
use crate::workspace::root;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The glibc the Linux libraries are built for: Godot 4's official Linux builds need 2.28.
pub const GLIBC: &str = "2.28";

const PACKAGES: &[&str] = &["ziglang==0.15.2", "cargo-zigbuild==0.24.1"];

/// `cargo zigbuild`, ready to take `--target`: the venv's `cargo-zigbuild` with zig found
/// through `python -m ziglang` (the venv's `bin/` on PATH).
pub struct ZigBuild {
    venv: PathBuf,
}

impl ZigBuild {
    /// Installs zig and cargo-zigbuild into the venv if they are not there yet.
    pub fn ensure() -> Result<ZigBuild> {
        let venv = root().join("target/tools/venv-zig");
        crate::venv::ensure(Path::new("python3"), &venv, PACKAGES, |dir| {
            dir.join("bin/cargo-zigbuild").is_file() && crate::venv::imports(dir, "ziglang")
        })?;
        Ok(ZigBuild { venv })
    }

    /// `cargo zigbuild --release -p package --target <triple>.<GLIBC>`.
    pub fn build_command(&self, package: &str, triple: &str) -> Command {
        let mut cmd = crate::workspace::cargo();
        cmd.args(["zigbuild", "--release", "-p", package, "--target", &format!("{triple}.{GLIBC}")]);
        let bin = self.venv.join("bin");
        let mut paths = vec![bin];
        paths.extend(std::env::var_os("PATH").iter().flat_map(std::env::split_paths));
        cmd.env("PATH", std::env::join_paths(paths).expect("PATH entries"));
        cmd
    }
}

/// The highest `GLIBC_x.y` symbol version an ELF library needs (`readelf -V`), e.g. (2, 28).
pub fn glibc_floor(lib: &Path) -> Result<(u32, u32)> {
    let out = Command::new("readelf").args(["-V", "--wide"]).arg(lib).output().context("readelf")?;
    if !out.status.success() {
        bail!("readelf -V {} failed: {}", lib.display(), String::from_utf8_lossy(&out.stderr));
    }
    highest_glibc(&String::from_utf8_lossy(&out.stdout)).with_context(|| format!("{} needs no GLIBC_ version (not a glibc library?)", lib.display()))
}

/// The highest `GLIBC_x.y` named in readelf's version sections.
fn highest_glibc(readelf: &str) -> Option<(u32, u32)> {
    readelf
        .split(|c: char| c.is_whitespace())
        .filter_map(|word| word.strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let mut parts = v.split('.');
            Some((parts.next()?.parse().ok()?, parts.next().map_or(Some(0), |m| m.parse().ok())?))
        })
        .max()
}

/// [`GLIBC`] as numbers.
pub fn glibc_target() -> (u32, u32) {
    let (major, minor) = GLIBC.split_once('.').expect("x.y");
    (major.parse().expect("major"), minor.parse().expect("minor"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_highest_glibc_version() {
        let text = "Version needs section '.gnu.version_r' contains 2 entries:\n  0x0010: Name: GLIBC_2.2.5  Flags: none  Version: 7\n  0x0020: Name: GLIBC_2.28  Flags: none  Version: 6\n  0x0030: Name: GLIBC_2.3  Flags: none\n  Name: GLIBC_PRIVATE\n";
        assert_eq!(highest_glibc(text), Some((2, 28)));
        assert_eq!(highest_glibc("  Name: GCC_3.0\n"), None);
        assert_eq!(glibc_target(), (2, 28));
    }
}
