"""``groundspeed serve``: the situation room, a live web dashboard over the data folder."""

from __future__ import annotations

import ipaddress
import json
import os
import threading
import webbrowser
from pathlib import Path

import click

from .workspace import default_workspace_dir

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on. Anything but loopback needs --token."
)
@click.option("--port", default=8470, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option(
    "--token",
    envvar="GROUNDSPEED_TOKEN",
    default=None,
    help="Password for the pages and the API (or set GROUNDSPEED_TOKEN; safer: not in the shell history).",
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
@click.option(
    "--region-tz",
    default=None,
    metavar="ZONE",
    help="The crisis region's time zone, shown beside yours (e.g. Asia/Tehran).",
)
@click.option(
    "--tiles",
    "tile_url",
    default=None,
    metavar="URL",
    help="Online map tiles, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png (default: the offline basemap only).",
)
@click.option("--tiles-attribution", default=None, help="Credit line the tile provider asks for.")
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="A host name the server may be reached by (behind a proxy, say); repeatable.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes: more answer more people at once (one per CPU core at most).",
)
@click.option(
    "--data",
    "data_option",
    type=click.Path(path_type=Path),
    default=None,
    help="The data folder (default: the main command's --data).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    token: str | None,
    no_browser: bool,
    region_tz: str | None,
    tile_url: str | None,
    tiles_attribution: str | None,
    allowed_hosts: tuple[str, ...],
    workers: int,
    data_option: Path | None,
) -> None:
    """Open the situation room: a live dashboard of trackers, timelines, stories, posts and a map.

    It only reads the data folder, so keep importing in another terminal: new posts, peaks and
    stories appear on the open pages by themselves. By default it is reachable from this computer
    only. To share it on a network, give --host 0.0.0.0 and a token (GROUNDSPEED_TOKEN=...):
    everyone then logs in with the token.
    """
    import uvicorn

    from .web import create_app
    from .web.app import SETTINGS_ENV

    data = data_option or (Path(ctx.obj["data"]) if ctx.obj and ctx.obj.get("data") else default_workspace_dir())
    token = token or None
    if not is_loopback(host) and not token:
        raise click.UsageError(
            f"Listening on {host} lets other computers in: set a token first, e.g. "
            "GROUNDSPEED_TOKEN=$(python -c 'import secrets; print(secrets.token_urlsafe(24))') groundspeed serve --host ..."
        )
    if token is not None and len(token) < 12:
        raise click.UsageError("The token is too short: use at least 12 characters (a random one is best).")
    try:
        app = create_app(
            data,
            token=token,
            region_tz=region_tz,
            tile_url=tile_url,
            tile_attribution=tiles_attribution,
            allowed_hosts=allowed_hosts,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown_host}:{port}/"
    click.echo(f"The situation room for {data} is at {url}" + (" (log in with the token)" if token else ""), err=True)
    click.echo("Press Ctrl+C to stop.", err=True)
    if not no_browser and not os.environ.get("GROUNDSPEED_NO_BROWSER"):
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    # The access log shows paths and query strings (searches, never the token: tokens are only
    # accepted in headers and form bodies).
    if workers == 1:
        uvicorn.run(app, host=host, port=port, timeout_graceful_shutdown=3, server_header=False)
        return
    # Each worker process builds its own app from these settings (the token travels in its own
    # environment variable, as it came).
    os.environ[SETTINGS_ENV] = json.dumps(
        {
            "data_dir": str(data),
            "region_tz": region_tz,
            "tile_url": tile_url,
            "tile_attribution": tiles_attribution,
            "allowed_hosts": list(allowed_hosts),
        }
    )
    if token:
        os.environ["GROUNDSPEED_TOKEN"] = token
    uvicorn.run(
        "groundspeed.web.app:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        timeout_graceful_shutdown=3,
        server_header=False,
    )
