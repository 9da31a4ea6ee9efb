#!/usr/bin/env python3
"""Prints ratios of medians from one `cargo bench -p underhood-sparse` run.

Usage: python3 crates/sparse/benches/ratios.py [CARGO_TARGET_DIR]
"""
import json, os, sys

target = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARGO_TARGET_DIR", "target")
root = os.path.join(target, "criterion")

def median(group, name):
    path = os.path.join(root, group, name, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except FileNotFoundError:
        return None

def fmt(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"

rows = [
    # Same durability: both fsync the copy and its directory.
    ("copy_20g_204x1m", "underhood_auto_sync", "cp_sparse_auto_fsync", 1.10),
    # Same durability: neither syncs (Durability::Deferred, `--no-sync`).
    ("copy_20g_204x1m", "underhood_auto_nosync", "cp_sparse_auto", 1.10),
    ("copy_20g_204x1m", "underhood_auto_nosync", "qemu_img_convert", 1.0),
    ("copy_20g_204x1m", "underhood_always_nosync", "cp_sparse_always", 1.10),
    # Durable against not durable: what the fsync costs.
    ("copy_20g_204x1m", "underhood_auto_sync", "cp_sparse_auto", None),
    ("copy_cold_20g_204x1m", "underhood_auto_nosync", "qemu_img_convert", 1.0),
    ("copy_cold_20g_204x1m", "underhood_auto_nosync", "cp_sparse_auto", None),
    ("copy_256m_4x1m", "underhood_auto", "std_io_copy", None),
    ("dig_4g_93pct_zeros", "underhood_dig", "fallocate_dig_holes", 0.20),
    ("dig_cold_4g_93pct_zeros", "underhood_dig", "fallocate_dig_holes", 0.20),
    ("dig_tmpfs_1g_93pct_zeros", "underhood_dig", "fallocate_dig_holes", 0.20),
    ("map_20g_204x1m", "fiemap", "filefrag_process", None),
    ("map_20g_204x1m", "tmpfs_auto_seek_fallback", "seek_hole", None),
]
print(f"| group | ours | median | anchor | median | ratio | goal |")
print(f"|---|---|---|---|---|---|---|")
for group, ours, anchor, goal in rows:
    a, b = median(group, ours), median(group, anchor)
    if a is None or b is None:
        print(f"| {group} | {ours} | - | {anchor} | - | not measured | |")
        continue
    verdict = "" if goal is None else (f"≤ {goal} " + ("met" if a / b <= goal else "MISSED"))
    print(f"| {group} | {ours} | {fmt(a)} | {anchor} | {fmt(b)} | {a / b:.3f}× | {verdict} |")
for name in ("fiemap", "seek_hole"):
    m = median("map_20g_204x1m", name)
    if m is not None:
        ref = {"fiemap": 80e3, "seek_hole": 269e3}[name]
        print(f"map {name}: {fmt(m)} (reference figure {fmt(ref)}: {m / ref:.2f}×)")
