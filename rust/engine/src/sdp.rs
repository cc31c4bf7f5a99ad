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

/// The largest message the SDP's author accepts, capped by what webrtc-rs can send.
/// `a=max-message-size:0` means "no limit".
pub fn max_message_size(sdp: &str) -> usize {
    let advertised = sdp
        .lines()
        .find_map(|l| l.trim_end().strip_prefix("a=max-message-size:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    match advertised {
        Some(0) => ENGINE_MAX_MESSAGE_SIZE,
        Some(n) => n.min(ENGINE_MAX_MESSAGE_SIZE),
        None => DEFAULT_MAX_MESSAGE_SIZE,
    }
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
    }
}
