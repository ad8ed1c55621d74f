#!/usr/bin/env python3
"""What `docker build` would see, without a Docker engine.

    docker_context.py REPO OUT

Copies into OUT/context the files of REPO that `.dockerignore` lets into the build context
(Docker's rules: patterns relative to the root, `*`, `?`, `**`, a pattern matching a
directory excludes all under it, `!` re-includes, the last matching pattern wins), then
applies the build stage's `COPY` lines (those without `--from`) to assemble OUT/build as
the stage's WORKDIR would hold it; a `COPY` source missing from the context is an error,
as it is for Docker. Prints the stage's `cargo build` command, for the caller to run in
OUT/build.
"""

import fnmatch
import os
import re
import shlex
import shutil
import sys


def patterns(repo):
    path = os.path.join(repo, ".dockerignore")
    if not os.path.exists(path):
        return []
    found = []
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = line.lstrip("!").strip().strip("/")
        line = os.path.normpath(line).replace(os.sep, "/")
        found.append((negated, line))
    return found


def regex(pattern):
    """Docker's (Go's filepath.Match, plus `**`) pattern as a regular expression."""
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            if pattern.startswith("/", i):
                out += "/?"
                i += 1
            continue
        out += {"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c))
        i += 1
    return re.compile(out + "$")


def excluded(relative, rules):
    """Whether `relative` (a file path) is left out: the last rule matching it or one of
    its parent directories decides."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    verdict = False
    for negated, pattern in rules:
        compiled = regex(pattern)
        if any(compiled.match(p) for p in prefixes):
            verdict = not negated
    return verdict


def build_stage(repo):
    """The instructions of the first stage, continuation lines joined."""
    text = open(os.path.join(repo, "Dockerfile"), encoding="utf-8").read()
    text = re.sub(r"\\\n", " ", text)
    stage, seen_from = [], 0
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            seen_from += 1
            if seen_from > 1:
                break
            continue
        stage.append(line)
    return stage


def main(repo, out):
    rules = patterns(repo)
    context = os.path.join(out, "context")
    build = os.path.join(out, "build")
    for directory in (context, build):
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
    for root, dirs, files in os.walk(repo):
        rel_root = os.path.relpath(root, repo)
        rel_root = "" if rel_root == "." else rel_root.replace(os.sep, "/")
        # Directories excluded whole are not walked (target/, .git/, node_modules/).
        dirs[:] = [
            d for d in dirs
            if not (excluded(f"{rel_root}/{d}".lstrip("/"), rules)
                    and not any(neg for neg, _ in rules))
        ]
        for name in files:
            relative = f"{rel_root}/{name}".lstrip("/")
            if excluded(relative, rules):
                continue
            target = os.path.join(context, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(root, name), target)

    workdir, command = "/", None
    for line in build_stage(repo):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "WORKDIR":
            workdir = os.path.join(workdir, rest.strip())
        elif keyword == "COPY":
            words = shlex.split(rest)
            if any(w.startswith("--from") for w in words):
                continue
            words = [w for w in words if not w.startswith("--")]
            *sources, dest = words
            dest_dir = os.path.relpath(os.path.join(workdir, dest), workdir)
            for source in sources:
                origin = os.path.join(context, source)
                if not os.path.exists(origin):
                    sys.exit(f"COPY {source}: not in the build context (.dockerignore?)")
                if os.path.isdir(origin):
                    shutil.copytree(origin, os.path.join(build, dest_dir), dirs_exist_ok=True)
                else:
                    into = os.path.join(build, dest_dir)
                    if dest.endswith("/"):
                        os.makedirs(into, exist_ok=True)
                        into = os.path.join(into, os.path.basename(source))
                    shutil.copy2(origin, into)
        elif keyword == "RUN" and "cargo build" in rest:
            match = re.search(r"cargo build[^&;]*", rest)
            command = match.group(0).strip()
    if command is None:
        sys.exit("the build stage runs no `cargo build`")
    print(command)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
