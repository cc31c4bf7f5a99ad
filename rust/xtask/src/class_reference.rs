//! The class reference check: Godot's `--doctool --gdextension-docs` lists the classes and
//! methods the addon registers; the extension's own test then holds its doc comments (what
//! the editor shows) to that list.

use anyhow::{Context, Result};
use crate::workspace::{cargo, run};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

pub fn check(godot: &Path, project_dir: &Path) -> Result<()> {
    let out = crate::project::target_dir().join("doctool");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).with_context(|| out.display().to_string())?;
    let mut doctool = Command::new(godot);
    doctool.args(["--headless", "--path"]).arg(project_dir).arg("--doctool").arg(&out).arg("--gdextension-docs");
    crate::godot::keep_user_data_in_target(&mut doctool);
    crate::process::run_bounded(doctool, "godot --doctool --gdextension-docs", Duration::from_secs(120))?;
    let mut test = cargo();
    test.args(["test", "-p", "webrtc-rs-extension", "--lib", "class_reference", "--", "--ignored"]);
    test.env("WEBRTC_RS_DOCTOOL_DIR", &out);
    run(test, "class reference test")
}
