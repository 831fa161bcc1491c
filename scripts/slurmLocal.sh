#!/usr/bin/env bash
# A one-node Slurm cluster on localhost, for the Slurm tests and bench (Debian's slurm-wlm and
# munge; run as root). Everything lives in DIR (the config, state, logs, the PIDs of the
# daemons) and in a munge folder under /tmp that DIR names (its own key and socket); stop kills
# exactly the three daemons it started and removes the munge folder.
#
#   scripts/slurmLocal.sh start DIR   # starts munged, slurmctld and slurmd; waits for the node
#   export SLURM_CONF=DIR/slurm.conf  # then sbatch, squeue, scancel talk to it
#   scripts/slurmLocal.sh stop DIR    # stops the daemons DIR's PID files name, removes nothing else
set -euo pipefail
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

# Kills the process a PID file names if it is still the daemon it names, and waits for it.
stop_pid() {
  local file=$1 name=$2 pid
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  if [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$name" ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      [ -e "/proc/$pid" ] || break
      sleep 0.1
    done
    [ ! -e "/proc/$pid" ] || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

if [ "$cmd" = stop ]; then
  stop_pid "$dir/slurmd.pid" slurmd
  stop_pid "$dir/slurmctld.pid" slurmctld
  if [ -s "$dir/munge.dir" ]; then
    munge_dir=$(cat "$dir/munge.dir")
    stop_pid "$munge_dir/munged.pid" munged
    rm -rf "$munge_dir" "$dir/munge.dir"
  fi
  exit 0
fi
[ "$cmd" = start ] || {
  echo "$0: expected start or stop, found '$cmd'" >&2
  exit 2
}
[ "$(id -u)" -eq 0 ] || {
  echo "$0: the local cluster runs as root" >&2
  exit 1
}
for bin in munged mungekey slurmctld slurmd; do
  command -v "$bin" >/dev/null || [ -x "/usr/sbin/$bin" ] || {
    echo "$0: $bin is missing (apt-get install slurm-wlm munge)" >&2
    exit 1
  }
done
export PATH=$PATH:/usr/sbin
mkdir -p "$dir"/{spool,state,log}
# munged runs as the munge user, which must reach its socket: a folder of its own under /tmp
# (DIR may sit in a folder only root can enter), searchable by all, writable by none.
munge_dir=$(mktemp -d /tmp/memlens-munge.XXXXXX)
echo "$munge_dir" >"$dir/munge.dir"
chown munge:munge "$munge_dir"
chmod 755 "$munge_dir"
mungekey --create --keyfile="$munge_dir/munge.key"
chown munge:munge "$munge_dir/munge.key"
chmod 400 "$munge_dir/munge.key"
socket=$munge_dir/munge.socket
su -s /bin/sh munge -c "munged --socket=$socket --key-file=$munge_dir/munge.key \
  --pid-file=$munge_dir/munged.pid --log-file=$munge_dir/munged.log \
  --seed-file=$munge_dir/munged.seed"

host=$(hostname -s)
# Ports of their own, so a cluster already on the default ones is left alone.
port=$((20000 + RANDOM % 20000))
cat >"$dir/slurm.conf" <<CONF
ClusterName=memlens-local
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
# Schedule every second (the defaults wait up to 30 s): a 4-task array ends in ~3 s, not ~12.
SchedulerParameters=bf_interval=1,sched_interval=1
MpiDefault=none
SelectType=select/cons_tres
# One CPU a task, memory not a consumable: two shards run at once on two CPUs.
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=30
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld
slurmd
for _ in $(seq 100); do
  state=$(sinfo -h -o %t 2>/dev/null || true)
  if [ "$state" = idle ]; then
    echo "$dir/slurm.conf"
    exit 0
  fi
  sleep 0.2
done
echo "$0: the node did not come up (state '${state:-none}'); see $dir/log" >&2
exit 1
