#!/usr/bin/env python3
"""Train the direct-injection n-gram model (conf/prompt-model.bin).

    tests/tools/train-ngram.py [--corpus ../shared/corpora/direct.jsonl]
        [--extra-benign ../shared/corpora/indirect.jsonl]
        [--out conf/prompt-model.bin] [--fp 0.005] [--folds 5] [--seed 1]
        [--rules-flags FILE]

Python standard library only.  A logistic regression over hashed word
unigrams and bigrams of the NORMALISED text (lower case, letters and digits,
single spaces, leet digits folded: the same words lib/normalize.c gives the
rules engine; Unicode look-alike tables are not reproduced here, so training
sees a few non-ASCII texts slightly differently from the gateway).

Features: each distinct unigram and bigram present in a text sets its
bucket to 1/sqrt(number of distinct features), so long texts do not score
higher just for being long.  Score = sigmoid(bias + sum of weights).
Buckets, as lib/rules.c computes them (64-bit arithmetic): a word's hash h
starts at 0 and takes each 8 bytes x of the word (little endian, the last
zero-padded) as h = (h ^ x) * MIX1, h ^= h >> 29; a unigram's bucket is
(h * MIX2) >> (64 - BITS), a bigram's ((h1 * MIX1) ^ h2) * MIX2 >> (64 -
BITS).  The weights are stored as int16 times one float scale; thresholds
and the numbers printed are those of the quantised weights.

Evaluation, printed so it can be reported honestly:
  1. k-fold cross-validation: out-of-fold scores for every text; the
     threshold is the lowest score that keeps out-of-fold benign FP <= --fp;
     out-of-fold recall at that threshold (model alone, and OR-ed with the
     rules' flags if --rules-flags is given).
  2. a held-out split (20 %, stratified by source): trained on 80 %, the
     threshold chosen on the 80 %'s own out-of-fold scores, measured on the
     20 % it never saw.
The shipped model is trained on the whole corpus with the k-fold threshold.

--extra-benign adds the benign texts of another corpus as negatives (the
indirect corpus: emails, tables, code, model answers; users paste such
texts into prompts, and without them the model learns "long and wordy"
as a sign of attack).  They take part in the folds and the threshold, and
their false positives are printed apart from the direct corpus's.

File format (little endian): "OCSSNG2\\0", uint32 dim, uint32 flags (0),
float32 bias, float32 threshold, float32 scale, int16 weights[dim].
"""
import argparse
import json
import math
import random
import struct
import sys
import unicodedata

BITS = 17
DIM = 1 << BITS
M64 = (1 << 64) - 1
MIX1 = 0x9E3779B97F4A7C15
MIX2 = 0xD6E8FEB86659FD93
LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"}


def normalise(text):
    """Approximates ocss_norm_run() segment 0."""
    out = []
    for ch in unicodedata.normalize("NFKD", text):
        if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        ch = ch.lower()
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif not ch.isascii() and ch.isalnum():
            out.append(ch)
        else:
            out.append(" ")
    words = "".join(out).split()
    res = []
    for w in words:
        letters = sum(1 for c in w if "a" <= c <= "z")
        leet = sum(1 for c in w if c in LEET)
        if leet and letters and letters >= leet and len(w) >= 3:
            w = "".join(LEET.get(c, c) for c in w)
        res.append(w)
    return res


def word_hash(w):
    b = w.encode("utf-8")
    h = 0
    for i in range(0, len(b), 8):
        h = ((h ^ int.from_bytes(b[i:i + 8], "little")) * MIX1) & M64
        h ^= h >> 29
    return h


