#!/usr/bin/env python3
"""Writes the fuzz seeds: every execution update of Schemas/examples (valid and invalid) in the
fuzz target's input form, message key + NUL + payload (see Sources/Domain/DecoderInvariants.swift)."""
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parents[2] / "Schemas" / "examples"
out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
index = json.loads((root / "index.json").read_text())
entries = index["execution-update"] + index["invalid"]
for entry in entries:
    payload = (root / entry["file"]).read_bytes()
    name = entry["file"].replace("/", "--")
    (out / name).write_bytes(entry["key"].encode() + b"\0" + payload)
print(f"{len(entries)} seeds in {out}")
