//! The class reference check: Godot's `--doctool --gdextension-docs` lists the classes and
//! methods the addon registers; the extension's own test then holds its doc comments (what
//! the editor shows) to that list.

use crate::{cargo, run, Result};
use std::path::Path;
use std::process::Command;

pub fn check(godot: &Path, project_dir: &Path) -> Result<()> {
    let out = crate::project::target_dir().join("doctool");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut doctool = Command::new("timeout");
    doctool.arg("120").arg(godot).args(["--headless", "--path"]).arg(project_dir).arg("--doctool").arg(&out).arg("--gdextension-docs");
    crate::godot::keep_user_data_in_target(&mut doctool);
    run(doctool, "godot --doctool --gdextension-docs")?;
    let mut test = cargo();
    test.args(["test", "-p", "webrtc-rs-extension", "--lib", "class_reference", "--", "--ignored"]);
    test.env("WEBRTC_RS_DOCTOOL_DIR", &out);
    run(test, "class reference test")
}
