"""The `privscan` command: wires the sub-commands together and turns user errors into one-line messages."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.text import Text

from privscan import __version__
from privscan.cli import attributes, native_log, weights_cmd
from privscan.cli.common import err_console, state
from privscan.errors import PrivscanError
from privscan.io.names import printable

app = typer.Typer(
    name="privscan",
    help="Audit photos for private information (faces, names, card numbers, addresses, documents, nudity, "
    "GPS, ...) and write redacted copies. Everything runs offline.",
    rich_markup_mode="rich",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
train_app = typer.Typer(help="Reproduce the published models on their datasets.", no_args_is_help=True)
evaluate_app = typer.Typer(help="The papers' metrics for a checkpoint on a test split.", no_args_is_help=True)
app.add_typer(train_app, name="train")
app.add_typer(evaluate_app, name="evaluate")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"privscan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks for errors.")] = False,
) -> None:
    state.debug = debug


app.command("attributes")(attributes.attributes_command)
app.add_typer(weights_cmd.app, name="weights")


def _register_optional() -> None:
    """Commands built by their own modules; each module registers itself on the apps it needs."""
    from privscan.cli import audit, drag, privobfnet, redact, schema

    for module in (audit, redact, drag, privobfnet, schema):
        module.register(app=app, train_app=train_app, evaluate_app=evaluate_app)


_register_optional()


def main() -> None:
    """Console-script entry point."""
    native_log.install()
    try:
        app()
    except PrivscanError as e:
        if state.debug or "--debug" in sys.argv:
            raise
        err_console.print(Text.assemble(("error: ", "bold red"), printable(e.one_line())), soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)
