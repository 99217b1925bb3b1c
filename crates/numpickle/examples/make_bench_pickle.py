"""Writes a full-size metrics pickle for examples/decode_bench.rs (about 40 MB with protocol
5), shaped like the real artifacts/metrics/metrics_<run>.pickle: n_test = 63, n_train = 145,
B = 1000 bootstrap iterations, 200 x 1000 ROC/PR curves, 10 x 1000 calibration curves, and
train/val preds_dict lists of numpy scalars (about 480k scalar REDUCEs).

    /tmp/np2/bin/python make_bench_pickle.py /tmp/bench/metrics.p5.pkl [protocol]
"""

import os
import pickle
import sys
import time

import numpy as np

N_TEST, N_TRAIN, B, L = 63, 145, 1000, 200
METRICS = ["AUROC", "AUPR", "F1", "sensitivity", "specificity", "PPV", "NPV", "accuracy",
           "accuracy_balanced", "PPV_prev", "NPV_prev", "tpAUC", "Brier", "ECE"]
UQ_KEYS = ["confidence", "entropy_of_expected", "expected_entropy", "mutual_information"]
rng = np.random.default_rng(0)
codes_train = np.array([f"PLR{1000 + i}" if i < 100 else f"PLR{4000 + i}" for i in range(N_TRAIN)],
                       dtype=object)
codes_test = np.array([f"PLR{2000 + i}" if i < 40 else f"PLR{4500 + i}" for i in range(N_TEST)],
                      dtype=object)


def curves():
    thresholds = rng.random((L, B))
    thresholds[0] = np.inf
    return {
        "AUROC": {"fpr": rng.random((L, B)), "tpr": rng.random((L, B)), "thresholds": thresholds},
        "AUPR": {"recall": rng.random((L, B)), "precision": rng.random((L, B)),
                 "thresholds": rng.random((L, B))},
        "calibration_curve": {"prob_pred": np.tile(np.linspace(0, 1, 10)[:, None], (1, B)),
                              "prob_true": rng.random((10, B))},
    }


def scalars_iter():
    return {m: [np.float64(x) for x in rng.random(B)] for m in METRICS}


def preds_dict(draws_per_iter):
    """Per subject, one numpy scalar per bootstrap draw of that subject."""
    counts = rng.multinomial(draws_per_iter * B, np.ones(N_TRAIN) / N_TRAIN)
    out = {}
    for var in ["y_pred_proba", "y_pred", "label"]:
        out[var] = {}
        for code, n in zip(codes_train, counts):
            if var == "y_pred_proba":
                out[var][code] = [np.float64(x) for x in rng.random(n)]
            else:
                out[var][code] = [np.int64(x) for x in rng.integers(0, 2, n)]
    return out


def metrics_iter():
    out = {}
    for split in ["train", "val", "test"]:
        entry = {"metrics": {"scalars": scalars_iter(), "arrays": curves()}}
        if split == "test":
            label = rng.integers(0, 2, (N_TEST, 1))
            entry["preds"] = {"arrays": {"predictions": {
                "y_pred_proba": rng.random((N_TEST, B)),
                "y_pred": rng.integers(0, 2, (N_TEST, B)),
                "label": np.repeat(label, B, axis=1),
            }}}
        else:
            entry["preds_dict"] = {"arrays": preds_dict(72 if split == "train" else 89)}
        out[split] = entry
    return out


def stats_entry():
    return {"n": B, "mean": np.float64(rng.random()), "std": np.float64(rng.random()),
            "ci": np.array([rng.random(), rng.random()])}


def metrics_stats():
    out = {}
    for split in ["train", "val", "test"]:
        arrays = {}
        for curve, variables in [("AUROC", ["fpr", "tpr", "thresholds"]),
                                 ("AUPR", ["recall", "precision", "thresholds"]),
                                 ("calibration_curve", ["prob_pred", "prob_true"])]:
            n = 10 if curve == "calibration_curve" else L
            arrays[curve] = {v: {"mean": rng.random(n), "std": rng.random(n),
                                 "ci": rng.random((2, n))} for v in variables}
        out[split] = {"metrics": {"scalars": {m: stats_entry() for m in METRICS},
                                  "arrays": arrays}}
    return out


def subjectwise(split):
    n = N_TEST if split == "test" else N_TRAIN
    shape = (n,) if split == "test" else (n, 1)
    preds = {k: {"mean": rng.random(n), "std": rng.random(n)}
             for k in ["y_pred_proba", "y_pred", "label"]}
    for k in UQ_KEYS:
        preds[k] = {"mean": rng.random(shape), "std": np.full(shape, np.nan)}
    uq_scalars = {"AURC": np.float64(0.2), "AURC_E": np.float64(0.1)}
    uq_scalars.update({k: np.float64(rng.random()) for k in UQ_KEYS})
    return {
        "subject_code": codes_test if split == "test" else codes_train,
        "labels": rng.integers(0, 2, n),
        "preds": preds,
        "uq": {"scalars": uq_scalars, "arrays": {"coverage": rng.random(n), "risk": rng.random(n)}},
    }


def subject_global_stats():
    labels = np.unique(np.array([0, 1]))
    out = {}
    for split in ["train", "val", "test"]:
        out[split] = {k: {v: {label: stats_entry() for label in labels} for v in ["mean", "std"]}
                      for k in ["y_pred_proba", "y_pred", "label"] + UQ_KEYS}
    return out


def main():
    path = sys.argv[1]
    protocol = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    obj = {
        "metrics_iter": metrics_iter(),
        "metrics_stats": metrics_stats(),
        "subjectwise_stats": {s: subjectwise(s) for s in ["train", "val", "test"]},
        "subject_global_stats": subject_global_stats(),
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)
    with open(path, "rb") as f:
        data = f.read()
    best = min(timed_load(data) for _ in range(5))
    print(f"{path}: {len(data) / 1e6:.1f} MB, protocol {protocol}, "
          f"pickle.loads {best * 1e3:.0f} ms (numpy {np.__version__})")


def timed_load(data):
    start = time.perf_counter()
    pickle.loads(data)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
