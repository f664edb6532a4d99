-- POSTs a different question each time (no duplicate merging), JSON or form per WRK_MODE.
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local counter = 0
local mode = os.getenv("WRK_MODE") or "json"
request = function()
  counter = counter + 1
  local text = "Frage " .. counter .. " aus Faden " .. tostring(tid) .. " im Lauf " .. mode .. "?"
  if mode == "form" then
    local body = "text=" .. text:gsub(" ", "+") .. "&consent=on&name=Erika"
    return wrk.format("POST", wrk.path, { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
  end
  local body = '{"text":"' .. text .. '","consent":true,"name":"Erika"}'
  return wrk.format("POST", wrk.path, { ["Content-Type"] = "application/json" }, body)
end
