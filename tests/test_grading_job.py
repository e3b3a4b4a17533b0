"""The grading job (``course/grading/wire/job.py``): one typed dataclass from the batch grader to
the jail's launcher, as JSON of its fields; every setting reaches it. And the cell limit in the
submission's own CPU time where no cgroup can be made (``trusted/clock.py``): a classmate's busy
processes cannot push a correct cell past it.
"""
import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course.grading.trusted import runner
from course.grading.trusted.clock import CellClock, tree_cpu_seconds
from course.grading.wire.job import GradingJob, JobError
from support import assert_outcome

ROOT = Path(__file__).resolve().parents[1]


def _template():
    return runner.Template("01_perceptron", "perceptron.ipynb", [{"role": "setup", "source": "x = 1"}], {},
                           preload=["torch"], answer_names=["predict"], signatures={"predict": ["X", "w", "b"]})


def test_the_job_crosses_as_json_of_its_fields_and_comes_back_equal():
    job = GradingJob(submission="/s/n.ipynb", cpu=1, cgroup=["/sys/fs/cgroup/cpu/x"], output_limit=123,
                     signatures={"predict": ["X", "w", "b"]}, template=[{"role": "setup"}])
    data = job.to_json()
    assert set(json.loads(data)) == {f.name for f in dataclasses.fields(GradingJob)}
    assert GradingJob.from_json(data) == job


@pytest.mark.parametrize("data, words", [
    (b'{"output_limit": 100, "pickle": "x"}', "does not know: pickle"),
    (b'{"output_limit": "100"}', "output_limit is str"),
    (b'{"jail": 1}', "jail is int"),
    (b'{"memory_mb": true}', "memory_mb is bool"),
    (b'[1, 2]', "not a JSON object"),
    (b'\x80\x04', "not JSON"),
])
def test_a_job_of_unknown_fields_or_wrong_types_is_refused(data, words):
    with pytest.raises(JobError, match=words):
        GradingJob.from_json(data)


def test_each_default_is_stated_once_the_settings_take_the_jobs():
    job = GradingJob()
    settings = runner.Settings()
    assert (settings.output_limit, settings.cell_timeout, settings.memory_mb, settings.file_size_mb,
            settings.disk_mb, settings.processes, settings.jail) == \
        (job.output_limit, job.cell_timeout, job.memory_mb, job.file_size_mb, job.disk_mb, job.processes, job.jail)
    assert settings.max_notebook_mb * 2**20 == job.max_notebook_bytes
    assert settings.max_file_mb * 2**20 == job.max_file_bytes


def test_every_setting_reaches_the_job(tmp_path):
    settings = runner.Settings(timeout=77, cell_timeout=7.5, memory_mb=999, output_limit=321, file_size_mb=11,
                               max_notebook_mb=5, max_file_mb=9, disk_mb=33, jail=False, processes=17)
    submission = runner.Job("ann", _template(), tmp_path / "n.ipynb")

    class Box:
        paths = ["/sys/fs/cgroup/cpu/box"]

    job = runner.make_job(settings, submission, tmp_path, ["/p"], 1, "/py", 3, b"\x01\x02", Box())
    assert (job.cell_timeout, job.memory_mb, job.output_limit, job.file_size_mb, job.disk_mb, job.jail,
            job.processes) == (7.5, 999, 321, 11, 33, False, 17)
    assert (job.max_notebook_bytes, job.max_file_bytes, job.cpu_seconds) == (5 * 2**20, 9 * 2**20, 77 * 2 + 30)
    assert (job.secret, job.student, job.slot, job.cpu, job.cgroup) == ("0102", "ann", 3, 1, Box.paths)
    assert (job.signatures, job.answer_names, job.preload) == ({"predict": ["X", "w", "b"]}, ["predict"], ["torch"])
    assert not job.cpu_clock
    assert runner.make_job(settings, submission, tmp_path).cpu_clock  # no cgroup: CPU time
    # the settings of the batch itself, not of one submission's job
    assert {f.name for f in dataclasses.fields(runner.Settings)} - {
        "timeout", "cell_timeout", "memory_mb", "output_limit", "file_size_mb", "max_notebook_mb", "max_file_mb",
        "disk_mb", "jail", "processes"} == {"jobs", "secret", "cgroups"}


