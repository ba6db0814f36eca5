-- The store's one atomic step on one shard (docs/store.md). Generic: it holds no status rule.
-- KEYS: records hash, online zset, counts hash, feed stream (one hash tag: one slot).
-- ARGV: clients, count ops, feed entries, feed max length; then per client (id, expected record
-- or "" for absent, new record, zset op "+", "-" or ""); per count op (op "+" add or "M" max,
-- field, integer); per feed entry (client, online, time, channel, event type).
-- Every expected record is compared first; on any mismatch nothing is written and the
-- conflicting ids are returned. Otherwise everything is written and an empty array returned.
local n, ops, feed, maxlen = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local conflicts = {}
for i = 0, n - 1 do
  local id, want = ARGV[5 + 4 * i], ARGV[6 + 4 * i]
  if (redis.call('HGET', KEYS[1], id) or '') ~= want then
    conflicts[#conflicts + 1] = id
  end
end
if #conflicts > 0 then
  return conflicts
end
for i = 0, n - 1 do
  local id, new, z = ARGV[5 + 4 * i], ARGV[7 + 4 * i], ARGV[8 + 4 * i]
  redis.call('HSET', KEYS[1], id, new)
  if z == '+' then
    redis.call('ZADD', KEYS[2], 0, id)
  elseif z == '-' then
    redis.call('ZREM', KEYS[2], id)
  end
end
local a = 5 + 4 * n
for i = 0, ops - 1 do
  local op, field, v = ARGV[a + 3 * i], ARGV[a + 3 * i + 1], ARGV[a + 3 * i + 2]
  if op == '+' then
    redis.call('HINCRBY', KEYS[3], field, v)
  elseif tonumber(redis.call('HGET', KEYS[3], field) or '-1') < tonumber(v) then
    redis.call('HSET', KEYS[3], field, v)
  end
end
a = a + 3 * ops
for i = 0, feed - 1 do
  local b = a + 5 * i
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', maxlen, '*',
    'c', ARGV[b], 'o', ARGV[b + 1], 't', ARGV[b + 2], 'h', ARGV[b + 3], 'e', ARGV[b + 4])
end
return {}
