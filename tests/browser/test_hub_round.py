"""A whole term's round on the course's JupyterHub, in Chromium: release, fetch, answer, submit,
collect, autograde (jailed), grade by hand in formgrader, return feedback; and the walls
between students, the instructor's course and the gradebook, tried from a student's own
terminal and notebook.

The test makes an instructor and two students as users of the machine (names with a random
prefix), starts JupyterHub on a port the OS gives, and removes users, folders and processes
again, also when it fails. It needs root (useradd), Chromium, JupyterHub and its proxy
(``make hub-env``).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from .lab import CHROMIUM

ROOT = Path(__file__).resolve().parents[2]
PROXY = ROOT / "build" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
ASSIGNMENT, NOTEBOOK = "01_perceptron", "perceptron"
SOURCE = ROOT / "exercises" / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
SHOTS = Path(os.environ.get("COURSE_SCREENSHOT_DIR", ROOT / "build" / "screenshots")) / "hub"
WAIT = 300_000  # ms: servers start and the jail grades on a busy machine


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "makes users of the machine (useradd): run as root"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found"
    if shutil.which("jupyterhub", path=str(Path(os.sys.executable).parent)) is None:
        return "JupyterHub is not installed here (make hub-env)"
    if not PROXY.exists() and shutil.which("configurable-http-proxy") is None:
        return "configurable-http-proxy is not installed (make hub-env: npm)"
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed: autograding is jailed"
    return None


pytestmark = [pytest.mark.browser, pytest.mark.skipif(_missing() is not None, reason=_missing() or "")]


def solutions() -> tuple[dict[str, str], str]:
    """The source notebook's answers: each solution code cell (by cell id) without its markers,
    and the model written answer."""
    cells = json.loads(SOURCE.read_text())["cells"]
    code, written = {}, ""
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution"):
            continue
        text = "".join(cell["source"])
        if cell["cell_type"] == "code":
            code[cell["id"]] = "\n".join(line for line in text.splitlines()
                                          if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
        else:
            written = text
    return code, written


# -- a user's own server, driven from their browser page --------------------------------------

JS_API = """async ([method, path, body]) => {
    const xsrf = (document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || "";
    const r = await fetch(path, {method, body: body === null ? undefined : JSON.stringify(body),
                                 headers: {"X-XSRFToken": decodeURIComponent(xsrf), "Content-Type": "application/json"}});
    const text = await r.text();
    return [r.status, text];
}"""

JS_TERMINAL = """async ([base, commands]) => {
    const xsrf = (document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || "";
    const r = await fetch(base + "api/terminals", {method: "POST", headers: {"X-XSRFToken": decodeURIComponent(xsrf)}});
    const name = (await r.json()).name;
    const ws = new WebSocket(location.origin.replace("http", "ws") + base + "terminals/websocket/" + name);
    let out = "";
    return await new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(out + "\\n[timeout]"), 60000);
        ws.onmessage = (event) => {
            const [kind, text] = JSON.parse(event.data);
            if (kind === "stdout") out += text;
            if (out.includes("__END" + "OFTERM__")) { clearTimeout(timer); ws.close(); resolve(out); }
        };
        ws.onopen = () => ws.send(JSON.stringify(["stdin", commands + "; echo __END''OFTERM__\\r"]));
        ws.onerror = () => reject("terminal websocket failed");
    });
}"""

JS_KERNEL = """async ([base, code]) => {
    const xsrf = (document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || "";
    const r = await fetch(base + "api/kernels", {method: "POST", body: "{}",
                          headers: {"X-XSRFToken": decodeURIComponent(xsrf), "Content-Type": "application/json"}});
    const kernel = (await r.json()).id;
    const ws = new WebSocket(location.origin.replace("http", "ws") + base + "api/kernels/" + kernel + "/channels");
    const id = "probe-" + Math.random();
    let out = "";
    return await new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(out + "\\n[timeout]"), 120000);
        ws.onmessage = (event) => {
            const msg = JSON.parse(event.data);
            if (msg.parent_header.msg_id !== id) return;
            if (msg.msg_type === "stream") out += msg.content.text;
            if (msg.msg_type === "error") out += msg.content.ename + ": " + msg.content.evalue;
            if (msg.msg_type === "status" && msg.content.execution_state === "idle") {
                clearTimeout(timer); ws.close(); resolve(out);
            }
        };
        ws.onopen = () => ws.send(JSON.stringify({channel: "shell", buffers: [], metadata: {}, parent_header: {},
            header: {msg_id: id, username: "", session: "probe", msg_type: "execute_request", version: "5.3",
                     date: new Date().toISOString()},
            content: {code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false,
                      stop_on_error: true}}));
        ws.onerror = () => reject("kernel websocket failed");
    });
}"""


class User:
    """One member of the class in a browser context of their own."""

    def __init__(self, browser, cls, name: str):
        self.cls, self.name, self.user = cls, name, cls.user(name)
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(WAIT)
        self.page = self.context.new_page()
        self.base = f"/user/{self.user}/"

    def shot(self, step: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{step}-{self.name}.png"))

    def login(self) -> None:
        page = self.page
        page.goto(self.cls.url("hub/login"))
        page.fill("#username_input", self.user)
        page.fill("#password_input", self.cls.password(self.name))
        page.click("#login_submit")
        page.wait_for_url(re.compile(rf".*/user/{self.user}/lab.*"), timeout=WAIT)
        page.wait_for_selector("#jp-main-dock-panel", timeout=WAIT)
        page.wait_for_selector(".jp-LauncherCard", timeout=WAIT)

    def api(self, method: str, path: str, body=None) -> tuple[int, str]:
        return self.page.evaluate(JS_API, [method, self.base + path.lstrip("/"), body])

    def terminal(self, commands: str) -> str:
        return self.page.evaluate(JS_TERMINAL, [self.base, commands])

    def python(self, code: str) -> str:
        return self.page.evaluate(JS_KERNEL, [self.base, code])


# -- the student's side: the Assignments tab ---------------------------------------------------

def open_assignments(student: User) -> None:
    page = student.page
    page.goto(student.cls.url(f"user/{student.user}/lab?reset"))
    page.wait_for_selector(".jp-LauncherCard", timeout=WAIT)
    page.click("#jp-MainMenu >> text=Nbgrader")
    page.click(".lm-Menu-content >> text=Assignment List")
    page.wait_for_selector("#released_assignments_list", timeout=WAIT)


def assignment_row(student: User, section: str, text: str = ASSIGNMENT):
    return student.page.locator(f"#{section}_assignments_list .list_item", has_text=text)


def fetch(student: User) -> None:
    open_assignments(student)
    row = assignment_row(student, "released")
    row.get_by_role("button", name="Fetch").click()
    assignment_row(student, "fetched").first.wait_for(timeout=WAIT)


def answer(student: User, code_answers: dict[str, str], written: str) -> None:
    """Write the answers into the fetched notebook through the student's own server (its
    contents API, from their browser session), as saving from JupyterLab does."""
    path = f"api/contents/{ASSIGNMENT}/{NOTEBOOK}.ipynb"
    status, text = student.api("GET", path + "?content=1")
    assert status == 200, text
    model = json.loads(text)
    for cell in model["content"]["cells"]:
        if cell.get("id") in code_answers:
            cell["source"] = code_answers[cell["id"]]
        elif cell.get("id") == "why-xor":
            cell["source"] = written
    status, text = student.api("PUT", path, {"type": "notebook", "format": "json", "content": model["content"]})
    assert status == 200, text
    # the notebook opens in JupyterLab with the answers in it
    page = student.page
    page.goto(student.cls.url(f"user/{student.user}/lab/tree/{ASSIGNMENT}/{NOTEBOOK}.ipynb?reset"))
    page.locator(".jp-NotebookPanel .jp-Cell", has_text=written[:40]).first.wait_for(timeout=WAIT)
    assert page.locator(".jp-NotebookPanel .jp-CodeCell", has_text="YOUR CODE HERE").count() == 3 - len(code_answers)


def submit(student: User) -> None:
    open_assignments(student)
    row = assignment_row(student, "fetched")
    row.get_by_role("button", name="Submit").click()
    assignment_row(student, "submitted").first.wait_for(timeout=WAIT)


def fetch_feedback(student: User) -> None:
    open_assignments(student)
    row = assignment_row(student, "submitted").first
    row.get_by_role("button", name="Fetch Feedback").click()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status, text = student.api("GET", f"api/contents/{ASSIGNMENT}/feedback")
        if status == 200 and json.loads(text)["content"]:
            return
        time.sleep(1)
    raise AssertionError(f"{student.name}: no feedback arrived in ~/{ASSIGNMENT}/feedback")


def feedback_score(student: User) -> tuple[float, float]:
    """Open the feedback in the student's browser and read the score at its top."""
    status, text = student.api("GET", f"api/contents/{ASSIGNMENT}/feedback")
    (stamp,) = [entry["name"] for entry in json.loads(text)["content"]]
    page = student.page
    page.goto(student.cls.url(f"user/{student.user}/files/{ASSIGNMENT}/feedback/{stamp}/{NOTEBOOK}.html"))
    body = page.locator("body").inner_text()
    match = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", body)
    assert match, f"{student.name}'s feedback shows no score: {body[:500]}"
    return float(match.group(1)), float(match.group(2))


