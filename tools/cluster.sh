#!/usr/bin/env bash
# The real engines the cluster tests run against: three SSH hosts and a three-node Slurm on this machine.
#
#   tools/cluster.sh up       install what is missing (apt), then start everything (idempotent)
#   tools/cluster.sh down     stop everything `up` started; no process is left
#   tools/cluster.sh status   what runs, with each host's and node's own processes
#   tools/cluster.sh ps NAME  the processes of one host (h1..h3) or node (n1..n3), one "pid ppid args" a line
#   tools/cluster.sh kill NAME  that host or node dies: SIGKILL to its sshd or slurmd and its processes
#                             (the failure tests' lost host); `up` starts it again
#
# Everything lives in one state folder, $PROCSCRIPT_CLUSTER_DIR (default /tmp/procscript-cluster):
#   env          `export` lines the tests read (or source): PROCSCRIPT_CLUSTER_DIR, SLURM_CONF, ...
#   ssh_config   client config naming h1..h3: `ssh -F $PROCSCRIPT_CLUSTER_DIR/ssh_config h1 cmd`
#   ssh/         the client key, authorized_keys, and per host its host key, sshd_config, pid and log
#   munge/       the generated munge key, socket, pid and log
#   slurm/       slurm.conf, the controller's state, the nodes' spools, pids and logs
#
# SSH hosts: one sshd per host, each on its own loopback address (h1 127.0.0.11, h2 127.0.0.12,
# h3 127.0.0.13) and port $PROCSCRIPT_CLUSTER_SSH_PORT (default 2222, so a system sshd on port 22
# does not collide). A host's processes are the descendants of its sshd, and every session also
# carries PROCSCRIPT_CLUSTER_HOST=hN and PROCSCRIPT_CLUSTER_DIR=<state folder> in its environment
# (sshd_config SetEnv), so a process that left the tree (setsid and double fork) is still found
# and counted.
# Slurm nodes: one slurmctld and three `slurmd -N nN` (NodeHostname=localhost, ports 17001-17003).
# A node's processes are its slurmstepd processes (found by their socket in the node's spool
# folder), their descendants, and every process whose environment says SLURMD_NODENAME=nN and
# names this cluster's controller port in SLURM_WORKING_CLUSTER (tasks and their children, even
# after a double fork), slurmd itself aside.
#
# A second cluster beside the default one (benchmarks while the tests use the default):
#   PROCSCRIPT_CLUSTER_DIR=/tmp/pc-bench PROCSCRIPT_CLUSTER_SSH_PORT=2322 \
#   PROCSCRIPT_CLUSTER_SLURMCTLD_PORT=16917 PROCSCRIPT_CLUSTER_SLURMD_PORT_BASE=17100 \
#   PROCSCRIPT_CLUSTER_HOSTS="bh1 bh2 bh3" PROCSCRIPT_CLUSTER_NODES="bn1 bn2 bn3" tools/cluster.sh up
# (the same variables for `down`, `ps`...). Other names are worth giving: a `ps` or `kill` of the
# other cluster (an older copy of this script) finds processes by the names in their environment.
# Names: three each; the k-th host listens on 127.0.0.1k, the k-th node on the port base + k.
# The hosts have no `procscript` of their own on PATH: tests give the binary's absolute path in
# the pool's "command" option (all hosts share this machine's file system).
set -euo pipefail

STATE="${PROCSCRIPT_CLUSTER_DIR:-/tmp/procscript-cluster}"
SSH_PORT="${PROCSCRIPT_CLUSTER_SSH_PORT:-2222}"
CTLD_PORT="${PROCSCRIPT_CLUSTER_SLURMCTLD_PORT:-16817}"
# Node nN listens on NODE_PORT_BASE + N. (Another state folder with other ports can run beside.)
NODE_PORT_BASE="${PROCSCRIPT_CLUSTER_SLURMD_PORT_BASE:-17000}"
read -r -a HOSTS <<<"${PROCSCRIPT_CLUSTER_HOSTS:-h1 h2 h3}"
read -r -a NODES <<<"${PROCSCRIPT_CLUSTER_NODES:-n1 n2 n3}"
# procps (ps, pgrep) is not in a minimal Debian image; this script needs it.
PACKAGES=(slurm-wlm munge openssh-server openssh-client procps)

