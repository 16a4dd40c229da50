#!/usr/bin/env python3
# The texture bank: photographs of surfaces and backgrounds from Debian packages, listed in
# assets/texturebank/manifest.csv.
#
#   python3 scripts/texturebank.py check   [--manifest FILE] [--cache DIR]
#   python3 scripts/texturebank.py prepare [--manifest FILE] [--cache DIR]   (needs PIL; run by the set-up)
#   python3 scripts/texturebank.py fill    [--manifest FILE] [--cache DIR]   (a maintainer's step)
#
# The cache is .cache/ in the checkout, or $FOLEY_CACHE if set (as in scripts/setup.sh); the set-up
# unpacks each package's listed files and its copyright file under <cache>/assets/<package>/.
#
# check (stdlib only) finds every problem and exits 1 if there is any:
#   - the header is HEADER; ids are unique lower-case slugs; rows are sorted by use, material, id;
#   - use is surface, background or procedural; a procedural row names a material and no file;
#   - every file exists (a `member` is a file inside the zip archive `path`), and its sha256 is the
#     row's; the cached package version is the row's;
#   - the license is the one the package's copyright file (Debian's machine-readable format, the
#     last matching Files stanza) gives for the file's upstream path, and the attribution is the
#     one `fill` derives from that stanza;
#   - every surface material and background kind has photos in both splits, unless the material
#     is procedural; no group spans both splits; the split is the one the rule below gives, and
#     the same without the newest package's rows.
# prepare decodes every photo to <cache>/textures/<id>.png (RGB, or RGBA where the photo has
# transparency), its longer side at most MAX_SIDE pixels.
# fill rewrites license, attribution, sha256 and split from the files and the rule.
#
# The split rule: within each (use, material), the groups (rows sharing `group`, else one row
# each) sorted by their package's place in UPSTREAM, then by their first id; every 4th goes to
# test, counting from the 3rd; a material with two or three groups sends its last group to test.
# A package joins UPSTREAM at its end, so the photos it brings move no earlier photo's split
# where the material had four groups or more before (check makes sure of it for the newest).

import argparse
import csv
import hashlib
import io
import os
import re
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

HEADER = ["id", "use", "material", "package", "version", "path", "member", "group", "license", "attribution",
          "sha256", "split"]
USES = ("background", "procedural", "surface")
SPLITS = {"train", "test"}
ID_RE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_SIDE = 1024
# Where each package's copyright file names a file: its upstream path. The order is the split
# rule's (below).
UPSTREAM = {
    "extremetuxracer-data": lambda path, member: "data/" + path.removeprefix("usr/share/games/etr/"),
    "lugaru-data": lambda path, member: "Data/" + path.removeprefix("usr/share/games/lugaru/"),
    "supertuxkart-data": lambda path, member: path.removeprefix("usr/share/games/supertuxkart/"),
    "ufoai-textures": lambda path, member: "base/" + member,
    # Photos of its track textures were tried and left out of the bank (README, "More photos of
    # the same materials"); scripts/reference/texturebank-torcs.csv lists them.
    "torcs-data": lambda path, member: "data/" + path.removeprefix("usr/share/games/torcs/"),
}
# A stanza crediting more authors than this is summarised in the attribution column; ATTRIBUTION.md
# lists such stanzas' authors in full.
MAX_AUTHORS = 4


def sha256_of(data):
    return hashlib.sha256(data).hexdigest()


def read_manifest(path):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != HEADER:
            sys.exit(f"{path}: header is {header}, expected {HEADER}")
        rows = []
        for lineno, rec in enumerate(reader, start=2):
            if len(rec) != len(HEADER):
                sys.exit(f"{path} line {lineno}: {len(rec)} fields, expected {len(HEADER)}")
            row = dict(zip(HEADER, rec))
            row["line"] = lineno
            rows.append(row)
    return rows


def write_manifest(path, rows):
    tmp = f"{path}.part"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        for r in rows:
            w.writerow([r[k] for k in HEADER])
    os.replace(tmp, path)


def parse_dep5(path):
    """The Files stanzas of a machine-readable copyright file, in order."""
    stanzas, cur, key = [], {}, None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if cur:
                stanzas.append(cur)
            cur, key = {}, None
        elif line[0] in " \t" and key:
            cur[key] += "\n" + line.strip()
        else:
            m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
            if m:
                key = m.group(1)
                cur[key] = m.group(2)
    if cur:
        stanzas.append(cur)
    out = []
    for s in stanzas:
        if "Files" in s:
            globs = [re.compile(re.escape(g).replace(r"\*", ".*").replace(r"\?", ".")) for g in s["Files"].split()]
            out.append((globs, s))
    return out


