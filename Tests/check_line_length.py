"""Fails when a Swift line is longer than the limit, in characters (not bytes: Vietnamese text)."""
import pathlib
import sys

limit, roots = int(sys.argv[1]), sys.argv[2:]
long_lines = []
for root in map(pathlib.Path, roots):
    for path in [root] if root.is_file() else sorted(root.rglob("*.swift")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if len(line) > limit:
                long_lines.append(f"{path}:{number}: {len(line)} columns (at most {limit})")
if long_lines:
    print("\n".join(long_lines), file=sys.stderr)
    sys.exit(1)
