-- wrk script for the benchmark's form cycle: each connection is one browser tab with a session of
-- its own (run wrk with as many threads as connections, so each has its own Lua state). It opens
-- the page, then goes round POST /cart, GET /, POST /cart/clear, GET /, sending back the cookie it
-- was last given and the page's CSRF token, as a browser does.
local cookie, token, step = nil, nil, 0
local cycle = { "add", "page", "clear", "page" }

request = function ()
  local headers = {}
  if cookie then headers["Cookie"] = cookie end
  if token == nil then return wrk.format("GET", "/", headers) end
  step = step % #cycle + 1
  local what = cycle[step]
  if what == "page" then return wrk.format("GET", "/", headers) end
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  if what == "add" then return wrk.format("POST", "/cart", headers, "_csrf=" .. token .. "&item=apple") end
  return wrk.format("POST", "/cart/clear", headers, "_csrf=" .. token)
end

response = function (status, headers, body)
  for name, value in pairs(headers) do
    if name:lower() == "set-cookie" then cookie = value:match("^([^;]+)") end
  end
  local found = body:match('name="_csrf" value="([^"]+)"')
  if found then token = found end
end
