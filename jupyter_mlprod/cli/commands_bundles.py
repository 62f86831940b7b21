"""Bundles, deployments and the production node:

    mlprod bundle create|preview|list|show|diff|verify|export|import|lock
    mlprod bundles                          (= mlprod bundle list)
    mlprod deploy BUNDLE --to TARGET [--strict] [-m MSG]
    mlprod rollback [--target TARGET] [--to BUNDLE]
    mlprod deployments [--target TARGET]
    mlprod nodes [list | register NAME URL [--token-env VAR] | remove NAME]
    mlprod node [--host H] [--port P]       the headless production node (this folder)
    mlprod audit ...                        (see commands_audit.py)

A TARGET is a registered node's name, a node's URL or a production folder. A node's token is
read from an environment variable, never from the command line of a deploy: the registered
node's `token_env` (default $MLPROD_NODE_TOKEN), or the one `--token-env` names.
The argument builders here are shared with the `%mlprod` magic."""
from __future__ import annotations

import os
import re

from ..errors import InvalidInput
from .output import text_table
from .output_bundles import (BUNDLE_HEADERS, bundle_lines, bundle_rows, created_line, diff_lines,
                             fmt_size, preview_lines, verify_lines)
from ..words import counted

EXIT_NOT_OK = 1  # `bundle verify` found a damaged or missing file (the command itself worked)
TOKEN_ENV = "MLPROD_NODE_TOKEN"
TARGET_HELP = ("a registered node's name (`mlprod nodes`), a node URL (http://host:port; token "
               f"from ${TOKEN_ENV}) or a production folder")


# -- argument builders (CLI and magic) --------------------------------------------------------
def args_create(p) -> None:
    p.add_argument("-m", "--message", default="", help="what this bundle is (shown in lists, "
                   "diffs and deployments)")


def args_list(p, default: int = 20) -> None:
    p.add_argument("--limit", type=int, default=default, metavar="N",
                   help=f"how many bundles to list, newest first (default {default})")


def args_show(p) -> None:
    p.add_argument("bundle", metavar="BUNDLE", help="bundle id, unique prefix (4+) or `latest`")
    p.add_argument("--files", action="store_true", help="list every file with size and sha256")
    p.add_argument("--packages", action="store_true", help="list the environment lock")


def args_diff(p) -> None:
    p.add_argument("a", metavar="A", help="the older bundle (id, prefix or `latest`)")
    p.add_argument("b", metavar="B", help="the newer bundle")


def args_bundle(p) -> None:
    p.add_argument("bundle", metavar="BUNDLE", help="bundle id, unique prefix (4+) or `latest`")


def _token_env(p) -> None:
    p.add_argument("--token-env", metavar="VAR",
                   help="environment variable holding the node's token (default: the "
                        f"registered node's token_env, else ${TOKEN_ENV})")


def args_deploy(p) -> None:
    p.add_argument("bundle", metavar="BUNDLE", help="bundle id, unique prefix (4+) or `latest`")
    p.add_argument("--to", "--target", dest="target", required=True, metavar="TARGET",
                   help=TARGET_HELP)
    p.add_argument("--strict", action="store_true",
                   help="refuse when the target's packages, Python or platform differ from the "
                        "bundle's lock (checked before anything is uploaded)")
    p.add_argument("-m", "--message", default="", help="why (kept in the history and the audit)")
    p.add_argument("--env", choices=("compare", "recreate"), default="compare",
                   help="compare (default): run in the target's environment, reporting how it "
                        "differs from the bundle's lock; recreate: the target builds a virtual "
                        "environment from the lock (once per distinct lock; uv when available) "
                        "and runs the bundle's steps in it; a lock that cannot be installed "
                        "fails the deploy before activation")
    _token_env(p)


def args_rollback(p) -> None:
    p.add_argument("--target", metavar="TARGET",
                   help=TARGET_HELP + " (default: this project, when it is the production folder)")
    p.add_argument("--to", dest="to", metavar="BUNDLE",
                   help="the bundle to go back to (default: the one active before the current)")
    p.add_argument("--strict", action="store_true",
                   help="refuse when the environment does not match that bundle's lock")
    p.add_argument("-m", "--message", default="", help="why (kept in the history and the audit)")
    _token_env(p)


def args_deployments(p, default: int = 20) -> None:
    p.add_argument("--target", metavar="TARGET",
                   help=TARGET_HELP + " (default: this project)")
    p.add_argument("--limit", type=int, default=default, metavar="N",
                   help=f"how many deployments to list, newest first (default {default})")
    _token_env(p)