def features(text):
    hs = [word_hash(w) for w in normalise(text)]
    feats = set()
    for i, h in enumerate(hs):
        feats.add(((h * MIX2) & M64) >> (64 - BITS))
        if i > 0:
            feats.add(((((hs[i - 1] * MIX1) & M64) ^ h) * MIX2 & M64)
                      >> (64 - BITS))
    if not feats:
        return [], 0.0
    return sorted(feats), 1.0 / math.sqrt(len(feats))


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def quantise(model):
    """int16 weights and a float32 scale, as stored; bias as float32."""
    w, b = model
    scale = f32(max(abs(x) for x in w) / 32767.0 or 1.0)
    return [int(round(x / scale)) for x in w], f32(b), scale


def train(xs, ys, epochs=10, lr=0.5, l2=1e-5, seed=1):
    """Logistic regression, Adagrad, balanced class weights."""
    w = [0.0] * DIM
    g2 = [1e-8] * DIM
    b, gb = 0.0, 1e-8
    npos = sum(ys) or 1
    nneg = (len(ys) - sum(ys)) or 1
    cw = {1: len(ys) / (2.0 * npos), 0: len(ys) / (2.0 * nneg)}
    idx = list(range(len(xs)))
    rnd = random.Random(seed)
    for _ in range(epochs):
        rnd.shuffle(idx)
        for i in idx:
            f, v = xs[i]
            z = b + v * sum(w[k] for k in f)
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            g = (p - ys[i]) * cw[ys[i]]
            for k in f:
                gk = g * v + l2 * w[k]
                g2[k] += gk * gk
                w[k] -= lr * gk / math.sqrt(g2[k])
            gb += g * g
            b -= lr * g / math.sqrt(gb)
    return quantise((w, b))


def score(model, x):
    """As lib/rules.c: bias + scale * sum / sqrt(n), as a probability."""
    q, b, scale = model
    f, v = x
    if not f:
        return 0.0
    z = b + scale * sum(q[k] for k in f) / math.sqrt(len(f))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def oof_scores(xs, ys, strata, folds, seed):
    rnd = random.Random(seed)
    fold = [0] * len(xs)
    by = {}
    for i, s in enumerate(strata):
        by.setdefault((s, ys[i]), []).append(i)
    for key in sorted(by):
        items = by[key]
        rnd.shuffle(items)
        for j, i in enumerate(items):
            fold[i] = j % folds
    out = [0.0] * len(xs)
    for k in range(folds):
        tr = [i for i in range(len(xs)) if fold[i] != k]
        m = train([xs[i] for i in tr], [ys[i] for i in tr], seed=seed + k)
        for i in range(len(xs)):
            if fold[i] == k:
                out[i] = score(m, xs[i])
    return out


def pick_threshold(scores, ys, fp):
    ben = sorted((s for s, y in zip(scores, ys) if y == 0), reverse=True)
    allowed = int(math.floor(fp * len(ben)))
    # flag when score > t: at most `allowed` benign scores above t
    t = ben[allowed] if allowed < len(ben) else 0.0
    return min(0.999999, t + 1e-6)


def rates(scores, ys, t, extra=None):
    tp = fp = npos = nneg = 0
    for i, (s, y) in enumerate(zip(scores, ys)):
        flag = s > t or (extra is not None and extra[i])
        if y:
            npos += 1
            tp += flag
        else:
            nneg += 1
            fp += flag
    return tp, npos, fp, nneg


