"""Writes the numpickle test fixtures: pickles of each case for protocols 2-5, and one JSON
file per case with the values every one of those pickles must decode to.

Run once per numpy major version (module paths differ: numpy.core.* vs numpy._core.*):

    python3 -m venv /tmp/np2 && /tmp/np2/bin/pip install numpy            # 2.x
    python3 -m venv /tmp/np1 && /tmp/np1/bin/pip install numpy==1.26.4    # 1.x
    /tmp/np2/bin/python make_pickles.py && /tmp/np1/bin/python make_pickles.py

Files: <case>.np<major>.p<protocol>.pkl and <case>.json, next to this script.

JSON encoding of a value (tagged, exact):
  None / True / False        -> null / true / false
  int                        -> {"int": "<decimal>"}            (text: big ints stay exact)
  float                      -> {"float": <repr>} or {"float": "NaN" | "Infinity" | "-Infinity"}
  str / bytes / bytearray    -> {"str": "..."} / {"bytes": "<hex>"} / {"bytearray": "<hex>"}
  list / tuple / set / frozenset -> {"list": [...]} / {"tuple": [...]} / {"set": [...]} / {"frozenset": [...]}
  dict                       -> {"dict": [[key, value], ...]}    (insertion order)
  numpy dtype                -> {"dtype": "<str(dtype)>"}
  numpy scalar               -> {"scalar": {"dtype": "<str(dtype)>", "value": <number>}}
  ndarray                    -> {"array": {"dtype", "shape", "fortran", "values"}}, values in
                                C order: numbers (non-finite as strings), str, or tagged
                                values for object arrays.
Set elements are ints only, so their order does not depend on PYTHONHASHSEED.
"""

import json
import math
import os
import pickle
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MAJOR = int(np.__version__.split(".")[0])


def num(x):
    """A JSON number, or the agreed string for a non-finite float."""
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    return x


def enc(v):
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, np.ndarray):
        if v.dtype == object:
            values = [enc(x) for x in v.ravel(order="C").tolist()]
        elif v.dtype.kind in "US":
            values = [x if isinstance(x, str) else x.decode() for x in v.ravel(order="C").tolist()]
        elif v.dtype.kind == "f":
            values = [num(float(x)) for x in v.ravel(order="C").tolist()]
        elif v.dtype.kind == "b":
            values = [int(x) for x in v.ravel(order="C").tolist()]
        else:
            values = [int(x) for x in v.ravel(order="C").tolist()]
        fortran = bool(v.flags.f_contiguous and not v.flags.c_contiguous)
        return {"array": {"dtype": str(v.dtype), "shape": list(v.shape),
                          "fortran": fortran, "values": values}}
    if isinstance(v, np.dtype):
        return {"dtype": str(v)}
    if isinstance(v, np.str_):
        return {"str": str(v)}
    if isinstance(v, np.generic):
        if v.dtype.kind == "f":
            value = num(float(v))
        elif v.dtype.kind == "b":
            value = bool(v)
        else:
            value = int(v)
        return {"scalar": {"dtype": str(v.dtype), "value": value}}
    if isinstance(v, int):
        return {"int": str(v)}
    if isinstance(v, float):
        return {"float": num(v)}
    if isinstance(v, str):
        return {"str": v}
    if isinstance(v, bytearray):
        return {"bytearray": bytes(v).hex()}
    if isinstance(v, bytes):
        return {"bytes": v.hex()}
    if isinstance(v, list):
        return {"list": [enc(x) for x in v]}
    if isinstance(v, tuple):
        return {"tuple": [enc(x) for x in v]}
    if isinstance(v, frozenset):
        return {"frozenset": [enc(x) for x in v]}
    if isinstance(v, set):
        return {"set": [enc(x) for x in v]}
    if isinstance(v, dict):
        return {"dict": [[enc(k), enc(x)] for k, x in v.items()]}
    raise TypeError(type(v))


