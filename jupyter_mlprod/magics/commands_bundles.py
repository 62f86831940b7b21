"""`%mlprod` bundle commands, with the CLI's own argument builders:

    %mlprod bundle create -m "..."      freeze the project into a new bundle
    %mlprod bundle preview              what a new bundle would hold
    %mlprod bundle list | show B | diff A B | verify B
    %mlprod bundles                     (= %mlprod bundle list)
    %mlprod deploy BUNDLE --to TARGET [--strict] [-m MSG]
    %mlprod rollback [--target TARGET] [--to BUNDLE]
    %mlprod deployments [--target TARGET]

Each returns a view (HTML in the notebook, text elsewhere) whose `.data` is what the project
returned, so `b = %mlprod bundle create -m "x"` then `%mlprod deploy {b.data['id']} --to prod`."""
from __future__ import annotations

import functools

from IPython.display import display

from ..cli import args as shared
from ..cli import commands_bundles as cli
from . import output_bundles as show
from ..words import counted


def add_parsers(sub, common) -> None:
    bundle = sub.add_parser("bundle", parents=[common],
                            help="create, list, show, diff or verify bundles")
    actions = bundle.add_subparsers(dest="action", metavar="ACTION",
                                    parser_class=functools.partial(shared.Parser, exits=False))
    actions.required = True
    cli.args_create(actions.add_parser("create", parents=[common],
                                       help="freeze the project into a new bundle"))
    actions.add_parser("preview", parents=[common],
                       help="what a new bundle would hold, with sizes, storing nothing")
    cli.args_list(actions.add_parser("list", parents=[common], help="bundles, newest first"),
                  default=10)
    cli.args_show(actions.add_parser("show", parents=[common], help="one bundle"))
    cli.args_diff(actions.add_parser("diff", parents=[common],
                                     help="what changed from bundle A to bundle B"))
    cli.args_bundle(actions.add_parser("verify", parents=[common],
                                       help="re-hash a bundle's manifest and files"))
    cli.args_list(sub.add_parser("bundles", parents=[common], help="bundles, newest first"),
                  default=10)
    cli.args_deploy(sub.add_parser("deploy", parents=[common],
                                   help="deploy a bundle to a node or production folder"))
    cli.args_rollback(sub.add_parser("rollback", parents=[common],
                                     help="roll a target back to its previous bundle"))
    cli.args_deployments(sub.add_parser("deployments", parents=[common],
                                        help="a target's deployment history"), default=10)


def cmd_bundle(magics, ns):
    bundles = magics._project(ns).bundles
    if ns.action == "create":
        return show.created_view(bundles.create(ns.message))
    if ns.action == "preview":
        return show.preview_view(bundles.preview())
    if ns.action == "list":
        return show.bundles_view(bundles.list(limit=ns.limit))
    if ns.action == "show":
        return show.bundle_view(bundles.show(ns.bundle))
    if ns.action == "diff":
        return show.diff_view(bundles.diff(ns.a, ns.b))
    return show.verify_view(bundles.verify(ns.bundle))


def cmd_bundles(magics, ns):
    return show.bundles_view(magics._project(ns).bundles.list(limit=ns.limit))


class _Progress:
    """The deploy's phases, in one display updated in place."""

    def __init__(self):
        self.handle = None
        self.lines: list[str] = []

    def update(self, event: dict) -> None:
        phase = event.get("phase")
        if phase == "environment":
            self.lines.append("environment: matches the bundle's lock" if event["ok"] else
                              "environment: " + "; ".join(event["problems"]))
        elif phase == "upload" and "done" not in event:
            self.lines.append(f"upload: {counted(event['blobs'], 'file content')}, "
                              f"{cli.fmt_size(event['bytes'])}")
        elif phase == "upload":
            self.lines[-1] = (f"upload: {event['done']}/{counted(event['blobs'], 'file content')}, "
                              f"{cli.fmt_size(event['sent'])} of {cli.fmt_size(event['bytes'])}")
        elif phase == "activate":
            self.lines.append("activate: writing and verifying the files, then switching")
        view = show.progress_lines(self.lines)
        if self.handle is None:
            self.handle = display(view, display_id=True)
        else:
            self.handle.update(view)


def cmd_deploy(magics, ns):
    progress = _Progress()
    result = magics._project(ns).bundles.deploy(
        ns.bundle, ns.target, token=cli.token_from(ns), strict=ns.strict, message=ns.message,
        progress=progress.update)
    return show.deploy_view(result)


def cmd_rollback(magics, ns):
    deployment = magics._project(ns).bundles.rollback(
        ns.target, to=ns.to, token=cli.token_from(ns), message=ns.message, strict=ns.strict)
    return show.deployment_view(deployment, "rolled back")


def cmd_deployments(magics, ns):
    return show.deployments_view(magics._project(ns).bundles.deployments(
        ns.target, token=cli.token_from(ns), limit=ns.limit))


COMMANDS = {"bundle": cmd_bundle, "bundles": cmd_bundles, "deploy": cmd_deploy,
            "rollback": cmd_rollback, "deployments": cmd_deployments}
