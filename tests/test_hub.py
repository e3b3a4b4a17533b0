"""The hub's configuration: the roster is read strictly, and each role's servers switch nbgrader's
extensions on or off through their own configuration, never the environment's."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course import hub

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path, text):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    return path


def test_the_example_roster_has_one_instructor_and_students():
    members = hub.read_roster(hub.HERE / "roster.example.csv")
    assert [m.role for m in members].count("instructor") == 1
    assert {m.role for m in members} == {"instructor", "student"}


@pytest.mark.parametrize("text, message", [
    ("username,role\nAda Lovelace,student\nt,instructor\n", "not a user name"),
    ("username,role\nada,teacher\nt,instructor\n", "role 'teacher'"),
    ("username,role\nada,student\nada,student\nt,instructor\n", "twice"),
    ("username,role\nada,student\n", "0 instructors"),
    ("username,role\nada,instructor\nt,instructor\n", "2 instructors"),
])
def test_a_wrong_roster_is_refused_with_the_line_that_is_wrong(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        hub.read_roster(write(tmp_path, text))


def test_roster_comments_and_passwords(tmp_path):
    members = hub.read_roster(write(tmp_path, "# class\nusername,role,password\nt,instructor,\nada,student,s3cret-pass\n"))
    assert members == [hub.Member("t", "instructor", ""), hub.Member("ada", "student", "s3cret-pass")]


@pytest.mark.parametrize("role, formgrader", [("student", False), ("instructor", True)])
def test_each_role_switches_nbgrader_on_in_its_own_config(role, formgrader):
    server = json.loads((hub.HERE / "roles" / role / "jupyter_server_config.json").read_text())
    extensions = server["ServerApp"]["jpserver_extensions"]
    assert extensions["nbgrader.server_extensions.formgrader"] is formgrader
    assert extensions["nbgrader.server_extensions.assignment_list"] is True
    assert extensions["course.server"] is True
    page = json.loads((hub.HERE / "roles" / role / "labconfig" / "page_config.json").read_text())
    disabled = page["disabledExtensions"]
    assert disabled["@jupyter/nbgrader:assignment-list"] is False
    assert disabled["@jupyter/nbgrader:formgrader"] is (not formgrader)
    assert disabled["@jupyter/nbgrader:create-assignment"] is (not formgrader)


def test_a_role_config_wins_over_the_environments(tmp_path):
    """Whatever the environment switches off for `make lab`, JUPYTER_CONFIG_PATH (the hub's role
    folder) comes before it in Jupyter's search path, so the role's settings are the ones used."""
    code = ("from jupyter_core.paths import jupyter_config_path; import sys;"
            "p = jupyter_config_path(); print(p.index(sys.argv[1]) < p.index(sys.prefix + '/etc/jupyter'))")
    role = str(hub.HERE / "roles" / "student")
    out = subprocess.run([sys.executable, "-c", code, role], capture_output=True, text=True,
                         env=dict(os.environ, JUPYTER_CONFIG_PATH=role))
    assert out.stdout.strip() == "True", out.stderr


@pytest.mark.parametrize("role", ["student", "instructor"])
def test_the_lab_page_of_a_role_enables_what_the_role_needs(tmp_path, role):
    """jupyterlab_server merges page_config.json over the search path: the role's wins even
    where the environment disabled nbgrader's lab extensions."""
    pytest.importorskip("jupyterlab_server")
    prefix_labconfig = tmp_path / "etc" / "labconfig"
    prefix_labconfig.mkdir(parents=True)
    (prefix_labconfig / "page_config.json").write_text(json.dumps({"disabledExtensions": {
        "@jupyter/nbgrader": True, "@jupyter/nbgrader:menu": True,
        "@jupyter/nbgrader:assignment-list": True, "@jupyter/nbgrader:formgrader": True,
        "@jupyter/nbgrader:create-assignment": True, "@jupyter/nbgrader:course-list": True,
        "@jupyter/nbgrader:validate-assignment": True}}))
    code = ("from jupyterlab_server.config import get_page_config; import json, logging;"
            "print(json.dumps(get_page_config([], logger=logging.getLogger()).get('disabledExtensions', {})))")
    env = dict(os.environ, JUPYTER_CONFIG_PATH=os.pathsep.join([str(hub.HERE / "roles" / role), str(tmp_path / "etc")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    disabled = json.loads(out.stdout.strip().splitlines()[-1])
    assert "@jupyter/nbgrader:assignment-list" not in disabled and "@jupyter/nbgrader" not in disabled
    assert ("@jupyter/nbgrader:formgrader" in disabled) is (role == "student")
    assert ("@jupyter/nbgrader:create-assignment" in disabled) is (role == "student")


def test_setup_refuses_without_root(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("running as root: setup would make users")
    with pytest.raises(PermissionError, match="root"):
        hub.setup(hub.HERE / "roster.example.csv", tmp_path / "state", tmp_path / "exchange")


def test_the_hub_config_needs_setup_first(tmp_path):
    with pytest.raises(FileNotFoundError, match="course.hub setup"):
        hub.read_settings(tmp_path)


def test_live_processes_counts_a_running_process_and_not_a_zombie():
    """A class is stopped once its processes have exited; a zombie waiting for its parent to
    collect it (an orphan under a slow init) is not left running."""
    process = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        assert hub.process_state(process.pid) not in (None, "Z")  # R, S, or D while it starts
        assert hub.live_processes(set(), session=process.pid) == [process.pid]
        os.kill(process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while hub.process_state(process.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hub.process_state(process.pid) == "Z"
        assert hub.live_processes(set(), session=process.pid) == []
    finally:
        process.kill()
        process.wait()
    assert hub.process_state(process.pid) is None


def test_kill_and_wait_returns_once_every_process_has_exited():
    """Removing a user waits for its processes to die (userdel refuses a user who has some),
    including one started while the others were being killed."""
    shell = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60 & wait"], start_new_session=True)
    try:
        def find():
            return hub.live_processes(set(), session=shell.pid)

        deadline = time.monotonic() + 10
        while len(find()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(find()) == 3  # the shell and its two sleeps
        assert hub.kill_and_wait(find, timeout=10) == []
        assert find() == []
    finally:
        shell.kill()
        shell.wait()
