//! Web exports without the addon: in a browser Godot's own WebRTC is the implementation, and
//! a web build has no use for (and no `wasm32` build of) this library. An always-on editor
//! plugin (registered by the extension, nothing to enable) adds an export plugin that, for a
//! preset with the `web` feature:
//!
//! - skips `webrtc_rs.gdextension` and `bin/`. Export plugins see each file in the order of
//!   their names, and a skip ends the round, so this one's name sorts before Godot's own
//!   "GDExtension" plugin, which would otherwise warn `No "wasm32" library found`;
//! - keeps the `.gdextension` out of the pack's `extension_list.cfg`, which Godot 4.3-4.7
//!   copies from disk without asking export plugins (godotengine/godot#99698): the file on
//!   disk loses our line for the export's duration and gets it back at the export's end.
//!
//! Other platforms' exports are left alone.

use godot::classes::file_access::ModeFlags;
use godot::classes::{DirAccess, EditorExportPlugin, EditorPlugin, FileAccess, IEditorExportPlugin, IEditorPlugin};
use godot::prelude::*;

const GDEXTENSION: &str = "res://addons/webrtc_rs/webrtc_rs.gdextension";
const BIN_DIR: &str = "res://addons/webrtc_rs/bin/";
const EXTENSION_LIST: &str = "res://.godot/extension_list.cfg";

/// Adds [`WebRtcRsWebExport`] to the editor's export plugins.
///
/// Always on: gdext registers a tool class based on `EditorPlugin` as an editor plugin, so
/// nothing needs enabling in the project settings. Internal: not listed in the editor.
#[derive(GodotClass)]
#[class(tool, init, internal, base = EditorPlugin)]
pub struct WebRtcRsEditorPlugin {
    export_plugin: Option<Gd<WebRtcRsWebExport>>,
    base: Base<EditorPlugin>,
}

#[godot_api]
impl IEditorPlugin for WebRtcRsEditorPlugin {
    fn enter_tree(&mut self) {
        let plugin = WebRtcRsWebExport::new_gd();
        self.base_mut().add_export_plugin(&plugin);
        self.export_plugin = Some(plugin);
    }

    fn exit_tree(&mut self) {
        if let Some(plugin) = self.export_plugin.take() {
            self.base_mut().remove_export_plugin(&plugin);
        }
    }
}

/// Leaves the addon out of Web exports.
///
/// For a preset with the `web` feature it skips the `.gdextension` and `bin/`, and keeps the
/// addon out of the pack's `extension_list.cfg`; other exports are left alone.
#[derive(GodotClass)]
#[class(tool, init, internal, base = EditorExportPlugin)]
pub struct WebRtcRsWebExport {
    /// `extension_list.cfg` as it was before a Web export changed it.
    saved_list: Option<PackedByteArray>,
    base: Base<EditorExportPlugin>,
}

fn is_web(features: &PackedStringArray) -> bool {
    features.contains("web")
}

/// The lines of an `extension_list.cfg` other than ours.
fn without_ours(list: &str) -> Vec<&str> {
    list.lines().map(str::trim).filter(|l| !l.is_empty() && *l != GDEXTENSION).collect()
}

#[godot_api]
impl IEditorExportPlugin for WebRtcRsWebExport {
    /// Sorts before Godot's "GDExtension" export plugin.
    fn get_name(&self) -> GString {
        "AWebRtcRsWebExport".into()
    }

    fn export_begin(&mut self, features: PackedStringArray, _is_debug: bool, _path: GString, _flags: u32) {
        if !is_web(&features) || !FileAccess::file_exists(EXTENSION_LIST) {
            return;
        }
        let original = FileAccess::get_file_as_bytes(EXTENSION_LIST);
        let text = String::from_utf8_lossy(original.as_slice()).into_owned();
        let kept = without_ours(&text);
        if kept.len() == text.lines().filter(|l| !l.trim().is_empty()).count() {
            return; // not listed: nothing to hide
        }
        // An empty list is left out of the pack altogether.
        let changed = if kept.is_empty() {
            DirAccess::remove_absolute(EXTENSION_LIST) == godot::global::Error::OK
        } else {
            FileAccess::open(EXTENSION_LIST, ModeFlags::WRITE).is_some_and(|mut f| {
                f.store_string(&(kept.join("\n") + "\n"));
                f.close();
                true
            })
        };
        if changed {
            self.saved_list = Some(original);
        } else {
            godot_warn!("webrtc-rs: could not leave the addon out of this Web export's {EXTENSION_LIST}");
        }
    }

    fn export_file(&mut self, path: GString, _type: GString, features: PackedStringArray) {
        let path = path.to_string();
        if is_web(&features) && (path == GDEXTENSION || path.starts_with(BIN_DIR)) {
            self.base_mut().skip();
        }
    }

    // Godot 4.3 declares these required; resources and scenes are not customized.
    fn customize_resource(&mut self, _resource: Gd<Resource>, _path: GString) -> Option<Gd<Resource>> {
        None
    }

    fn customize_scene(&mut self, _scene: Gd<Node>, _path: GString) -> Option<Gd<Node>> {
        None
    }

    fn get_customization_configuration_hash(&self) -> u64 {
        0
    }

    fn export_end(&mut self) {
        let Some(original) = self.saved_list.take() else { return };
        match FileAccess::open(EXTENSION_LIST, ModeFlags::WRITE) {
            Some(mut f) => {
                f.store_buffer(&original);
                f.close();
            }
            None => godot_error!("webrtc-rs: could not restore {EXTENSION_LIST} after a Web export; list the addon there again"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_our_line_is_taken_out() {
        let list = "res://addons/other/other.gdextension\nres://addons/webrtc_rs/webrtc_rs.gdextension\n\n";
        assert_eq!(super::without_ours(list), ["res://addons/other/other.gdextension"]);
        assert!(super::without_ours("res://addons/webrtc_rs/webrtc_rs.gdextension\n").is_empty());
    }
}
