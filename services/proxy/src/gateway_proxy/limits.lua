-- Rate-limit admission for one request: every limit of the key and its tenant in one round trip.
--
-- Sliding-window logs (exact: at most `limit` admissions in any trailing window), all-or-nothing:
-- every limit is checked before anything is written, so a refused request consumes nothing.
--
-- KEYS (per scope, key scope first, then tenant scope; 4 keys each):
--   rpm  ZSET  member = lease id,            score = admission time (ms)
--   tpm  ZSET  member = "<lease id>:<tokens>", score = admission time (ms)
--   tps  STRING running sum of the tokens in `tpm`
--   par  ZSET  member = lease id,            score = lease expiry (ms)
--   then 4 keys per hard budget: spent (STRING), reserved (STRING), holds (HASH), leases (ZSET),
--   and after them the counters-ready sentinel (gateway_common.budget_holds.COUNTERS_READY_KEY)
-- ARGV: lease_id, tokens (pre-call estimate), lease_ttl_ms, window_ms,
--       key rpm, key tpm, key max_parallel, tenant rpm, tenant tpm, tenant max_parallel (0 = off),
--       then, with budgets: hold_id, amount (micro-USD), hold_ttl_ms, and per budget
--       limit (micro-USD), resets_at_ms (period end), expire_at_s (when its keys may go)
--
-- Returns {allowed, refused_limit, retry_after_ms,
--          req_limit, req_remaining, req_reset_ms, tok_limit, tok_remaining, tok_reset_ms,
--          then per budget the micro-USD left after this reservation}
-- (the header figures are those of the most constrained scope; limit 0 = no such limit).
-- A refused budget returns {0, 'budget', ms_until_reset, 0 x 6, budget_index, micro_usd_left};
-- without the counters-ready sentinel (Redis lost the counters) {0, 'budget_counters_missing', 0 x 7}.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease_id = ARGV[1]
local tokens = tonumber(ARGV[2])
local lease_ttl = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local cutoff = now - window
local names = { 'key', 'tenant' }

local function tokens_of(member)
  return tonumber(string.match(member, ':(%d+)$')) or 0
end

-- Drop admissions older than the window; keep the running token sum in step.
local function prune_tokens(zkey, skey)
  local old = redis.call('ZRANGEBYSCORE', zkey, '-inf', cutoff)
  local sum = tonumber(redis.call('GET', skey) or '0')
  if #old > 0 then
    local freed = 0
    for _, member in ipairs(old) do freed = freed + tokens_of(member) end
    redis.call('ZREMRANGEBYSCORE', zkey, '-inf', cutoff)
    sum = sum - freed
    redis.call('SET', skey, math.max(sum, 0), 'PX', window)
  end
  return math.max(sum, 0)
end

local req = { limit = 0, remaining = 0, reset = 0 }
local tok = { limit = 0, remaining = 0, reset = 0 }
local function tighter(slot, limit, remaining, reset)
  if slot.limit == 0 or remaining < slot.remaining then
    slot.limit, slot.remaining, slot.reset = limit, remaining, reset
  end
end

-- Phase 1: check every limit; nothing is written yet.
for s = 0, 1 do
  local k = s * 4
  local rpm_key, tpm_key, tps_key, par_key = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  local rpm, tpm, par = tonumber(ARGV[5 + s * 3]), tonumber(ARGV[6 + s * 3]), tonumber(ARGV[7 + s * 3])
  if rpm > 0 then
    redis.call('ZREMRANGEBYSCORE', rpm_key, '-inf', cutoff)
    local used = redis.call('ZCARD', rpm_key)
    local oldest = redis.call('ZRANGE', rpm_key, 0, 0, 'WITHSCORES')
    local reset = window
    if #oldest > 0 then reset = tonumber(oldest[2]) + window - now end
    if used >= rpm then
      return { 0, names[s + 1] .. '_rpm', reset, rpm, 0, reset, 0, 0, 0 }
    end
    tighter(req, rpm, rpm - used - 1, reset)
  end
  if tpm > 0 then
    local sum = prune_tokens(tpm_key, tps_key)
    if tokens > tpm then
      return { 0, names[s + 1] .. '_tpm_request_too_large', window, 0, 0, 0, tpm, 0, window }
    end
    if sum + tokens > tpm then
      -- Wait until enough of the oldest admissions have left the window.
      local entries = redis.call('ZRANGE', tpm_key, 0, -1, 'WITHSCORES')
      local freed, retry = 0, window
      for i = 1, #entries, 2 do
        freed = freed + tokens_of(entries[i])
        if sum - freed + tokens <= tpm then
          retry = tonumber(entries[i + 1]) + window - now
          break
        end
      end
      return { 0, names[s + 1] .. '_tpm', retry, 0, 0, 0, tpm, math.max(tpm - sum, 0), retry }
    end
    local oldest = redis.call('ZRANGE', tpm_key, 0, 0, 'WITHSCORES')
    local reset = window
    if #oldest > 0 then reset = tonumber(oldest[2]) + window - now end
    tighter(tok, tpm, tpm - sum - tokens, reset)
  end
  if par > 0 then
    redis.call('ZREMRANGEBYSCORE', par_key, '-inf', now)
    if redis.call('ZCARD', par_key) >= par then
      return { 0, names[s + 1] .. '_max_parallel', 1000, req.limit, req.remaining, req.reset, 0, 0, 0 }
    end
  end
