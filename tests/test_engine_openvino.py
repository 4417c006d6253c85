"""OCR_RUNTIME=openvino: the onnxruntime engine's PP-OCRv6 small models run on OpenVINO, through the same page
pipeline, and read the rendered pages as ONNX Runtime does; without OpenVINO the engine and the system
check say what to install."""

import importlib.util

import numpy as np
import pytest
from django.test import override_settings

from ocrsite import checks as ocr_checks
from recognition import engines
from recognition.engines.models import find_model
from recognition.engines.onnxruntime_engine import OnnxRuntimeEngine
from tests.pages import encode, render_lines, render_vertical_rl

# The reading tests of the ONNX Runtime engine, collected again here so that they run on this module's
# `engine` fixture: OpenVINO must pass exactly what ONNX Runtime passes.
from tests.test_engine_onnxruntime import (  # noqa: F401 (collected by pytest)
    CHINESE,
    ENGLISH,
    GENEALOGY,
    read,
    test_blank_page_has_no_lines,
    test_line_classifier_alone_settles_an_upside_down_page,
    test_reads_chinese_lines_exactly,
    test_reads_english_lines,
    test_reads_vertical_right_to_left_columns,
    test_upside_down_page_is_turned_and_read,
)
from tests.test_recognize_errors import assert_error, post


@pytest.fixture(scope="module")
def engine():
    return OnnxRuntimeEngine(find_model("PP-OCRv6_small"), threads=2, use_gpu=False, runtime="openvino")


@pytest.fixture(scope="module")
def onnxruntime_engine():
    return OnnxRuntimeEngine(find_model("PP-OCRv6_small"), threads=2, use_gpu=False, runtime="onnxruntime")


@pytest.fixture
def fresh_engines(monkeypatch):
    # The test's own cache of loaded engines, so that its settings take effect.
    monkeypatch.setattr(engines, "_pools", {})


def lines_of(engine, image: np.ndarray, **options) -> list[str]:
    return [line.text for group in read(engine, image, **options).groups for line in group]


def test_models_run_on_openvino_in_full_precision(engine):
    import openvino

    for step in (engine._detector, engine._recognizer, engine._classifier):
        assert type(step.session).__module__.startswith("rapidocr.inference_engine.openvino")
        # Not the bf16 OpenVINO picks by itself on CPUs with AVX512_BF16 or AMX.
        compiled = step.session.session.get_compiled_model()
        assert compiled.get_property("INFERENCE_PRECISION_HINT") == openvino.Type.f32


@pytest.mark.parametrize("page, options", [
    (lambda: render_lines(CHINESE, face="serif"), {}),
    (lambda: render_lines(ENGLISH, face="latin", size=32), {}),
    (lambda: render_vertical_rl(GENEALOGY, face="kai", size=40, ruled=True), {"text_layout": "vertical_rl"}),
    (lambda: render_lines(CHINESE, face="serif").rotate(180), {}),
], ids=["chinese", "english", "vertical", "upside_down"])
def test_same_lines_as_onnxruntime(engine, onnxruntime_engine, page, options):
    image = np.asarray(page())
    assert lines_of(engine, image, **options) == lines_of(onnxruntime_engine, image, **options)


def test_recognition_batches_give_the_same_text(engine):
    # More lines than one batch: the lines are padded to the widest of their batch, which must not
    # change what is read.
    crops = [np.asarray(render_lines([text], face="serif", margin=8)) for text in CHINESE + GENEALOGY + CHINESE]
    one_by_one = OnnxRuntimeEngine(find_model("PP-OCRv6_small"), threads=1, use_gpu=False, runtime="openvino",
                                   rec_batch=1)
    assert [r.text for r in engine.recognize(crops)] == [r.text for r in one_by_one.recognize(crops)]
    assert [r.text for r in engine.recognize(crops)] == CHINESE + GENEALOGY + CHINESE


@override_settings(OCR_RUNTIME="openvino")
def test_setting_selects_openvino(fresh_engines):
    loaded = engines.engine_for("ch").engines[0].engine
    assert loaded.runtime == "openvino"
    assert lines_of(loaded, np.asarray(render_lines(["白日依山尽"], face="serif"))) == ["白日依山尽"]
    assert ocr_checks.check_ocr_model() == []


def without_openvino(monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None if name == "openvino"
                        else find_spec(name, *args))


@override_settings(OCR_RUNTIME="openvino")
def test_missing_openvino_is_unavailable_with_the_fix(fresh_engines, monkeypatch):
    without_openvino(monkeypatch)
    with pytest.raises(engines.EngineUnavailable, match="OCR_RUNTIME=openvino needs the Python package 'openvino'"):
        engines.engine_for("ch")
    body = assert_error(post(encode(render_lines(["测试"], face="sans"))), 503, "ENGINE_UNAVAILABLE")
    assert "openvino" in body["message"]
    [message] = ocr_checks.check_ocr_model()
    assert message.id == "ocr.E003"
    assert "OCR_RUNTIME=openvino needs the Python package 'openvino'" in message.msg
    assert message.hint.startswith("pip install -r requirements.txt") and "full image" in message.hint


@override_settings(OCR_RUNTIME="openvino")
def test_model_openvino_cannot_read_is_unavailable(fresh_engines, tmp_path):
    spec = find_model("PP-OCRv6_small")
    for part in ("det", "rec", "cls"):
        target = tmp_path / spec.name / getattr(spec, part)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"not an ONNX model")
    with override_settings(OCR_MODEL_DIR=str(tmp_path)):
        with pytest.raises(engines.EngineUnavailable, match="OCR model PP-OCRv6_small failed to load"):
            engines.engine_for("ch")


@override_settings(OCR_RUNTIME="tensorflow")
def test_unknown_runtime_is_unavailable(fresh_engines):
    with pytest.raises(engines.EngineUnavailable, match="unknown OCR_RUNTIME 'tensorflow'"):
        engines.engine_for("ch")
    [message] = ocr_checks.check_ocr_model()
    assert "OCR_RUNTIME='tensorflow' is not a runtime" in message.msg


@override_settings(OCR_RUNTIME="openvino", OCR_USE_GPU=True)
def test_gpu_needs_onnxruntime(fresh_engines):
    with pytest.raises(engines.EngineUnavailable, match="OCR_USE_GPU"):
        engines.engine_for("ch")
    [message] = ocr_checks.check_ocr_model()
    assert "OCR_USE_GPU=true runs on ONNX Runtime" in message.msg