def arrays():
    rng = np.random.default_rng(7)
    out = {
        "f8": np.array([0.1, -0.0, 1e300, 5e-324, np.nan, np.inf, -np.inf, 1 / 3]),
        "f4": np.array([0.1, -2.5, np.nan, np.inf, 3.4e38], dtype="f4"),
        "f2": np.array([0.5, -1.0, 65504.0], dtype="f2"),
        "i8": np.array([0, -1, 2**63 - 1, -(2**63)], dtype="i8"),
        "i4": np.array([0, -1, 2**31 - 1, -(2**31)], dtype="i4"),
        "i2": np.array([0, -1, 2**15 - 1, -(2**15)], dtype="i2"),
        "i1": np.array([0, -1, 127, -128], dtype="i1"),
        "u8": np.array([0, 1, 2**63, 2**64 - 1], dtype="u8"),
        "u4": np.array([0, 2**32 - 1], dtype="u4"),
        "u2": np.array([0, 2**16 - 1], dtype="u2"),
        "u1": np.array([0, 255], dtype="u1"),
        "b1": np.array([True, False, True]),
        "be_f8": np.array([1.5, -2.25, np.nan], dtype=">f8"),
        "be_f4": np.array([1.5, -2.25], dtype=">f4"),
        "be_i8": np.array([1, -2, 2**40], dtype=">i8"),
        "be_i4": np.array([1, -2], dtype=">i4"),
        "be_i2": np.array([1, -2], dtype=">i2"),
        "be_u8": np.array([1, 2**64 - 2], dtype=">u8"),
        "be_u4": np.array([1, 2**32 - 2], dtype=">u4"),
        "be_u2": np.array([1, 2**16 - 2], dtype=">u2"),
        "le_explicit": np.array([1.0, 2.0], dtype="<f8"),
        "c2d": np.arange(12, dtype="f8").reshape(3, 4),
        "f2d": np.asfortranarray(np.arange(12, dtype="i8").reshape(3, 4)),
        "f3d": np.asfortranarray(rng.standard_normal((2, 3, 4))),
        "f2d_f4": np.asfortranarray(np.arange(6, dtype="f4").reshape(2, 3)),
        "f2d_be": np.asfortranarray(np.arange(6, dtype=">i4").reshape(2, 3)),
        "strided": np.arange(10, dtype="f8")[::3],
        "transposed": np.arange(6, dtype="i2").reshape(2, 3).T[:, 1:],
        "zero_d": np.array(3.5),
        "empty": np.zeros((0,), dtype="f8"),
        "empty_2d": np.zeros((0, 3), dtype="i4"),
        "empty_cols": np.zeros((2, 0), dtype="f4"),
        "empty_obj": np.array([], dtype=object),
        "obj_str": np.array(["PLR1001", "PLR4002", "", "émoji 🎉"], dtype=object),
        "obj_2d_f": np.asfortranarray(np.array([["a", "bb", "c"], ["d", "e", "f"]], dtype=object)),
        "obj_mixed": np.array([1, 2.5, None, "x"], dtype=object),
        "u_arr": np.array(["ab", "c", "", "ünï"]),
        "u_2d_f": np.asfortranarray(np.array([["x", "yy"], ["zzz", "w"]])),
        "u_be": np.array(["ab", "c"], dtype=">U2"),
        "big": rng.standard_normal(1000),
    }
    return out


def scalars():
    be = np.array([1.25], dtype=">f8")[0]
    return {
        "f8": np.float64(0.1),
        "f8_nan": np.float64("nan"),
        "f8_inf": np.float64("-inf"),
        "f4": np.float32(1.5),
        "f2": np.float16(-0.25),
        "i8": np.int64(-(2**63)),
        "i4": np.int32(-5),
        "i2": np.int16(300),
        "i1": np.int8(-128),
        "u8": np.uint64(2**64 - 1),
        "u4": np.uint32(2**32 - 1),
        "u2": np.uint16(7),
        "u1": np.uint8(255),
        "b": np.bool_(True),
        "b_false": np.bool_(False),
        "be_f8": be,
        "str": np.str_("héllo"),
        "list": [np.float64(i / 7) for i in range(5)],
        "dtype_f8": np.dtype("f8"),
        "dtype_u": np.dtype("<U5"),
    }


def python_values():
    shared = [1, 2, 3]
    shared_dict = {"k": "v"}
    return {
        "none": None,
        "true": True,
        "false": False,
        "ints": [0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -(2**31), 2**63 - 1,
                 -(2**63), 2**64, -(2**64) - 1, 2**100, -(2**100), 2**63, -(2**63) - 1],
        "floats": [0.1, -0.0, 1e300, 5e-324, float("nan"), float("inf"), float("-inf")],
        "strs": ["", "ascii", "ünïcödé", "🎉", "x" * 300],
        "bytes": [b"", b"\x00\xffab", bytes(range(256)) * 2],
        "bytearrays": [bytearray(), bytearray(b"xy\x00")],
        "tuples": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), ((1, 2), "x")],
        "set": {3, 1, 2},
        "empty_set": set(),
        "frozenset": frozenset([5, 6]),
        "int_keys": {1: "a", -2: "b", 2**70: "big"},
        "tuple_key": {(1, "a"): "t"},
        "float_key": {0.5: "f"},
        "nested": {"a": {"b": {"c": [1, {"d": None}]}}},
        "shared": [shared, shared, shared_dict, shared_dict],
        "empty_list": [],
        "empty_dict": {},
        "one_key": {"only": {"inner": [7]}},
    }


