#!/usr/bin/env bash
# The whole job on the embedded default:
#   1. every task's synthetic demo corpus (espeak-ng speech in each corpus's own layout; MELD's
#      mp4 clips decoded once with `care-superb prepare meld`),
#   2. the demo benchmark: CARE (tiny), s3prl's log-mel baseline and a tiny WavLM, the same head,
#      9 tasks x 2 seeds (`care-superb bench benchmark/configs/demo.yaml`: features cached, cells
#      through s3prl's runner, resumable: run it again after an interruption),
#   3. the leaderboard printed (`care-superb leaderboard`).
#
# Everything here is SYNTHETIC or RANDOM: the corpora are espeak-ng speech, CARE and WavLM have
# random weights (never trained). The numbers show that the pipeline works end to end; they say
# nothing about any model's emotion recognition. The tables mark both.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${CARE_SUPERB_VENV:-.venv}"
BENCH="${BENCH:-benchmark/configs/demo.yaml}"
OUT="${OUT:-result/bench/demo}"   # the output: of the demo file
export OMP_NUM_THREADS=1          # one thread per process: two processes share the two cores

# 1. Corpora, two at a time (the longest first); each is resumable and kept once complete.
echo "[demo] synthesising the demo corpora into data/synthetic/ (logs: data/synthetic/.synth-*.log)"
mkdir -p data/synthetic
printf '%s\n' daic_woz meld ravdess_song emodb cafe iemocap msp_improv cmu_mosi |
    xargs -P 2 -I{} sh -c "'$VENV/bin/care-superb' synth {} --out data/synthetic/{} --seed 0 \
        > data/synthetic/.synth-{}.log 2>&1 && tail -n 1 data/synthetic/.synth-{}.log"
"$VENV/bin/care-superb" prepare meld --root data/synthetic/meld --cache data/synthetic/meld_16k \
    > data/synthetic/.prepare-meld.log 2>&1 && echo "[demo] MELD decoded into data/synthetic/meld_16k"

# 2. The benchmark: every upstream x task x seed.
"$VENV/bin/care-superb" bench "$BENCH"

# 3. The leaderboard, from the result rows only. 200 resamples per cell instead of 1000 keep it to
#    about a minute here (DAIC-WOZ's interview-level metric is recomputed by its objective per resample).
"$VENV/bin/care-superb" leaderboard "$OUT/cells" --out "$OUT/leaderboard" --resamples "${RESAMPLES:-200}"
