"""JupyterHub for a class of the course, on one machine (see course/hub/__init__.py).

Start it with ``make hub`` (or ``python -m course.hub start``) after ``python -m course.hub
setup ROSTER``. Settings come from the environment:

    COURSE_HUB_STATE   the hub's own folder, from setup (default /srv/course-hub)
    COURSE_HUB_PORT    the port users open (default 8000); COURSE_HUB_IP (default 127.0.0.1)
    COURSE_HUB_API_PORT, COURSE_HUB_PROXY_API_PORT   the hub's and the proxy's own ports
                       (default 8081 and 8001, on 127.0.0.1)
"""
import os
import pwd
import sys
from pathlib import Path

from course.hub import HERE, course_root, instructor_of, read_roster, read_settings

c = get_config()  # noqa: F821 (JupyterHub provides get_config)

state = Path(os.environ.get("COURSE_HUB_STATE", "/srv/course-hub"))
settings = read_settings(state)
members = read_roster(settings["roster"])
roles = {m.username: m.role for m in members}
teacher = instructor_of(members)
bin_dir = Path(sys.executable).parent
repository = HERE.parents[1]

# Where users connect, and the hub's and the proxy's own ports (loopback only).
c.JupyterHub.ip = os.environ.get("COURSE_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("COURSE_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("COURSE_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('COURSE_HUB_PROXY_API_PORT', '8001')}"
# The proxy: configurable-http-proxy from npm (make hub installs it into build/hub).
local_proxy = repository / "build" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
if local_proxy.exists():
    c.ConfigurableHTTPProxy.command = [str(local_proxy)]
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True

# Login: the machine's own accounts (PAM), for the roster's members only.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = set(roles)
c.Authenticator.admin_users = set()

# Each user's server: this environment's jupyterhub-singleuser, run as the user (setuid).
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(bin_dir / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300
c.Spawner.mem_limit = None
c.Spawner.args = ["--ServerApp.shutdown_no_activity_timeout=0"]


def course_environment(spawner):
    """The role's configuration (course/hub/roles/<role>) and the course's settings."""
    name = spawner.user.name
    role = roles.get(name, "student")
    home = pwd.getpwnam(name).pw_dir
    spawner.environment.update({
        "JUPYTER_CONFIG_PATH": str(HERE / "roles" / role),
        "COURSE_ID": settings["course_id"],
        "COURSE_EXCHANGE": settings["exchange"],
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "MPLBACKEND": "Agg",
    })
    if role == "instructor":
        root = course_root(teacher, settings["course_id"])
        spawner.environment["COURSE_ROOT"] = str(root)
        spawner.notebook_dir = str(root)
    else:
        spawner.notebook_dir = home


c.Spawner.pre_spawn_hook = course_environment
