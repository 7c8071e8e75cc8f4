/**
 * The Lua side of one sliding window's state; `window-memory.ts` is the same in memory, and the
 * two must stay step for step alike.
 *
 * A window is one hash per (hash tag, window, granularity):
 * - field `<granule>`: units counted in that granule (only granules with units are held);
 * - `s`: the sum of every granule field;
 * - `l`: the lowest granule that may still be held (all below were pruned);
 * - `h`: the highest granule ever counted.
 *
 * The usage of the window at granule c is the units held in [c - n + 1, c]. A call first prunes
 * the granules that left the window of the newest call (so `s`, less the one granule kept past
 * the window, is then the usage whenever time only moves forward: O(1), whatever the number of
 * granules per window); when a call's time is
 * earlier than an earlier call's, the granules after its own are read and subtracted. Spans of
 * granules are read field by field when short, else through the whole hash when it holds fewer
 * fields than the span, so no read costs more than the smaller of the two.
 *
 * A window is written only at its newest granule or later, and the hash expires one granule
 * after its highest granule leaves the window: PEXPIRE (h + n + 1) * granularity - now,
 * relative to the decision time. Pruning, too, keeps one granule more than the window, so a
 * call up to one granule older than the newest one (a skewed clock) still sees its window.
 *
 * @example
 * ```ts
 * const lua = `${WINDOW_LUA}\nlocal w = window_open(keys[1], c, n, gms)\nreturn w.used`;
 * ```
 */
export const WINDOW_LUA = `
local DIRECT_SPAN = 8
local CHUNK = 1000

-- An integer as Redis stores it; Lua's own conversion keeps only 14 digits.
local function integer_text(g)
  return string.format('%d', g)
end

-- Held granules in [a, b] read field by field, ascending, as { granule, units } pairs.
local function read_span(key, a, b, out)
  local start = a
  while start <= b do
    local stop = math.min(b, start + CHUNK - 1)
    local names = {}
    for g = start, stop do names[#names + 1] = integer_text(g) end
    local units = redis.call('HMGET', key, unpack(names))
    for i = 1, #names do
      if units[i] then out[#out + 1] = { start + i - 1, tonumber(units[i]) } end
    end
    start = stop + 1
  end
  return out
end

-- Held granules in [a, b] read from the whole hash, ascending.
local function read_all(key, a, b)
  local out = {}
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    local g = tonumber(all[i])
    if g and g >= a and g <= b then out[#out + 1] = { g, tonumber(all[i + 1]) } end
  end
  table.sort(out, function(x, y) return x[1] < y[1] end)
  return out
end

-- True when reading the span [a, b] field by field costs more than reading the whole hash.
local function span_exceeds_hash(key, a, b)
  local span = b - a + 1
  return span > DIRECT_SPAN and span > redis.call('HLEN', key)
end

local function held_in(key, a, b)
  if b < a then return {} end
  if span_exceeds_hash(key, a, b) then return read_all(key, a, b) end
  return read_span(key, a, b, {})
end

local function delete_fields(key, granules)
  local names = {}
  for i, e in ipairs(granules) do names[i] = integer_text(e[1]) end
  for i = 1, #names, CHUNK do
    redis.call('HDEL', key, unpack(names, i, math.min(#names, i + CHUNK - 1)))
  end
end

-- Opens the window hash 'key' for a call at granule c (n granules per window, gms ms each):
-- prunes the granules before c - n (c - n itself is kept one granule longer, so a call up to
-- one granule late, as from a skewed clock, still sees its whole window) and computes 'used',
-- the units held in [c - n + 1, c].
local function window_open(key, c, n, gms)
  local meta = redis.call('HMGET', key, 's', 'l', 'h', integer_text(c - n))
  local w = { key = key, c = c, n = n, gms = gms, held = false }
  local stale = 0
  if meta[1] then
    w.s, w.l, w.h, w.held = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3]), true
    stale = tonumber(meta[4]) or 0
    local p = c - n - 1
    if p >= w.l then
      if p >= w.h then
        w.s = 0
      else
        local gone = held_in(key, w.l, p)
        for _, e in ipairs(gone) do w.s = w.s - e[2] end
        if w.s > 0 then
          delete_fields(key, gone)
          w.l = p + 1
          redis.call('HSET', key, 's', integer_text(w.s), 'l', integer_text(w.l))
        end
      end
      if w.s <= 0 then
        redis.call('DEL', key)
        w.held = false
      end
    end
  end
  if not w.held then
    w.s, w.l, w.h, stale = 0, c - n, c - n - 1, 0
  end
  -- Held granules are all >= l >= c - n: only c - n and those after c are outside the window.
  w.used = w.s - stale
  if w.h > c then
    for _, e in ipairs(held_in(key, math.max(c + 1, w.l), w.h)) do w.used = w.used - e[2] end
  end
  return w
end

-- Counts 'units' (negative: gives them back) in the window's granule c. A granule that already
-- left the window of a later call is not written.
local function window_add(w, units, now)
  local c = w.c
  if units == 0 or c < w.l then return end
  if units > 0 then
    redis.call('HINCRBY', w.key, integer_text(c), units)
    w.s = w.s + units
    if c > w.h then w.h = c end
    w.held = true
    redis.call('HSET', w.key, 's', integer_text(w.s), 'l', integer_text(w.l), 'h', integer_text(w.h))
    redis.call('PEXPIRE', w.key, math.ceil((w.h + w.n + 1) * w.gms - now))
  elseif w.held then
    local field = integer_text(c)
    local have = tonumber(redis.call('HGET', w.key, field))
    if not have then return end
    local take = math.min(have, -units)
    if take == have then
      redis.call('HDEL', w.key, field)
    else
      redis.call('HINCRBY', w.key, field, -take)
    end
    w.s = w.s - take
    if w.s > 0 then
      redis.call('HSET', w.key, 's', integer_text(w.s))
    else
      redis.call('DEL', w.key)
      w.held, w.s, w.l, w.h = false, 0, c - w.n, c - w.n - 1
    end
  end
end

-- The first granule in [a, b] by which the held units add up to 'need', or nil. Reads from the
-- oldest granule in growing chunks and stops as soon as it is found.
local function granule_reaching(key, a, b, need)
  if b < a then return nil end
  local total = 0
  if span_exceeds_hash(key, a, b) then
    for _, e in ipairs(read_all(key, a, b)) do
      total = total + e[2]
      if total >= need then return e[1] end
    end
    return nil
  end
  local start, size = a, DIRECT_SPAN
  while start <= b do
    local stop = math.min(b, start + size - 1)
    for _, e in ipairs(read_span(key, start, stop, {})) do
      total = total + e[2]
      if total >= need then return e[1] end
    end
    start, size = stop + 1, math.min(size * 2, CHUNK)
  end
  return nil
end

-- Milliseconds until the window allows one more unit than 'used' leaves: 0 when it does now,
-- -1 never (limit 0). Units not held (counted by this call only) sit in granule c.
local function window_retry_ms(w, limit, now)
  if w.used < limit then return 0 end
  if limit <= 0 then return -1 end
  local g = granule_reaching(w.key, math.max(w.l, w.c - w.n + 1), w.c, w.used - limit + 1) or w.c
  return math.ceil((g + w.n) * w.gms - now)
end
`;

/**
 * `now` in whole microseconds, as Lua: the time every decide and record reply starts with.
 *
 * @example
 * ```ts
 * const lua = `${WINDOW_LUA}\nreturn ${NOW_US_LUA}`;
 * ```
 */
export const NOW_US_LUA = 'math.floor(now * 1000 + 0.5)';
