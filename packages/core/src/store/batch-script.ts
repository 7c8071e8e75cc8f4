import { createHash } from 'node:crypto';
import type { Operation } from './operation.js';

/** A Lua script that runs many calls of one operation in one EVALSHA. */
export interface BatchScript {
  readonly source: string;
  readonly sha: string;
}

/**
 * Wraps an operation's Lua function in a driver that runs a batch of its calls atomically.
 *
 * KEYS: every call's keys, one call after another.
 * ARGV: the number of calls, then per call: key count, argument count, timestamp in ms (empty:
 * Redis `TIME`), then its arguments.
 * Reply: one reply per call, in order.
 */
export function batchScript(operation: Pick<Operation<unknown, unknown>, 'lua'>): BatchScript {
  const source = `local op = function(keys, argv, now)
${operation.lua}
end
local replies = {}
local server_now
local ki, ai = 0, 2
for c = 1, tonumber(ARGV[1]) do
  local kc, ac, ts = tonumber(ARGV[ai]), tonumber(ARGV[ai + 1]), ARGV[ai + 2]
  local now
  if ts == '' then
    if not server_now then
      local t = redis.call('TIME')
      server_now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
    end
    now = server_now
  else
    now = tonumber(ts)
  end
  local keys, argv = {}, {}
  for i = 1, kc do keys[i] = KEYS[ki + i] end
  for i = 1, ac do argv[i] = ARGV[ai + 2 + i] end
  replies[c] = op(keys, argv, now)
  ki = ki + kc
  ai = ai + 3 + ac
end
return replies
`;
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}