def stanza_for(stanzas, upstream):
    """The last stanza whose Files match (the format's rule)."""
    found = None
    for globs, s in stanzas:
        if any(g.fullmatch(upstream) for g in globs):
            found = s
    return found


def authors_of(stanza):
    return [a.strip() for a in stanza.get("Copyright", "").splitlines() if a.strip()]


def attribution_of(stanza, package):
    authors = authors_of(stanza)
    if len(authors) <= MAX_AUTHORS:
        return "; ".join(authors)
    return f"{len(authors)} authors credited jointly by {package}'s copyright file (see ATTRIBUTION.md)"


class Cache:
    def __init__(self, cache):
        self.assets = Path(cache) / "assets"
        self.stanzas = {}
        self.zips = {}

    def package_dir(self, package):
        return self.assets / package

    def version(self, package):
        done = self.package_dir(package) / ".complete"
        return done.read_text().split()[0] if done.is_file() else None

    def copyright(self, package):
        if package not in self.stanzas:
            self.stanzas[package] = parse_dep5(self.package_dir(package) / "usr/share/doc" / package / "copyright")
        return self.stanzas[package]

    def read(self, row):
        """The photo's bytes, or raises OSError / KeyError."""
        path = self.package_dir(row["package"]) / row["path"]
        if not row["member"]:
            return path.read_bytes()
        if path not in self.zips:
            self.zips[path] = zipfile.ZipFile(path)
        return self.zips[path].read(row["member"])


def groups_of(rows):
    groups = defaultdict(list)
    for r in rows:
        groups[(r["use"], r["material"], r["group"] or r["id"])].append(r)
    return groups


def rule_splits(rows):
    """id -> split by the rule in the header."""
    rank = {package: i for i, package in enumerate(UPSTREAM)}
    by_material = defaultdict(list)
    for (use, material, _), members in groups_of(rows).items():
        if use != "procedural":
            first = min(members, key=lambda m: m["id"])
            by_material[(use, material)].append(
                (rank.get(first["package"], len(rank)), sorted(m["id"] for m in members)))
    split = {}
    for ranked in by_material.values():
        groups = [ids for _, ids in sorted(ranked)]
        test = {i for i in range(len(groups)) if i % 4 == 2}
        if 2 <= len(groups) <= 3:
            test = {len(groups) - 1}
        for i, ids in enumerate(groups):
            for clip_id in ids:
                split[clip_id] = "test" if i in test else "train"
    return split


def check(args):
    rows = read_manifest(args.manifest)
    cache = Cache(args.cache)
    problems = []
    seen = {}
    for r in rows:
        where = f"line {r['line']} ({r['id']})"
        if not ID_RE.match(r["id"]):
            problems.append(f"{where}: id is not a lower-case slug")
        if r["id"] in seen:
            problems.append(f"{where}: id already used on line {seen[r['id']]}")
        seen.setdefault(r["id"], r["line"])
        if r["use"] not in USES:
            problems.append(f"{where}: use '{r['use']}' is not one of {list(USES)}")
            continue
        if not r["material"]:
            problems.append(f"{where}: empty material")
        if r["use"] == "procedural":
            if any(r[k] for k in ("package", "version", "path", "member", "sha256", "split")):
                problems.append(f"{where}: a procedural row names no file, version, sha256 or split")
            continue
        if r["split"] not in SPLITS:
            problems.append(f"{where}: split '{r['split']}' is not one of {sorted(SPLITS)}")
        if r["package"] not in UPSTREAM:
            problems.append(f"{where}: package '{r['package']}' is not one of {sorted(UPSTREAM)}")
            continue
        if not cache.package_dir(r["package"]).is_dir():
            problems.append(f"{where}: {cache.package_dir(r['package'])} is missing (run scripts/setup.sh first)")
            continue
        if cache.version(r["package"]) != r["version"]:
            problems.append(f"{where}: version {r['version']}, but the cache holds {cache.version(r['package'])}")
        rel = Path(r["path"])
        if rel.is_absolute() or ".." in rel.parts:
            problems.append(f"{where}: path must be relative to the package root, without '..'")
            continue
        try:
            digest = sha256_of(cache.read(r))
        except (OSError, KeyError, zipfile.BadZipFile) as e:
            problems.append(f"{where}: cannot read {r['path']} {r['member']}: {e}")
            continue
        if digest != r["sha256"]:
            problems.append(f"{where}: sha256 is {digest}, manifest says {r['sha256']}")
        upstream = UPSTREAM[r["package"]](r["path"], r["member"])
        stanza = stanza_for(cache.copyright(r["package"]), upstream)
        if stanza is None:
            problems.append(f"{where}: no stanza of {r['package']}'s copyright file covers {upstream}")
            continue
        licence = stanza["License"].splitlines()[0].strip()
        if r["license"] != licence:
            problems.append(f"{where}: license '{r['license']}', the copyright file says '{licence}'")
        if r["attribution"] != attribution_of(stanza, r["package"]):
            problems.append(f"{where}: attribution differs from the copyright file's ('{attribution_of(stanza, r['package'])}')")

    keys = [(r["use"], r["material"], r["id"]) for r in rows]
    if keys != sorted(keys):
        problems.append("rows are not sorted by use, material, then id")
    procedural = {r["material"] for r in rows if r["use"] == "procedural"}
    splits = defaultdict(set)
    for r in rows:
        if r["use"] != "procedural":
            splits[(r["use"], r["material"])].add(r["split"])
    for (use, material), s in sorted(splits.items()):
        if s != SPLITS and material not in procedural:
            problems.append(f"{use} '{material}' has photos only in {sorted(s)}")
    for key, members in sorted(groups_of(rows).items()):
        if len({m["split"] for m in members}) > 1:
            problems.append(f"group '{key[2]}' spans both splits")
    expected = rule_splits(rows)
    for r in rows:
        if r["id"] in expected and r["split"] in SPLITS and r["split"] != expected[r["id"]]:
            problems.append(f"line {r['line']} ({r['id']}): split {r['split']}, the rule gives {expected[r['id']]}")
    # A model trained before the newest package joined must not have trained on a photo that is a
    # test photo now: without that package's rows, the rule gives every other row its split.
    newest = list(UPSTREAM)[-1]
    for clip_id, split in rule_splits([r for r in rows if r["package"] != newest]).items():
        if expected.get(clip_id) != split:
            problems.append(f"{clip_id}: split {split} without {newest}'s photos, {expected.get(clip_id)} with them")

    if problems:
        for p in problems:
            print(p)
        print(f"{len(problems)} problem(s) in {args.manifest}")
        return 1
    count = defaultdict(int)
    for r in rows:
        count[(r["use"], r["split"])] += 1
    print(f"ok: {count[('surface', 'train')]} train and {count[('surface', 'test')]} test surface photos of "
          f"{len({m for u, m in splits if u == 'surface'})} materials, {count[('background', 'train')]} train and "
          f"{count[('background', 'test')]} test backgrounds, procedural: {', '.join(sorted(procedural)) or 'none'}")
    return 0


