-- wrk script: the client_credentials grant, HTTP Basic with the client's id and secret
-- (OIDC_BASIC, already base64), as a service integration asks for its token.
local path = os.getenv("OIDC_TOKEN_PATH")
local headers = {["Content-Type"] = "application/x-www-form-urlencoded",
                 ["Authorization"] = "Basic " .. os.getenv("OIDC_BASIC")}

function request()
    return wrk.format("POST", path, headers, "grant_type=client_credentials&scope=reports%3Aread")
end
