"""Resident memory of a process tree from /proc (no psutil: the throwaway venvs hold only Dask or Ray)."""

import os


def tree_rss_mib(root: int) -> tuple[int, float]:
    """Processes descended from ``root`` (itself included) and their summed resident MiB."""
    parent = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    parent[int(pid)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    tree, grew = {root}, True
    while grew:
        new = {p for p, pp in parent.items() if pp in tree} - tree
        grew = bool(new)
        tree |= new
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return len(tree), total / 1024
