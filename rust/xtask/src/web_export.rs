//! The Web export check of `cargo xtask test`: a project holding nothing but the addon is
//! exported with `godot --headless --export-pack` (no export templates needed) for Web and,
//! as the control, for Linux. The Web pack must hold nothing of the addon's library, its
//! `.gdextension` or its line in `extension_list.cfg`, with no GDExtension warning or error
//! printed; the Linux pack must still hold them; the project's own `extension_list.cfg` must
//! be as it was (the addon's export plugin changes it for the export's duration only).

use crate::zip_files::zip_error;
use crate::{godot, project};
use anyhow::{Context, Result, anyhow, bail};
use std::path::Path;
use std::process::Command;


const GDEXTENSION: &str = "res://addons/webrtc_rs/webrtc_rs.gdextension";

const PRESETS: &str = r#"[preset.0]

name="Web"
platform="Web"
runnable=true
dedicated_server=false
custom_features=""
export_filter="all_resources"
include_filter=""
exclude_filter=""
export_path=""
encryption_include_filters=""
encryption_exclude_filters=""
encrypt_pck=false
encrypt_directory=false

[preset.0.options]

variant/extensions_support=false
variant/thread_support=false

[preset.1]

name="Linux"
platform="Linux"
runnable=true
dedicated_server=false
custom_features=""
export_filter="all_resources"
include_filter=""
exclude_filter=""
export_path=""
encryption_include_filters=""
encryption_exclude_filters=""
encrypt_pck=false
encrypt_directory=false

[preset.1.options]

binary_format/architecture="x86_64"
"#;

/// The check with its heading and `N passed, N failed` line; `Err` names what failed.
pub fn run(godot: &Path, lib: &Path) -> Result<()> {
    println!("== A Web export of a project holding the addon (godot --export-pack Web; Linux as the control)");
    let verdict = check(godot, lib).and_then(|problems| if problems.is_empty() { Ok(()) } else { Err(anyhow!(problems.join("; "))) });
    match verdict {
        Ok(()) => {
            println!("PASS web export\n1 passed, 0 failed");
            Ok(())
        }
        Err(e) => {
            println!("FAIL web export: {e:#}\n0 passed, 1 failed");
            Err(e.context("web export"))
        }
    }
}

/// Runs the check; returns the problems found (empty: passed).
fn check(godot: &Path, lib: &Path) -> Result<Vec<String>> {
    let dir = project::target_dir().join("web_export/project");
    let out = project::target_dir().join("web_export");
    project::bare_project(lib, &dir)?;
    std::fs::write(dir.join("export_presets.cfg"), PRESETS)?;
    let list_before = std::fs::read_to_string(dir.join(".godot/extension_list.cfg"))?;

    let mut problems = Vec::new();
    for (preset, file) in [("Web", "web.zip"), ("Linux", "linux.zip")] {
        let zip = out.join(file);
        let _ = std::fs::remove_file(&zip);
        let log = export_pack(godot, &dir, preset, &zip)?;
        let (entries, list) = zip_listing(&zip, ".godot/extension_list.cfg")?;
        let lists_ours = list.as_deref().is_some_and(|l| l.lines().any(|line| line.trim() == GDEXTENSION));
        let has_gdextension = entries.iter().any(|e| e == "addons/webrtc_rs/webrtc_rs.gdextension");
        let library: Vec<&String> = entries.iter().filter(|e| e.starts_with("addons/webrtc_rs/bin/")).collect();
        let complaints: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("GDExtension") || l.contains("webrtc_rs.gdextension"))
            .filter(|l| l.contains("WARNING") || l.contains("ERROR"))
            .collect();
        if preset == "Web" {
            if !complaints.is_empty() {
                problems.push(format!("the Web export printed: {}", complaints.join(" | ")));
            }
            if has_gdextension || !library.is_empty() {
                problems.push(format!("the Web pack holds the addon's library or .gdextension: {library:?}, .gdextension {has_gdextension}"));
            }
            if lists_ours {
                problems.push("the Web pack's extension_list.cfg names the addon (the browser would try to load it)".into());
            }
            println!("  Web: {} files, none of the addon's library; extension_list.cfg {}", entries.len(), if list.is_some() { "without the addon" } else { "absent" });
        } else {
            // The control: the same project for Linux keeps the addon (so the checks above can fail).
            if !has_gdextension || !lists_ours {
                problems.push(format!("the Linux pack lost the addon (.gdextension {has_gdextension}, listed {lists_ours})"));
            }
            println!("  Linux (control): the .gdextension in the pack and in its extension_list.cfg");
        }
        let list_after = std::fs::read_to_string(dir.join(".godot/extension_list.cfg")).unwrap_or_default();
        if list_after != list_before {
            problems.push(format!("after the {preset} export the project's extension_list.cfg is {list_after:?}, was {list_before:?}"));
        }
    }
    Ok(problems)
}

/// `godot --headless --path dir --export-pack preset zip`; returns its output (stdout and
/// stderr), failing if Godot failed or wrote no pack.
fn export_pack(godot: &Path, dir: &Path, preset: &str, zip: &Path) -> Result<String> {
    let out_dir = zip.parent().expect("out folder");
    std::fs::create_dir_all(out_dir)?;
    let log_path = out_dir.join(format!("{preset}.log"));
    let log_file = std::fs::File::create(&log_path).with_context(|| log_path.display().to_string())?;
    let mut cmd = Command::new(godot);
    cmd.args(["--headless", "--path"]).arg(dir).args(["--export-pack", preset]).arg(zip);
    cmd.stdout(log_file.try_clone()?).stderr(log_file);
    godot::keep_user_data_in_target(&mut cmd);
    let mut child = cmd.spawn().with_context(|| format!("cannot start {}", godot.display()))?;
    let status = crate::process::wait_bounded(&mut child, &format!("godot --export-pack {preset}"), std::time::Duration::from_secs(180))?;
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    if !status.success() || !zip.is_file() {
        bail!("godot --export-pack {preset} failed ({status}):\n{log}");
    }
    Ok(log)
}

/// The names of the zip's files, and the text of `name` among them if it is there.
fn zip_listing(zip: &Path, name: &str) -> Result<(Vec<String>, Option<String>)> {
    use std::io::Read;
    let file = std::fs::File::open(zip).with_context(|| zip.display().to_string())?;
    let mut archive = zip::ZipArchive::new(file).map_err(zip_error).with_context(|| zip.display().to_string())?;
    let names = archive.file_names().map(|n| n.map(|n| n.into_owned())).collect::<std::result::Result<Vec<_>, _>>().map_err(zip_error).with_context(|| zip.display().to_string())?;
    let Ok(mut entry) = archive.by_name(name) else { return Ok((names, None)) };
    let mut text = String::new();
    entry.read_to_string(&mut text).with_context(|| format!("{name} in {}", zip.display()))?;
    Ok((names, Some(text)))
}
