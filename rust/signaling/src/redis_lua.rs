//! The Redis side of [`crate::redis_store`]: Lua scripts, so that every change to a lobby and
//! the messages it causes happen at once whatever other instances do.
//!
//! Keys (prefix `sig:`): `lobby:<code>` hash `mesh`, `sealed`; `members:<code>` hash
//! id -> `<instance> <session> <token>`; `seats:<instance>` set of `<code> <id>` (what to reap
//! when the instance dies); `alive:<instance>` expiring key its heartbeat renews; `instances`
//! set; `dead` hash instance -> when it was first seen dead (ms, Redis clock).
//!
//! Messages go to channel `sig:inst:<instance>` of the instance holding the peer, as
//! `{"lobby":CODE, "to":ID | "except":ID, "event":{...}}` (to 0 / except 0: every peer of the
//! lobby there) or `{"lobby":CODE, "to":ID, "kick":SESSION}` (close that seat's other sessions).
//! One channel per instance keeps each lobby's messages to a peer in order: its `joined` first.

/// Helpers every script starts with.
const PRELUDE: &str = r#"
local P = 'sig:'
local function iid_of(rec) return string.match(rec, '^(%S+)') end
local function publish(iid, env) redis.call('PUBLISH', P..'inst:'..iid, env) end
-- `event` (JSON text) to every member of `code` but `except` (0: none), once per instance.
local function broadcast(code, except, event)
  local recs = redis.call('HGETALL', P..'members:'..code)
  local env = '{"lobby":"'..code..'","except":'..except..',"event":'..event..'}'
  local done = {}
  for i = 1, #recs, 2 do
    local iid = iid_of(recs[i + 1])
    if recs[i] ~= tostring(except) and not done[iid] then
      done[iid] = true
      publish(iid, env)
    end
  end