def fill(args):
    rows = read_manifest(args.manifest)
    cache = Cache(args.cache)
    for r in rows:
        if r["use"] == "procedural":
            continue
        r["version"] = cache.version(r["package"]) or r["version"]
        r["sha256"] = sha256_of(cache.read(r))
        stanza = stanza_for(cache.copyright(r["package"]), UPSTREAM[r["package"]](r["path"], r["member"]))
        if stanza is None:
            sys.exit(f"{r['id']}: no stanza of {r['package']}'s copyright file covers it")
        r["license"] = stanza["License"].splitlines()[0].strip()
        r["attribution"] = attribution_of(stanza, r["package"])
    split = rule_splits(rows)
    for r in rows:
        r["split"] = split.get(r["id"], "")
    rows.sort(key=lambda r: (r["use"], r["material"], r["id"]))
    write_manifest(args.manifest, rows)
    print(f"filled {len(rows)} rows of {args.manifest}")
    return 0


def prepare(args):
    from PIL import Image  # Debian's python3-pil, installed by the set-up

    rows = read_manifest(args.manifest)
    cache = Cache(args.cache)
    out = Path(args.cache) / "textures"
    out.mkdir(parents=True, exist_ok=True)
    made = present = 0
    for r in rows:
        if r["use"] == "procedural":
            continue
        dest = out / f"{r['id']}.png"
        if dest.is_file():
            present += 1
            continue
        data = cache.read(r)
        if sha256_of(data) != r["sha256"]:
            sys.exit(f"{r['package']} {r['path']} {r['member']}: sha256 {sha256_of(data)}, expected {r['sha256']}")
        image = Image.open(io.BytesIO(data))
        alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
        image = image.convert("RGBA" if alpha else "RGB")
        scale = MAX_SIDE / max(image.size)
        if scale < 1:
            image = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
        part = dest.with_suffix(".part.png")
        image.save(part)
        os.replace(part, dest)
        made += 1
    print(f"{made} photos decoded, {present} present, in {out}")
    return 0


def main():
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description="the texture bank's manifest")
    ap.add_argument("command", choices=["check", "prepare", "fill"])
    ap.add_argument("--manifest", default=root / "assets/texturebank/manifest.csv")
    ap.add_argument("--cache", default=os.environ.get("FOLEY_CACHE") or root / ".cache")
    args = ap.parse_args()
    return {"check": check, "prepare": prepare, "fill": fill}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
