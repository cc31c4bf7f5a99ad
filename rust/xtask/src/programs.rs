//! The programs the commands take from Debian (`debian::find_or_install`) when `PATH` has
//! none: what each is for, its package, and what the recipe leaves out of it.

use crate::debian::Program;

/// Debian's chromium, whose real binary (resources beside it) re-executes itself through
/// `/proc/self/exe`, which the recipe's relocation keeps working. Left out: what headless
/// Chromium never loads (the GTK stack and its image loaders, icon themes and schemas, X11
/// tools, systemd/D-Bus/PAM, Mesa's GL drivers: Chromium renders with its own SwiftShader),
/// and the Vulkan validation layer. Measured on forky's 156: 157 MB download, 433 MB on disk
/// (the full closure: 242 MB, 838 MB). A library still missing makes the recipe install the
/// full closure instead.
pub const CHROMIUM: Program = Program {
    names: &["chromium", "chromium-browser"],
    package: "chromium",
    binary: "/usr/lib/chromium/chromium",
    dir: "chromium",
    dir_env: "WEBRTC_RS_CHROMIUM_DIR",
    env: &[
        (
            "DEB_PRUNE_MORE",
            "systemd|systemd-sysv|libsystemd-shared|init-system-helpers|libpam-.*|libpam0g|dbus|dbus-.*|bubblewrap\
             |procps|libproc2-[0-9]+|libncursesw6|glycin-.*|libglycin-.*|librsvg2-.*|libheif.*|libde265-.*|libjxl.*\
             |libhwy.*|adwaita-icon-theme|hicolor-icon-theme|gtk-update-icon-cache|libgtk-3-.*|gsettings-desktop-schemas\
             |dconf-.*|libdconf1|user-session-migration|libcloudproviders0|libcolord2|libgdk-pixbuf.*|shared-mime-info\
             |xkb-data|x11-utils|xdg-utils|libxaw7|libxmu6|libxmuu1|libxpm4|libxt6t64|libsm6|libice6|x11-common\
             |libxkbfile1|libxft2|libxtst6|libxv1|libxxf86dga1|libxxf86vm1|libgl1-mesa-dri|libglx-mesa0|libglx0|libgl1\
             |libglvnd0|libxcb-glx0|libepoxy0|libwayland-cursor0|libwayland-egl1|libxcursor1|libxinerama1|libvulkan1\
             |libcrypt1|libaudit.*|libcap-ng0|libdb5\\.3t64|libapparmor1|libseccomp2|libc-gconv-modules-extra",
        ),
        ("DEB_PRUNE_FILES", "usr/lib/chromium/libVkLayer_khronos_validation.so*"),
        // The prefix's fonts and GLib modules, not whatever the host has (or lacks).
        ("DEB_FONTCONFIG", "1"),
        (
            "DEB_WRAPPER_PRELUDE",
            "# GLib modules of the prefix only.\n\
             : \"${GIO_MODULE_DIR:=@DEST@/root/usr/lib/x86_64-linux-gnu/gio/modules}\"\n\
             export GIO_MODULE_DIR",
        ),
    ],
};

/// Debian's firefox-esr: its real binary, in a directory of its own (libxul.so and the helpers
/// it starts beside it). Headless Firefox still loads GTK (and gdk-pixbuf its libglycin; the
/// sandbox libseccomp), so only what it never loads is left out: systemd/D-Bus/PAM, bubblewrap
/// and procps, the glycin image loaders and the codecs only they use. Measured on forky's
/// 153.5.1esr: 117 of 155 packages, 412 MB on disk (the full closure: 473 MB). A library still
/// missing makes the recipe install the full closure instead.
pub const FIREFOX: Program = Program {
    names: &["firefox-esr", "firefox"],
    package: "firefox-esr",
    binary: "/usr/lib/firefox-esr/firefox-esr",
    dir: "firefox-esr",
    dir_env: "WEBRTC_RS_FIREFOX_DIR",
    env: &[
        (
            "DEB_PRUNE_MORE",
            "systemd|systemd-sysv|libsystemd-shared|init-system-helpers|libpam-.*|libpam0g|dbus|dbus-.*|bubblewrap\
             |procps|libproc2-[0-9]+|libncursesw6|glycin-.*|librsvg2-.*|libheif.*|libde265-.*|libjxl.*\
             |libhwy.*|user-session-migration|libcrypt1|libaudit.*|libcap-ng0|libdb5\\.3t64|libapparmor1",
        ),
        // The prefix's fonts and GLib modules, not whatever the host has (or lacks).
        ("DEB_FONTCONFIG", "1"),
        (
            "DEB_WRAPPER_PRELUDE",
            "# GLib modules of the prefix only.\n\
             : \"${GIO_MODULE_DIR:=@DEST@/root/usr/lib/x86_64-linux-gnu/gio/modules}\"\n\
             export GIO_MODULE_DIR",
        ),
    ],
};

/// Debian's coturn: its `turnserver`. Left out: systemd and the command-line clients
/// (sqlite3, telnet) the package depends on. 13 MB download, 37 MB on disk.
pub const COTURN: Program = Program {
    names: &["turnserver"],
    package: "coturn",
    binary: "/usr/bin/turnserver",
    dir: "coturn",
    dir_env: "WEBRTC_RS_COTURN_DIR",
    env: &[("DEB_PRUNE_MORE", "systemd|libsystemd-shared|sqlite3|telnet|inetutils-telnet|libreadline8t64|readline-common")],
};

/// Debian's redis-server, for the signaling server's multi-instance tests (42 MB on disk).
pub const REDIS: Program = Program {
    names: &["redis-server"],
    package: "redis-server",
    binary: "/usr/bin/redis-server",
    dir: "redis",
    dir_env: "WEBRTC_RS_REDIS_DIR",
    env: &[],
};

/// Debian's qemu-user, for the arm64 run of `package --run-arm64`: only its `qemu-aarch64`.
pub const QEMU: Program = Program {
    names: &["qemu-aarch64", "qemu-aarch64-static"],
    package: "qemu-user",
    binary: "/usr/bin/qemu-aarch64",
    dir: "qemu-user",
    dir_env: "WEBRTC_RS_QEMU_DIR",
    // The package holds ~30 statically linked emulators (470 MB); one is needed.
    env: &[("DEB_SUITE", "trixie"), ("DEB_PRUNE_FILES", "usr/bin/qemu-[!a]* usr/bin/qemu-a[!a]* usr/bin/qemu-aarch64_be")],
};