def token_from(ns) -> str | None:
    name = getattr(ns, "token_env", None)
    if not name:
        # a node URL typed by the person running this command: their own default token
        target = str(getattr(ns, "target", None) or "")
        return (os.environ.get(TOKEN_ENV) or None) if re.match(r"^https?://", target) else None
    value = os.environ.get(name)
    if not value:
        raise InvalidInput(f"${name} is not set (--token-env names the environment variable "
                           "that holds the node's token)", field="token_env")
    return value


# -- registration -----------------------------------------------------------------------------
def register(command, sub, common) -> None:
    from . import commands_deploy as deploy

    group = sub.add_parser("bundle", parents=[common],
                           help="bundles (versioned snapshots of the project): create, preview, "
                                "list, show, diff, verify, export, import, lock",
                           description="Bundles: immutable, content-hashed snapshots of the "
                                       "project (notebooks, pipeline, scenarios, endpoints, "
                                       "environment lock, data and models).")
    actions = group.add_subparsers(dest="action", metavar="ACTION", parser_class=type(group))
    actions.required = True
    args_create(command("create", cmd_create, "freeze the project into a new bundle (unchanged "
                        "files cost no new bytes)", parent=actions))
    command("preview", cmd_preview, "what a new bundle would hold, with sizes, storing nothing",
            parent=actions)
    args_list(command("list", cmd_list, "list bundles, newest first", parent=actions))
    args_show(command("show", cmd_show, "show a bundle: provenance, contents, environment",
                      parent=actions))
    args_diff(command("diff", cmd_diff, "what changed from bundle A to bundle B: files, notebook "
                      "cells, data sizes, packages, pipeline, scenarios, endpoints",
                      parent=actions))
    args_bundle(command("verify", cmd_verify, "re-hash a bundle's manifest and files; exit 1 if "
                        "any is damaged or missing", parent=actions))
    p = command("export", cmd_export, "write a bundle to one archive file (tar)", parent=actions)
    args_bundle(p)
    p.add_argument("-o", "--output", default=".", metavar="PATH",
                   help="archive file, or a folder to write <project>-<id>.mlprod-bundle.tar in "
                        "(default: the current folder)")
    p.add_argument("--gzip", action="store_true", help="compress (tar.gz)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p = command("import", cmd_import, "register a bundle from an archive file; an unsafe, "
                "tampered or truncated archive is refused and leaves nothing behind",
                parent=actions)
    p.add_argument("archive", metavar="ARCHIVE")
    p.add_argument("--expect", metavar="BUNDLE",
                   help="refuse unless the archive holds this bundle (id or prefix)")
    args_bundle(command("lock", cmd_lock, "print a bundle's environment lock as a pip/uv "
                        "requirements file", parent=actions))

    args_list(command("bundles", cmd_list, "list bundles, newest first (= mlprod bundle list)"))
    args_deploy(command("deploy", deploy.cmd_deploy, "deploy a bundle to a target and activate it "
                        "there: only missing files travel, every hash is verified, the switch "
                        "is atomic; a failure leaves the previous bundle active"))
    args_rollback(command("rollback", deploy.cmd_rollback, "roll a target back to its previous "
                          "bundle "
                          "(or to --to BUNDLE) in one action: code, data, scenarios and "
                          "endpoints"))
    args_deployments(command("deployments", deploy.cmd_deployments,
                             "a target's deployment history, newest first"))

    nodes = command("nodes", deploy.cmd_nodes_list, "registered production nodes: list (default), "
                    "register, remove")
    node_actions = nodes.add_subparsers(dest="node_action", metavar="ACTION",
                                        parser_class=type(nodes))
    command("list", deploy.cmd_nodes_list, "list registered nodes", parent=node_actions)
    p = command("register", deploy.cmd_nodes_register, "register (or update) a node by name; its "
                "token stays in an environment variable", parent=node_actions)
    p.add_argument("name", metavar="NAME")
    p.add_argument("url", metavar="URL", help="the node's address, e.g. http://prod-host:8765")
    p.add_argument("--token-env", metavar="VAR",
                   help=f"environment variable holding its token (default ${TOKEN_ENV})")
    p = command("remove", deploy.cmd_nodes_remove,
                "forget a registered node (the node is untouched)",
                parent=node_actions)
    p.add_argument("name", metavar="NAME")

    p = command("node", deploy.cmd_node, "run this folder as a headless production node: a "
                "token-authenticated REST API receiving bundles, and the active bundle's "
                "scheduler and endpoints; Ctrl-C or SIGTERM stops it gracefully")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; put anything public behind "
                        "TLS)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free "
                   "one)")
    p.add_argument("--token", help=f"the token clients must send (prefer ${TOKEN_ENV} or "
                   "--token-file: a command line is visible to other users)")
    p.add_argument("--token-file", metavar="FILE",
                   help="file of accepted tokens, one a line (`name:token` or a bare token)")
    p.add_argument("--name", help="the node's name (default: the project's name)")
    p.add_argument("--ready-file", metavar="FILE",
                   help="write {url, port, pid} here once the node accepts requests")
    p.add_argument("--no-services", action="store_true",
                   help="serve the API only: do not start the active bundle's scheduler and "
                        "endpoints")
    p.add_argument("--sync-interval", type=float, default=3.0, metavar="SECONDS",
                   help="how often to pick up a deployment made to this folder by another "
                        "process (default 3)")
    p.add_argument("--serve-port", type=int, default=None, metavar="PORT",
                   help="serve the active bundle's endpoints on this port (0 picks a free one; "
                        "default: not served)")
    p.add_argument("--serve-host", default=None, metavar="HOST",
                   help="address for the endpoints (default: --host; beyond loopback every "
                        "endpoint needs an API key)")
    p.add_argument("--serve-workers", type=int, default=None, metavar="N",
                   help="endpoint worker processes (default: one per core)")