# -- the instructor's side: formgrader ---------------------------------------------------------

def formgrader_action(teacher: User, icon: str, page_path: str = "formgrader/manage_assignments",
                      row_text: str = ASSIGNMENT) -> None:
    page = teacher.page
    page.goto(teacher.cls.url(f"user/{teacher.user}/{page_path}"))
    row = page.locator("tr", has_text=row_text).first
    row.wait_for(timeout=WAIT)
    row.locator(f".glyphicon-{icon}").first.click()
    modal = page.locator("#success-modal, #error-modal").first
    modal.wait_for(state="visible", timeout=WAIT)
    teacher.shot(f"formgrader-{icon}-{row_text}")
    assert page.locator("#error-modal").count() == 0, page.locator("#error-modal").inner_text()
    modal.locator(".modal-footer button").first.click()
    modal.wait_for(state="hidden", timeout=60_000)


def autograde(teacher: User, student: User) -> None:
    page = teacher.page
    page.goto(teacher.cls.url(f"user/{teacher.user}/formgrader/manage_submissions/{ASSIGNMENT}"))
    row = page.locator("tr", has_text=student.user).first
    row.wait_for(timeout=WAIT)
    row.locator(".glyphicon-flash").first.click()
    row = page.locator("tr", has_text=student.user).first
    page.wait_for_function(
        "(name) => [...document.querySelectorAll('tr')].some(r => r.innerText.includes(name) && "
        "/needs manual grading|graded/.test(r.innerText) && !/Please wait/.test(r.innerText))",
        arg=student.user, timeout=WAIT)
    teacher.shot(f"autograded-{student.name}")


