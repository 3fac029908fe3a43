-- wrk script for the benchmark's GET / rows: each connection is one browser with a session of its
-- own (run wrk with as many threads as connections, so each has its own Lua state), as ten visitors
-- are. It opens the page once without a cookie, then sends back the cookie it was last given.
local cookie = nil

request = function ()
  if cookie then return wrk.format("GET", "/", { ["Cookie"] = cookie }) end
  return wrk.format("GET", "/")
end

response = function (status, headers, body)
  for name, value in pairs(headers) do
    if name:lower() == "set-cookie" then cookie = value:match("^([^;]+)") end
  end
end
