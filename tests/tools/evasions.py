#!/usr/bin/env python3
"""Evasion variants of the attacks a rule file catches, for ocss eval-rules.

    ocss eval-rules --rules RULES --corpus CORPUS.jsonl --flags FLAGS
    tests/tools/evasions.py --corpus CORPUS.jsonl --flags FLAGS --out V.jsonl
    ocss eval-rules --rules RULES --corpus V.jsonl

Every injection text flagged in FLAGS (one line a text, 1 or 0, as
eval-rules writes it) is transformed as a whole, once per evasion class;
each variant is a line {"text", "label": "injection", "source": class}, so
eval-rules prints the recall of each class.  Deterministic (fixed seed).
Standard library only.
"""
import argparse
import base64
import json
import random
import sys

ZWSP = "\u200b"
CYRILLIC = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440",
            "c": "\u0441", "x": "\u0445", "y": "\u0443", "i": "\u0456"}
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "$", "t": "7"}
BIDI = ("\u202e", "\u2066")  # RLO, LRI


def zero_width(t, rng):
    return "".join(c + ZWSP if k % 3 == 2 else c for k, c in enumerate(t))


def fullwidth(t, rng):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in t)


def cyrillic(t, rng):
    return "".join(CYRILLIC.get(c, c) for c in t)


def b64(t, rng):
    return base64.b64encode(t.encode()).decode()


def case(t, rng):
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in t)


def bidi(t, rng):
    return " ".join(rng.choice(BIDI) + w for w in t.split(" "))


def spaced(t, rng):
    return "  ".join(" ".join(w) for w in t.split())


def leet(t, rng):
    return "".join(LEET.get(c.lower(), c) for c in t)


CLASSES = [("zero-width", zero_width), ("fullwidth", fullwidth),
           ("cyrillic", cyrillic), ("base64", b64), ("case", case),
           ("bidi", bidi), ("spaced", spaced), ("leet", leet)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--flags", required=True,
                    help="eval-rules --flags output for the same corpus")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    with open(a.corpus, encoding="utf-8") as f:
        texts = [json.loads(line) for line in f if line.strip()]
    with open(a.flags, encoding="ascii") as f:
        flags = [line.strip() == "1" for line in f]
    if len(flags) != len(texts):
        sys.exit(f"{a.flags}: {len(flags)} lines for {len(texts)} texts")
    rng = random.Random(1)
    n = 0
    with open(a.out, "w", encoding="utf-8") as out:
        for t, hit in zip(texts, flags):
            if t.get("label") != "injection" or not hit:
                continue
            n += 1
            for name, fn in CLASSES:
                out.write(json.dumps({"text": fn(t["text"], rng),
                                      "label": "injection",
                                      "source": name}) + "\n")
    print(f"{n} caught attacks x {len(CLASSES)} classes -> {a.out}")


if __name__ == "__main__":
    main()
