#!/usr/bin/env bash
# kill -9 at random instants of a 0.6 s run, then check that each partial file resumes to completion.
#   scripts/kill-stress.sh [TRIALS] [BINARY]    (default 60 trials, .build/debug/gradflow)
# Prints one line per failure and a closing count: resumed, failed, no partial (killed before the header).
set -u
trials=${1:-60}
gradflow=$(realpath "${2:-.build/debug/gradflow}")
folder=$(mktemp -d)
cd "$folder"
run=(run --init residual --no-loss-stop --t-final 1000 --output-times 1000 --spacing uniform --rtol 1e-12 --atol 1e-14 --flush-interval 0 -q)
ok=0; bad=0; none=0
for i in $(seq 1 "$trials"); do
  "$gradflow" "${run[@]}" -o "k$i.h5" & pid=$!
  sleep "0.$((RANDOM % 6))$((RANDOM % 10))$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  if [ -e "k$i.h5.partial" ]; then
    if timeout 60 "$gradflow" run --resume "k$i.h5.partial" -q >/dev/null 2>"err$i.txt" && [ -e "k$i.h5" ]; then
      ok=$((ok + 1))
    else
      bad=$((bad + 1)); echo "trial $i: $(cat "err$i.txt")"
    fi
  else
    none=$((none + 1))
  fi
done
echo "resumed $ok, failed $bad, no partial $none (files in $folder)"
[ "$bad" -eq 0 ]
