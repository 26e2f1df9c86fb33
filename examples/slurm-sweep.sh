#!/usr/bin/env bash
# A GradFlow sweep on a Slurm cluster, as a job array: task i runs shard i of N, then one dependent job
# merges the shards' tables. Submit from the repository root after `make build`:
#
#   sbatch --array=1-8 examples/slurm-sweep.sh              # 8 shards
#   sbatch --dependency=afterok:<jobid> --wrap "bash examples/slurm-sweep.sh merge 8"
#
# Each task uses the cores Slurm gives it (--jobs) and writes to the shared folder $OUT.
#SBATCH --job-name=gradflow-sweep
#SBATCH --cpus-per-task=4
#SBATCH --time=02:00:00
set -euo pipefail
OUT=${OUT:-fig1-sweep}
GRID=(--methods flow,descent --init-scales 0.02,0.05,0.1,0.2,0.3 --lrs 0.01,0.03,0.05 --depths 5 --seeds 1,2,3
      --flow-args "--t-final 1e7" --descent-args "--steps 200000")
if [ "${1:-}" = merge ]; then
  n=$2
  .build/release/gradflow merge $(for i in $(seq 1 "$n"); do echo "$OUT/summary-shard-$i-of-$n.csv"; done) -o "$OUT/summary.csv"
else
  .build/release/gradflow sweep "${GRID[@]}" -o "$OUT" --jobs "${SLURM_CPUS_PER_TASK:-1}" \
    --shard "${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}" -q
fi
