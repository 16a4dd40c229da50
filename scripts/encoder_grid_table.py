#!/usr/bin/env python3
"""The table of scripts/encoder_grid.sh: one row per configuration found in its folder."""

import csv
import pathlib
import re
import sys


def main():
    out = pathlib.Path(sys.argv[1])
    rows = []
    for report in sorted(out.glob("report-*/metrics.csv")):
        name = report.parent.name.removeprefix("report-")
        size, precision = name.split("-", 1)
        with report.open() as f:
            first = next(csv.DictReader(f))
        bench = out / f"bench-{name}.txt"
        text = bench.read_text() if bench.exists() else ""
        cnn = re.search(r"batch  8: .* = (\d+) frames/s", text)
        job = re.search(r"features job .* = (\d+) frames/s", text)
        silent = re.search(r"([0-9.]+) per minute", (report.parent / "report.md").read_text())
        first["silent"] = silent.group(1) if silent else ""
        rows.append((int(size), precision, cnn.group(1) if cnn else "", job.group(1) if job else "", first))
    rows.sort(key=lambda r: (-r[0], r[1]))
    print(
        "| input | precision | CNN frames/s (batch 8) | features job frames/s | hit AP | hit accuracy | F1 "
        "| median error | material accuracy | correct-hit F1 | hits per minute where nothing is struck |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for size, precision, cnn, job, m in rows:
        print(
            f"| {size} | {precision} | {cnn} | {job} | {float(m['hit_ap']):.3f} | {float(m['hit_accuracy']):.3f} "
            f"| {float(m['hit_f1']):.3f} | {float(m['median_error_ms']):.1f} ms | {float(m['material_accuracy']):.3f} "
            f"| {float(m['correct_f1']):.3f} | {m['silent']} |"
        )


if __name__ == "__main__":
    main()
