#!/usr/bin/env python3
"""Where a model's invented hits fall on generated scenes.

    scripts/false_hits.py DATA OUT [--model MODEL] [--foley FOLEY]

For every test video of DATA (made by `foley dataset synth`), runs `foley predict --hits` into OUT
(kept, so a second run only reads them), matches the hits to the labelled contacts one to one
within +-0.1 s (as `foley eval` does), and sorts the hits left over by what happened near them:
the video's last 0.15 s (where its last frame is held), a second hit on a contact already
matched, an air swing's stop (the scene's `swings`, within 0.15 s), motion between strokes, or a
video where nothing is struck, by its kind (air swings, things passing, a camera pan).
"""

import argparse
import collections
import csv
import json
import pathlib
import subprocess

MATCH_S = 0.1
SWING_S = 0.15
END_S = 0.15


def contacts_of(data, video_id):
    times = []
    for line in (data / f"{video_id}_times.txt").read_text().splitlines():
        fields = line.split()
        if fields:
            times.append(float(fields[0]))
    return times


def hits_of(data, out, video_id, model, foley):
    path = out / f"{video_id}.csv"
    if not path.exists():
        command = [foley, "predict", "--output", str(out / f"{video_id}.npy"), "--hits", str(path)]
        if model:
            command += ["--model", model]
        subprocess.run(command + [str(data / f"{video_id}_denoised.mp4")], check=True, capture_output=True)
    with path.open() as f:
        return [float(row["time_s"]) for row in csv.DictReader(f)]


def duration_of(video):
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(video)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(probe.stdout.strip())


def match(hits, contacts):
    """The hits matched to no contact, each with the distance to the nearest contact."""
    used, left = set(), []
    for h in sorted(hits):
        near = [i for i, c in enumerate(contacts) if i not in used and abs(h - c) <= MATCH_S]
        if near:
            used.add(min(near, key=lambda i: abs(h - contacts[i])))
        else:
            left.append((h, min((abs(h - c) for c in contacts), default=None)))
    return left, len(used)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=pathlib.Path)
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--model")
    parser.add_argument("--foley", default="foley")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    kinds = collections.Counter()
    matched = contacts_total = placed = 0
    for video_id in (args.data / "test.txt").read_text().split():
        scene = json.loads((args.data / f"{video_id}_scene.json").read_text())
        contacts = contacts_of(args.data, video_id)
        hits = hits_of(args.data, args.out, video_id, args.model, args.foley)
        left, good = match(hits, contacts)
        matched += good
        contacts_total += len(contacts)
        placed += len(hits)
        swings = scene.get("swings") or []
        end = duration_of(args.data / f"{video_id}_denoised.mp4") - END_S
        for h, distance in left:
            if h >= end:
                kinds["the video's last 0.15 s"] += 1
            elif scene.get("negative"):
                kinds[f"nothing struck: {scene['negative']}"] += 1
            elif distance is not None and distance <= MATCH_S:
                kinds["a second hit on a matched contact"] += 1
            elif any(abs(h - s) <= SWING_S for s in swings):
                kinds["an air swing's stop"] += 1
            elif distance is not None and distance <= 0.3:
                kinds["0.1-0.3 s from a contact"] += 1
            else:
                kinds["other motion"] += 1
    invented = placed - matched
    print(f"{placed} hits for {contacts_total} contacts: {matched} matched, {invented} invented")
    for kind, n in kinds.most_common():
        print(f"  {kind}: {n} ({n / max(invented, 1):.0%})")


if __name__ == "__main__":
    main()
