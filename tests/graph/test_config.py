"""Configuration: TOML, environment overrides, and one clear line for every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.transport import TLS
from graph.config import ConfigError, load_settings, secrets_in
from tests.connectors.test_tls import KEY_PASSWORD, PKI, make_pki

GOOD = """
[server]
port = 9000

[sources.flarum]
url = "http://127.0.0.1:9104"
api_key = "k"
api_user_id = 1
allow_service_fallback = true
timeout_s = 5
cache_ttl_s = 15
cache_ttl_by_call = ["GET /api = 300", "GET /api/discussions=0"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "legacygraph.toml"
    path.write_text(text)
    return path


def test_a_good_file_is_read_into_typed_settings(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.server.port == 9000 and settings.server.host == "127.0.0.1"
    flarum = settings.sources.flarum
    assert flarum is not None
    assert (flarum.url, flarum.timeout_s, flarum.api_user_id, flarum.allow_service_fallback) == (
        "http://127.0.0.1:9104",
        5.0,
        1,
        True,
    )
    assert "api_key" not in repr(flarum)  # secrets stay out of reprs and logs
    assert flarum.cache_ttl_s == 15.0
    assert flarum.call_ttls() == {"GET /api": 300.0, "GET /api/discussions": 0.0}


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    settings = load_settings(
        None,
        {
            "LEGACYGRAPH_CONFIG": str(path),
            "LEGACYGRAPH_SOURCES__FLARUM__URL": "https://forum.example.org",
            "LEGACYGRAPH_SOURCES__FLARUM__ALLOW_SERVICE_FALLBACK": "false",
            "LEGACYGRAPH_SERVER__PORT": "8100",
        },
    )
    assert settings.sources.flarum is not None
    assert settings.sources.flarum.url == "https://forum.example.org"
    assert settings.sources.flarum.allow_service_fallback is False
    assert settings.server.port == 8100


def test_no_file_and_no_environment_means_no_sources() -> None:
    assert load_settings(None, {}).sources.configured() == {}


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        (
            None,
            {"LEGACYGRAPH_CONFIG": "/nowhere/legacygraph.toml"},
            "/nowhere/legacygraph.toml: no such config file",
        ),
        ("[server\nport = 1", {}, "not valid TOML"),
        ("[server]\nprot = 1", {}, "server.prot: unknown key"),
        ("[sources.moodel]\nurl = 'http://x'", {}, "sources.moodel: unknown key"),
        (
            "[sources.flarum]\nurl = 'ftp://files'",
            {},
            "sources.flarum.url: must be an http(s) URL, got 'ftp://files'",
        ),
        (
            "[sources.flarum]\nurl = 'http://x'\ntimeout_s = 'soon'",
            {},
            "sources.flarum.timeout_s: must be a number",
        ),
        ("[server]\nport = 70000", {}, "server.port: must be between 1 and 65535"),
        (
            "[sources.flarum]\nurl = 'http://x'\ncache_ttl_by_call = ['GET /api']",
            {},
            "sources.flarum.cache_ttl_by_call: 'GET /api' is not call=seconds",
        ),
        (
            "[cache]\nurl = 'redis://127.0.0.1:6379/0'",
            {},
            "cache.secret: a shared cache needs a secret of at least 16 characters",
        ),
        ("[cache]\nurl = 'http://cache'", {}, "cache.url: must be a redis://"),
        ("[graphql]\npersisted_only = true", {}, "graphql.persisted_only: needs persisted_queries"),
        ("[server]\nlog_format = 'xml'", {}, "server.log_format: must be text or json, got 'xml'"),
        (
            "[sources.flarum]\nurl = 'http://x'\ncache_ttl_s = -1",
            {},
            "sources.flarum.cache_ttl_s: must not be negative",
        ),
        (
            "[sources.flarum]\nurl = 'http://x'\nallow_service_fallback = true",
            {},
            "needs api_key and api_user_id",
        ),
        (
            None,
            {"LEGACYGRAPH_SERVER__PORT": "eighty"},
            "environment variable LEGACYGRAPH_SERVER__PORT: server.port: must be an integer, "
            "got 'eighty'",
        ),
        (
            "[sources.moodle]\nurl = 'http://localhost:99999'",
            {},
            "sources.moodle.url: the port must be between 1 and 65535, got "
            "'http://localhost:99999'",
        ),
        (
            "[sources.moodle]\nurl = 'http://localhost:0/moodle'",
            {},
            "sources.moodle.url: the port must be between 1 and 65535",
        ),
        (
            "[sources.moodle]\nurl = 'https://moodle.example.org:https'",
            {},
            "sources.moodle.url: the port must be between 1 and 65535",
        ),
        ("[sources.moodle]\nurl = 'http:///moodle'", {}, "sources.moodle.url: must be an http(s)"),
    ],
)
def test_every_mistake_is_one_line_naming_file_key_and_problem(
    tmp_path: Path, text: str | None, environ: dict[str, str], message: str
) -> None:
    path = write(tmp_path, text) if text is not None else None
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ)
    line = str(caught.value)
    assert message in line
    assert "\n" not in line
    if path is not None:
        assert line.startswith(str(path))


