import subprocess, sys
n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
total = 0
for i in range(n):
    total += len(subprocess.run(["echo", "hello", str(i)], capture_output=True, check=True).stdout)
print(total)
