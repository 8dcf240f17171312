-- wrk script: POST /api/v1/events with batches of INGEST_BATCH (default 1,000) product events,
-- each with an idempotency key no other request of any run uses, so every event is appended:
-- nothing is answered as a duplicate. INGEST_KEYS chooses how the keys are made:
--   counter  run, thread, batch and event numbers (the default);
--   uuid7    UUIDv7-shaped: the batch's millisecond first, then random bits;
--   uuid4    random UUIDv4, as many client libraries make them.
local batch = tonumber(os.getenv("INGEST_BATCH") or "1000")
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("INGEST_KEY")}
local actions = {"product.content_viewed", "product.content_edited", "product.content_exported", "product.searched"}
local threads = {}
local thread_id, counter = 0, 0
local run = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
local keys = os.getenv("INGEST_KEYS") or "counter"
assert(keys == "counter" or keys == "uuid7" or keys == "uuid4", "INGEST_KEYS is counter, uuid7 or uuid4")

local function random_tail(version)
    return string.format("%s%03x-%04x-%012x", version, math.random(0, 0xfff), math.random(0x8000, 0xbfff),
                         math.random(0, 0xffffffffffff))
end

-- The key of event i of the current batch.
local function key(i, millisecond)
    if keys == "uuid4" then
        return string.format("%08x-%04x-", math.random(0, 0xffffffff), math.random(0, 0xffff)) .. random_tail("4")
    elseif keys == "uuid7" then
        return string.format("%08x-%04x-", math.floor(millisecond / 65536), millisecond % 65536) .. random_tail("7")
    end
    return string.format("%s-%d-%d-%d", run, thread_id, counter, i)
end

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

function init(args)
    thread_id = id
    -- Each thread draws different random keys.
    math.randomseed(os.time() * 16 + id)
end

function request()
    counter = counter + 1
    local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
    -- A batch's UUIDv7 keys share a millisecond, later than the batch before's, as a client's
    -- keys made together do (wrk's Lua has only a clock of seconds).
    local millisecond = os.time() * 1000 + counter
    local events = {}
    for i = 1, batch do
        events[i] = string.format(
            '{"idempotencyKey":"%s","action":"%s","occurredAt":"%s",' ..
            '"actor":{"id":"user-%d","email":"person%d@example.com","ip":"198.51.100.%d","userAgent":"Mozilla/5.0 (X11; Linux x86_64)"},' ..
            '"targets":[{"type":"page","id":"page-%d","name":"Quarterly planning %d"}],' ..
            '"outcome":"success","details":{"space":"ENG","version":%d}}',
            key(i, millisecond), actions[i % 4 + 1], now, i % 50, i % 50, i % 200, i, i, counter)
    end
    return wrk.format("POST", "/api/v1/events", headers, '{"events":[' .. table.concat(events, ",") .. ']}')
end
