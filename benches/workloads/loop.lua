local n = tonumber(arg[1] or "3000000")
local total, i = 0, 0
while i < n do
    total = total + i
    i = i + 1
end
print(total)
