"""Where and when a benchmark ran: the machine, its load average and the git commit, written
at the head of every section the benchmark commands put into `benchmarks/RESULTS.md`."""

import datetime
import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 2**20
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory} GiB RAM, {platform.system()} {platform.release()}"
    )


def load_average() -> str:
    uptime = ["uptime"]
    return subprocess.run(uptime, capture_output=True, text=True, check=False).stdout.strip()  # noqa: S603


def git_commit() -> str:
    """The short commit of the checkout, with "+dirty" when tracked files differ from it
    ("unknown" outside a git checkout)."""

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 (a fixed git command line)
            ["git", *args],  # noqa: S607 (git from PATH)
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )

    head = git("rev-parse", "--short", "HEAD")
    if head.returncode != 0:
        return "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    return head.stdout.strip() + ("+dirty" if dirty else "")


def provenance_lines(*, before: str, after: str, commit: str, database: str = "") -> list[str]:
    """The bullet lines every results section starts with; `commit` is `git_commit()` taken
    when the run started (the checkout may change while it runs)."""
    now = datetime.datetime.now(datetime.UTC)
    return [
        f"- Date: {now:%Y-%m-%d %H:%M} UTC; git commit `{commit}` at the start",
        f"- Machine: {machine()}" + (f"; {database}" if database else ""),
        f"- Load before: `{before}`",
        f"- Load after: `{after}`",
    ]


def replace_section(heading: str, body: str, *, first: bool = False) -> None:
    """Put `heading` (a "# " or "## " line) and `body` into RESULTS.md in place of the section
    of that heading, which runs to the next "# " or "## " heading, keeping every other
    section; a new section goes at the top (`first`) or the end."""
    text = RESULTS.read_text() if RESULTS.exists() else ""
    lines = text.splitlines()
    section = f"{heading}\n\n{body.rstrip()}\n"
    start = next((i for i, line in enumerate(lines) if line == heading), None)
    if start is None:
        if first:
            RESULTS.write_text(section + ("\n" + text if text else ""))
        else:
            RESULTS.write_text(text.rstrip() + "\n\n" + section if text else section)
        return

    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith(("# ", "## "))),
        len(lines),
    )
    kept_after = "\n".join(lines[end:])
    before_text = "\n".join(lines[:start])
    RESULTS.write_text(
        (before_text + "\n\n" if before_text else "")
        + section
        + ("\n" + kept_after + "\n" if kept_after else "")
    )