end

-- Hard budgets (budgets.py; key layout in gateway_common.budget_holds), checked after every
-- rate limit passed and before anything is written: a refused budget consumes no rate limit and
-- a refused rate limit holds no budget. Holds whose lease expired (their proxy died, their
-- usage never settled) are dropped first.
local nbudgets = 0
if #KEYS > 8 then
  nbudgets = (#KEYS - 9) / 4
  if redis.call('EXISTS', KEYS[#KEYS]) == 0 then
    return { 0, 'budget_counters_missing', 0, 0, 0, 0, 0, 0, 0 }
  end
end
local hold_id, amount, hold_ttl = ARGV[11], tonumber(ARGV[12] or '0'), tonumber(ARGV[13] or '0')
local left_after = {}
for b = 1, nbudgets do
  local k, a = 8 + (b - 1) * 4, 13 + (b - 1) * 3
  local spent_key, reserved_key, holds_key, leases_key = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  local limit, resets_ms = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local stale = redis.call('ZRANGEBYSCORE', leases_key, '-inf', now)
  for _, id in ipairs(stale) do
    local held = redis.call('HGET', holds_key, id)
    if held then
      redis.call('HDEL', holds_key, id)
      redis.call('DECRBY', reserved_key, held)
    end
  end
  if #stale > 0 then redis.call('ZREMRANGEBYSCORE', leases_key, '-inf', now) end
  local spent = tonumber(redis.call('GET', spent_key) or '0')
  local reserved = math.max(tonumber(redis.call('GET', reserved_key) or '0'), 0)
  local left = limit - spent - reserved
  if amount > left then
    return { 0, 'budget', math.max(resets_ms - now, 0), 0, 0, 0, 0, 0, 0, b, math.max(left, 0) }
  end
  left_after[b] = left - amount
end

-- Phase 2: admit — record the request in every enabled limit.
for s = 0, 1 do
  local k = s * 4
  local rpm_key, tpm_key, tps_key, par_key = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  local rpm, tpm, par = tonumber(ARGV[5 + s * 3]), tonumber(ARGV[6 + s * 3]), tonumber(ARGV[7 + s * 3])
  if rpm > 0 then
    redis.call('ZADD', rpm_key, now, lease_id)
    redis.call('PEXPIRE', rpm_key, window)
  end
  if tpm > 0 then
    redis.call('ZADD', tpm_key, now, lease_id .. ':' .. tokens)
    redis.call('PEXPIRE', tpm_key, window)
    redis.call('INCRBY', tps_key, tokens)
    redis.call('PEXPIRE', tps_key, window)
  end
  if par > 0 then
    redis.call('ZADD', par_key, now + lease_ttl, lease_id)
    redis.call('PEXPIRE', par_key, lease_ttl)
  end
end

local result = { 1, '', 0, req.limit, req.remaining, req.reset, tok.limit, tok.remaining, tok.reset }
for b = 1, nbudgets do
  local k, a = 8 + (b - 1) * 4, 13 + (b - 1) * 3
  local reserved_key, holds_key, leases_key = KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  local expire_at = ARGV[a + 3]
  -- The amount as sent: Lua would print a number past 14 digits in exponent form.
  redis.call('HSET', holds_key, hold_id, ARGV[12])
  redis.call('ZADD', leases_key, now + hold_ttl, hold_id)
  redis.call('INCRBY', reserved_key, ARGV[12])
  redis.call('EXPIREAT', holds_key, expire_at)
  redis.call('EXPIREAT', leases_key, expire_at)
  redis.call('EXPIREAT', reserved_key, expire_at)
  result[9 + b] = left_after[b]
end
return result
