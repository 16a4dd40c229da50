#!/usr/bin/env python3
# Checks assets/clipbank/manifest.csv against the fetched assets and assets/clipbank/ATTRIBUTION.md.
#
#   python3 scripts/check_clipbank_manifest.py [--manifest FILE] [--attribution FILE] [--cache DIR]
#
# The cache is .cache/ in the checkout, or $FOLEY_CACHE if set (as in scripts/setup.sh); run the
# set-up first. Stdlib only. Checks:
#   - the header is exactly HEADER below;
#   - ids are unique, non-empty slugs; split is train/test; action is hit/scratch; rows are sorted
#     by material, then id;
#   - every path exists under <cache>/assets/<package>/, and its sha256 is the row's sha256; where
#     the set-up left <cache>/assets/<package>/.complete, its version is the row's version;
#   - every material has struck (`hit`) rows in both splits, since a generated video of a material
#     needs struck recordings of its split, or is listed in ATTRIBUTION.md's last section
#     ("Materials with a single recording"), in which case all its rows are train; that list names
#     only materials of the manifest that lack a test split;
#   - no group (the id without its trailing variant number `_N` or velocity
#     `_softest|_soft|_med|_hard|_hardest`) has rows in both splits.
# Prints every problem found and exits 1 if there is any, else prints a summary and exits 0.

import argparse
import csv
import hashlib
import os
import re
import sys
from collections import defaultdict
from pathlib import Path

HEADER = ["id", "package", "version", "path", "material", "action", "license", "attribution", "sha256", "split", "hits"]
SPLITS = {"train", "test"}
ACTIONS = {"hit", "scratch"}
SINGLE_HEADING = "Materials with a single recording"
ID_RE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
VARIANT_RE = re.compile(r"^(.+)_[0-9]+$")
VELOCITY_RE = re.compile(r"^(.+)_(softest|soft|med|hard|hardest)$")


def group_of(clip_id):
    m = VARIANT_RE.match(clip_id) or VELOCITY_RE.match(clip_id)
    return m.group(1) if m else clip_id


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def single_recording_materials(attribution_path, problems):
    """The materials named (as `name`) in bullets of the last `## ` section, which must be SINGLE_HEADING."""
    try:
        text = Path(attribution_path).read_text(encoding="utf-8")
    except OSError as e:
        problems.append(f"cannot read {attribution_path}: {e}")
        return set()
    sections = re.split(r"^## +", text, flags=re.M)
    if len(sections) < 2:
        problems.append(f"{attribution_path}: no '## ' sections")
        return set()
    last = sections[-1]
    title = last.splitlines()[0].strip()
    if title != SINGLE_HEADING:
        problems.append(f"{attribution_path}: last section is '{title}', expected '{SINGLE_HEADING}'")
        return set()
    return set(re.findall(r"^\s*[-*]\s+`([^`]+)`", last, flags=re.M))


def main():
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description="check the clip bank manifest")
    ap.add_argument("--manifest", default=root / "assets/clipbank/manifest.csv")
    ap.add_argument("--attribution", default=root / "assets/clipbank/ATTRIBUTION.md")
    ap.add_argument("--cache", default=os.environ.get("FOLEY_CACHE") or root / ".cache")
    args = ap.parse_args()
    assets = Path(args.cache) / "assets"
    problems = []

    with open(args.manifest, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != HEADER:
            print(f"{args.manifest}: header is {header}, expected {HEADER}")
            return 1
        rows = []
        for lineno, rec in enumerate(reader, start=2):
            if len(rec) != len(HEADER):
                problems.append(f"line {lineno}: {len(rec)} fields, expected {len(HEADER)}")
                continue
            row = dict(zip(HEADER, rec))
            row["line"] = lineno
            rows.append(row)

    seen = {}
    completes = {}
    missing_packages = set()
    for r in rows:
        where = f"line {r['line']} ({r['id']})"
        if not ID_RE.match(r["id"]):
            problems.append(f"{where}: id is not a lower-case slug")
        if r["id"] in seen:
            problems.append(f"{where}: id already used on line {seen[r['id']]}")
        seen.setdefault(r["id"], r["line"])
        if r["split"] not in SPLITS:
            problems.append(f"{where}: split '{r['split']}' is not one of {sorted(SPLITS)}")
        if r["action"] not in ACTIONS:
            problems.append(f"{where}: action '{r['action']}' is not one of {sorted(ACTIONS)}")
        for k in ("package", "version", "material", "license", "attribution"):
            if not r[k].strip():
                problems.append(f"{where}: empty {k}")
        if not SHA_RE.match(r["sha256"]):
            problems.append(f"{where}: sha256 is not 64 lower-case hex digits")
        pkg_dir = assets / r["package"]
        if not pkg_dir.is_dir():
            if r["package"] not in missing_packages:
                problems.append(f"{where}: {pkg_dir} is missing (run scripts/setup.sh first)")
                missing_packages.add(r["package"])
            continue
        if r["package"] not in completes:
            done = pkg_dir / ".complete"
            completes[r["package"]] = done.read_text().strip() if done.is_file() else None
        if completes[r["package"]] is not None and completes[r["package"]] != r["version"]:
            problems.append(f"{where}: version {r['version']}, but the cache holds {completes[r['package']]}")
        rel = Path(r["path"])
        if rel.is_absolute() or ".." in rel.parts:
            problems.append(f"{where}: path must be relative to the package root, without '..'")
            continue
        p = pkg_dir / rel
        if not p.is_file():
            problems.append(f"{where}: {p} does not exist")
        elif SHA_RE.match(r["sha256"]) and sha256_of(p) != r["sha256"]:
            problems.append(f"{where}: sha256 of {p} is {sha256_of(p)}, manifest says {r['sha256']}")

    keys = [(r["material"], r["id"]) for r in rows]
    if keys != sorted(keys):
        problems.append("rows are not sorted by material, then id")

    splits_of_material = defaultdict(set)
    splits_of_group = defaultdict(set)
    for r in rows:
        splits_of_material.setdefault(r["material"], set())
        if r["action"] == "hit":
            splits_of_material[r["material"]].add(r["split"])
        splits_of_group[group_of(r["id"])].add(r["split"])
    single = single_recording_materials(args.attribution, problems)
    for m, s in sorted(splits_of_material.items()):
        if m in single:
            if s != {"train"}:
                problems.append(f"material '{m}' is listed as single-recording but has struck recordings in {sorted(s)}")
        elif s != SPLITS:
            problems.append(f"material '{m}' has struck recordings only in {sorted(s)} and is not listed under '{SINGLE_HEADING}'")
    for m in sorted(single - set(splits_of_material)):
        problems.append(f"'{SINGLE_HEADING}' lists '{m}', which has no rows")
    for g, s in sorted(splits_of_group.items()):
        if len(s) > 1:
            problems.append(f"group '{g}' spans both splits")

    if problems:
        for p in problems:
            print(p)
        print(f"{len(problems)} problem(s) in {args.manifest}")
        return 1
    n_test = sum(r["split"] == "test" for r in rows)
    print(f"ok: {len(rows)} clips ({len(rows) - n_test} train, {n_test} test), "
          f"{len(splits_of_material)} materials ({len(single)} single-recording), {len(splits_of_group)} groups")
    return 0


if __name__ == "__main__":
    sys.exit(main())