def grade_by_hand(teacher: User, student: User, points: float) -> None:
    """Give the written answer its points in formgrader's grading page."""
    status, text = teacher.api("GET", f"formgrader/api/submitted_notebooks/{ASSIGNMENT}/{NOTEBOOK}")
    assert status == 200, text
    (submission,) = [s for s in json.loads(text) if s["student"] == student.user]
    page = teacher.page
    page.goto(teacher.cls.url(f"user/{teacher.user}/formgrader/submissions/{submission['id']}/?index=0"))
    cell = page.locator(".nbgrader_cell", has_text="XOR").filter(has=page.locator("input.score")).last
    cell.wait_for(timeout=WAIT)
    score = cell.locator("input.score")
    with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT",
                              timeout=60_000) as saved:
        score.fill(str(points))
        score.press("Tab")
    assert saved.value.ok
    teacher.shot(f"graded-by-hand-{student.name}")


def gradebook_score(teacher: User, student: User) -> float:
    status, text = teacher.api("GET", f"formgrader/api/submission/{ASSIGNMENT}/{student.user}")
    assert status == 200, text
    return float(json.loads(text)["score"])


# -- the test ----------------------------------------------------------------------------------

@pytest.fixture
def temporary_class():
    from course.hub.running import TemporaryClass

    cls = TemporaryClass(["teacher", "ada", "alan"], course_id="nn-round")
    try:
        yield cls.start()
    finally:
        cls.stop()
        left = cls.processes()
        assert not left, "processes of the class were left running:\n" + cls.describe(left)


