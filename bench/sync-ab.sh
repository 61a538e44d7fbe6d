#!/bin/bash
# Alternating sync-bench runs on PostgreSQL, with what happened during each execute.
#
#   bench/sync-ab.sh OUT N SPEC...
#
# Runs every SPEC in turn, N rounds, and appends one line per run to OUT: the execute line of
# sync-bench and its approve time, then between its "approve" and "execute" lines: checkpoints,
# full-page images and WAL (pg_stat_bgwriter, pg_stat_wal), the machine's busy and idle
# core-seconds (/proc/stat) and the bench process's own user and system CPU (/proc/PID/stat).
# A SPEC is a sync-bench command (binary and extra arguments), optionally preceded by
# environment settings and a bar:
#   bench/sync-ab.sh ab.txt 4 target/release/sync-bench "../old/sync-bench" \
#       "target/release/sync-bench --apply-concurrency 3" "MIMALLOC_PURGE_DELAY=-1|target/release/sync-bench"
# BENCH_DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/postgres.
OUT=$1; N=$2; shift 2
export BENCH_DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
snap() { psql -At $BENCH_DATABASE_URL -c "select (select checkpoints_timed+checkpoints_req from pg_stat_bgwriter), wal_fpi, wal_bytes from pg_stat_wal"; }
busy() { head -1 /proc/stat | awk '{print $2+$3+$4+$7+$8, $5+$6}'; }
for i in $(seq $N); do for spec in "$@"; do
  envs=""; bin=$spec
  if [[ $spec == *"|"* ]]; then envs=${spec%%|*}; bin=${spec#*|}; fi
  LOG=/tmp/ab.$$.log; rm -f $LOG
  env ${envs//,/ } $bin --existing 100000 --incoming 100000 --backend postgres > $LOG 2>&1 &
  P=$!
  while ! grep -q "^approve" $LOG 2>/dev/null; do sleep 0.05; if ! kill -0 $P 2>/dev/null; then break; fi; done
  a=$(snap); b0=$(busy); c0=$(awk '{print $14, $15}' /proc/$P/stat)
  while ! grep -q "^execute " $LOG 2>/dev/null; do sleep 0.05; if ! kill -0 $P 2>/dev/null; then break; fi; done
  z=$(snap); b1=$(busy); c1=$(awk '{print $14, $15}' /proc/$P/stat)
  wait $P
  ex=$(grep "^execute " $LOG | sed -E 's/ +/ /g' | cut -d: -f1 | sed 's/execute //')
  ap=$(grep "^approve " $LOG | awk '{print $2}')
  ck=$(( $(echo $z|cut -d'|' -f1) - $(echo $a|cut -d'|' -f1) ))
  fpi=$(( $(echo $z|cut -d'|' -f2) - $(echo $a|cut -d'|' -f2) ))
  wal=$(python3 -c "print(round(($(echo $z|cut -d'|' -f3) - $(echo $a|cut -d'|' -f3))/1e6))")
  bz=$(python3 -c "b0='$b0'.split(); b1='$b1'.split(); print('busy %.1f idle %.1f core-s' % ((int(b1[0])-int(b0[0]))/100, (int(b1[1])-int(b0[1]))/100))")
  cl=$(python3 -c "a='$c0'.split(); b='$c1'.split(); print('client user %.2f sys %.2f' % ((int(b[0])-int(a[0]))/100, (int(b[1])-int(a[1]))/100))")
  echo "$(date +%H:%M:%S) $spec :: $ex (approve $ap s) | ckpt $ck fpi $fpi wal ${wal}MB | $bz | $cl" >> $OUT
done; done
