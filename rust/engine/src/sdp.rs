//! The few facts the engine reads from SDP text itself: the data m-line's `mid` (webrtc-rs
//! hands out candidates with an empty one) and the remote's `max-message-size`.

/// Message size a peer accepts when its SDP does not say (RFC 8841 section 6.1).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 65536;

/// Largest message webrtc-rs sends or receives (its `SctpMaxMessageSize::MAX_MESSAGE_SIZE`).
pub const ENGINE_MAX_MESSAGE_SIZE: usize = 262144;

/// The first security attribute a media section of `sdp` lacks (at its own or the session
/// level): `ice-ufrag`, `ice-pwd` or `fingerprint`. Without the ICE credentials no check can be
/// answered; without a fingerprint DTLS cannot authenticate the peer, so such SDP is refused
/// rather than left to fail later without a word.
pub fn missing_security_attribute(sdp: &str) -> Option<&'static str> {
    const NEEDED: [&str; 3] = ["ice-ufrag", "ice-pwd", "fingerprint"];
    let has = |lines: &[&str], name: &str| lines.iter().any(|l| l.strip_prefix("a=").is_some_and(|a| a.starts_with(name) && a[name.len()..].starts_with(':')));
    let mut sections: Vec<Vec<&str>> = vec![Vec::new()];
    for line in sdp.lines().map(str::trim_end) {
        if line.starts_with("m=") {
            sections.push(Vec::new());
        }
        if let Some(section) = sections.last_mut() {
            section.push(line);
        }
    }
    let (session, media) = sections.split_first()?;
    if media.is_empty() {
        return NEEDED.into_iter().find(|name| !has(session, name));
    }
    media.iter().find_map(|m| NEEDED.into_iter().find(|name| !has(session, name) && !has(m, name)))
}

/// The `a=mid:` of the first m-line and that m-line's index (0), if the SDP has one.
pub fn first_mid(sdp: &str) -> Option<String> {
    let mut in_media = false;
    for line in sdp.lines() {
        let line = line.trim_end();
        if line.starts_with("m=") {
            if in_media {
                return None;
            }
            in_media = true;
        } else if in_media {
            if let Some(mid) = line.strip_prefix("a=mid:") {
                return Some(mid.to_string());
            }
        }
    }
    None
}

/// The `a=max-message-size` the SDP's author advertises, if any: a number too large for any
/// integer is "huge", not "unset" (saturated), and a value that is not a number is ignored.
pub fn advertised_max_message_size(sdp: &str) -> Option<u64> {
    let value = sdp.lines().find_map(|l| l.trim_end().strip_prefix("a=max-message-size:"))?.trim();
    match value.parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => Some(u64::MAX),
        Err(_) => None,
    }
}

/// The largest message the SDP's author accepts, capped by what webrtc-rs can send.
/// `a=max-message-size:0` means "no limit".
pub fn max_message_size(sdp: &str) -> usize {
    match advertised_max_message_size(sdp) {
        Some(0) => ENGINE_MAX_MESSAGE_SIZE,
        Some(n) => n.min(ENGINE_MAX_MESSAGE_SIZE as u64) as usize,
        None => DEFAULT_MAX_MESSAGE_SIZE,
    }
}

/// Whether the SDP has a data channel section (`m=application ... webrtc-datachannel`).
pub fn has_data_section(sdp: &str) -> bool {
    sdp.lines().any(|l| l.starts_with("m=application ") && l.trim_end().ends_with("webrtc-datachannel"))
}

/// Whether an offer says `a=setup:active`, taking the DTLS client role itself. JSEP (RFC 8829
/// 5.2.1) has offers say `actpass`; webrtc-rs answers any offer as the active side, so with
/// such an offer both sides would wait for the other's handshake (`passive` offers work).
pub fn offer_takes_active_role(sdp: &str) -> bool {
    sdp.lines().any(|l| l.trim_end() == "a=setup:active")
}

/// The first value of `a=<name>:` in `sdp` (session or media level), e.g. the DTLS
/// `fingerprint` or the `ice-ufrag`.
pub fn attribute<'a>(sdp: &'a str, name: &str) -> Option<&'a str> {
    sdp.lines().find_map(|l| l.trim_end().strip_prefix("a=")?.strip_prefix(name)?.strip_prefix(':')).map(str::trim)
}

/// Size of the DCEP DATA_CHANNEL_OPEN message that announces a channel (RFC 8832 5.1): it
/// must fit the remote's `max-message-size` too, or the channel can never open.
pub fn channel_open_message_size(label: &str, protocol: &str) -> usize {
    12 + label.len() + protocol.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_missing_security_attributes() {
        let media = "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n";
        let full = format!("v=0\r\na=fingerprint:sha-256 AA\r\n{media}a=ice-ufrag:u\r\na=ice-pwd:p\r\n");
        assert_eq!(missing_security_attribute(&full), None);
        assert_eq!(missing_security_attribute(&full.replace("a=fingerprint:sha-256 AA\r\n", "")), Some("fingerprint"));
        assert_eq!(missing_security_attribute(&full.replace("a=ice-pwd:p\r\n", "")), Some("ice-pwd"));
        assert_eq!(missing_security_attribute(&full.replace("a=ice-ufrag:u\r\n", "")), Some("ice-ufrag"));
        // Each media section needs them (or the session level).
        let two = format!("{full}{media}");
        assert_eq!(missing_security_attribute(&two), Some("ice-ufrag"));
        assert_eq!(missing_security_attribute("v=0\r\n"), Some("ice-ufrag"));
    }

    const SDP: &str = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE data\r\n\
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:data\r\n\
        a=sctp-port:5000\r\na=max-message-size:262144\r\n";

    #[test]
    fn reads_mid_and_max_message_size() {
        assert_eq!(first_mid(SDP).as_deref(), Some("data"));
        assert_eq!(max_message_size(SDP), 262144);
        assert_eq!(max_message_size("v=0\r\n"), DEFAULT_MAX_MESSAGE_SIZE);
        assert_eq!(max_message_size("a=max-message-size:0\r\n"), ENGINE_MAX_MESSAGE_SIZE);
        assert_eq!(max_message_size("a=max-message-size:1073741823\r\n"), ENGINE_MAX_MESSAGE_SIZE);
        assert_eq!(max_message_size("a=max-message-size:1200\r\n"), 1200);
        assert_eq!(first_mid("a=mid:x\r\n"), None, "a mid outside an m-line is not the data mid");
        assert_eq!(max_message_size("a=max-message-size:18446744073709551616\r\n"), ENGINE_MAX_MESSAGE_SIZE, "beyond u64 is huge");
        assert_eq!(max_message_size("a=max-message-size:-1\r\n"), DEFAULT_MAX_MESSAGE_SIZE, "not a number: unset");
        assert_eq!(advertised_max_message_size("a=max-message-size:1\r\n"), Some(1));
    }

    #[test]
    fn reads_data_section_and_setup_role() {
        assert!(has_data_section(SDP));
        assert!(!has_data_section("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"));
        assert!(!offer_takes_active_role("a=setup:actpass\r\na=setup:passive\r\n"));
        assert!(offer_takes_active_role("a=setup:actpass\r\na=setup:active\r\n"));
        assert_eq!(channel_open_message_size("chat", ""), 16);
        assert_eq!(attribute("a=ice-ufrag:ab\r\na=ice-pwd:cd\r\n", "ice-ufrag"), Some("ab"));
        assert_eq!(attribute("a=ice-ufrag-x:ab\r\n", "ice-ufrag"), None, "the whole name");
    }
}
