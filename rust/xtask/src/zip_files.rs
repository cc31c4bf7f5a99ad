//! Zips: a reproducible zip of a folder (`package`'s release zip), its unpacking (`emulated`),
//! and a zip error as an `anyhow::Error` (also for `web_export`, which reads Godot's packs).

use anyhow::{Context, Result, anyhow};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A zip error as its message alone: its Display already holds its I/O cause, which as a
/// source would show twice in `{:#}`.
pub fn zip_error(e: zip::result::ZipError) -> anyhow::Error {
    anyhow!("{e}")
}

/// Zips `dir` (its folder named `addons/...` inside) into `zip`, deflated, in name order with
/// a fixed date, so that the same files give the same zip. Returns `(name, size)` of each file.
pub fn write_zip(dir: &Path, zip: &Path) -> Result<Vec<(String, u64)>> {
    use zip::write::SimpleFileOptions;
    let base = dir.parent().expect("staging folder has a parent");
    let mut paths = Vec::new();
    walk(dir, &mut paths)?;
    paths.sort();
    let file = std::fs::File::create(zip).with_context(|| zip.display().to_string())?;
    let mut writer = zip::ZipWriter::new(file);
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut listing = Vec::new();
    for path in paths {
        let name = path.strip_prefix(base).expect("under the base").to_string_lossy().replace('\\', "/");
        if path.is_dir() {
            writer.add_directory(format!("{name}/"), options.unix_permissions(0o755)).map_err(zip_error)?;
            continue;
        }
        let data = std::fs::read(&path).with_context(|| path.display().to_string())?;
        writer.start_file(name.as_str(), options.unix_permissions(0o644)).map_err(zip_error)?;
        writer.write_all(&data)?;
        listing.push((name, data.len() as u64));
    }
    writer.finish().map_err(zip_error).with_context(|| zip.display().to_string())?;
    Ok(listing)
}

/// `dir` and everything under it.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    out.push(dir.to_path_buf());
    for entry in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let path = entry?.path();
        if path.is_dir() { walk(&path, out)? } else { out.push(path) }
    }
    Ok(())
}

/// Unpacks `zip` into `dest` (which it replaces).
pub fn unzip(zip: &Path, dest: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(dest);
    let file = std::fs::File::open(zip).with_context(|| zip.display().to_string())?;
    let mut archive = zip::ZipArchive::new(file).map_err(zip_error).with_context(|| zip.display().to_string())?;
    archive.extract(dest).map_err(zip_error).with_context(|| format!("unzip {}", zip.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::target_dir;

    /// What goes into the zip comes out of it, under `addons/`, and zipping twice gives the
    /// same bytes.
    #[test]
    fn the_zip_round_trips_and_is_reproducible() {
        let tmp = target_dir().join("xtask-test-zip");
        let _ = std::fs::remove_dir_all(&tmp);
        let addon = tmp.join("stage/addons/webrtc_rs");
        std::fs::create_dir_all(addon.join("bin")).unwrap();
        std::fs::write(addon.join("a.gd"), "extends Node\n".repeat(100)).unwrap();
        std::fs::write(addon.join("bin/lib.so"), (0..=255u8).cycle().take(10_000).collect::<Vec<_>>()).unwrap();
        let listing = write_zip(&tmp.join("stage/addons"), &tmp.join("one.zip")).unwrap();
        assert_eq!(listing, vec![("addons/webrtc_rs/a.gd".to_string(), 1300), ("addons/webrtc_rs/bin/lib.so".to_string(), 10_000)]);
        // Another modification time must not show in the zip.
        let later = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(2_000_000_000);
        std::fs::File::options().write(true).open(addon.join("a.gd")).unwrap().set_modified(later).unwrap();
        write_zip(&tmp.join("stage/addons"), &tmp.join("two.zip")).unwrap();
        assert_eq!(std::fs::read(tmp.join("one.zip")).unwrap(), std::fs::read(tmp.join("two.zip")).unwrap());
        unzip(&tmp.join("one.zip"), &tmp.join("out")).unwrap();
        assert_eq!(std::fs::read(tmp.join("out/addons/webrtc_rs/bin/lib.so")).unwrap(), std::fs::read(addon.join("bin/lib.so")).unwrap());
        assert_eq!(std::fs::read_to_string(tmp.join("out/addons/webrtc_rs/a.gd")).unwrap(), "extends Node\n".repeat(100));
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
