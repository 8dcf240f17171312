-- wrk script: POST /api/v1/events with batches of INGEST_BATCH (default 1,000) product events,
-- each with an idempotency key no other request of any run uses (run, thread, counter), so
-- every event is appended: nothing is answered as a duplicate.
local batch = tonumber(os.getenv("INGEST_BATCH") or "1000")
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("INGEST_KEY")}
local actions = {"product.content_viewed", "product.content_edited", "product.content_exported", "product.searched"}
local threads = {}
local thread_id, counter = 0, 0
local run = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

function init(args)
    thread_id = id
end

function request()
    counter = counter + 1
    local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
    local events = {}
    for i = 1, batch do
        events[i] = string.format(
            '{"idempotencyKey":"%s-%d-%d-%d","action":"%s","occurredAt":"%s",' ..
            '"actor":{"id":"user-%d","email":"person%d@example.com","ip":"198.51.100.%d","userAgent":"Mozilla/5.0 (X11; Linux x86_64)"},' ..
            '"targets":[{"type":"page","id":"page-%d","name":"Quarterly planning %d"}],' ..
            '"outcome":"success","details":{"space":"ENG","version":%d}}',
            run, thread_id, counter, i, actions[i % 4 + 1], now, i % 50, i % 50, i % 200, i, i, counter)
    end
    return wrk.format("POST", "/api/v1/events", headers, '{"events":[' .. table.concat(events, ",") .. ']}')
end
