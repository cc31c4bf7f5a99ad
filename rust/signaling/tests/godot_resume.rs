//! Godot through two instances sharing lobbies in Redis (`tests/godot/resume.gd`): a host on
//! one instance and a client on the other connect over WebRTC; the host's instance is killed,
//! the addon's signaling client resumes on the other by itself, and a newcomer connects to it.
//!
//! Needs `$WEBRTC_RS_GODOT` (a Godot 4 binary), `$WEBRTC_RS_EXTENSION` (a built
//! `libwebrtc_rs.so`) and a redis-server (see `common::Redis`); says so and passes without them.

mod common;

use common::{Redis, start};
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn the_addon_resumes_on_another_instance() {
    let (Some(godot), Some(extension)) = (std::env::var_os("WEBRTC_RS_GODOT"), std::env::var_os("WEBRTC_RS_EXTENSION")) else {
        // `cargo xtask test` sets them (and WEBRTC_RS_REQUIRE_REDIS): there this never skips.
        assert!(std::env::var_os("WEBRTC_RS_REQUIRE_REDIS").is_none(), "WEBRTC_RS_GODOT and WEBRTC_RS_EXTENSION are required");
        eprintln!("SKIPPED: set WEBRTC_RS_GODOT and WEBRTC_RS_EXTENSION to run Godot through two instances");
        return;
    };
    let Some(redis) = Redis::start("godot") else { return };
    let args = ["--redis".to_string(), redis.url()];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (a, b) = (start(&args), start(&args));

    // A bare project: the addon from this repository and the given library.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let project = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("godot-resume-{}", std::process::id()));
    let addon = project.join("addons/webrtc_rs");
    std::fs::create_dir_all(addon.join("bin")).unwrap();
    std::fs::create_dir_all(project.join(".godot")).unwrap();
    std::fs::write(project.join("project.godot"), "config_version=5\n\n[application]\nconfig/name=\"signaling resume\"\n").unwrap();
    std::fs::write(project.join(".godot/extension_list.cfg"), "res://addons/webrtc_rs/webrtc_rs.gdextension\n").unwrap();
    for f in ["signaling_client.gd", "webrtc_rs.gdextension"] {
        std::fs::copy(root.join("addons/webrtc_rs").join(f), addon.join(f)).unwrap();
    }
    std::fs::copy(&extension, addon.join("bin/libwebrtc_rs.so")).unwrap();
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/godot/resume.gd"), project.join("resume.gd")).unwrap();

    let xdg = project.join("xdg");
    // Bounded: the script's own steps have deadlines; `timeout` covers a hang outside them.
    let out = Command::new("timeout")
        .arg("120")
        .arg(godot)
        .args(["--headless", "--path"])
        .arg(&project)
        .args(["-s", "res://resume.gd", "--", &a.url, &b.url, &a.child.id().to_string()])
        .env("XDG_DATA_HOME", xdg.join("data"))
        .env("XDG_CONFIG_HOME", xdg.join("config"))
        .env("XDG_CACHE_HOME", xdg.join("cache"))
        .output()
        .expect("run godot");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && stdout.contains("PASS"), "the Godot script passed");
    let _ = std::fs::remove_dir_all(&project);
}
