"""python -m course.hub setup|start|remove: see course/hub/__init__.py."""
import argparse
import sys

from course.hub import DEFAULT_COURSE_ID, DEFAULT_EXCHANGE, DEFAULT_STATE, remove, setup, start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.hub", description="A class of the course on JupyterHub.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("setup", "make the roster's users, the exchange and the private course"),
                       ("start", "run JupyterHub for the class"),
                       ("remove", "remove the roster's users, their homes, the exchange and the hub's state")):
        p = sub.add_parser(name, help=text)
        if name != "start":
            p.add_argument("roster", help="CSV: username,role[,password] (see course/hub/roster.example.csv)")
            p.add_argument("--exchange", default=DEFAULT_EXCHANGE)
        p.add_argument("--state", default=DEFAULT_STATE, help=f"the hub's own folder (default {DEFAULT_STATE})")
        if name == "setup":
            p.add_argument("--course-id", default=DEFAULT_COURSE_ID)
        if name == "start":
            p.add_argument("--port", type=int, default=8000)
            p.add_argument("--ip", default="127.0.0.1", help="0.0.0.0 to serve other machines (behind HTTPS)")
        if name == "remove":
            p.add_argument("--yes", action="store_true", help="really remove them")
    args = parser.parse_args(argv)
    try:
        if args.command == "setup":
            setup(args.roster, args.state, args.exchange, args.course_id)
        elif args.command == "start":
            return start(args.state, args.port, args.ip)
        else:
            if not args.yes:
                print("this removes every user of the roster with their files; add --yes", file=sys.stderr)
                return 2
            remove(args.roster, args.state, args.exchange)
    except (ValueError, PermissionError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
