"""Exceptions raised by jevons.

Every problem a user can fix is a :class:`ScenarioError`, a ``ValueError`` whose
message holds one line per problem, each ``file:line:col: dotted.key: message``; a
problem in a parent scenario names the chain of files first
(``child.yaml extends parent.yaml: parent.yaml:68:3: fleet.median_life: ...``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One located problem in a scenario file or override."""

    file: str
    line: int
    column: int
    key: str
    message: str
    chain: tuple[str, ...] = ()
    """For a problem in a parent scenario: the files from the one named to ``file``."""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}:"
        if self.chain:
            where = f"{' extends '.join(self.chain)}: {where}"
        return f"{where} {self.key}: {self.message}" if self.key else f"{where} {self.message}"


class ScenarioError(ValueError):
    """A scenario file, or an override of it, is invalid.

    Parameters
    ----------
    problems : list of Problem
        Every problem found, in file order.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


EXIT_OK = 0
"""Exit code of a successful command."""
EXIT_SCENARIO_ERROR = 1
"""Exit code when a scenario file or ``--set`` override is invalid."""
EXIT_USAGE = 2
"""Exit code of a command-line usage error (Click's own convention)."""
EXIT_OUTPUT_ERROR = 3
"""Exit code when results cannot be written."""


class CrossFieldError(ValueError):
    """Problems found by a cross-field check, each tied to a dotted key.

    Raised inside pydantic validators; the loader finds it in the validation
    error's context and reports each problem at its own key. Keys name list
    items by their ``name`` where they have one (``shocks.deepseek.onset``) and
    by index otherwise (``correlations.0.between``).
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in self.problems))


class SimulationError(ValueError):
    """A run that cannot produce meaningful numbers (too large, or overflowing).

    The message says what went wrong and what to change; the command line reports it
    like a scenario error, without a traceback.
    """


EXIT_MISSING_EXTRA = 4
"""Exit code when an option needs an optional extra that is not installed (``jevons[io]``)."""


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message names the extra to install.

    Parameters
    ----------
    feature : str
        What needed it, e.g. ``"SummaryTable.to_pandas()"`` or ``"--parquet"``.
    module : str
        The missing module, e.g. ``"pandas"``.
    extra : str, optional
        The ``jevons`` extra that installs it.
    """

    def __init__(self, feature: str, module: str, extra: str = "io") -> None:
        self.feature = feature
        self.module = module
        self.extra = extra
        super().__init__(
            f"{feature} needs {module}, which is not installed; install the "
            f'optional extra: pip install "jevons[{extra}]"',
            name=module,
        )