say() { printf 'cluster: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

# The 1-based place of a name ($1) among the others ("$@" after it); nothing if it is not there.
place_of() {
    local name="$1" k=1 other
    shift
    for other in "$@"; do
        [[ "$other" == "$name" ]] && echo "$k" && return 0
        k=$((k + 1))
    done
    return 1
}
no_such_name() { die "no host or node named '$1' (${HOSTS[*]} ${NODES[*]})"; }
is_host() { place_of "$1" "${HOSTS[@]}" >/dev/null; }
is_node() { place_of "$1" "${NODES[@]}" >/dev/null; }
host_addr() { echo "127.0.0.1$(place_of "$1" "${HOSTS[@]}")"; }
node_port() { echo "$((NODE_PORT_BASE + $(place_of "$1" "${NODES[@]}")))"; }

# Whether a pid has ended (a zombie that init has not reaped yet counts as ended).
ended() {
    local pid
    for pid in "$@"; do
        [[ -r "/proc/$pid/stat" ]] || continue
        [[ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" == Z ]] || return 1
    done
    return 0
}

# The pid in a pid file, if that process is alive and is the daemon the file is named after
# (sshd.pid, munged.pid, slurmctld.pid, slurmd-n1.pid): a stale file whose pid now belongs to
# another process must neither count as running nor be killed.
live_pid() {
    local file="$1" pid daemon
    [[ -s "$file" ]] || return 1
    pid="$(tr -dc '0-9' <"$file")"
    daemon="$(basename "$file" .pid)"
    daemon="${daemon%%-*}"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && ! ended "$pid" &&
        [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$daemon" ]] && echo "$pid"
}

# Runs "$@" until it succeeds, at most $1 seconds (checked every 0.2 s).
wait_for() {
    local seconds="$1" tries
    shift
    tries=$((seconds * 5))
    while ((tries-- > 0)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

install_packages() {
    local missing=() pkg
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    [[ "$(id -u)" == 0 ]] || die "missing packages (${missing[*]}), and installing them needs root"
    local start=$SECONDS
    say "installing ${missing[*]} (apt-get update, then install)"
    # Services must not start on install (a container has no init; CI must not get a system sshd).
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -q >"$STATE/apt.log" 2>&1 ||
        { tail -20 "$STATE/apt.log" >&2; die "apt-get update failed"; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" \
        >>"$STATE/apt.log" 2>&1 || { tail -20 "$STATE/apt.log" >&2; die "apt-get install failed"; }
    ((made_policy)) && rm -f "$policy"
    say "installed in $((SECONDS - start)) s"
}

# ---------------------------------------------------------------- SSH

ssh_up() {
    local dir="$STATE/ssh" host
    mkdir -p "$dir" /run/sshd
    chmod 700 "$dir"
    [[ -s "$dir/client_key" ]] || ssh-keygen -q -t ed25519 -N '' -C procscript-cluster -f "$dir/client_key"
    cp "$dir/client_key.pub" "$dir/authorized_keys"
    chmod 600 "$dir/authorized_keys"
    : >"$STATE/ssh_config.new"
    for host in "${HOSTS[@]}"; do
        ssh_host_up "$host"
        cat >>"$STATE/ssh_config.new" <<EOF
Host $host
    HostName $(host_addr "$host")
    Port $SSH_PORT
    User root
    IdentityFile $dir/client_key
    IdentitiesOnly yes
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    LogLevel ERROR
    BatchMode yes
    ConnectTimeout 10

EOF
    done
    mv "$STATE/ssh_config.new" "$STATE/ssh_config"
    for host in "${HOSTS[@]}"; do
        wait_for 10 ssh -F "$STATE/ssh_config" "$host" true ||
            die "ssh $host does not answer (see $dir/$host/sshd.log)"
    done
}

ssh_host_up() {
    local host="$1" dir="$STATE/ssh/$1"
    mkdir -p "$dir"
    live_pid "$dir/sshd.pid" >/dev/null && return 0
    [[ -s "$dir/host_key" ]] || ssh-keygen -q -t ed25519 -N '' -C "$host" -f "$dir/host_key"
    cat >"$dir/sshd_config" <<EOF
ListenAddress $(host_addr "$host"):$SSH_PORT
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $STATE/ssh/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
X11Forwarding no
MaxStartups 100:30:200
MaxSessions 100
SetEnv PROCSCRIPT_CLUSTER_HOST=$host PROCSCRIPT_CLUSTER_DIR=$STATE
Subsystem sftp internal-sftp
EOF
    /usr/sbin/sshd -t -f "$dir/sshd_config" || die "sshd rejects $dir/sshd_config"
    # sshd detaches and writes its pid file; -E keeps its log with the host.
    /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
    wait_for 10 live_pid "$dir/sshd.pid" || die "sshd for $host did not start (see $dir/sshd.log)"
}

# ---------------------------------------------------------------- munge and Slurm

munge_up() {
    local dir="$STATE/munge"
    mkdir -p "$dir"
    chmod 700 "$dir"
    live_pid "$dir/munged.pid" >/dev/null && return 0
    if [[ ! -s "$dir/munge.key" ]]; then
        dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
        chmod 400 "$dir/munge.key"
    fi
    rm -f "$dir/munge.socket.2"
    munged --force --key-file="$dir/munge.key" --socket="$dir/munge.socket.2" \
        --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munged.seed"
    wait_for 10 live_pid "$dir/munged.pid" || die "munged did not start (see $dir/munged.log)"
    wait_for 10 test -S "$dir/munge.socket.2" || die "munged made no socket (see $dir/munged.log)"
}

slurm_conf() {
    local dir="$STATE/slurm" node
    cat <<EOF
# Generated by tools/cluster.sh: a three-node cluster on one machine, for procscript's tests.
ClusterName=procscript
SlurmctldHost=localhost
SlurmctldPort=$CTLD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$STATE/munge/munge.socket.2
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd-%n.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
# Each node has 2 CPUs, whatever this machine has (config_overrides), so "srun -n6" spreads over
# the three nodes as on a cluster of small nodes; jobs share CPUs (OverSubscribe=FORCE:8 below)
# so that tests running at the same time do not queue behind each other.
SlurmdParameters=config_overrides
SlurmdTimeout=10
InactiveLimit=0
KillWait=2
MinJobAge=10
EOF
    for node in "${NODES[@]}"; do
        echo "NodeName=$node NodeHostname=localhost Port=$(node_port "$node") CPUs=2 RealMemory=1000 State=UNKNOWN"
    done
    echo "PartitionName=debug Nodes=$(
        IFS=,
        echo "${NODES[*]}"
    ) Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8"
}

nodes_idle() {
    local states
    states="$(sinfo -h -N -o '%N %t' 2>/dev/null)" || return 1
    [[ "$(grep -c ' idle$\| mix$\| alloc$' <<<"$states")" == "${#NODES[@]}" ]]
}

slurm_up() {
    local dir="$STATE/slurm" node
    mkdir -p "$dir/ctld"
    slurm_conf >"$dir/slurm.conf.new"
    if ! cmp -s "$dir/slurm.conf.new" "$dir/slurm.conf" 2>/dev/null; then
        # A changed configuration (a newer version of this script) needs the daemons restarted.
        slurm_stop
        mv "$dir/slurm.conf.new" "$dir/slurm.conf"
    else
        rm "$dir/slurm.conf.new"
    fi
    export SLURM_CONF="$dir/slurm.conf"
    if ! live_pid "$dir/slurmctld.pid" >/dev/null; then
        # -i: a state left from an earlier run that does not match is ignored, not fatal.
        slurmctld -i
        wait_for 20 scontrol ping || die "slurmctld does not answer (see $dir/slurmctld.log)"
    fi
    for node in "${NODES[@]}"; do
        mkdir -p "$dir/spool/$node"
        live_pid "$dir/slurmd-$node.pid" >/dev/null && continue
        slurmd -N "$node"
        wait_for 10 live_pid "$dir/slurmd-$node.pid" || die "slurmd $node did not start (see $dir/slurmd-$node.log)"
    done
    if ! wait_for 60 nodes_idle; then
        sinfo -N >&2 || true
        die "the nodes are not idle after 60 s (see $dir/*.log)"
    fi
    # A node that was down in an earlier run may stay down with a reason: resume it.
    scontrol update NodeName="$(
        IFS=,
        echo "${NODES[*]}"
    )" State=RESUME >/dev/null 2>&1 || true
}

slurm_check() {
    local got want
    got="$(timeout 60 srun -N3 -n3 --ntasks-per-node=1 -t 1 printenv SLURMD_NODENAME | sort | tr '\n' ' ')"
    want="$(printf '%s\n' "${NODES[@]}" | sort | tr '\n' ' ')"
    [[ "$got" == "$want" ]] || die "srun -N3 ran on '$got', not on '$want'"
}

write_env() {
    cat >"$STATE/env.new" <<EOF
export PROCSCRIPT_CLUSTER_DIR=$STATE
export PROCSCRIPT_CLUSTER_SSH_CONFIG=$STATE/ssh_config
export PROCSCRIPT_CLUSTER_HOSTS="${HOSTS[*]}"
export PROCSCRIPT_CLUSTER_NODES="${NODES[*]}"
export SLURM_CONF=$STATE/slurm/slurm.conf
export PROCSCRIPT_CLUSTER_SSH_PORT=$SSH_PORT
export PROCSCRIPT_CLUSTER_SLURMCTLD_PORT=$CTLD_PORT
export PROCSCRIPT_CLUSTER_SLURMD_PORT_BASE=$NODE_PORT_BASE
EOF
    mv "$STATE/env.new" "$STATE/env"
}

# ---------------------------------------------------------------- processes per host

# "pid ppid" of every process.
all_processes() { ps -e -o pid=,ppid= 2>/dev/null; }

# Whether the environment file $1 holds the line $2 (a $2 ending in '*': a line starting so).
env_has() {
    local line
    while IFS= read -r -d '' line; do
        if [[ "$2" == *'*' ]]; then
            [[ "$line" == "${2%\*}"* ]] && return 0
        else
            [[ "$line" == "$2" ]] && return 0
        fi
    done <"$1" 2>/dev/null
    return 1
}

# The pids whose environment holds every given NAME=VALUE (see env_has for a trailing '*').
# The first one is exact; the others tell this cluster's processes from another's of the same names.
pids_with_env() {
    local file want pid
    for file in $(grep -lszxF -- "$1" /proc/[0-9]*/environ 2>/dev/null); do
        for want in "${@:2}"; do
            env_has "$file" "$want" || continue 2
        done
        pid="${file#/proc/}"
        pid="${pid%/environ}"
        [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] || echo "$pid"
    done
}

# The descendants of the given pids (not those pids themselves).
descendants() {
    (($# == 0)) && return 0
    all_processes | awk -v roots="$*" '
        BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) root[r[i]] = 1 }
        { parent[$1] = $2; pids[NR] = $1 }
        END {
            for (i = 1; i <= NR; i++) {
                p = pids[i]; q = parent[p]
                while (q != "" && q != 0 && q != 1) {
                    if (q in root) { print p; break }
                    q = parent[q]
                }
            }
        }'
}

# The slurmstepd processes serving a node's steps: those holding a socket in the node's spool
# folder (a slurmstepd is not slurmd's child, and it overwrites its environment with its title).
node_stepds() {
    local node="$1" inodes pid
    inodes="$(awk -v dir="$STATE/slurm/spool/$node/" 'index($8, dir) == 1 { print "socket:[" $7 "]" }' /proc/net/unix)"
    [[ -z "$inodes" ]] && return 0
    for pid in $(pgrep -x slurmstepd || true); do
        find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | grep -qxF "$inodes" && echo "$pid"
    done
    return 0
}

# "pid ppid args" of a host's or node's processes, its sshd or slurmd aside.
host_processes() {
    local name="$1" daemon pids
    if is_host "$name"; then
        daemon="$(live_pid "$STATE/ssh/$name/sshd.pid" || true)"
        pids="$({
            [[ -n "$daemon" ]] && descendants "$daemon"
            pids_with_env "PROCSCRIPT_CLUSTER_HOST=$name" "PROCSCRIPT_CLUSTER_DIR=$STATE"
        } | sort -un)"
    elif is_node "$name"; then
        daemon="$(live_pid "$STATE/slurm/slurmd-$name.pid" || true)"
        local stepds
        stepds="$(node_stepds "$name")"
        pids="$({
            echo "$stepds"
            descendants $stepds
            pids_with_env "SLURMD_NODENAME=$name" "SLURM_WORKING_CLUSTER=procscript:localhost:$CTLD_PORT:*"
        } | sed '/^$/d' | sort -un)"
    else
        no_such_name "$name"
    fi
    local pid
    for pid in $pids; do
        [[ "$pid" == "$daemon" ]] && continue
        # A zombie has ended; it is not something the host still runs.
        ended "$pid" || ps -o pid=,ppid=,args= -p "$pid" 2>/dev/null || true
    done
}

# ---------------------------------------------------------------- commands

cmd_up() {
    local start=$SECONDS
    mkdir -p "$STATE"
    install_packages
    ssh_up
    say "ssh hosts ${HOSTS[*]} up ($((SECONDS - start)) s)"
    munge_up
    slurm_up
    slurm_check
    write_env
    say "slurm nodes ${NODES[*]} up; all up in $((SECONDS - start)) s; tests read $STATE/env"
}

# Stops the daemons of the given pid files together: TERM, then KILL after 10 s.
stop_pidfiles() {
    local file pid pids=()
    for file in "$@"; do
        pid="$(live_pid "$file")" && pids+=("$pid")
    done
    if ((${#pids[@]})); then
        kill -TERM "${pids[@]}" 2>/dev/null || true
        if ! wait_for 10 ended "${pids[@]}"; then
            say "still there 10 s after TERM, so KILL: ${pids[*]}"
            kill -KILL "${pids[@]}" 2>/dev/null || true
            wait_for 5 ended "${pids[@]}" || say "still there after KILL: ${pids[*]}"
        fi
    fi
    rm -f "$@"
}

# Processes that a step or session left behind (there should be none): TERM, then KILL.
stop_leftovers() {
    local name pids
    for name in "${HOSTS[@]}" "${NODES[@]}"; do
        pids="$(host_processes "$name" | awk '{print $1}')"
        [[ -z "$pids" ]] && continue
        say "$name: stopping what was left: $(tr '\n' ' ' <<<"$pids")"
        kill -TERM $pids 2>/dev/null || true
        sleep 1
        kill -KILL $pids 2>/dev/null || true
    done
}

# Daemons of this state folder that no pid file names any more (a pid file lost or overwritten):
# found by the folder in their command line (sshd -f, munged) or environment (SLURM_CONF).
stop_strays() {
    local daemon pid pids=()
    for daemon in sshd munged slurmctld slurmd slurmstepd; do
        for pid in $(pgrep -x "$daemon" || true); do
            grep -qsF "$STATE/" "/proc/$pid/cmdline" "/proc/$pid/environ" && pids+=("$pid")
        done
    done
    ((${#pids[@]})) || return 0
    say "stopping daemons no pid file names: ${pids[*]}"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait_for 10 ended "${pids[@]}" || kill -KILL "${pids[@]}" 2>/dev/null || true
}

# The nodes' slurmd, then slurmctld.
slurm_stop() {
    local node slurmds=()
    for node in "${NODES[@]}"; do slurmds+=("$STATE/slurm/slurmd-$node.pid"); done
    stop_pidfiles "${slurmds[@]}"
    stop_pidfiles "$STATE/slurm/slurmctld.pid"
}

cmd_down() {
    local start=$SECONDS node host
    [[ -d "$STATE" ]] || return 0
    export SLURM_CONF="$STATE/slurm/slurm.conf"
    if [[ -f "$SLURM_CONF" ]] && live_pid "$STATE/slurm/slurmctld.pid" >/dev/null; then
        scancel --full --quiet --user=root 2>/dev/null || true
    fi
    local sshds=()
    for host in "${HOSTS[@]}"; do sshds+=("$STATE/ssh/$host/sshd.pid"); done
    stop_pidfiles "${sshds[@]}"
    slurm_stop
    stop_pidfiles "$STATE/munge/munged.pid"
    stop_leftovers
    stop_strays
    rm -f "$STATE/env"
    say "down in $((SECONDS - start)) s"
}

cmd_status() {
    local host node pid running=0
    for host in "${HOSTS[@]}"; do
        if pid="$(live_pid "$STATE/ssh/$host/sshd.pid")"; then
            echo "$host: sshd pid $pid on $(host_addr "$host"):$SSH_PORT"
            running=1
        else
            echo "$host: down"
        fi
        host_processes "$host" | sed 's/^/    /'
    done
    if pid="$(live_pid "$STATE/munge/munged.pid")"; then
        echo "munged: pid $pid"
        running=1
    else
        echo "munged: down"
    fi
    if pid="$(live_pid "$STATE/slurm/slurmctld.pid")"; then
        echo "slurmctld: pid $pid on port $CTLD_PORT"
        running=1
    else
        echo "slurmctld: down"
    fi
    for node in "${NODES[@]}"; do
        if pid="$(live_pid "$STATE/slurm/slurmd-$node.pid")"; then
            echo "$node: slurmd pid $pid on port $(node_port "$node")"
            running=1
        else
            echo "$node: down"
        fi
        host_processes "$node" | sed 's/^/    /'
    done
    if ((running)) && [[ -f "$STATE/slurm/slurm.conf" ]]; then
        SLURM_CONF="$STATE/slurm/slurm.conf" sinfo -N 2>/dev/null | sed 's/^/    /' || true
    fi
}

# A host or node dies: its sshd or slurmd and all of its processes get SIGKILL. `up` revives it.
cmd_kill() {
    local name="$1" daemon pids
    if is_host "$name"; then
        daemon="$(live_pid "$STATE/ssh/$name/sshd.pid" || true)"
    elif is_node "$name"; then
        daemon="$(live_pid "$STATE/slurm/slurmd-$name.pid" || true)"
    else
        no_such_name "$name"
    fi
    pids="$(host_processes "$name" | awk '{ print $1 }' | tr '\n' ' ')"
    say "$name: SIGKILL to ${daemon:+its daemon $daemon and }${pids:-no other process}"
    # shellcheck disable=SC2086
    kill -KILL $daemon $pids 2>/dev/null || true
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
ps)
    [[ $# == 2 ]] || die "usage: $0 ps HOST|NODE (${HOSTS[*]} ${NODES[*]})"
    host_processes "$2"
    ;;
kill)
    [[ $# == 2 ]] || die "usage: $0 kill HOST|NODE (${HOSTS[*]} ${NODES[*]})"
    cmd_kill "$2"
    ;;
*) die "usage: $0 up|down|status|ps NAME|kill NAME" ;;
esac
