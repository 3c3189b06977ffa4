import sys
n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000000
total = 0
i = 0
while i < n:
    total += i
    i += 1
print(total)
