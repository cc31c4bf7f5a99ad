//! Godot dictionaries to engine options: the one place that knows the option keys. Wrong types
//! and out-of-range values become `ERR_INVALID_PARAMETER` errors that name the key.

use engine::{ChannelConfig, Error, IceServer, IceTransportPolicy, PeerConfig, Result};
use godot::prelude::*;

/// Key of the engine's own options inside the `initialize()` dictionary.
pub const ENGINE_OPTIONS_KEY: &str = "webrtc_rs";

fn type_error(key: &str, expected: &str, got: &Variant) -> Error {
    Error::invalid(format!("'{key}' must be {expected}, got {:?} ({}).", got.get_type(), engine::excerpt(&got.to_string())))
}

fn get_bool(dict: &VarDictionary, key: &str) -> Result<Option<bool>> {
    match dict.get(key) {
        None => Ok(None),
        Some(v) => v.try_to::<bool>().map(Some).map_err(|_| type_error(key, "a bool", &v)),
    }
}

fn get_string(dict: &VarDictionary, key: &str) -> Result<Option<String>> {
    match dict.get(key) {
        None => Ok(None),
        Some(v) => match v.get_type() {
            VariantType::STRING | VariantType::STRING_NAME => Ok(Some(v.to_string())),
            _ => Err(type_error(key, "a String", &v)),
        },
    }
}

/// An integer in `0..=max`; floats with an integral value are accepted (JSON gives floats).
fn get_uint(dict: &VarDictionary, key: &str, max: i64) -> Result<Option<i64>> {
    let Some(v) = dict.get(key) else { return Ok(None) };
    let n = match v.get_type() {
        VariantType::INT => v.to::<i64>(),
        VariantType::FLOAT => {
            let f = v.to::<f64>();
            if f.fract() != 0.0 || !f.is_finite() {
                return Err(type_error(key, "an integer", &v));
            }
            f as i64
        }
        _ => return Err(type_error(key, "an integer", &v)),
    };
    if !(0..=max).contains(&n) {
        return Err(Error::invalid(format!("'{key}' must be between 0 and {max}, got {n}.")));
    }
    Ok(Some(n))
}

/// `initialize()`'s W3C `RTCConfiguration` plus `webrtc_rs: {includeLoopback, multicastDns,
/// bindAddresses, portRange, turnCaFile, simulate: {delay_ms, jitter_ms, loss_percent}}`.
/// `simulate` starts from `defaults` (the project settings): each key given overrides one.
pub fn peer_config(dict: &VarDictionary, defaults: Option<engine::Simulation>) -> Result<PeerConfig> {
    let mut config = PeerConfig { simulate: defaults, ..PeerConfig::default() };
    if let Some(servers) = dict.get("iceServers") {
        let servers: VarArray = servers.try_to().map_err(|_| type_error("iceServers", "an Array of Dictionaries", &servers))?;
        for (i, entry) in servers.iter_shared().enumerate() {
            let entry: VarDictionary = entry
                .try_to()
                .map_err(|_| type_error(&format!("iceServers[{i}]"), "a Dictionary with 'urls'", &entry))?;
            config.ice_servers.push(ice_server(&entry, i)?);
        }
    }
    if let Some(policy) = get_string(dict, "iceTransportPolicy")? {
        config.ice_transport_policy = match policy.as_str() {
            "all" => IceTransportPolicy::All,
            "relay" => IceTransportPolicy::Relay,
            other => return Err(Error::invalid(format!("'iceTransportPolicy' must be \"all\" or \"relay\", got \"{}\".", engine::excerpt(other)))),
        };
    }
    if let Some(extra) = dict.get(ENGINE_OPTIONS_KEY) {
        let extra: VarDictionary = extra.try_to().map_err(|_| type_error(ENGINE_OPTIONS_KEY, "a Dictionary", &extra))?;
        if let Some(v) = get_bool(&extra, "includeLoopback")? {
            config.include_loopback = v;
        }
        if let Some(v) = get_bool(&extra, "multicastDns")? {
            config.mdns = v;
        }
        if let Some(list) = extra.get("bindAddresses") {
            let key = "webrtc_rs.bindAddresses";
            // An Array of Strings or a PackedStringArray, as for 'urls'.
            let items: Vec<Variant> = match list.get_type() {
                VariantType::PACKED_STRING_ARRAY => list.to::<PackedStringArray>().as_slice().iter().map(|s| s.to_variant()).collect(),
                _ => list.try_to::<VarArray>().map_err(|_| type_error(key, "an Array of \"ip:port\" Strings", &list))?.iter_shared().collect(),
            };
            for a in items {
                let text = a.to_string();
                let addr = (a.get_type() == VariantType::STRING).then(|| text.parse::<std::net::SocketAddr>().ok()).flatten();
                config.bind_addresses.push(addr.ok_or_else(|| Error::invalid(format!("'{key}': '{}' is not an \"ip:port\" address.", engine::excerpt(&text))))?);
            }
        }
        if let Some(range) = extra.get("portRange") {
            config.port_range = Some(port_range(&range)?);
        }
        if let Some(path) = get_string(&extra, "turnCaFile")? {
            config.turn_ca_pem = Some(read_text_file(&path, "webrtc_rs.turnCaFile")?);
        }
        if let Some(sim) = extra.get("simulate") {
            let sim: VarDictionary = sim.try_to().map_err(|_| type_error("webrtc_rs.simulate", "a Dictionary", &sim))?;
            let mut base = config.simulate.unwrap_or_default();
            for (key, field) in [("delay_ms", &mut base.delay_ms), ("jitter_ms", &mut base.jitter_ms), ("loss_percent", &mut base.loss_percent)] {
                if let Some(v) = sim.get(key) {
                    *field = get_number(&v, &format!("webrtc_rs.simulate.{key}"))?;
                }
            }
            config.simulate = Some(base);
        }
    }
    // Checked with the rest by PeerConnection::new (PeerConfig::validate).
    Ok(config)
}

