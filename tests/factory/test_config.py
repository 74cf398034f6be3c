from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from factory.config import ConfigFile, FactoryConfig, config_keys, load_config
from factory.errors import ConfigError


def test_defaults_describe_the_stdlib_corpus() -> None:
    cfg = FactoryConfig.from_dict({})
    assert [s.kind for s in cfg.sources] == ["stdlib"]
    assert cfg.task.kind == "text"
    assert cfg.embedding.model == "all-MiniLM-L6-v2"


def test_unknown_key_is_named_with_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        FactoryConfig.from_dict({"embedding": {"modle": "x"}})
    message = str(info.value)
    assert "unknown key 'modle' in embedding" in message
    assert "'model'" in message
    assert "'batch_size'" in message


def test_unknown_key_inside_a_source_list_item() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'paht' in sources\[0\]; expected one of"):
        FactoryConfig.from_dict({"sources": [{"id": "a", "kind": "jsonl", "paht": "x.jsonl"}]})


def test_wrong_value_shows_the_value() -> None:
    with pytest.raises(ConfigError, match=r"task\.kind.*'translation'"):
        FactoryConfig.from_dict({"task": {"kind": "translation"}})


def test_source_needs_its_path() -> None:
    with pytest.raises(ConfigError, match="needs `path`"):
        FactoryConfig.from_dict({"sources": [{"id": "a", "kind": "csv"}]})


def test_splits_must_leave_train_rows() -> None:
    with pytest.raises(ConfigError, match="leaves no train rows"):
        FactoryConfig.from_dict({"splits": {"validation": 0.5, "test": 0.5}})


def test_duplicate_source_ids_rejected() -> None:
    sources = [{"id": "a", "kind": "stdlib"}, {"id": "a", "kind": "stdlib"}]
    with pytest.raises(ConfigError, match="repeated"):
        FactoryConfig.from_dict({"sources": sources})


def test_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "factory.yaml").write_text(
        "home: out\nsources:\n  - {id: d, kind: jsonl, path: d.jsonl}\n"
    )
    cfg = load_config(tmp_path / "factory.yaml")
    assert cfg.home_dir == (tmp_path / "out").resolve()
    assert cfg.resolve(cfg.sources[0].path or "") == (tmp_path / "d.jsonl").resolve()


def test_lineage_is_on_by_default_and_can_be_turned_off() -> None:
    assert FactoryConfig.from_dict({}).lineage.enabled is True
    assert FactoryConfig.from_dict({"lineage": {"enabled": False}}).lineage.enabled is False
    with pytest.raises(ConfigError, match="unknown key 'enable' in lineage"):
        FactoryConfig.from_dict({"lineage": {"enable": False}})


def test_config_files_share_one_path_base(tmp_path: Path) -> None:
    from factory.experiments import UtilityExperimentConfig

    data = {"home": "out", "data": {"train_path": "t.csv", "test_path": "s.csv"}}
    for cfg in (
        FactoryConfig.from_dict({"home": "out"}, base_dir=tmp_path),
        UtilityExperimentConfig.from_dict(data, base_dir=tmp_path),
    ):
        assert isinstance(cfg, ConfigFile)
        assert cfg.base_dir == tmp_path.resolve()
        assert cfg.home_dir == (tmp_path / "out").resolve()
        assert cfg.resolve("/abs/x") == Path("/abs/x")
    with pytest.raises(ConfigError, match=r"^invalid experiment config: unknown key 'x'"):
        UtilityExperimentConfig.from_dict({**data, "x": 1})


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("home: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a string\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(scalar)


def test_every_key_has_a_description() -> None:
    keys = config_keys()
    assert "sources[].license" in keys
    assert "embedding.allow_remote" in keys
    assert [k for k, d in keys.items() if not d.strip()] == []


@pytest.mark.parametrize(
    "example",
    # utility.yaml is an experiment config (tests/factory/experiments/test_experiment_config.py)
    sorted(p for p in Path("examples").glob("*.yaml") if p.name != "utility.yaml"),
)
def test_shipped_examples_are_valid(example: Path) -> None:
    assert load_config(example).sources


PASTED = "hf_PastedKeyAbCdEf1234567890xyzUVW"
ENV_FIELDS = [
    ("embedding", "api_key_env"),
    ("teacher", "api_key_env"),
    ("execution", "password_env"),
]


@pytest.mark.parametrize(("section", "key"), ENV_FIELDS)
@pytest.mark.parametrize(
    "pasted",
    [PASTED, "sk-proj-0123456789abcdefghijKLMNOP", "a9F3kLm2Qx7Zp0Rt5Wv8YbNc", "hunter2!"],
)
def test_a_key_pasted_as_a_variable_name_is_refused_without_echo(
    section: str, key: str, pasted: str
) -> None:
    with pytest.raises(ConfigError) as info:
        FactoryConfig.from_dict({section: {key: pasted}})
    message = str(info.value)
    assert f"{section}.{key}" in message
    assert "NAME of an environment variable" in message
    assert f"{len(pasted)}-character" in message
    assert pasted not in message
    # built directly, the model's own error does not echo it either, nor does its repr
    model = type(getattr(FactoryConfig(), section))
    with pytest.raises(ValidationError, match="NAME of an environment variable") as direct:
        model(**{key: pasted})
    assert pasted not in str(direct.value)
    config = model()
    with pytest.raises(ValidationError, match="NAME of an environment variable") as assigned:
        setattr(config, key, pasted)
    assert pasted not in str(assigned.value)
    assert pasted not in repr(config)


@pytest.mark.parametrize(("section", "key"), ENV_FIELDS)
@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "my_teacher_key", "_KEY2", "HF_TOKEN"])
def test_variable_names_are_accepted(section: str, key: str, name: str) -> None:
    config = FactoryConfig.from_dict({section: {key: name}})
    assert getattr(getattr(config, section), key) == name


def test_endpoint_credentials_are_used_but_never_dumped() -> None:
    url = "https://bob:Hunter2Pw@127.0.0.1:8080/v1?api_key=QueryKey99&api-version=2"
    config = FactoryConfig.from_dict(
        {"embedding": {"base_url": url}, "teacher": {"backend": "openai", "base_url": url}}
    )
    assert config.teacher.base_url == url  # the client sends them
    for dumped in (
        repr(config.model_dump()),
        config.model_dump_json(),
        repr(config.teacher.model_dump(mode="json")),
        config.embedding.model_dump_json(),
    ):
        assert "Hunter2Pw" not in dumped
        assert "QueryKey99" not in dumped
        assert "https://127.0.0.1:8080/v1?api_key=***&api-version=2" in dumped
    kept = config.model_dump(mode="json", context={"keep_credentials": True})
    assert kept["teacher"]["base_url"] == url