def nested():
    """Dicts keyed by numpy ints (like subject_global_stats) and single-key dicts."""
    labels = np.unique(np.array([0, 1, 1, 0]))
    stats = {}
    for key in ["y_pred_proba", "y_pred"]:
        stats[key] = {}
        for var in ["mean", "std"]:
            stats[key][var] = {}
            for label in labels:
                stats[key][var][label] = {
                    "n": 3,
                    "mean": np.float64(0.25 * (1 + int(label))),
                    "std": np.float64(0.125),
                    "ci": np.array([0.1, 0.9]),
                }
    many = {f"k{i:04d}": i for i in range(1001)}
    exactly = {f"e{i:04d}": i for i in range(1000)}
    return {
        "subject_global_stats": {"test": stats},
        "single": {"a": {"b": {"c": np.arange(3.0)}}},
        "empty_then_big": {"empty": {}, "big": np.arange(5, dtype="i8"), "after": "x"},
        "one_list": {"l": [{"deep": np.arange(2.0)}], "z": 1},
        "many_keys": many,
        "exactly_1000": exactly,
        "tuple3": {"t": ("x", "y", [1, 2]), "u": 2},
        "bool_keys": {True: "yes", False: "no"},
    }


def metrics():
    """A small dict shaped like the real metrics pickle (n_test=6, B=5, curves 4x5)."""
    rng = np.random.default_rng(3)
    n_test, n_train, B, L = 6, 8, 5, 4
    codes_test = np.array([f"PLR{1000 + i}" for i in range(n_test)], dtype=object)
    codes_train = [f"PLR{4000 + i}" for i in range(n_train)]
    metric_names = ["AUROC", "AUPR", "Brier"]

    def scalars_iter():
        return {m: [np.float64(x) for x in rng.random(B)] + [0.5] for m in metric_names}

    def curves():
        return {
            "AUROC": {k: rng.random((L, B)) for k in ["fpr", "tpr", "thresholds"]},
            "calibration_curve": {k: rng.random((L, B)) for k in ["prob_pred", "prob_true"]},
        }

    metrics_iter = {}
    for split in ["train", "val", "test"]:
        entry = {"metrics": {"scalars": scalars_iter(), "arrays": curves()}}
        if split == "test":
            entry["preds"] = {"arrays": {"predictions": {
                "y_pred_proba": rng.random((n_test, B)),
                "y_pred": rng.integers(0, 2, (n_test, B)),
                "label": np.repeat(rng.integers(0, 2, (n_test, 1)), B, axis=1),
            }}}
        else:
            entry["preds_dict"] = {"arrays": {
                var: {code: [np.float64(x) if var == "y_pred_proba" else np.int64(int(x > 0.5))
                             for x in rng.random(3)] for code in codes_train}
                for var in ["y_pred_proba", "y_pred", "label"]
            }}
        metrics_iter[split] = entry

    def stats():
        return {
            "metrics": {
                "scalars": {m: {"n": B, "mean": np.float64(rng.random()),
                                "std": np.float64(rng.random()),
                                "ci": np.array([rng.random(), np.nan])} for m in metric_names},
                "arrays": {c: {v: {"mean": rng.random(L), "std": rng.random(L),
                                   "ci": rng.random((2, L))} for v in vs}
                           for c, vs in [("AUROC", ["fpr", "tpr"])]},
            }
        }

    def subjectwise(codes, n):
        return {
            "subject_code": codes,
            "labels": rng.integers(0, 2, n),
            "preds": {k: {"mean": rng.random(n), "std": rng.random(n)}
                      for k in ["y_pred_proba", "y_pred", "label"]},
            "uq": {"scalars": {"AURC": np.float64(0.3)}, "arrays": {"risk": rng.random(n)}},
        }

    return {
        "metrics_iter": metrics_iter,
        "metrics_stats": {s: stats() for s in ["train", "val", "test"]},
        "subjectwise_stats": {
            "train": subjectwise(np.array(codes_train, dtype=object), n_train),
            "val": None,
            "test": subjectwise(codes_test, n_test),
        },
        "subject_global_stats": {"test": nested()["subject_global_stats"]["test"]},
    }


CASES = {
    "arrays": arrays,
    "scalars": scalars,
    "python": python_values,
    "nested": nested,
    "metrics": metrics,
}


def main():
    for name, make in CASES.items():
        obj = make()
        expected = json.dumps(enc(obj), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        path = os.path.join(HERE, f"{name}.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                if f.read() != expected:
                    sys.exit(f"{path}: values differ between numpy versions")
        with open(path, "w", encoding="utf-8") as f:
            f.write(expected)
        for protocol in (2, 3, 4, 5):
            with open(os.path.join(HERE, f"{name}.np{MAJOR}.p{protocol}.pkl"), "wb") as f:
                pickle.dump(obj, f, protocol=protocol)
    print(f"wrote {len(CASES)} cases with numpy {np.__version__}")


if __name__ == "__main__":
    main()
