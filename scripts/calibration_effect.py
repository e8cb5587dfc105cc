#!/usr/bin/env python3
"""What a site's calibration does to its counts, measured on a labelled image set.

The images stand in for sites: they are grouped by the room size the detector reports (a
site's room does not change size), the first K of each group (by name) play the roll calls an
auditor counted on the picture, and the rest are estimated with the group's ratio, as the
service does (analysis/domain/calibration.h: ratio = people found by the checks / the counts
they checked; estimate = count x ratio, rounded). Prints count accuracy (the attendance-eval
contract) of the counts and of the estimates on the images not checked.

  build/bin/attendance-eval --images ../shared/data/classroom --detector fused > per-image.txt
  scripts/calibration_effect.py per-image.txt [--checks 3]
"""
import argparse
import re

GROUPS = [(0, 5), (6, 20), (21, 60), (61, 10**9)]


def accuracy(pairs):
    return 1 - sum(abs(p - t) / max(t, 1) for p, t in pairs) / len(pairs) if pairs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("per_image")
    ap.add_argument("--checks", type=int, default=3)
    args = ap.parse_args()
    rows = []
    for line in open(args.per_image, encoding="utf-8"):
        m = re.match(r"^(\S+)\s+truth\s+(\d+)\s+predicted\s+(\d+)", line)
        if m:
            rows.append((m.group(1), int(m.group(2)), int(m.group(3))))
    print("| room (counted) | images | checked | ratio | count accuracy, counted | count accuracy, estimated |")
    print("|---|---|---|---|---|---|")
    seen_all, est_all = [], []
    for lo, hi in GROUPS:
        group = sorted(r for r in rows if lo <= r[2] <= hi)
        checked, rest = group[: args.checks], group[args.checks :]
        counted = sum(r[2] for r in checked)
        ratio = sum(r[1] for r in checked) / counted if counted else 1.0
        seen = [(p, t) for _, t, p in rest]
        est = [(round(p * ratio), t) for _, t, p in rest]
        seen_all += seen
        est_all += est
        label = f"{lo}+" if hi > 10**8 else f"{lo}-{hi}"
        print(f"| {label} | {len(rest)} | {len(checked)} | {ratio:.3f} | {accuracy(seen):.3f} | {accuracy(est):.3f} |")
    print(f"| all | {len(seen_all)} | | | {accuracy(seen_all):.3f} | {accuracy(est_all):.3f} |")


if __name__ == "__main__":
    main()
