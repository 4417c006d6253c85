"""Volume and page numbers from file and folder names (API.md's forms), and book order."""

import pytest

from batches.filenames import chinese_to_int, natural_key, parse_position, sort_book_order


@pytest.mark.parametrize("path, volume, page", [
    ("卷一_001.jpg", 1, 1),
    ("卷1-5.png", 1, 5),
    ("李氏族谱卷三第12张.jpg", 3, 12),
    ("volume2_page003.png", 2, 3),
    ("Volume 4 Page 12.PNG", 4, 12),
    ("v1_p001.jpg", 1, 1),
    ("vol.2 p.3.jpg", 2, 3),
    ("page-007.jpg", None, 7),
    ("p12.jpg", None, 12),
    ("001.jpg", None, 1),
    ("卷二/003.jpg", 2, 3),
    ("第二卷/第十二页.png", 2, 12),
    ("卷之三/一百零五.jpg", 3, 105),
    ("volume2/003.jpg", 2, 3),
    ("族谱/卷十二/第二十三页.tif", 12, 23),
    ("卷十二第二十三頁.tif", 12, 23),
    ("2024族谱_005.jpg", None, 5),
    ("1998年修谱_第3页.jpg", None, 3),
    ("卷一/封面.jpg", 1, None),
    ("2024族谱.jpg", None, None),
    ("卷3/卷4_002.png", 4, 2),  # the file's own volume wins over its folder's
])
def test_volume_and_page_parsed(path, volume, page):
    position = parse_position(path)
    assert (position.volume, position.page) == (volume, page)


@pytest.mark.parametrize("text, number", [
    ("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23), ("一百", 100), ("一百零五", 105),
    ("三百二十一", 321), ("一千零一", 1001), ("两百", 200), ("一二", 12), ("〇〇七", 7), ("壹拾贰", 12), ("12", 12),
])
def test_chinese_numerals(text, number):
    assert chinese_to_int(text) == number


def test_natural_sort():
    names = ["10.png", "2.png", "1.png", "a10.jpg", "a9.jpg", "B1.jpg"]
    assert sorted(names, key=natural_key) == ["1.png", "2.png", "10.png", "a9.jpg", "a10.jpg", "B1.jpg"]


def test_book_order_is_volume_then_page_then_natural_name():
    files = ["卷二/002.jpg", "卷一/10.png", "卷一/2.png", "卷二/001.jpg", "卷1-3.png", "cover.jpg",
             "卷一/封面.jpg", "v2_p003.jpg", "卷一/2b.png"]
    ordered = [path for path, _ in sort_book_order(files)]
    assert ordered == ["cover.jpg", "卷一/封面.jpg", "卷一/2.png", "卷一/2b.png", "卷1-3.png", "卷一/10.png",
                       "卷二/001.jpg", "卷二/002.jpg", "v2_p003.jpg"]
