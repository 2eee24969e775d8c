-- End of a request admitted by limits.lua: free its parallel slot and reconcile its tokens.
--
-- KEYS: the same 8 keys as limits.lua (rpm, tpm, tps, par for the key, then the tenant).
-- ARGV: lease_id, estimated tokens, actual tokens, window_ms.
-- The TPM entry keeps its admission time; only its token count changes from the estimate to
-- what the provider reported (or the gateway counted), and the running sum moves with it.

local lease_id, estimate, actual = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local window = tonumber(ARGV[4])
for s = 0, 1 do
  local k = s * 4
  local tpm_key, tps_key, par_key = KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  redis.call('ZREM', par_key, lease_id)
  local member = lease_id .. ':' .. estimate
  local admitted = redis.call('ZSCORE', tpm_key, member)
  if admitted and actual ~= estimate then
    redis.call('ZREM', tpm_key, member)
    redis.call('ZADD', tpm_key, admitted, lease_id .. ':' .. actual)
    local sum = redis.call('INCRBY', tps_key, actual - estimate)
    if sum < 0 then redis.call('SET', tps_key, 0) end
    redis.call('PEXPIRE', tps_key, window)
  end
end
return 1
