//! Python virtual environments under `target/` for what the commands take from PyPI (aiortc for
//! interop, actionlint for the workflows, libdatachannel-py for the bench).
//!
//! Debian's and Ubuntu's python3 come without `ensurepip` unless `python3-venv` is installed,
//! which needs root. Then the venv is made `--without-pip` and pip runs from its wheel (a wheel
//! is a zip Python can run), fetched from PyPI by the interpreter's own urllib and checked
//! against the sha256 pinned here.

use anyhow::{Result, anyhow};
use crate::workspace::run;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PIP_WHEEL: &str = "pip-26.0.1-py3-none-any.whl";
const PIP_SHA256: &str = "bdb1b08f4274833d62c1aa29e20907365a2ceb950410df15fc9521bad440122b";

/// Finds the wheel's address in PyPI's simple index (JSON form), downloads it to argv[3] and
/// checks its sha256 (argv[2]).
const FETCH_WHEEL: &str = r#"
import hashlib, json, sys, urllib.request
name, sha, out = sys.argv[1:4]
req = urllib.request.Request("https://pypi.org/simple/pip/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
files = json.load(urllib.request.urlopen(req, timeout=60))["files"]
url = next(f["url"] for f in files if f["filename"] == name)
data = urllib.request.urlopen(url, timeout=120).read()
if hashlib.sha256(data).hexdigest() != sha:
    sys.exit(f"{name}: sha256 mismatch")
open(out, "wb").write(data)
"#;

/// The venv at `dir` made by the interpreter `base`, with `packages` installed; `ready(dir)`
/// tells whether an existing one already has them. Returns the venv's python.
pub fn ensure(base: &Path, dir: &Path, packages: &[&str], ready: impl Fn(&Path) -> bool) -> Result<PathBuf> {
    let py = dir.join("bin/python");
    if ready(dir) {
        return Ok(py);
    }
    let mut pip = Command::new(&py);
    let made = Command::new(base).args(["-m", "venv", "--clear"]).arg(dir).stdout(Stdio::null()).stderr(Stdio::null()).status();
    if made.is_ok_and(|s| s.success()) && Command::new(&py).args(["-m", "pip", "--version"]).output().is_ok_and(|o| o.status.success()) {
        pip.args(["-m", "pip"]);
    } else {
        println!("xtask: {} has no ensurepip (Debian: python3-venv); making the venv without pip and running pip from its wheel", base.display());
        let mut cmd = Command::new(base);
        cmd.args(["-m", "venv", "--clear", "--without-pip"]).arg(dir);
        run(cmd, "python3 -m venv --without-pip")?;
        let wheel = dir.join(PIP_WHEEL);
        let mut cmd = Command::new(&py);
        cmd.args(["-c", FETCH_WHEEL, PIP_WHEEL, PIP_SHA256]).arg(&wheel);
        run(cmd, "download pip from PyPI")?;
        pip.arg(wheel.join("pip"));
    }
    pip.args(["install", "-q"]).args(packages);
    run(pip, &format!("pip install {}", packages.join(" ")))?;
    if ready(dir) { Ok(py) } else { Err(anyhow!("{}: installed, but not usable", packages.join(" "))) }
}

/// Whether the venv's python imports `modules` (comma-separated, as in an import statement).
pub fn imports(dir: &Path, modules: &str) -> bool {
    Command::new(dir.join("bin/python")).args(["-c", &format!("import {modules}")]).output().is_ok_and(|o| o.status.success())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A python3 that cannot make a venv with pip, as Debian's without python3-venv (whose
    /// `ensurepip` is missing; venv runs it isolated, so a stub on PYTHONPATH cannot stand in):
    /// the venv still gets its package, through pip run from the downloaded wheel. Needs PyPI,
    /// like the interop tests' aiortc.
    #[test]
    fn a_python_without_ensurepip_still_gets_its_packages() {
        let work = crate::workspace::root().join("target/venv-test");
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        let base = work.join("python3");
        let script = "#!/bin/sh\ncase \" $* \" in *\" -m venv \"*) case \" $* \" in *\" --without-pip \"*) ;; *)\n  echo 'The virtual environment was not created successfully because ensurepip is not available.' >&2; exit 1;; esac;; esac\nexec python3 \"$@\"\n";
        std::fs::write(&base, script).unwrap();
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();

        let venv = work.join("venv");
        let py = ensure(&base, &venv, &["six==1.16.0"], |dir| imports(dir, "six")).unwrap();
        assert!(venv.join(PIP_WHEEL).is_file(), "the fallback path was not taken");
        assert!(imports(&venv, "six"));
        assert!(!imports(&venv, "pip"), "the venv was made with pip after all");
        assert_eq!(py, venv.join("bin/python"));
    }
}
