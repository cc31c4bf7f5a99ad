//! `cargo xtask demo [--debug]`: what players get, measured (the release build unless asked).

use crate::{godot, project, session, workspace};
use anyhow::{Result, bail};
use std::time::Duration;

/// Two peers in one process (connect time, round trip), then the 4-process multiplayer session
/// in server/client and mesh modes, with its table.
pub fn run(release: bool) -> Result<()> {
    let lib = project::build_library(release)?;
    let signaling = project::build_signaling(release)?;
    let godot = godot::find_or_install()?;
    let project_dir = project::project_copy(&workspace::root().join("godot_project"), "godot_project", &lib)?;
    godot::run_script(&godot, &project_dir, "res://demo/demo.gd", &[], Duration::from_secs(120))?;
    let mut problems = Vec::new();
    for mode in ["server", "mesh"] {
        let outcome = session::run(&godot, &project_dir, &signaling, mode, 4, 100)?;
        println!("\n{}", outcome.report);
        problems.extend(outcome.problems.into_iter().map(|p| format!("{mode}: {p}")));
    }
    if problems.is_empty() { Ok(()) } else { bail!("{}", problems.join("; ")) }
}
