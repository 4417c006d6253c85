"""Engines and models chosen by configuration and by the request's language, from the one model table."""

import shutil

import numpy as np
import pytest
from django.test import override_settings

from recognition import engines
from recognition.engines.models import find_model
from tests.pages import render_lines
from tests.test_engine_onnxruntime import read, reading_text


@pytest.fixture(autouse=True)
def fresh_engines(monkeypatch):
    # Each test sees its own cache of loaded engines, so settings overrides take effect.
    monkeypatch.setattr(engines, "_pools", {})


def test_default_model_reads_chinese_and_english():
    assert engines.model_for("ch").name == "PP-OCRv6_small"
    assert engines.model_for("en").name == "PP-OCRv6_small"


@override_settings(OCR_MODEL="PP-OCRv5_mobile")
def test_lang_picks_another_model_when_the_configured_one_cannot_read_it():
    assert engines.model_for("ch").name == "PP-OCRv5_mobile"
    # PP-OCRv5 reads ch, chinese_cht, en and japan only; French needs the PP-OCRv6 recogniser.
    assert engines.model_for("fr").name == "PP-OCRv6_small"
    loaded = engines.engine_for("ch")
    reading = read(loaded.engines[0].engine, np.asarray(render_lines(["白日依山尽"], face="serif")))
    assert reading_text(reading) == "白日依山尽"


def test_unknown_language_lists_what_is_available():
    with pytest.raises(engines.UnsupportedLanguage) as raised:
        engines.model_for("tlh")
    assert "ch" in raised.value.available


def test_one_engine_per_model_shared_by_its_languages():
    assert engines.engine_for("ch") is engines.engine_for("en")


def test_model_dir_overrides_the_packaged_files(tmp_path):
    spec = find_model("PP-OCRv6_small")
    packaged = spec.root()
    override = tmp_path / "PP-OCRv6_small"
    for part in ("det", "rec", "cls"):
        target = override / getattr(spec, part)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(packaged / getattr(spec, part), target)
    with override_settings(OCR_MODEL_DIR=str(tmp_path)):
        assert spec.root() == override
        reading = read(engines.engine_for("ch").engines[0].engine, np.asarray(render_lines(["黄河入海流"], face="serif")))
        assert reading_text(reading) == "黄河入海流"
    assert spec.root() == packaged


@override_settings(OCR_ENGINE="nonexistent")
def test_unknown_engine_is_unavailable():
    with pytest.raises(engines.EngineUnavailable, match="unknown OCR_ENGINE"):
        engines.engine_for("ch")
