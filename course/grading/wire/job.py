"""The job: what one submission's grading needs, the same type in every process that reads it.

The batch grader (``trusted/runner.py``) makes a ``GradingJob`` from its ``Settings`` and the
submission, and writes it as JSON of its fields to the standard input of the trusted process
(``trusted/child.py``), which hands it to the launcher of the jailed kernel (``trusted/jail.py``).
It crosses as plain data, never pickle: ``from_json`` accepts the known fields only, each of its
declared type, and refuses anything else. Each default is stated here once; ``Settings`` takes
its defaults from these.

Standard library only: the jailed kernel imports ``OUTPUT_LIMIT`` from here.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

__all__ = ["GradingJob", "JobError", "OUTPUT_LIMIT"]

OUTPUT_LIMIT = 20000  # characters of output kept per cell


class JobError(ValueError):
    """A job that is not a JSON object of GradingJob's fields, each of its type."""


@dataclass
class GradingJob:
    """One notebook's grading: where it is, what to run, and every limit that applies."""

    # the submission and the instructor's notebook
    submission: str = ""                 # path of the submitted notebook
    notebook_name: str = "submission.ipynb"
    template: list = field(default_factory=list)      # assemble.merge's cells of the source notebook
    answer_names: list = field(default_factory=list)  # what the answers define (proxied into the tests)
    signatures: dict = field(default_factory=dict)    # answer function -> its parameter names
    preload: list = field(default_factory=list)       # the tests' heavy imports, before any time limit
    student: str = ""
    assignment: str = ""
    secret: str = ""                     # the course secret, hex (hidden_rng); never sent into the jail
    # the trusted process's folders, outside the jail
    private_dir: str = ""
    work_dir: str = ""
    protected: list = field(default_factory=list)
    pythonpath: str = ""
    # where the kernel runs
    jail: bool = True                    # False: the plain launcher (--unsafe-no-jail), no namespaces
    slot: int = 0                        # the grading slot: chooses the jail's own uid
    cpu: int | None = None               # the CPU the grading process and its kernel are pinned to
    cgroup: list = field(default_factory=list)  # the submission's cgroup folders; [] where none was made
    # time
    cell_timeout: float = 60.0           # seconds for one cell (CPU time of the jail where there is no cgroup)
    cell_wall_factor: float = 10.0       # without a cgroup: a cell is stopped after this many cell_timeouts of wall time
    cpu_seconds: int = 630               # RLIMIT_CPU of each process
    startup_timeout: float = 60.0        # seconds for the kernel's first answer
    interrupt_grace: float = 3.0         # seconds a timed-out kernel has to answer again
    max_restarts: int = 3
    # space
    memory_mb: int = 2048                # address space of each process (and the cgroup's total)
    processes: int = 64
    open_files: int = 256
    file_size_mb: int = 256
    disk_mb: int = 256                   # each of the jail's writable folders (home and /tmp)
    output_limit: int = OUTPUT_LIMIT
    log_limit: int = 64 * 1024           # bytes of the jail's stdout and stderr kept (the tail)
    max_message_mb: int = 256            # largest frame on the channel
    max_notebook_bytes: int = 64 * 2**20  # once its outputs are cleared
    max_file_bytes: int = 512 * 2**20     # the notebook file, outputs included

    @property
    def cpu_clock(self) -> bool:
        """Whether cell limits are measured in the jail's own CPU time (no cgroup was made)."""
        return not self.cgroup

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes | str) -> "GradingJob":
        try:
            plain = json.loads(data)
        except (ValueError, RecursionError) as error:
            raise JobError(f"the job is not JSON ({error})") from None
        if not isinstance(plain, dict):
            raise JobError("the job is not a JSON object")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(plain) - set(known))
        if unknown:
            raise JobError(f"the job has fields GradingJob does not know: {', '.join(unknown)}")
        for name, value in plain.items():
            if not _fits(value, known[name].type):
                raise JobError(f"the job's {name} is {type(value).__name__}, not {known[name].type}")
        return cls(**plain)


_TYPES = {"str": (str,), "bool": (bool,), "int": (int,), "float": (int, float), "list": (list,),
          "dict": (dict,), "int | None": (int, type(None))}


def _fits(value, declared: str) -> bool:
    kinds = _TYPES[declared]
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kinds)