# -- bundles ----------------------------------------------------------------------------------
def cmd_create(ctx) -> int:
    view = ctx.project.bundles.create(ctx.ns.message)
    ctx.emit(view, created_line(view) + f"\nbundle {view['id']}")
    return 0


def cmd_preview(ctx) -> int:
    view = ctx.project.bundles.preview()
    ctx.emit(view, "\n".join(preview_lines(view)))
    return 0


def cmd_list(ctx) -> int:
    data = ctx.project.bundles.list(limit=ctx.ns.limit)
    if ctx.json:
        ctx.emit(data, "")
    elif not data["bundles"]:
        ctx.out("no bundles yet: `mlprod bundle create -m MESSAGE` makes one")
    else:
        ctx.out(text_table(BUNDLE_HEADERS, bundle_rows(data["bundles"])))
        if data["total"] > len(data["bundles"]):
            ctx.out(f"({len(data['bundles'])} of {data['total']}; --limit N shows more)")
    return 0


def cmd_show(ctx) -> int:
    view = ctx.project.bundles.show(ctx.ns.bundle)
    ctx.emit(view, "\n".join(bundle_lines(view, files=ctx.ns.files, packages=ctx.ns.packages)))
    return 0


def cmd_diff(ctx) -> int:
    diff = ctx.project.bundles.diff(ctx.ns.a, ctx.ns.b)
    ctx.emit(diff, "\n".join(diff_lines(diff)))
    return 0


def cmd_verify(ctx) -> int:
    result = ctx.project.bundles.verify(ctx.ns.bundle)
    ctx.emit(result, "\n".join(verify_lines(result)))
    return 0 if result["ok"] else EXIT_NOT_OK


def cmd_export(ctx) -> int:
    ns = ctx.ns
    result = ctx.project.bundles.export(ns.bundle, ns.output, compress=ns.gzip,
                                        overwrite=ns.force)
    ctx.emit(result, f"wrote {result['path']} ({fmt_size(result['size'])}, bundle "
                     f"{result['bundle_id'][:12]}, {counted(result['blobs'], 'file content')})")
    return 0


def cmd_import(ctx) -> int:
    view = ctx.project.bundles.import_archive(ctx.ns.archive, expect_id=ctx.ns.expect)
    verb = "was already here" if view["already_present"] else "imported"
    ctx.emit(view, f"bundle {view['short_id']} {verb}: {counted(view['file_count'], 'file')}, "
                   f"{fmt_size(view['total_size'])}, {counted(view['new_blobs'], 'new file content')}")
    return 0


def cmd_lock(ctx) -> int:
    bundles = ctx.project.bundles
    text = bundles.environment_lock(ctx.ns.bundle)
    if ctx.json:
        ctx.emit({"bundle_id": bundles.resolve(ctx.ns.bundle), "requirements": text}, "")
    else:
        ctx.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
