"""The scan form's directory picker lists folders in the pages' order: Chinese numerals and numbers by value."""

from dashboard.forms import scan_directories


def test_directories_in_book_order(tmp_path, settings):
    root = tmp_path / "scans"
    for name in ("卷十", "卷三", "卷二", "卷一", "v10", "v2", ".hidden"):
        (root / "族谱" / name).mkdir(parents=True)
    settings.SCAN_ROOTS = [root.resolve()]
    labels = [label for _path, label in scan_directories()]
    assert labels == [str(root.resolve()), "scans/族谱", "scans/族谱/卷一", "scans/族谱/v2", "scans/族谱/卷二",
                      "scans/族谱/卷三", "scans/族谱/v10", "scans/族谱/卷十"]