def test_the_documented_production_config_is_valid(tmp_path: Path) -> None:
    page = (Path(__file__).parents[2] / "docs/operations/index.md").read_text()
    sample = page.split("A production config", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    settings = load_settings(write(tmp_path, sample))
    assert settings.cache.url.startswith("redis://") and settings.server.log_format == "json"
    assert set(settings.sources.configured()) == {"moodle", "civicrm"}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"LEGACYGRAPH_SERVER__PROT": "8100"},
            "environment variable LEGACYGRAPH_SERVER__PROT: server.prot: unknown key",
        ),
        (
            {"LEGACYGRAPH_SOURCES__MOODEL__URL": "http://127.0.0.1:9101"},
            "environment variable LEGACYGRAPH_SOURCES__MOODEL__URL: sources.moodel: unknown key",
        ),
        (
            {"LEGACYGRAPH_SOURCES__FLARUM__URL": "http://forum.example.org:70000"},
            "environment variable LEGACYGRAPH_SOURCES__FLARUM__URL: sources.flarum.url: the port "
            "must be between 1 and 65535, got 'http://forum.example.org:70000'",
        ),
        (
            {"LEGACYGRAPH_SERVER__PORT__HTTP": "8100"},
            "environment variable LEGACYGRAPH_SERVER__PORT__HTTP: server.port.http overrides a "
            "value, not a table",
        ),
        (
            {"LEGACYGRAPH_SERVER_PORT": "8100"},
            "environment variable LEGACYGRAPH_SERVER_PORT: a section and its keys are separated "
            "by two underscores (LEGACYGRAPH_<SECTION>__<KEY>)",
        ),
    ],
)
def test_a_mistake_in_an_environment_variable_names_the_variable_not_the_file(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    path = write(tmp_path, GOOD)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ)
    assert str(caught.value) == message


def test_a_mistake_in_the_file_still_names_the_file_beside_environment_overrides(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, GOOD + "timeout = 5\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {"LEGACYGRAPH_SOURCES__FLARUM__TIMEOUT_S": "3"})
    assert str(caught.value) == f"{path}: sources.flarum.timeout: unknown key"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[server]\nport = "8000"', "server.port: must be an integer, got '8000'"),
        ("[server]\nport = 8000.0", "server.port: must be an integer, got 8000.0"),
        ("[server]\naccess_log = 1", "server.access_log: must be true or false, got 1"),
        (
            "[sources.flarum]\nurl = 'http://x'\nverify = 'no'",
            "sources.flarum.verify: must be true or false, got 'no'",
        ),
        ("[federation]\nversion = 2.9", "federation.version: must be a string, got 2.9"),
        ("server = 3", "server: must be a table"),
        ("[sources]\nflarum = 'http://x'", "sources.flarum: must be a table"),
    ],
)
def test_the_files_values_are_read_as_toml_typed_them(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value) == f"{path}: {message}"


