//! `cargo xtask suite`: the headless GDScript suites alone (`godot_project/tests`, the bare
//! project and the Web export check), on the Godot that `GODOT` names (else the one `test` uses). The version-matrix
//! workflow runs it on Godot's official 4.3 and newest 4.x builds on Linux, Windows and macOS.
//!
//! Godot 4.3 and 4.4 have no `Logger`, which the tests use to check error messages: there the
//! project copy gets an `override.cfg` that turns the file logger on (errors are flushed to it
//! as they happen) and the tests read that file instead (`tests/file_log.gd`).
//! `WEBRTC_RS_TEST_FILE_LOG=1` takes that path on any version, to check it.

use crate::workspace::root;
use crate::{godot, project};
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::time::Duration;

pub fn run() -> Result<()> {
    let lib = project::build_library(false)?;
    let godot = godot::find_or_install()?;
    let (major, minor) = godot::version(&godot).context("the Godot binary does not report its version")?;
    println!("== Godot {major}.{minor}: {}", godot.display());
    let project_dir = project::project_copy(&root().join("godot_project"), "godot_project", &lib)?;
    let file_log = (major, minor) < (4, 5) || std::env::var("WEBRTC_RS_TEST_FILE_LOG").is_ok_and(|v| v == "1");
    file_log_override(&project_dir, file_log)?;

    let mut failures = Vec::new();
    godot_suites(&godot, &project_dir, &lib, &mut failures);
    if failures.is_empty() {
        println!("xtask suite: all suites passed on Godot {major}.{minor}");
        Ok(())
    } else {
        bail!("{}", failures.join("; "))
    }
}

/// The GDScript suite in `project_dir`, the bare project and the Web export check (what
/// `test` and `suite` share); what failed goes to `failures`.
pub fn godot_suites(godot: &Path, project_dir: &Path, lib: &Path, failures: &mut Vec<String>) {
    println!("== Godot suite (godot_project/tests)");
    if let Err(e) = godot::run_script(godot, project_dir, "res://tests/run_tests.gd", &[], Duration::from_secs(600)) {
        failures.push(format!("GDScript suite: {e:#}"));
    }
    println!("== A bare project: only addons/webrtc_rs and one script");
    let bare = project::target_dir().join("bare_project");
    if let Err(e) = project::bare_project(lib, &bare).and_then(|()| godot::run_script(godot, &bare, "res://bare_test.gd", &[], Duration::from_secs(120))) {
        failures.push(format!("bare project: {e:#}"));
    }
    if let Err(e) = crate::web_export::run(godot, lib) {
        failures.push(format!("{e:#}"));
    }
}

/// Writes (or removes) the project's `override.cfg` that turns Godot's file logger on, into
/// the project's own `.godot/` (so nothing is written outside `target/`).
fn file_log_override(project_dir: &Path, on: bool) -> Result<()> {
    let path = project_dir.join("override.cfg");
    if !on {
        let _ = std::fs::remove_file(&path);
        return Ok(());
    }
    // An absolute path: the file logger starts before `res://` means anything (Godot 4.6
    // crashes on a `res://` log path it cannot create).
    let logs = project_dir.join(".godot/test-logs");
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs).with_context(|| logs.display().to_string())?;
    let log = logs.join("godot.log").to_string_lossy().replace('\\', "/");
    let text = format!("[debug]\n\nfile_logging/enable_file_logging=true\nfile_logging/enable_file_logging.pc=true\nfile_logging/log_path=\"{log}\"\nfile_logging/max_log_files=1\n");
    std::fs::write(&path, text).with_context(|| path.display().to_string())
}