end
-- The `joined` message for member `id`, sent to its instance.
local function welcome(code, id, iid, mesh, token)
  local peers = {}
  for _, p in ipairs(redis.call('HKEYS', P..'members:'..code)) do
    if p ~= id then peers[#peers + 1] = p end
  end
  publish(iid, '{"lobby":"'..code..'","to":'..id..',"event":{"type":"joined","lobby":"'..code..'","id":'..id..
    ',"mesh":'..(mesh == '1' and 'true' or 'false')..',"peers":['..table.concat(peers, ',')..'],"resume":"'..token..'"}}')
end
-- Removes member `id`; the others get peer_left, and lobby_closed when it ends.
local function remove(code, id)
  local members = P..'members:'..code
  local rec = redis.call('HGET', members, id)
  if not rec then return end
  redis.call('HDEL', members, id)
  redis.call('SREM', P..'seats:'..iid_of(rec), code..' '..id)
  local lobby = P..'lobby:'..code
  broadcast(code, 0, '{"type":"peer_left","id":'..id..'}')
  if redis.call('HLEN', members) == 0 or (redis.call('HGET', lobby, 'mesh') ~= '1' and id == '1') then
    broadcast(code, 0, '{"type":"lobby_closed"}')
    local rest = redis.call('HGETALL', members)
    for i = 1, #rest, 2 do redis.call('SREM', P..'seats:'..iid_of(rest[i + 1]), code..' '..rest[i]) end
    redis.call('DEL', lobby, members)
  end
end
"#;

/// ARGV: code, iid, session, token, mesh (0/1). Creates the lobby with its host, peer 1.
/// Returns `taken` (the code is in use: pick another) or `ok`.
const CREATE: &str = r#"
local code, iid, session, token, mesh = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('EXISTS', P..'lobby:'..code) == 1 then return 'taken' end
redis.call('HSET', P..'lobby:'..code, 'mesh', mesh, 'sealed', '0')
redis.call('HSET', P..'members:'..code, '1', iid..' '..session..' '..token)
redis.call('SADD', P..'seats:'..iid, code..' 1')
welcome(code, '1', iid, mesh, token)
return 'ok'
"#;

/// ARGV: code, id, iid, session, token, max lobby size. Returns a refusal code, `taken` (the
/// id is in use: pick another) or `ok:<mesh>`.
const JOIN: &str = r#"
local code, id, iid, session, token, max = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local members = P..'members:'..code
local l = redis.call('HMGET', P..'lobby:'..code, 'mesh', 'sealed')
if not l[1] then return 'no_such_lobby' end
if l[2] == '1' then return 'lobby_sealed' end
if redis.call('HLEN', members) >= max then return 'lobby_full' end
if redis.call('HEXISTS', members, id) == 1 then return 'taken' end
-- Not to the newcomer, whose instance already holds its seat.
broadcast(code, id, '{"type":"peer_joined","id":'..id..'}')
redis.call('HSET', members, id, iid..' '..session..' '..token)
redis.call('SADD', P..'seats:'..iid, code..' '..id)
welcome(code, id, iid, l[1], token)
return 'ok:'..l[1]
"#;

/// ARGV: code, id, token. Returns 1 if `token` is the seat's: checked before the instance
/// touches its own connections, so that a forged token changes nothing anywhere.
const CHECK: &str = r#"
local rec = redis.call('HGET', P..'members:'..ARGV[1], ARGV[2])
if not rec then return 0 end
local _, _, token = string.match(rec, '^(%S+) (%S+) (%S+)$')
if token ~= ARGV[3] then return 0 end
return 1
"#;

/// ARGV: code, id, token, iid, session, new token. Moves the seat to this instance and
/// session under a new token (an old one never works twice); its other sessions are closed.
/// Returns `bad_resume` or `ok:<mesh>`.
const RESUME: &str = r#"
local code, id, token, iid, session, new_token = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local members = P..'members:'..code
local rec = redis.call('HGET', members, id)
if not rec then return 'bad_resume' end
local old_iid, old_session, old_token = string.match(rec, '^(%S+) (%S+) (%S+)$')
if old_token ~= token then return 'bad_resume' end
redis.call('HSET', members, id, iid..' '..session..' '..new_token)
redis.call('SREM', P..'seats:'..old_iid, code..' '..id)
redis.call('SADD', P..'seats:'..iid, code..' '..id)
publish(old_iid, '{"lobby":"'..code..'","to":'..id..',"kick":'..session..'}')
local mesh = redis.call('HGET', P..'lobby:'..code, 'mesh')
welcome(code, id, iid, mesh, new_token)
return 'ok:'..mesh
"#;

/// ARGV: code, to, envelope. Publishes the envelope to the instance of peer `to`; 0 if there
/// is no such peer.
const RELAY: &str = r#"
local rec = redis.call('HGET', P..'members:'..ARGV[1], ARGV[2])
if not rec then return 0 end
publish(iid_of(rec), ARGV[3])
return 1
"#;

/// ARGV: code.
const SEAL: &str = r#"
if redis.call('EXISTS', P..'lobby:'..ARGV[1]) == 0 then return 0 end
redis.call('HSET', P..'lobby:'..ARGV[1], 'sealed', '1')
broadcast(ARGV[1], 0, '{"type":"sealed"}')
return 1
"#;

/// ARGV: code, id, iid, session. Removes the member if this session still holds the seat.
const LEAVE: &str = r#"
local rec = redis.call('HGET', P..'members:'..ARGV[1], ARGV[2])
if rec and string.find(rec, ARGV[3]..' '..ARGV[4]..' ', 1, true) == 1 then remove(ARGV[1], ARGV[2]) end
return 0
"#;

/// ARGV: code, id, iid, session, token, mesh, sealed. After Redis lost its data (restarted
/// without persistence), an instance puts back the lobbies and seats of its connections.
const RESTORE: &str = r#"
local code, id, iid, session, token, mesh, sealed = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local lobby = P..'lobby:'..code
if redis.call('EXISTS', lobby) == 0 then redis.call('HSET', lobby, 'mesh', mesh, 'sealed', sealed) end
if sealed == '1' then redis.call('HSET', lobby, 'sealed', '1') end
if redis.call('HSETNX', P..'members:'..code, id, iid..' '..session..' '..token) == 1 then
  redis.call('SADD', P..'seats:'..iid, code..' '..id)
end
return 0
"#;

/// ARGV: iid, alive ms. The heartbeat: this instance is alive for that long.
const ALIVE: &str = r#"
local existed = redis.call('EXISTS', P..'alive:'..ARGV[1])
redis.call('SET', P..'alive:'..ARGV[1], '1', 'PX', ARGV[2])
redis.call('SADD', P..'instances', ARGV[1])
return existed
"#;

/// ARGV: grace ms. Seats of an instance dead for that long (not resumed elsewhere) are removed.
const REAP: &str = r#"
local grace = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local reaped = 0
for _, iid in ipairs(redis.call('SMEMBERS', P..'instances')) do
  if redis.call('EXISTS', P..'alive:'..iid) == 1 then
    redis.call('HDEL', P..'dead', iid)
  else
    local since = tonumber(redis.call('HGET', P..'dead', iid))
    if not since then
      redis.call('HSET', P..'dead', iid, now)
    elseif now - since >= grace then
      for _, seat in ipairs(redis.call('SMEMBERS', P..'seats:'..iid)) do
        local code, id = string.match(seat, '^(%S+) (%S+)$')
        local rec = redis.call('HGET', P..'members:'..code, id)
        if rec and iid_of(rec) == iid then
          remove(code, id)
          reaped = reaped + 1
        end
      end
      redis.call('DEL', P..'seats:'..iid)
      redis.call('SREM', P..'instances', iid)
      redis.call('HDEL', P..'dead', iid)
    end
  end
end
return reaped
"#;

/// The scripts, loaded once.
pub(crate) struct Scripts {
    pub create: redis::Script,
    pub join: redis::Script,
    pub check: redis::Script,
    pub resume: redis::Script,
    pub relay: redis::Script,
    pub seal: redis::Script,
    pub leave: redis::Script,
    pub restore: redis::Script,
    pub alive: redis::Script,
    pub reap: redis::Script,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        let s = |body: &str| redis::Script::new(&format!("{PRELUDE}{body}"));
        Self {
            create: s(CREATE),
            join: s(JOIN),
            check: s(CHECK),
            resume: s(RESUME),
            relay: s(RELAY),
            seal: s(SEAL),
            leave: s(LEAVE),
            restore: s(RESTORE),
            alive: s(ALIVE),
            reap: s(REAP),
        }
    }
}
