"""``python -m groundspeed.web --data FOLDER``: the same as ``groundspeed serve``."""

from ..cli_web import serve

if __name__ == "__main__":
    serve(prog_name="python -m groundspeed.web")
