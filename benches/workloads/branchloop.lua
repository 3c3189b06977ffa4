local n = tonumber(arg[1] or "3000000")
local even, odd, i = 0, 0, 0
while i < n do
    if i % 2 == 0 then
        even = even + i
    else
        odd = odd + 1
    end
    i = i + 1
end
print(even, odd)
