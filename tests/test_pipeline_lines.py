"""Line-sized images read whole when nothing is detected, columns read as vertical text, and flattening of
transparent images onto a background their content stays visible on."""

import numpy as np
import pytest
from PIL import Image

from recognition.engines import engine_for
from recognition.pipeline.decode import flattening_background, to_rgb
from recognition.pipeline.lines import read_whole_image
from tests.pages import render_vertical_rl, render_word_crop


@pytest.fixture(scope="module")
def engine():
    return engine_for("ch").engines[0].engine


def test_a_word_crop_is_read_whole(engine):
    image, (text,) = render_word_crop("族谱", height=40, background="photo", seed=3)
    line, turn = read_whole_image(engine, np.asarray(image), min_confidence=0.5)
    assert (line.text, turn) == (text, 0)
    assert line.quad[2].tolist() == [image.width - 1, image.height - 1]


def test_an_upside_down_word_is_read_in_the_turn_the_recogniser_is_surest_of(engine):
    image, (text,) = render_word_crop("世界和平", height=48, background="paper", seed=5)
    line, turn = read_whole_image(engine, np.asarray(image.rotate(180)), min_confidence=0.5)
    assert (line.text, turn) == (text, 180)


def test_a_tall_image_is_read_as_a_column(engine):
    image = np.asarray(render_vertical_rl(["咸豐元年辛亥修譜"], size=60, margin=8))
    line, turn = read_whole_image(engine, image, min_confidence=0.5)
    assert line.text == "咸豐元年辛亥修譜" and turn in (90, 270)


def test_noise_is_not_read_as_text(engine):
    noise = np.random.default_rng(1).integers(0, 255, size=(40, 160, 3), dtype=np.uint8)
    assert read_whole_image(engine, noise, min_confidence=0.9) is None


def test_transparent_images_are_flattened_onto_a_contrasting_background():
    white_text = np.zeros((20, 40, 4), dtype=np.uint8)
    white_text[5:15, 5:35] = (255, 255, 255, 255)  # the rest is transparent black, as many tools write it
    assert flattening_background(white_text) == (0, 0, 0, 255)
    flattened = to_rgb(Image.fromarray(white_text, "RGBA"))
    assert flattened[10, 10].tolist() == [255, 255, 255] and flattened[0, 0].tolist() == [0, 0, 0]
    dark_text = white_text.copy()
    dark_text[5:15, 5:35] = (20, 20, 20, 255)
    assert flattening_background(dark_text) == (255, 255, 255, 255)
    assert to_rgb(Image.fromarray(dark_text, "RGBA"))[0, 0].tolist() == [255, 255, 255]
