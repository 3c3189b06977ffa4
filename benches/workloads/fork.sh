# A subshell started and waited for, N times.
n=${1:-300}
for ((i = 0; i < n; i++)); do
    ( : ) &
    wait
done
