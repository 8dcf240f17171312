-- wrk script: the refresh_token grant with rotation. Each connection has a thread of its own
-- (wrk -tN -cN) and a refresh token of its own (line N of OIDC_REFRESH_TOKENS); every answer
-- carries the next token, which the next request uses, as a product does.
local path = os.getenv("OIDC_TOKEN_PATH")
local headers = {["Content-Type"] = "application/x-www-form-urlencoded",
                 ["Authorization"] = "Basic " .. os.getenv("OIDC_BASIC")}
local threads = {}

function setup(thread)
    thread:set("index", #threads + 1)
    table.insert(threads, thread)
end

function init(args)
    local n = 0
    for line in io.lines(os.getenv("OIDC_REFRESH_TOKENS")) do
        n = n + 1
        if n == index then current = line end
    end
end

function request()
    return wrk.format("POST", path, headers, "grant_type=refresh_token&refresh_token=" .. current)
end

-- A refused refresh keeps the token it had: the run then shows as non-2xx answers.
function response(status, headers, body)
    current = body:match('"refresh_token":"([^"]+)"') or current
end
