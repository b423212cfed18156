"""What the commands print reaches the user as written: brackets are text, not terminal markup; JSON is standard."""

from __future__ import annotations

import contextlib
import json

import pytest
import yaml

import nettwin.sim.ns3.engine
from nettwin.cli.output import error_line, print_json, print_table, progress_bar, status


def strict_json(text: str):
    def refuse(token: str):
        raise AssertionError(f"not standard JSON: {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("message", ["pip install 'nettwin[ns3]'", "unknown node '[red]x[/red]'", "[/x] and [bold]"])
def test_error_lines_keep_brackets(capsys, message):
    error_line(message)
    assert capsys.readouterr().err == f"error: {message}\n"


def test_tables_keep_brackets_in_title_caption_headers_and_cells(capsys):
    print_table("flows of [b]net[/b]", ["[n]", "value"], [["[red]x[/red]", 1.5], ["[/oops]", 2]], caption="[i]c[/i]")
    out = capsys.readouterr().out
    for text in ("flows of [b]net[/b]", "[n]", "[red]x[/red]", "[/oops]", "[i]c[/i]"):
        assert text in out


def test_status_and_progress_keep_brackets(capsys, monkeypatch):
    from rich.text import Text

    from nettwin.cli import output

    shown = []
    # A spinner draws nothing when output is not a terminal: look at the markup it is given instead.
    monkeypatch.setattr(output.console, "status", lambda text: shown.append(text) or contextlib.nullcontext())
    with status("simulating [red]net[/red]"):
        pass
    assert [Text.from_markup(t).plain for t in shown] == ["simulating [red]net[/red]"]
    with progress_bar("generating [bold]d[/bold]", 1) as advance:
        advance()
    assert "generating [bold]d[/bold]" in capsys.readouterr().err


def test_print_json_writes_missing_values_as_null(capsys):
    print_json({"delay": float("nan"), "load": [1.0, float("inf"), -float("inf")]})
    assert strict_json(capsys.readouterr().out) == {"delay": None, "load": [1.0, None, None]}


def test_a_node_named_like_markup_is_reported_as_written(run_main, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b"}]},
                "flows": [{"src": "[red]x[/red]", "dst": "b", "traffic": {"model": "cbr", "rate": "1kbps"}}],
            }
        )
    )
    res = run_main("simulate", str(path))
    assert res.code == 1
    assert res.stderr == "error: flows[0].src: unknown node '[red]x[/red]'\n"


def test_the_missing_ns3_hint_names_the_extra(run_main, tiny_scenario, monkeypatch):
    monkeypatch.setattr(nettwin.sim.ns3.engine, "ns3_available", lambda: False)
    res = run_main("simulate", str(tiny_scenario), "--engine", "ns3")
    assert res.code == 1
    assert "pip install 'nettwin[ns3]'" in res.stderr


def test_simulate_json_output_is_standard_json(run_main, tiny_scenario, tmp_path):
    out = tmp_path / "res.json"
    res = run_main("simulate", str(tiny_scenario), "--format", "json", "--out", str(out))
    assert res.code == 0, res.stderr
    assert strict_json(res.stdout) == strict_json(out.read_text())
