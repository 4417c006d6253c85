"""Page orientation: the page classifier on real pages turned four ways, where it is consulted, and where
its model comes from."""

import shutil

import numpy as np
import pytest
from django.test import override_settings

from recognition.engines.models import PAGE_ORIENTATION_MODEL
from recognition.pipeline import geometry
from recognition.pipeline.orientation import PageOrientationClassifier, is_page_shaped, page_turn
from tests.pages import render_lines, render_vertical_rl

PAGES = {
    "chinese": render_lines(["文物部门在古城遗址中新发现一批陶器和青铜器。", "铁路部门介绍，春运期间将加开临时旅客列车。",
                             "气象台预计明天白天多云转晴，最高气温十八度。"] * 2, face="serif", size=32),
    "english": render_lines(["The library opened a new reading room for rare books.",
                             "Scanned pages are indexed and searchable online.",
                             "Each volume of the family record lists births and marriages."] * 2, face="latin", size=28),
    "genealogy": render_vertical_rl(["第十六世祖文華字光遠號竹溪", "生於嘉慶二十年乙亥三月十五日", "公幼失恬事母至孝家貧力學",
                                     "娶李氏生子三長子承德次子承業"], size=40),
}


@pytest.fixture(scope="module")
def classifier():
    return PageOrientationClassifier(threads=2)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("turned_by", [0, 90, 180, 270])
def test_pages_turned_four_ways_are_turned_back(classifier, page, turned_by):
    image = np.asarray(PAGES[page].rotate(turned_by, expand=True) if turned_by else PAGES[page])
    degrees, score = classifier.classify(image)
    assert (turned_by + degrees) % 360 == 0 and score > 0.6
    assert page_turn(image, threads=2) == degrees


def test_line_shaped_images_are_not_given_to_the_page_classifier():
    assert is_page_shaped((1200, 900, 3)) and is_page_shaped((300, 800, 3))
    assert not is_page_shaped((32, 256, 3)) and not is_page_shaped((1976, 262, 3)) and not is_page_shaped((60, 80, 3))
    assert page_turn(np.zeros((32, 256, 3), dtype=np.uint8), threads=1) == 0


def test_the_model_is_found_in_its_package_or_in_the_model_directory(tmp_path):
    packaged = PAGE_ORIENTATION_MODEL.path()
    assert packaged is not None and packaged.is_file()
    override = tmp_path / PAGE_ORIENTATION_MODEL.name / PAGE_ORIENTATION_MODEL.file
    override.parent.mkdir(parents=True)
    shutil.copy(packaged, override)
    with override_settings(OCR_MODEL_DIR=str(tmp_path)):
        assert PAGE_ORIENTATION_MODEL.path() == override
        degrees, _ = PageOrientationClassifier(threads=1).classify(np.asarray(PAGES["chinese"].rotate(90, expand=True)))
        assert degrees == 270


@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
def test_points_of_a_turned_image_map_back_to_the_image_as_sent(degrees):
    image = np.zeros((40, 60, 3), dtype=np.uint8)
    image[5, 50] = 255  # the pixel at x=50, y=5
    turned = geometry.turn(image, degrees)
    y, x = np.argwhere(turned[..., 0] == 255)[0]
    assert geometry.unturn_points(np.array([[x, y]]), degrees, turned.shape).tolist() == [[50.0, 5.0]]