def test_the_output_limit_reaches_the_jailed_kernel(tmp_path):
    from course.grading.trusted.jail import Jail, probe

    if probe() is not None:
        pytest.skip(f"no jail on this machine: {probe()}")
    jail = Jail(GradingJob(private_dir=str(tmp_path), output_limit=300))
    try:
        jail.start(120)
        reply = jail.run("print('x' * 5000)", 120)
    finally:
        jail.stop()
    assert reply["status"] == "ok", reply
    assert reply["stdout"] == "x" * 300 and reply["dropped"] == 5001 - 300


# -- the cell limit in CPU time ---------------------------------------------------------------------------
SPIN = "import sys\nsys.stdout.write('go\\n'); sys.stdout.flush()\nwhile True: pass\n"


def test_the_clock_counts_the_cpu_time_of_the_process_tree_only():
    spinner = subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE)
    try:
        assert spinner.stdout.readline() == b"go\n"
        clock = CellClock(0.3, wall_seconds=600)  # this process and its children: the spinner
        give_up = time.monotonic() + 120
        while clock.left() > 0 and time.monotonic() < give_up:
            time.sleep(0.05)
        assert clock.used() >= 0.3
        outside = CellClock(0.3, wall_seconds=600, root=_a_sleeper_pid())  # the spinner is not below it
        assert outside.used() < 0.3 and outside.left() > 0
    finally:
        spinner.kill()
        spinner.wait()
    assert tree_cpu_seconds(spinner.pid) == 0  # it has ended: counted in its parent's children, once


_sleepers = []


def _a_sleeper_pid() -> int:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    _sleepers.append(sleeper)
    return sleeper.pid


@pytest.fixture(autouse=True)
def _no_sleepers_left():
    yield
    while _sleepers:
        sleeper = _sleepers.pop()
        sleeper.kill()
        sleeper.wait()


def test_the_wall_clock_backstop_stops_a_cell_that_uses_no_cpu():
    clock = CellClock(600, wall_seconds=0.2)
    give_up = time.monotonic() + 60
    while clock.left() > 0 and time.monotonic() < give_up:
        time.sleep(0.05)
    assert clock.left() <= 0 and clock.used() < 600


def test_the_plain_launchers_refusal_as_root_says_why_and_what_to_do(monkeypatch):
    monkeypatch.setattr(runner.os, "geteuid", lambda: 0)
    monkeypatch.setattr(runner, "_not_readable_by_others", lambda: "/root")
    why = runner.plain_launcher_refusal()
    assert "uid of its own" in why and "cannot read the Python installation" in why and "/root" in why
    assert "ordinary user" in why and "chmod o+x" in why
    monkeypatch.setattr(runner, "_not_readable_by_others", lambda: "")
    assert runner.plain_launcher_refusal() == ""


CELL_SECONDS = 2  # a correct cell of this notebook uses a fraction of it; a hog makes its wall time many times more


@pytest.fixture(scope="module")
def without_cgroups(tmp_path_factory):
    pytest.importorskip("nbgrader")
    from course.grading.trusted.jail import probe
    from grading import unfair
    from support import hog_class

    if probe() is not None:
        pytest.skip(f"no jail on this machine: {probe()}")
    root = tmp_path_factory.mktemp("cpu-clock")
    # the victim is graded first, at the same time as the hog (students go in the order of their names)
    course, subs = hog_class(root, ["cpu_hog"], victim="a_victim")
    path = unfair.write_case("honest", subs, ROOT / "exercises", student="spins_when_tested")
    notebook = json.loads(path.read_text(encoding="utf-8"))
    unfair.wrap_predict(notebook, 50, "while True: pass")   # spins on the hidden test's 50 rows
    path.write_text(json.dumps(notebook), encoding="utf-8")
    settings = runner.Settings(timeout=240, cell_timeout=CELL_SECONDS, memory_mb=2048, jobs=2, cgroups=False)
    return {r.student: r for r in runner.grade_batch(subs, root / "out", course / "source", settings)}


def test_without_a_cgroup_a_correct_submission_beside_a_cpu_hog_gets_full_marks(without_cgroups):
    victim = without_cgroups["a_victim"]
    assert_outcome(victim, 8, "ok")
    assert "no cgroup" in victim.graded_in and "cell limit in CPU time" in victim.graded_in


def test_without_a_cgroup_a_cell_that_spins_is_stopped_by_its_cpu_time(without_cgroups):
    assert_outcome(without_cgroups["spins_when_tested"], 7, "flagged",
                   f"'test_predict_by_hand' was stopped after {CELL_SECONDS} s of CPU time")
