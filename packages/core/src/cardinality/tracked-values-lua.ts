/**
 * The Lua side of one window's tracked values; `tracked-values.ts` is the same in memory, and
 * the two must stay step for step alike.
 *
 * A window (one per scope, window length and granularity) is one sorted set: member = a value's
 * 53-bit hash (kept by Redis as an integer), score = the granule of its latest admission. The
 * values the window tracks at granule c are the members scored in [c - n + 1, c]: a call first
 * removes those scored c - n or lower, so the set's cardinality is the window's. Only admission
 * moves a score, and only up (`ZADD GT`). The key expires when its newest member leaves the
 * window: PEXPIRE (highest score + n) * granularity - now, relative to the decision time.
 *
 * @example
 * ```ts
 * const lua = `${TRACKED_VALUES_LUA}\nlocal w = values_open(keys[1], c, n, gms)\nreturn w.stored`;
 * ```
 */
export const TRACKED_VALUES_LUA = `
local CHUNK = 1000

-- An integer as Redis stores it; Lua's own conversion keeps only 14 digits.
local function integer_text(g)
  return string.format('%d', g)
end

-- Opens the window 'key' for a call at granule c (n granules per window, gms ms each), without
-- the values that left it.
local function values_open(key, c, n, gms)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', integer_text(c - n))
  return { key = key, c = c, score = integer_text(c), n = n, gms = gms,
    stored = redis.call('ZCARD', key), known = {}, pending = 0, written = false }
end

-- For each of the hashes argv[from .. to]: its stored score (the granule of its latest
-- admission), or false when the window does not hold it.
local function values_stored(w, from, to, argv)
  local scores = {}
  local start = from
  while start <= to do
    local stop = math.min(to, start + CHUNK - 1)
    local found = redis.call('ZMSCORE', w.key, unpack(argv, start, stop))
    for i = 1, stop - start + 1 do
      scores[start - from + i] = found[i] and tonumber(found[i]) or false
    end
    start = stop + 1
  end
  return scores
end

-- Admits 'hash' at the call's granule: with 'store', queues it to be recorded (a score moves up,
-- never down) by values_flush, else only counts it for the rest of the call. 'score': its
-- stored score before the call, or false.
local function values_admit(w, hash, score, store)
  local new = not score and not w.known[hash]
  w.known[hash] = true
  if not store then
    if new then w.pending = w.pending + 1 end
    return
  end
  if score and score >= w.c then return end
  if new then w.stored = w.stored + 1 end
  local queue = w.queue or {}
  w.queue = queue
  queue[#queue + 1] = w.score
  queue[#queue + 1] = hash
end

-- Records the queued admissions, many per ZADD.
local function values_flush(w)
  local queue = w.queue
  if not queue then return end
  w.queue = nil
  for i = 1, #queue, 2 * CHUNK do
    redis.call('ZADD', w.key, 'GT', unpack(queue, i, math.min(#queue, i + 2 * CHUNK - 1)))
  end
  w.written = true
end

-- Milliseconds until the window tracks fewer than 'limit' values as granules leave it; -1 never
-- (limit 0). Values admitted but not stored by this call sit in granule c.
local function values_retry_ms(w, limit, now)
  if limit <= 0 then return -1 end
  local leaving = w.stored + w.pending - limit
  local granule = w.c
  if leaving < w.stored then
    granule = tonumber(redis.call('ZRANGE', w.key, leaving, leaving, 'WITHSCORES')[2])
  end
  return math.ceil((granule + w.n) * w.gms - now)
end

-- After a call that stored admissions, the window lives until its newest value leaves it.
local function values_keep(w, now)
  if not w.written then return end
  local newest = redis.call('ZRANGE', w.key, -1, -1, 'WITHSCORES')[2]
  if newest then
    redis.call('PEXPIRE', w.key, math.ceil((tonumber(newest) + w.n) * w.gms - now))
  end
end
`;
