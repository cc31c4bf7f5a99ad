// Preferences of the fresh Firefox profile the interop test runs browser_peer.html in
// (copied there as user.js by rust/xtask/src/interop.rs). Headless Firefox gathers its
// mDNS-hidden host candidates and connects with its defaults; one WebRTC preference is set,
// for peers on one machine, and the rest keep a browser with no network but loopback from
// trying the Internet.

// Loopback for ICE. Godot's peer signals a 127.0.0.1 host candidate too (includeLoopback,
// on by default). Without this, Firefox pairs no loopback candidate and never gets an answer
// to its own checks toward one, yet answers Godot's checks from 127.0.0.1 to its interface
// address: when Godot offers (ICE-controlling), it then nominates that pair now and then
// (2 runs of 14) and Firefox, which cannot use it, stays "connecting" for good.
user_pref("media.peerconnection.ice.loopback", true);

// The page's console.log on stdout (target/interop/firefox-*.out).
user_pref("devtools.console.stdout.content", true);

// No first-run pages, default-browser checks or what's-new pages.
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("startup.homepage_welcome_url", "");
user_pref("browser.aboutwelcome.enabled", false);
user_pref("trailhead.firstrun.didSeeAboutWelcome", true);

// Nothing sent or fetched: telemetry, updates, Safe Browsing lists, remote settings, the
// captive-portal and connectivity probes, push, and add-on updates.
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("toolkit.telemetry.unified", false);
user_pref("app.update.auto", false);
user_pref("app.update.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("browser.safebrowsing.downloads.enabled", false);
user_pref("browser.safebrowsing.update.enabled", false);
user_pref("services.settings.server", "http://127.0.0.1:9/");
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("dom.push.connection.enabled", false);
user_pref("extensions.update.enabled", false);
user_pref("extensions.getAddons.cache.enabled", false);
user_pref("browser.newtabpage.enabled", false);
user_pref("browser.newtabpage.activity-stream.feeds.topsites", false);
user_pref("browser.topsites.contile.enabled", false);
user_pref("network.dns.disablePrefetch", true);
user_pref("network.prefetch-next", false);