def fp_split(scores, ys, extra, t, idx=None):
    idx = range(len(scores)) if idx is None else idx
    d = [0, 0]
    e = [0, 0]
    for j, i in enumerate(idx):
        if ys[i]:
            continue
        c = e if extra[i] else d
        c[0] += scores[j] > t
        c[1] += 1
    return (f"FP direct benign {d[0]}/{d[1]} = "
            f"{100.0 * d[0] / max(1, d[1]):.2f} %, extra benign {e[0]}/{e[1]}"
            f" = {100.0 * e[0] / max(1, e[1]):.2f} %")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="../shared/corpora/direct.jsonl")
    ap.add_argument("--out", default="conf/prompt-model.bin")
    ap.add_argument("--fp", type=float, default=0.005,
                    help="benign false-positive budget for the threshold")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--extra-benign")
    ap.add_argument("--rules-flags", help="file of 0/1 lines, one per "
                    "corpus text: flagged by the regex rules")
    a = ap.parse_args()

    texts, ys, strata = [], [], []
    with open(a.corpus, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            texts.append(o["text"])
            ys.append(1 if o["label"] == "injection" else 0)
            strata.append(o.get("source", ""))
    rules = None
    if a.rules_flags:
        with open(a.rules_flags) as f:
            rules = [line.strip() == "1" for line in f]
    ndirect = len(texts)
    if a.extra_benign:
        with open(a.extra_benign, encoding="utf-8") as f:
            for line in f:
                o = json.loads(line)
                if o["label"] != "benign":
                    continue
                texts.append(o["text"])
                ys.append(0)
                strata.append("extra:" + o.get("source", ""))
        if rules:
            rules += [False] * (len(texts) - ndirect)
    xs = [features(t) for t in texts]
    extra = [i >= ndirect for i in range(len(texts))]

    print(f"corpus {a.corpus}: {sum(ys)} injection, {len(ys) - sum(ys)} "
          f"benign; {DIM} buckets")
    oof = oof_scores(xs, ys, strata, a.folds, a.seed)
    t = pick_threshold(oof, ys, a.fp)
    tp, npos, fp, nneg = rates(oof, ys, t)
    print(f"{a.folds}-fold out-of-fold: threshold {t:.4f}: model recall "
          f"{tp}/{npos} = {100.0 * tp / npos:.1f} %, FP {fp}/{nneg} = "
          f"{100.0 * fp / nneg:.2f} %")
    print("  " + fp_split(oof, ys, extra, t))
    if rules:
        tp, npos, fp, nneg = rates(oof, ys, t, rules)
        print(f"  rules OR model: recall {100.0 * tp / npos:.1f} %, FP "
              f"{100.0 * fp / nneg:.2f} %")

    # Held-out 20 %, stratified.
    rnd = random.Random(a.seed + 100)
    by = {}
    for i in range(len(xs)):
        by.setdefault((strata[i], ys[i]), []).append(i)
    test = set()
    for key in sorted(by):
        items = by[key]
        rnd.shuffle(items)
        test.update(items[: max(1, len(items) // 5)])
    tr = [i for i in range(len(xs)) if i not in test]
    te = sorted(test)
    oof_tr = oof_scores([xs[i] for i in tr], [ys[i] for i in tr],
                        [strata[i] for i in tr], a.folds, a.seed)
    t_tr = pick_threshold(oof_tr, [ys[i] for i in tr], a.fp)
    m = train([xs[i] for i in tr], [ys[i] for i in tr], seed=a.seed)
    s_te = [score(m, xs[i]) for i in te]
    tp, npos, fp, nneg = rates(s_te, [ys[i] for i in te], t_tr)
    print(f"held-out 20 % ({len(te)} texts, threshold {t_tr:.4f} chosen on "
          f"the 80 %): model recall {tp}/{npos} = "
          f"{100.0 * tp / max(1, npos):.1f} %, FP {fp}/{nneg} = "
          f"{100.0 * fp / max(1, nneg):.2f} %")
    print("  " + fp_split(s_te, ys, extra, t_tr, te))
    if rules:
        tp, npos, fp, nneg = rates(s_te, [ys[i] for i in te], t_tr,
                                   [rules[i] for i in te])
        print(f"  rules OR model: recall {100.0 * tp / max(1, npos):.1f} %, "
              f"FP {100.0 * fp / max(1, nneg):.2f} %")

    q, b, scale = train(xs, ys, seed=a.seed)
    with open(a.out, "wb") as f:
        f.write(b"OCSSNG2\0")
        f.write(struct.pack("<IIfff", DIM, 0, b, t, scale))
        f.write(struct.pack(f"<{DIM}h", *q))
    print(f"wrote {a.out}: {DIM} weights, bias {b:.4f}, threshold {t:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
