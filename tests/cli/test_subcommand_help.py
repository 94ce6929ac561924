"""``polymodal fit --help`` starts with what a user types first: the short forms and the data options."""

from __future__ import annotations

import pytest

from polymodal.cli import main


@pytest.mark.parametrize("subcommand", ["fit", "validate", "test", "predict"])
def test_subcommand_help_starts_with_its_usage_and_first_options(subcommand, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main([subcommand, "--help"])
    assert done.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"usage: polymodal {subcommand} [short forms] [--config FILE] [options]"
    head = "\n".join(lines[:30])
    assert "--ckpt_path FILE" in head if subcommand != "fit" else "--method NAME" in head
    if subcommand == "fit":
        for option in ("--dataset NAME", "--method_options.KEY VALUE", "--data.train FILE", "--out DIR"):
            assert option in head
