#!/usr/bin/env bash
# The main job on the embedded default: synthesise EmoDB, write the default CARE checkpoint,
# then train and evaluate the EmoDB task through s3prl's runner with two upstreams under the
# same head (CARE and s3prl's log-mel baseline), and print their test weighted F1.
#
# Everything here is SYNTHETIC or RANDOM: the corpus is espeak-ng speech, and the CARE checkpoint
# is `care-init --size tiny` (random weights, never pre-trained). The numbers show that the
# pipeline works end to end; they say nothing about any model's emotion recognition.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${CARE_SUPERB_VENV:-.venv}"
CORPUS=data/synthetic/emodb        # the default datarc.root of downstream/emodb/config.yaml
UPSTREAMS="${UPSTREAMS:-care fbank_no_cmvn}"

"$VENV/bin/care-superb" synth emodb --out "$CORPUS" --seed 0
# -u care without -k loads $CARE_SUPERB_HOME/checkpoints/care.pt (default ~/.cache/care-superb);
# an existing checkpoint there is kept (and its provenance shows in the result row).
"$VENV/bin/care-superb" care-init --size tiny --exist-ok

rows=()
for upstream in $UPSTREAMS; do
    exp="result/downstream/demo-emodb-$upstream"
    rm -rf "$exp"
    "$VENV/bin/python" run_downstream.py -m train -u "$upstream" -d emodb -p "$exp" \
        -o "config.runner.eval_step=50,,config.runner.log_step=100"
    "$VENV/bin/python" run_downstream.py -m evaluate -e "$exp/dev-best.ckpt"
    rows+=("$exp/result-test-dev-best.json")
done

"$VENV/bin/python" - "${rows[@]}" <<'PYEOF'
import json, sys
print("\nEmoDB demo: SYNTHETIC corpus (espeak-ng), test speakers held out; chance weighted F1 ~ 0.14")
for path in sys.argv[1:]:
    row = json.load(open(path))
    m, up = row["metrics"], row["upstream"]
    prov = up.get("provenance") or {}
    what = f"{prov['ckpt']}: {prov.get('config')}; {prov.get('ckpt_description')}" if prov.get("ckpt") else "s3prl upstream"
    assert row["data"]["synthetic"], "the demo corpus should be the synthetic one"
    print(f"  {up['name']:>14}: test weighted F1 = {m['weighted_f1']:.4f}  (accuracy {m['accuracy']:.4f}, "
          f"UA {m['unweighted_accuracy']:.4f})  [{what}]")
    print(f"  {'':>14}  result row: {path}")
PYEOF
