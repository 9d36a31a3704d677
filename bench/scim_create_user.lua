-- wrk script: POST /scim/v2/<org>/Users with a unique userName per request (bench/run.sh).
local token = os.getenv("IDGATE_BENCH_SCIM_TOKEN")
local path = os.getenv("IDGATE_BENCH_SCIM_PATH")
local counter = 0
local prefix

function setup(thread)
  thread:set("id", tostring(math.random(1, 1000000000)))
end

function init(args)
  prefix = "bench-" .. id .. "-" .. tostring(math.random(1, 1000000000))
end

function request()
  counter = counter + 1
  local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' .. prefix .. '-' .. counter ..
    '@example.com","name":{"givenName":"Bench","familyName":"User"},"emails":[{"value":"' .. prefix .. '-' .. counter ..
    '@example.com","type":"work","primary":true}],"active":true}'
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token,
                                   ["Content-Type"] = "application/scim+json"}, body)
end

