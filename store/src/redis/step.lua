-- The store's one atomic step on one shard (docs/store.md). Generic: it holds no status rule.
-- KEYS: records hash, online zset, counts hash, feed stream, pending zset (id by deadline),
-- seen zset (online ids by last sign of life); one hash tag: one slot.
-- ARGV: n clients, n count ops, n feed pairs, feed max length, n zset adds, n zset removes,
-- the advance time judged with ("-": not checked; "": none), n pending adds, n pending removes,
-- n seen adds, n seen removes, due check ("-": none, else a time T: the ids of the pending zset
-- due by T must be exactly the pending ids to remove, in the zset's order); then the n client ids; their n expected
-- records ("" = absent); the n pairs (id, new record); per zset addition the pair ("0", id);
-- the ids to remove from the zset; per pending addition the pair (deadline, id); the pending
-- ids to remove; per seen addition the pair (time, id); the seen ids to remove; per count op
-- (op "+" add or "M" max, field, integer); per feed pair (client, "online,eventType,time,channelId").
-- Every check is made first (records, advance time, due count); on any mismatch nothing is
-- written and the conflicting ids (or "a", "p") are returned. Otherwise everything is written
-- and an empty array returned.
-- Calls are variadic (one per kind, not per client), and their arguments are ranges of ARGV
-- (`unpack(ARGV, i, j)`, no Lua loop): a script's cost is mostly its calls and its loops.
local n, ops, feed, maxlen = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local adds, rems = tonumber(ARGV[5]), tonumber(ARGV[6])
local padds, prems, sadds, srems = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local a = 13
local conflicts = {}
if n > 0 then
  local cur = redis.call('HMGET', KEYS[1], unpack(ARGV, a, a + n - 1))
  for i = 1, n do
    -- Lua strings are interned: this compares two pointers.
    if (cur[i] or '') ~= ARGV[a + n + i - 1] then conflicts[#conflicts + 1] = ARGV[a + i - 1] end
  end
end
if ARGV[7] ~= '-' and (redis.call('HGET', KEYS[3], 'a') or '') ~= ARGV[7] then conflicts[#conflicts + 1] = 'a' end
if ARGV[12] ~= '-' then
  local due = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', ARGV[12])
  local at = a + 4 * n + 2 * adds + rems + 2 * padds
  local same = #due == prems
  for i = 1, prems do
    if not same then break end
    same = due[i] == ARGV[at + i - 1]
  end
  if not same then conflicts[#conflicts + 1] = 'p' end
end
if #conflicts > 0 then return conflicts end
a = a + 2 * n
if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, a, a + 2 * n - 1)) end
a = a + 2 * n
if adds > 0 then redis.call('ZADD', KEYS[2], unpack(ARGV, a, a + 2 * adds - 1)) end
a = a + 2 * adds
if rems > 0 then redis.call('ZREM', KEYS[2], unpack(ARGV, a, a + rems - 1)) end
a = a + rems
if padds > 0 then redis.call('ZADD', KEYS[5], unpack(ARGV, a, a + 2 * padds - 1)) end
a = a + 2 * padds
if prems > 0 then redis.call('ZREM', KEYS[5], unpack(ARGV, a, a + prems - 1)) end
a = a + prems
if sadds > 0 then redis.call('ZADD', KEYS[6], unpack(ARGV, a, a + 2 * sadds - 1)) end
a = a + 2 * sadds
if srems > 0 then redis.call('ZREM', KEYS[6], unpack(ARGV, a, a + srems - 1)) end
a = a + srems
-- The counts: one read and one write for all of them. Counts stay far below 2^53 (exact in
-- Lua's numbers); a max is written as given, so a time keeps every digit.
if ops > 0 then
  local fields = {}
  for i = 0, ops - 1 do fields[i + 1] = ARGV[a + 3 * i + 1] end
  local old = redis.call('HMGET', KEYS[3], unpack(fields))
  local kv = {}
  for i = 0, ops - 1 do
    local op, v = ARGV[a + 3 * i], ARGV[a + 3 * i + 2]
    if op == '+' then
      kv[#kv + 1] = fields[i + 1]
      kv[#kv + 1] = string.format('%.0f', tonumber(old[i + 1] or '0') + tonumber(v))
    elseif tonumber(old[i + 1] or '-1') < tonumber(v) then
      kv[#kv + 1] = fields[i + 1]
      kv[#kv + 1] = v
    end
  end
  if #kv > 0 then redis.call('HSET', KEYS[3], unpack(kv)) end
end
a = a + 3 * ops
-- At most 500 flips per entry: unpack takes a few thousand values at most.
for from = 0, feed - 1, 500 do
  local k = math.min(500, feed - from)
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', maxlen, '*', unpack(ARGV, a + 2 * from, a + 2 * (from + k) - 1))
end
return {}