/// A number (int or float) for the link simulator.
fn get_number(v: &Variant, key: &str) -> Result<f64> {
    match v.get_type() {
        VariantType::INT => Ok(v.to::<i64>() as f64),
        VariantType::FLOAT => Ok(v.to::<f64>()),
        _ => Err(type_error(key, "a number", v)),
    }
}

/// A small text file through Godot (so `res://` works in an exported game's pack too).
fn read_text_file(path: &str, key: &str) -> Result<String> {
    use godot::classes::FileAccess;
    let text = FileAccess::get_file_as_string(path).to_string();
    let error = FileAccess::get_open_error();
    if error != godot::global::Error::OK {
        return Err(Error::invalid(format!("'{key}': '{}' could not be read ({error:?}).", engine::excerpt(path))));
    }
    Ok(text)
}

/// `webrtc_rs.portRange`: `[min, max]`, two integers from 1 to 65535 with min <= max (an Array,
/// integral floats accepted as JSON gives them, or a packed integer array).
fn port_range(v: &Variant) -> Result<(u16, u16)> {
    let key = "webrtc_rs.portRange";
    let expected = "[min, max], two integers from 1 to 65535 with min <= max";
    let items: Vec<Variant> = match v.get_type() {
        VariantType::PACKED_INT32_ARRAY => v.to::<PackedInt32Array>().as_slice().iter().map(|n| n.to_variant()).collect(),
        VariantType::PACKED_INT64_ARRAY => v.to::<PackedInt64Array>().as_slice().iter().map(|n| n.to_variant()).collect(),
        _ => v.try_to::<VarArray>().map_err(|_| type_error(key, expected, v))?.iter_shared().collect(),
    };
    let port = |n: &Variant| -> Option<u16> {
        match n.get_type() {
            VariantType::INT => u16::try_from(n.to::<i64>()).ok(),
            VariantType::FLOAT => {
                let f = n.to::<f64>();
                (f.fract() == 0.0 && (0.0..=65535.0).contains(&f)).then_some(f as u16)
            }
            _ => None,
        }
    };
    match items.as_slice() {
        [a, b] => match (port(a), port(b)) {
            (Some(min), Some(max)) if min >= 1 && min <= max => Ok((min, max)),
            _ => Err(Error::invalid(format!("'{key}' must be {expected}, got {}.", engine::excerpt(&v.to_string())))),
        },
        _ => Err(type_error(key, expected, v)),
    }
}

fn ice_server(entry: &VarDictionary, i: usize) -> Result<IceServer> {
    let key = format!("iceServers[{i}].urls");
    let urls = entry.get("urls").ok_or_else(|| Error::invalid(format!("iceServers[{i}] has no 'urls'.")))?;
    let urls = match urls.get_type() {
        VariantType::STRING | VariantType::STRING_NAME => vec![urls.to_string()],
        VariantType::PACKED_STRING_ARRAY => urls.to::<PackedStringArray>().as_slice().iter().map(|s| s.to_string()).collect(),
        VariantType::ARRAY => {
            let arr: VarArray = urls.try_to().map_err(|_| type_error(&key, "a String or an Array of Strings", &urls))?;
            let mut out = Vec::new();
            for u in arr.iter_shared() {
                if !matches!(u.get_type(), VariantType::STRING | VariantType::STRING_NAME) {
                    return Err(type_error(&key, "a String or an Array of Strings", &u));
                }
                out.push(u.to_string());
            }
            out
        }
        _ => return Err(type_error(&key, "a String or an Array of Strings", &urls)),
    };
    let username = get_string(entry, "username")?.unwrap_or_default();
    // "credentials" is the spelling of Godot 3's documentation.
    let credential = match get_string(entry, "credential")? {
        Some(c) => c,
        None => get_string(entry, "credentials")?.unwrap_or_default(),
    };
    Ok(IceServer { urls, username, credential })
}

/// `create_data_channel()`'s W3C `RTCDataChannelInit`. `maxPacketLifetime` (the spelling
/// WebRTCMultiplayerPeer writes) is accepted as `maxPacketLifeTime`, so its unreliable modes
/// really are unreliable.
pub fn channel_config(dict: &VarDictionary) -> Result<ChannelConfig> {
    let mut config = ChannelConfig::default();
    if let Some(v) = get_bool(dict, "negotiated")? {
        config.negotiated = v;
    }
    if let Some(v) = get_bool(dict, "ordered")? {
        config.ordered = v;
    }
    config.id = get_uint(dict, "id", 65535)?.map(|v| v as u16);
    config.max_packet_life_time = match get_uint(dict, "maxPacketLifeTime", 65535)? {
        Some(v) => Some(v as u16),
        None => get_uint(dict, "maxPacketLifetime", 65535)?.map(|v| v as u16),
    };
    config.max_retransmits = get_uint(dict, "maxRetransmits", 65535)?.map(|v| v as u16);
    if let Some(p) = get_string(dict, "protocol")? {
        config.protocol = p;
    }
    // The engine checks the combination (negotiated needs an id, ...) in create_data_channel.
    Ok(config)
}
