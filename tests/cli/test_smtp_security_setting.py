"""A mistyped smtp_security is a configuration error said in plain words, as every other
setting's, not a crash when the server starts."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import run
from tests.conftest import free_port


def test_it_refuses_an_unknown_smtp_security_in_plain_words(tmp_path: Path) -> None:
    assert run(["init"], tmp_path).returncode == 0
    config = tmp_path / "rostra.toml"
    config.write_text(config.read_text() + '\nsmtp_host = "127.0.0.1"\nsmtp_security = "ssl"\n'
                      'public_url = "https://comments.example"\n')
    for args in (["serve", "--port", str(free_port())], ["site", "list"]):
        result = run(args, tmp_path)
        assert result.returncode == 1, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert "smtp_security: Value error, must be starttls, tls or none" in result.stderr, \
            result.stderr
