"""`rostra serve --host` names in plain words a host it cannot listen on, before any
server starts: a name that does not resolve, an address of another machine."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import run
from tests.conftest import free_port


def test_it_says_plainly_that_it_cannot_listen_on_the_host(tmp_path: Path) -> None:
    assert run(["init"], tmp_path).returncode == 0
    port = str(free_port())
    for host, message in [
        ("no-such-host.invalid", "Error: cannot listen on 'no-such-host.invalid': not an "
                                 "address or a name of this machine (--host or the setting host)"),
        ("192.0.2.7", "Error: cannot listen on 192.0.2.7: not an address of this machine "
                      "(--host or the setting host)"),
    ]:
        result = run(["serve", "--host", host, "--port", port], tmp_path)
        assert result.returncode == 1, result.stderr
        assert result.stderr.strip().splitlines()[-1] == message
        assert "Traceback" not in result.stderr
