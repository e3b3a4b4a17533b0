"""The grader's kernel start: Unix sockets (no TCP port race between parallel gradings), a
kernel that dies before it first answers is started again, and one that always dies is reported
with its last words."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]

DRIVER = textwrap.dedent("""
    import json, os, sys
    from course.grading.trusted import child

    job = json.loads(sys.argv[1])
    events = []
    kernel = child.Kernel(job, lambda event, **fields: events.append(event))
    spec = kernel.environment

    def environment():
        # the real environment, then a kernel spec that runs the launcher below instead
        env = spec()
        path = os.path.join(job["private_dir"], "jupyter", "kernels", "course-grading", "kernel.json")
        with open(path) as handle:
            kernel_json = json.load(handle)
        kernel_json["argv"] = [sys.executable, job["launcher"]] + kernel_json["argv"][1:]
        with open(path, "w") as handle:
            json.dump(kernel_json, handle)
        return env

    kernel.environment = environment
    try:
        kernel.start()
        status, outputs = kernel.run("print(40 + 2)", 30)
        transport = kernel.km.transport
        print(json.dumps({"status": status, "outputs": outputs.outputs, "transport": transport,
                          "kernels": events.count("kernel")}))
    except RuntimeError as error:
        print(json.dumps({"error": str(error), "kernels": events.count("kernel")}))
    finally:
        kernel.shutdown()
""")

# A launcher that dies (as a kernel does when its port was taken) while a counter is below N.
LAUNCHER = textwrap.dedent("""
    import os, runpy, sys
    counter = os.path.join({folder!r}, "launches")
    launches = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
    open(counter, "w").write(str(launches))
    if launches <= {deaths}:
        sys.stderr.write("zmq.error.ZMQError: Address already in use (launch %d)\\n" % launches)
        sys.exit(1)
    sys.argv = sys.argv[2:]  # drop "-m ipykernel_launcher"
    sys.argv.insert(0, "ipykernel_launcher")
    runpy.run_module("ipykernel_launcher", run_name="__main__")
""")


def start(tmp_path: Path, deaths: int) -> dict:
    private = tmp_path / "p"
    work = private / "work"
    work.mkdir(parents=True)
    launcher = tmp_path / "launcher.py"
    launcher.write_text(LAUNCHER.format(folder=str(tmp_path), deaths=deaths))
    job = {"private_dir": str(private), "work_dir": str(work), "protected": [str(tmp_path / "instructor")],
           "preload": [], "pythonpath": str(ROOT), "memory_mb": 0, "startup_timeout": 30,
           "launcher": str(launcher)}
    done = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(job)], capture_output=True,
                          text=True, timeout=240, cwd=private, env={"PATH": "/usr/bin:/bin",
                          "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_kernel_that_dies_before_answering_is_started_again(tmp_path):
    result = start(tmp_path, deaths=2)
    assert result.get("error") is None, result
    assert result["kernels"] == 3
    assert result["transport"] == "ipc"
    assert result["status"] == "ok", result
    assert result["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "42\n"}]


def test_a_kernel_that_never_answers_is_reported_with_its_last_words(tmp_path):
    result = start(tmp_path, deaths=99)
    assert result["kernels"] == 3
    assert "3 tries" in result["error"]
    assert "Address already in use (launch 3)" in result["error"]