def test_text_from_the_environment_is_read_as_each_keys_type() -> None:
    settings = load_settings(
        None,
        {
            "LEGACYGRAPH_SOURCES__ELGG__URL": "http://127.0.0.1:9103",
            "LEGACYGRAPH_SOURCES__ELGG__API_KEY": "public",
            "LEGACYGRAPH_SOURCES__ELGG__SECRET": "s3cret",
            "LEGACYGRAPH_SOURCES__ELGG__TIMEOUT_S": "2.5",
            "LEGACYGRAPH_SOURCES__ELGG__MAX_CONCURRENCY": "3",
            "LEGACYGRAPH_SOURCES__ELGG__VERIFY": "0",
            "LEGACYGRAPH_SOURCES__ELGG__OVERRIDES": "members=groups.members, activity=river.list",
            "LEGACYGRAPH_SERVER__ACCESS_LOG": "False",
            "LEGACYGRAPH_IDEMPOTENCY__WAIT_S": "3",
        },
    )
    elgg = settings.sources.elgg
    assert elgg is not None and settings.sources.configured() == {"elgg": elgg}
    assert (elgg.timeout_s, elgg.max_concurrency, elgg.verify) == (2.5, 3, False)
    assert elgg.overrides == ("members=groups.members", "activity=river.list")
    assert settings.server.access_log is False and settings.idempotency.wait_s == 3.0
    for text, read in (("yes", True), ("No", False), ("", False), ("TRUE", True)):
        found = load_settings(None, {"LEGACYGRAPH_SERVER__ACCESS_LOG": text})
        assert found.server.access_log is read, text
    with pytest.raises(ConfigError) as caught:
        load_settings(None, {"LEGACYGRAPH_SERVER__ACCESS_LOG": "maybe"})
    assert str(caught.value) == (
        "environment variable LEGACYGRAPH_SERVER__ACCESS_LOG: server.access_log: must be true or "
        "false, got 'maybe'"
    )
    for text in ("5.0", "1e3"):  # an integer is written as one
        with pytest.raises(ConfigError, match="must be an integer"):
            load_settings(None, {"LEGACYGRAPH_SOURCES__FLARUM__API_USER_ID": text})


def test_a_section_the_environment_makes_is_checked_and_names_the_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, {"LEGACYGRAPH_SOURCES__MOODLE__URL": "ftp://files.example.org"})
    assert str(caught.value) == (
        "environment variable LEGACYGRAPH_SOURCES__MOODLE__URL: sources.moodle.url: must be an "
        "http(s) URL, got 'ftp://files.example.org'"
    )
    elgg = {
        "LEGACYGRAPH_SOURCES__ELGG__URL": "http://127.0.0.1:9103",
        "LEGACYGRAPH_SOURCES__ELGG__API_KEY": "public",
        "LEGACYGRAPH_SOURCES__ELGG__SECRET": "s3cret",
        "LEGACYGRAPH_SOURCES__ELGG__OVERRIDES": "members=groups.members, river=river.list",
    }
    with pytest.raises(ConfigError) as caught:
        load_settings(None, elgg)
    assert str(caught.value).startswith(
        "environment variable LEGACYGRAPH_SOURCES__ELGG__OVERRIDES: sources.elgg.overrides: "
        "'river=river.list': an override is role=method"
    )


@pytest.mark.parametrize(
    ("text", "message", "secret"),
    [
        (
            "[cache]\nurl = 'redis://127.0.0.1:6379/0'\nsecret = 7314159265358979323",
            "cache.secret: must be a string",
            "7314159265358979323",
        ),
        (
            "[session]\nkeys = 'c2VjcmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzISE='",
            "session.keys: must be a list of strings",
            "c2VjcmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzISE",
        ),
        (
            "[sources.civicrm]\nurl = 'http://x'\nsite_key = ['sk-8c1f77a0e5']",
            "sources.civicrm.site_key: must be a string",
            "sk-8c1f77a0e5",
        ),
    ],
)
def test_a_secret_of_the_wrong_type_is_not_repeated(
    tmp_path: Path, text: str, message: str, secret: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value) == f"{path}: {message}"
    assert secret not in str(caught.value)


def test_other_legacygraph_variables_are_left_alone() -> None:
    environ = {"LEGACYGRAPH_DIR": "/src/legacygraph", "LEGACYGRAPH_SERVE_ARGS": "--workers 2"}
    assert load_settings(None, environ).sources.configured() == {}


# --- per source: TLS trust, client certificate, proxy ------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return make_pki(tmp_path_factory.mktemp("pki"))


