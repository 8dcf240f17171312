-- wrk script: POST /api/v1/users with a unique email per request (thread id + counter).
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

function init(args)
    thread_id = id
end

function request()
    counter = counter + 1
    local body = string.format('{"email":"bench-%d-%d-%d@example.com","displayName":"Bench %d"}',
        thread_id, counter, math.random(1, 1000000000), counter)
    return wrk.format("POST", "/api/v1/users", {["Content-Type"] = "application/json",
        ["Authorization"] = "Bearer " .. os.getenv("RAMPART_TOKEN")}, body)
end
