#!/usr/bin/env bash
# Wraps a built dylib in the .framework bundle Godot names in webrtc_rs.gdextension:
#   framework.sh macos|ios <dylib> <out>/libwebrtc_rs.<platform>.framework <version>
# The binary is named after the bundle (Godot loads <bundle>/<name without .framework>), its
# install name points inside the bundle, and Info.plist says what it is. The bundle is signed
# ad hoc here (install_name_tool invalidates the linker's signature); a developer's own
# identity replaces it when the game is signed (README, "Signing on Apple platforms").
set -euo pipefail
platform=$1 dylib=$2 bundle=$3 version=$4
name=$(basename "$bundle" .framework)
case "$platform" in
  macos) plist_dir="$bundle/Resources" supported=MacOSX min_key=LSMinimumSystemVersion min=10.13 ;;
  ios) plist_dir="$bundle" supported=iPhoneOS min_key=MinimumOSVersion min=12.0 ;;
  *) echo "framework.sh: platform must be macos or ios, got $platform" >&2; exit 2 ;;
esac
rm -rf "$bundle"
mkdir -p "$plist_dir"
cp "$dylib" "$bundle/$name"
install_name_tool -id "@rpath/$name.framework/$name" "$bundle/$name"
cat > "$plist_dir/Info.plist" <<PLIST
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>CFBundleDevelopmentRegion</key><string>en</string>
  <key>CFBundleExecutable</key><string>$name</string>
  <key>CFBundleIdentifier</key><string>org.webrtc-rs.godot.$platform</string>
  <key>CFBundleInfoDictionaryVersion</key><string>6.0</string>
  <key>CFBundleName</key><string>$name</string>
  <key>CFBundlePackageType</key><string>FMWK</string>
  <key>CFBundleShortVersionString</key><string>$version</string>
  <key>CFBundleVersion</key><string>$version</string>
  <key>CFBundleSupportedPlatforms</key><array><string>$supported</string></array>
  <key>$min_key</key><string>$min</string>
</dict>
</plist>
PLIST
plutil -lint "$plist_dir/Info.plist"
codesign --force --sign - "$bundle"
codesign --verify --verbose "$bundle"
