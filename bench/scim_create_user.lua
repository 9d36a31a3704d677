-- wrk script: POST /scim/v2/<org>/Users with a unique userName per request (bench/run.sh).
local token = os.getenv("IDGATE_BENCH_SCIM_TOKEN")
local path = os.getenv("IDGATE_BENCH_SCIM_PATH")
local run = os.getenv("IDGATE_BENCH_RUN")  -- unique per wrk invocation (Lua's random is not seeded)
local threads = 0
local counter = 0
local prefix

function setup(thread)
  threads = threads + 1
  thread:set("id", tostring(threads))
end

function init(args)
  prefix = "bench-" .. run .. "-" .. os.time() .. "-" .. id  -- the warm-up run and the measured run differ
end

function request()
  counter = counter + 1
  local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' .. prefix .. '-' .. counter ..
    '@example.com","name":{"givenName":"Bench","familyName":"User"},"emails":[{"value":"' .. prefix .. '-' .. counter ..
    '@example.com","type":"work","primary":true}],"active":true}'
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token,
                                   ["Content-Type"] = "application/scim+json"}, body)
end

