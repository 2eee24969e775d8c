"""A Dockerfile parser for structure checks: stages, instructions and the paths COPY reads."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

_ARG_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


@dataclass(frozen=True)
class Instruction:
    """One instruction: its keyword (upper case) and the rest of its (joined) line."""

    keyword: str
    arguments: str
    line: int

    def words(self) -> list[str]:
        """The arguments in exec (JSON) form, or split like a shell would."""
        text = self.arguments.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                pass
            else:
                return [str(word) for word in parsed]
        return shlex.split(text, comments=False)

    def flags_and_words(self) -> tuple[dict[str, str], list[str]]:
        """Leading `--flag[=value]` options, then the remaining words."""
        flags: dict[str, str] = {}
        words = self.words()
        while words and words[0].startswith("--"):
            name, _, value = words.pop(0)[2:].partition("=")
            flags[name] = value
        return flags, words


@dataclass
class Stage:
    """A build stage: FROM's image reference (ARGs resolved), its alias, and its instructions."""

    image: str
    alias: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def of(self, keyword: str) -> list[Instruction]:
        """This stage's instructions with `keyword`."""
        return [i for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    """A parsed Dockerfile: the global ARG defaults and the stages in order."""

    args: dict[str, str]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        """The stage the image is built from (the last one)."""
        return self.stages[-1]


def instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile, continuation lines joined and comments dropped."""
    result: list[Instruction] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        pending += stripped
        keyword, _, arguments = pending.partition(" ")
        result.append(Instruction(keyword.upper(), arguments.strip(), start))
        pending = ""
    if pending:
        raise ValueError("the Dockerfile ends inside a continued line")
    return result


def parse(path: Path) -> Dockerfile:
    """Parse a Dockerfile into global ARG defaults and stages."""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for instruction in instructions(path.read_text()):
        if instruction.keyword == "FROM":
            _flags, words = instruction.flags_and_words()
            image = _ARG_REFERENCE.sub(lambda m: args.get(m.group(1), m.group(0)), words[0])
            alias = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image, alias))
        elif not stages and instruction.keyword == "ARG":
            name, _, default = instruction.arguments.partition("=")
            args[name.strip()] = default.strip().strip("\"'")
        elif stages:
            stages[-1].instructions.append(instruction)
    return Dockerfile(args, stages)


def copy_sources(instruction: Instruction) -> list[str]:
    """The build-context paths a COPY/ADD reads (none when it copies from another stage)."""
    flags, words = instruction.flags_and_words()
    if "from" in flags:
        return []
    return words[:-1]


def is_pinned(image: str) -> bool:
    """Whether an image reference names a fixed release: a digest, or a versioned tag (not latest)."""
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    tag = last.split(":", 1)[1]
    return tag != "latest" and any(ch.isdigit() for ch in tag) and "$" not in tag
