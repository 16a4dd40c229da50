#!/usr/bin/env python3
"""A test set that neither the model shipped now nor an older one has seen a photo of.

    scripts/fair_test_set.py DATA2 DATA5 OUT [--old-manifest REV:PATH]

The texture bank's split rule dealt each material's photos out again when the bank grew, so some
test photos of today were train photos of an older model. OUT gets links to every file of DATA2
and DATA5 (both made by `foley dataset synth`), DATA2's `train.txt`, and as `test.txt` the test
videos of both none of whose photos (the scene notes' `photos`) the older manifest had in its
train split. Prints how many test videos it kept, and how many of them are DATA2's.
"""

import argparse
import csv
import io
import json
import os
import pathlib
import subprocess
import sys

# The manifest of the bank before it grew, as git keeps it.
OLD_MANIFEST = "3b35f5a:assets/texturebank/manifest.csv"


def old_train_photos(revision_path):
    root = pathlib.Path(__file__).resolve().parent.parent
    text = subprocess.run(
        ["git", "-C", str(root), "show", revision_path], check=True, capture_output=True, text=True
    ).stdout
    return {row["id"] for row in csv.DictReader(io.StringIO(text)) if row["split"] == "train"}


def unseen_tests(data, seen):
    kept = []
    for video_id in (data / "test.txt").read_text().split():
        scene = data / f"{video_id}_scene.json"
        try:
            photos = json.loads(scene.read_text())["photos"]
        except (OSError, ValueError, KeyError) as e:
            sys.exit(f"{scene}: no scene notes with photos ({e})")
        if not any(p in seen for p in photos):
            kept.append(video_id)
    return kept


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data2", type=pathlib.Path)
    parser.add_argument("data5", type=pathlib.Path)
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--old-manifest", default=OLD_MANIFEST, help="git revision:path of the older manifest")
    args = parser.parse_args()
    for data in (args.data2, args.data5):
        if not (data / "test.txt").is_file():
            sys.exit(f"{data}: not a dataset of `foley dataset synth` (no test.txt)")
    if not (args.data2 / "train.txt").is_file():
        sys.exit(f"{args.data2}: no train.txt")
    seen = old_train_photos(args.old_manifest)
    # Every input is read before anything is written, so bad input leaves OUT as it was.
    tests = [unseen_tests(args.data2, seen), unseen_tests(args.data5, seen)]
    args.out.mkdir(parents=True, exist_ok=True)
    for data in (args.data2, args.data5):
        for f in sorted(data.iterdir()):
            if f.name in ("train.txt", "test.txt"):
                continue
            link = args.out / f.name
            if link.is_symlink() or link.exists():
                link.unlink()
            os.symlink(f.resolve(), link)
    (args.out / "train.txt").write_text((args.data2 / "train.txt").read_text())
    (args.out / "test.txt").write_text("".join(f"{v}\n" for v in tests[0] + tests[1]))
    print(f"{len(tests[0]) + len(tests[1])} test videos ({len(tests[0])} of {args.data2}, {len(tests[1])} of {args.data5})")


if __name__ == "__main__":
    main()
