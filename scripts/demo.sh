#!/usr/bin/env bash
# The main job on the embedded default: synthesise EmoDB, train and evaluate the EmoDB task
# through s3prl's runner, print the test weighted F1.
# The corpus is SYNTHETIC (espeak-ng speech): its numbers say the pipeline works, nothing about
# any model's real emotion-recognition ability.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${CARE_SUPERB_VENV:-.venv}/bin/python"
CORPUS=data/synthetic/emodb        # the default datarc.root of downstream/emodb/config.yaml
UPSTREAM="${UPSTREAM:-fbank_no_cmvn}"
EXP="${EXP:-result/downstream/demo-emodb-$UPSTREAM}"

"${CARE_SUPERB_VENV:-.venv}/bin/care-superb" synth emodb --out "$CORPUS" --seed 0
rm -rf "$EXP"
"$PY" run_downstream.py -m train -u "$UPSTREAM" -d emodb -p "$EXP" \
    -o "config.runner.eval_step=50,,config.runner.log_step=100"
"$PY" run_downstream.py -m evaluate -e "$EXP/dev-best.ckpt"
"$PY" - "$EXP/result-test-dev-best.json" <<'PYEOF'
import json, sys
row = json.load(open(sys.argv[1]))
m = row["metrics"]
data = "SYNTHETIC corpus" if row["data"]["synthetic"] else "real corpus"
print(f"\nEmoDB ({data}), upstream {row['upstream']['name']}, split {row['protocol']['split']}, "
      f"{row['n_utterances']} test utterances")
print(f"test weighted F1 = {m['weighted_f1']:.4f}  (accuracy {m['accuracy']:.4f}, UA {m['unweighted_accuracy']:.4f}, "
      f"macro F1 {m['macro_f1']:.4f}; chance weighted F1 ~ {1/7:.2f})")
print(f"result row: {sys.argv[1]}")
PYEOF
