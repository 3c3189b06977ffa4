# /bin/true started and waited for by bash, N times.
n=${1:-300}
for ((i = 0; i < n; i++)); do
    /bin/true
done
