-- wrk script: PATCH /scim/v2/<org>/Groups/<id> adding one member per request, each request a different
-- user from IDGATE_BENCH_IDS (one id per line; the two wrk threads take alternate lines). (bench/run.sh)
local token = os.getenv("IDGATE_BENCH_SCIM_TOKEN")
local path = os.getenv("IDGATE_BENCH_GROUP_PATH")
local ids = {}
local threads = 0
local position = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

function init(args)
  for line in io.lines(os.getenv("IDGATE_BENCH_IDS")) do ids[#ids + 1] = line end
  position = id
end

function request()
  position = position + 2
  if position > #ids then position = position - #ids end  -- past the end: adds become no-ops
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"' ..
    ids[position] .. '"}]}]}'
  return wrk.format("PATCH", path, {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/scim+json"}, body)
end
