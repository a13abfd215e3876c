#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the tests (make test-slurm).
#
#   scripts/slurm-local.sh start   installs slurm-wlm and munge when missing (as root), writes a
#                                  slurm.conf for this machine, starts munged, slurmctld and slurmd,
#                                  and waits until sinfo shows the node idle
#   scripts/slurm-local.sh stop    stops what start started
#
# Everything it writes is under $SLURM_LOCAL (default /tmp/mos-slurm), never in /etc/slurm, so
# a machine's own Slurm configuration is left alone; commands find this one through
#   export SLURM_CONF=$SLURM_LOCAL/slurm.conf
# slurmd runs jobs as their users, so it needs root.
set -euo pipefail
dir=${SLURM_LOCAL:-/tmp/mos-slurm}
export SLURM_CONF=$dir/slurm.conf
say() { echo "slurm-local: $*" >&2; }

start() {
  [ "$(id -u)" = 0 ] || { say "needs root (slurmd starts jobs as their users)"; exit 1; }
  if [ -s "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
    say "already running (config $SLURM_CONF)"; return 0
  fi
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge (apt-get)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
  fi
  mkdir -p "$dir/state" "$dir/spool"

  # munge authenticates Slurm's messages; a running munged (a real cluster's) is used as it is.
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    if [ ! -s /etc/munge/munge.key ]; then
      say "making a munge key"
      mkdir -p /etc/munge
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown -R munge:munge /etc/munge && chmod 0700 /etc/munge && chmod 0400 /etc/munge/munge.key
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /run/munge /var/lib/munge /var/log/munge
    runuser -u munge -- /usr/sbin/munged
    touch "$dir/munged.ours"
  fi

  local host cpus memory
  host=$(hostname -s)
  cpus=$(nproc)
  memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
  # No cgroups (containers often lack them): processes are tracked by parent id, tasks not bound.
  cat > "$SLURM_CONF" <<EOF
ClusterName=moslocal
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  say "starting slurmctld and slurmd ($cpus CPUs, config $SLURM_CONF)"
  slurmctld -c
  slurmd -N "$host"
  for _ in $(seq 60); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
    case "$state" in
      idle) say "node $host idle"; return 0 ;;
      down*|drain*) scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
    esac
    sleep 1
  done
  say "the node did not become idle in 60 s (state '${state:-none}'); logs: $dir/slurmctld.log, $dir/slurmd.log"
  tail -5 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
  exit 1
}

stop() {
  for daemon in slurmd slurmctld; do
    if [ -s "$dir/$daemon.pid" ]; then kill "$(cat "$dir/$daemon.pid")" 2>/dev/null || true; fi
  done
  if [ -e "$dir/munged.ours" ] && [ -s /run/munge/munged.pid ]; then
    kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
    rm -f "$dir/munged.ours"
  fi
  say "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/slurm-local.sh start|stop" >&2; exit 2 ;;
esac
