//! Godot through two instances sharing lobbies in Redis (`tests/godot/resume.gd`): a host on
//! one instance and a client on the other connect over WebRTC; the host's instance is killed,
//! the addon's signaling client resumes on the other by itself, and a newcomer connects to it.
//!
//! Needs `$WEBRTC_RS_GODOT` (a Godot 4 binary), `$WEBRTC_RS_EXTENSION` (a built
//! `libwebrtc_rs.so`) and a redis-server (see `common::Redis`): `#[ignore]`d under a plain
//! `cargo test`; `cargo xtask test` sets them and runs it.

mod common;

use common::{Redis, start};
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
#[ignore = "needs Godot (WEBRTC_RS_GODOT), the built extension (WEBRTC_RS_EXTENSION) and redis-server: cargo xtask test sets them and runs it"]
fn the_addon_resumes_on_another_instance() {
    let godot = std::env::var_os("WEBRTC_RS_GODOT").expect("WEBRTC_RS_GODOT: a Godot 4 binary");
    let extension = std::env::var_os("WEBRTC_RS_EXTENSION").expect("WEBRTC_RS_EXTENSION: a built libwebrtc_rs.so");
    let redis = Redis::start("godot");
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
