-- wrk script: PATCH /scim/v2/<org>/Users/<id> replacing `active`, walking the user ids in
-- IDGATE_BENCH_IDS (one per line) so that each request changes a different user; each pass over the
-- list flips the value (false on the first pass, true on the next...). (bench/run.sh)
local token = os.getenv("IDGATE_BENCH_SCIM_TOKEN")
local path = os.getenv("IDGATE_BENCH_SCIM_PATH")
local ids = {}
local threads = 0
local position = 0
local pass = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

function init(args)
  for line in io.lines(os.getenv("IDGATE_BENCH_IDS")) do ids[#ids + 1] = line end
  position = id  -- the two wrk threads walk interleaved halves
end

function request()
  position = position + 2
  if position > #ids then
    position = position - #ids
    pass = pass + 1
  end
  local active = (pass % 2 == 0) and "false" or "true"
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":' ..
    active .. '}]}'
  return wrk.format("PATCH", path .. "/" .. ids[position], {["Authorization"] = "Bearer " .. token,
                                                            ["Content-Type"] = "application/scim+json"}, body)
end
