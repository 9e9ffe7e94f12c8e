"""The one ``error:`` line a command gives for bad input (exit 2, no traceback)."""

from __future__ import annotations


def one_error_line(result) -> str:
    """The output of a CliRunner ``result``: exit 2 and a single line starting ``error:``."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error:"), result.output
    assert "Traceback" not in result.output
    return lines[0]
