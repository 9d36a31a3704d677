-- wrk script: one admin user-list query (IDGATE_BENCH_PATH) with the admin's session.
local session = os.getenv("IDGATE_BENCH_SESSION")
local path = os.getenv("IDGATE_BENCH_PATH")
request = function()
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. session })
end
