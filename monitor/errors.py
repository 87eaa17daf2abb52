"""Errors that carry data, so the CLI can print them and tests can assert on fields."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with a config file: where (field path, line) and what was expected."""

    location: str
    message: str
    line: int | None = None

    def render(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line is not None else file
        return (
            f"{where}: {self.location}: {self.message}"
            if self.location
            else f"{where}: {self.message}"
        )


class ConfigError(Exception):
    """A config file that cannot be used. The daemon refuses to start on it (exit code 2)."""

    def __init__(self, file: str, problems: list[ConfigProblem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(p.render(file) for p in problems))
