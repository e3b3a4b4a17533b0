"""course.server: kernel websockets send each message at once; the switch that turns it on."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("jupyter_server")

from course import server  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


class FakeHandler:
    def __init__(self):
        self.nodelay = []

    def set_nodelay(self, value):
        self.nodelay.append(value)


class FakeConnection:
    """Stands for jupyter_server's connection class: connect() is what the server calls."""

    def __init__(self, handler):
        self.websocket_handler = handler
        self.connected = False

    def connect(self):
        self.connected = True
        return "future"


def test_the_prompt_connection_switches_nagle_off_before_connecting():
    handler = FakeHandler()
    connection = server.prompt_connection_class(FakeConnection)(handler)
    assert connection.connect() == "future"
    assert handler.nodelay == [True] and connection.connected
    assert issubclass(server.prompt_connection_class(FakeConnection), FakeConnection)


class FakeServerApp:
    def __init__(self, settings):
        self.web_app = type("WebApp", (), {"settings": settings})()
        self.log = type("Log", (), {"info": lambda *a: None})()


def test_loading_wraps_the_configured_class_once():
    from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

    app = FakeServerApp({"kernel_websocket_connection_class": ZMQChannelsWebsocketConnection})
    server._load_jupyter_server_extension(app)
    wrapped = app.web_app.settings["kernel_websocket_connection_class"]
    assert issubclass(wrapped, ZMQChannelsWebsocketConnection) and wrapped is not ZMQChannelsWebsocketConnection
    server._load_jupyter_server_extension(app)              # loaded twice: not wrapped twice
    assert app.web_app.settings["kernel_websocket_connection_class"] is wrapped
    empty = FakeServerApp({})                               # nothing configured: the server's default
    server._load_jupyter_server_extension(empty)
    assert issubclass(empty.web_app.settings["kernel_websocket_connection_class"], ZMQChannelsWebsocketConnection)


def test_install_writes_the_file_that_a_wheel_installs(tmp_path):
    path = server.install(tmp_path)
    assert path == tmp_path / "etc" / "jupyter" / "jupyter_server_config.d" / "course.json"
    shipped = ROOT / "jupyter-config" / "jupyter_server_config.d" / "course.json"
    assert json.loads(path.read_text()) == json.loads(shipped.read_text()) == server.CONFIG
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"etc/jupyter/jupyter_server_config.d" = ["jupyter-config/jupyter_server_config.d/course.json"]' in pyproject


def test_the_command_line_installs_into_the_prefix_given(tmp_path):
    done = subprocess.run([sys.executable, "-m", "course.server", "install", "--prefix", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "etc/jupyter/jupyter_server_config.d/course.json").is_file()
    assert "course.server" in done.stdout


@pytest.mark.slow
def test_this_environment_loads_the_extension():
    """What `make env` (and CI) set up: JupyterLab started from this Python loads course.server."""
    done = subprocess.run([sys.executable, "-m", "jupyter", "server", "extension", "list"],
                          capture_output=True, text=True, timeout=120)
    text = done.stdout + done.stderr
    assert "course.server" in text and "enabled" in text.split("course.server", 1)[1][:40], (
        "course.server is not switched on in this environment: run `python -m course.server install`")