def test_a_whole_round_on_the_hub(temporary_class, browser):
    """``browser``: the session's Chromium (a second Playwright cannot start beside it)."""
    cls = temporary_class
    code, written = solutions()
    teacher, ada, alan = (User(browser, cls, name) for name in ("teacher", "ada", "alan"))
    try:
        run_round(cls, teacher, ada, alan, code, written)
    except BaseException:
        for user in (teacher, ada, alan):
            try:
                user.shot("failure")
            except Exception:  # noqa: BLE001
                pass
        print(cls.hub_log.read_text()[-4000:])
        raise
    finally:
        for user in (teacher, ada, alan):
            user.context.close()


def run_round(cls, teacher: User, ada: User, alan: User, code: dict[str, str], written: str) -> None:
    # The instructor generates and releases assignment 01 in formgrader.
    teacher.login()
    formgrader_action(teacher, "education")  # generate the student version
    formgrader_action(teacher, "cloud-upload")  # release it to the exchange

    # Two students log in and fetch it; formgrader is not theirs.
    for student in (ada, alan):
        student.login()
        assert student.api("GET", "formgrader")[0] == 404, "a student's server has no formgrader"
        fetch(student)
        student.shot("fetched")
    answer(ada, code, written)  # every answer right
    answer(alan, {"predict": code["predict"]}, "A line cannot separate XOR.")  # the prediction only, and half a written answer
    for student in (ada, alan):
        submit(student)
        student.shot("submitted")

    # The instructor collects, autogrades (jailed), grades the written answers, returns feedback.
    formgrader_action(teacher, "cloud-download")
    for student in (ada, alan):
        autograde(teacher, student)
    autograded = {s.name: gradebook_score(teacher, s) for s in (ada, alan)}
    assert autograded["ada"] > autograded["alan"] > 0, autograded
    grade_by_hand(teacher, ada, 2)
    grade_by_hand(teacher, alan, 1)
    final = {s.name: gradebook_score(teacher, s) for s in (ada, alan)}
    assert final == {"ada": autograded["ada"] + 2, "alan": autograded["alan"] + 1}, (autograded, final)
    formgrader_action(teacher, "comment")  # generate feedback
    formgrader_action(teacher, "envelope")  # release feedback

    # Each student fetches their feedback and sees their own score.
    for student in (ada, alan):
        fetch_feedback(student)
        score, out_of = feedback_score(student)
        student.shot("feedback")
        assert score == final[student.name], (student.name, score, final)
        assert out_of == 10

    # The walls: from ada's own terminal and notebook, alan's files, the instructor's course and
    # the gradebook are out of reach.
    ada.page.goto(cls.url(f"user/{ada.user}/lab?reset"))
    ada.page.wait_for_selector("#jp-main-dock-panel", timeout=WAIT)
    course = cls.course_root()
    targets = [f"/home/{alan.user}/{ASSIGNMENT}/{NOTEBOOK}.ipynb", str(course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"),
               str(course / "gradebook.db"), str(course / "course_secret"),
               str(cls.exchange / cls.course_id / "inbound")]
    shell = ada.terminal("; ".join(f"cat {t} | head -c 300; ls {t} 2>&1 | head -3" for t in targets))
    assert shell.count("Permission denied") >= len(targets), shell
    assert "def predict" not in shell and "SQLite" not in shell and alan.user + "+" not in shell, shell
    probe = ("import os\n"
             f"for path in {targets!r}:\n"
             "    try:\n"
             "        data = open(path, 'rb').read(300) if not os.path.isdir(path) else os.listdir(path)\n"
             "        print('READ', path, data)\n"
             "    except OSError as error:\n"
             "        print('DENIED', path, type(error).__name__)\n")
    kernel = ada.python(probe)
    assert kernel.count("DENIED") == len(targets) and "READ" not in kernel, kernel
