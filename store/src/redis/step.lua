-- The store's one atomic step on one shard (docs/store.md). Generic: it holds no status rule.
-- KEYS: records hash, online zset, counts hash, feed stream (one hash tag: one slot).
-- ARGV: n clients, n count ops, n feed pairs, feed max length, n zset adds, n zset removes; then
-- the n client ids, their n expected records ("" = absent), their n new records; the ids to add
-- to and remove from the zset; per count op (op "+" add or "M" max, field, integer); per feed
-- pair (client, "online,eventType,time,channelId").
-- Every expected record is compared first; on any mismatch nothing is written and the
-- conflicting ids are returned. Otherwise everything is written and an empty array returned.
-- Calls are variadic (one per kind, not per client): a script's cost is mostly its calls.
local n, ops, feed, maxlen = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local adds, rems = tonumber(ARGV[5]), tonumber(ARGV[6])
local ids, a = {}, 7
for i = 1, n do ids[i] = ARGV[a + i - 1] end
local cur = redis.call('HMGET', KEYS[1], unpack(ids))
local conflicts = {}
for i = 1, n do
  if (cur[i] or '') ~= ARGV[a + n + i - 1] then conflicts[#conflicts + 1] = ids[i] end
end
if #conflicts > 0 then return conflicts end
local pairs_ = {}
for i = 1, n do
  pairs_[2 * i - 1] = ids[i]
  pairs_[2 * i] = ARGV[a + 2 * n + i - 1]
end
redis.call('HSET', KEYS[1], unpack(pairs_))
a = a + 3 * n
if adds > 0 then
  local z = {}
  for i = 1, adds do
    z[2 * i - 1] = '0'
    z[2 * i] = ARGV[a + i - 1]
  end
  redis.call('ZADD', KEYS[2], unpack(z))
end
a = a + adds
if rems > 0 then
  local z = {}
  for i = 1, rems do z[i] = ARGV[a + i - 1] end
  redis.call('ZREM', KEYS[2], unpack(z))
end
a = a + rems
for i = 0, ops - 1 do
  local op, field, v = ARGV[a + 3 * i], ARGV[a + 3 * i + 1], ARGV[a + 3 * i + 2]
  if op == '+' then
    redis.call('HINCRBY', KEYS[3], field, v)
  elseif tonumber(redis.call('HGET', KEYS[3], field) or '-1') < tonumber(v) then
    redis.call('HSET', KEYS[3], field, v)
  end
end
a = a + 3 * ops
-- At most 500 flips per entry: unpack takes a few thousand values at most.
for from = 0, feed - 1, 500 do
  local f = {}
  for i = 1, 2 * math.min(500, feed - from) do f[i] = ARGV[a + 2 * from + i - 1] end
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', maxlen, '*', unpack(f))
end
return {}
