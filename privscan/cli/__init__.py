"""Typer commands: parse options, call one engine function, render with rich. No logic here."""