def test_tls_and_proxy_are_read_and_their_secrets_kept_out_of_reprs(
    tmp_path: Path, pki: PKI
) -> None:
    text = f"""
[sources.flarum]
url = "https://forum.example.org"
ca_file = "{pki.ca}"
client_cert = "{pki.client_cert}"
client_key = "{pki.client_key}"
client_key_password = "{KEY_PASSWORD}"
proxy = "http://gateway:pr0xy-pa%24%24@proxy.example.org:3128"
"""
    settings = load_settings(write(tmp_path, text))
    flarum = settings.sources.flarum
    assert flarum is not None
    assert flarum.tls() == TLS(
        ca_file=str(pki.ca),
        client_cert=str(pki.client_cert),
        client_key=str(pki.client_key),
        client_key_password=KEY_PASSWORD,
    )
    assert flarum.proxy == "http://gateway:pr0xy-pa%24%24@proxy.example.org:3128"
    for secret in (KEY_PASSWORD, "pr0xy-pa"):
        assert secret not in repr(settings)
    assert {KEY_PASSWORD, flarum.proxy} <= set(secrets_in(settings))  # what the logs take out


def test_tls_defaults_to_the_system_trust_checked_and_no_proxy(tmp_path: Path) -> None:
    flarum = load_settings(write(tmp_path, GOOD)).sources.flarum
    assert flarum is not None
    assert (flarum.tls(), flarum.tls().context(), flarum.proxy) == (TLS(), None, "")
    unchecked = load_settings(
        write(tmp_path, GOOD), {"LEGACYGRAPH_SOURCES__FLARUM__VERIFY": "false"}
    ).sources.flarum
    assert unchecked is not None and unchecked.tls() == TLS(verify=False)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ('ca_file = "/nowhere/ca.pem"', "sources.flarum.ca_file: no such file: /nowhere/ca.pem"),
        ('ca_file = "{pki.client_key}"', "sources.flarum.ca_file: no PEM certificate in"),
        (
            'verify = false\nca_file = "{pki.ca}"',
            "sources.flarum.ca_file: cannot go with verify = false",
        ),
        ('client_key = "{pki.client_key}"', "sources.flarum.client_key: needs client_cert"),
        ('client_cert = "/nowhere/client.pem"', "sources.flarum.client_cert: no such file"),
        (
            'client_cert = "{pki.client_cert}"\nclient_key = "{pki.client_key}"\n'
            'client_key_password = "not the password"',
            "sources.flarum.client_key: cannot load",
        ),
        (
            'client_cert = "{pki.client_cert}"\nclient_key = "{pki.client_key}"',
            "sources.flarum.client_key: the key is encrypted: client_key_password is needed",
        ),
        (
            'client_cert = "{pki.client_cert}"',  # the certificate alone, no key
            "sources.flarum.client_cert: cannot load a certificate and its key",
        ),
        (
            'client_key_password = "not the password"',
            "sources.flarum.client_key_password: needs client_cert",
        ),
        (
            'proxy = "socks5://gateway:pr0xy-pa55@127.0.0.1:1080"',
            "sources.flarum.proxy: must be an http:// or https:// URL such as "
            "http://proxy.example.org:3128 (SOCKS proxies are not supported), got "
            "'socks5://[redacted]@127.0.0.1:1080'",
        ),
        (
            'proxy = "http://gateway:pr0xy-pa55@proxy.example.org:3128/path"',
            "sources.flarum.proxy: must be scheme://[user:password@]host[:port] only, got "
            "'http://[redacted]@proxy.example.org:3128/path'",
        ),
        ('proxy = "http://proxy.example.org:99999"', "sources.flarum.proxy: not a URL"),
        ('proxy = "proxy.example.org:3128"', "sources.flarum.proxy: must be an http://"),
    ],
)
def test_every_tls_or_proxy_mistake_is_one_line_naming_the_key(
    tmp_path: Path, pki: PKI, keys: str, message: str
) -> None:
    text = "[sources.flarum]\nurl = 'https://forum.example.org'\n" + keys.format(pki=pki)
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    line = str(caught.value)
    assert line.startswith(f"{path}: ")
    assert message in line
    assert "\n" not in line
    assert "pr0xy-pa55" not in line and "not the password" not in line
