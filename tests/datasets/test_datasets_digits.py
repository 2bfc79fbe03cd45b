"""Tests for DigitScenes: held-out source digits, scene composition and the on-disk cache."""

import json

import numpy as np
import pytest
import torch

from segedu.datasets import DigitScenes
from segedu.datasets.digits import load_source_digits, source_split_indices

SPLITS = ("train", "val", "test")


@pytest.fixture
def data_folder(tmp_path, monkeypatch):
    """Point segedu's data folder at a fresh temporary folder."""
    folder = tmp_path / "data"
    monkeypatch.setenv("SEGEDU_DATA_DIR", str(folder))
    return folder


def _arrays(dataset) -> list[np.ndarray]:
    scenes = [dataset.sample(index) for index in range(len(dataset))]
    return [scene[key].numpy() for scene in scenes for key in ("image", "mask", "instances", "source_ids")]


def _same(first, second) -> bool:
    return all(np.array_equal(a, b) for a, b in zip(_arrays(first), _arrays(second), strict=True))


def test_source_digits_are_the_mnist_sample():
    images, labels = load_source_digits()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [500] * 10
    assert images.max() == 255


def test_source_splits_are_disjoint_stratified_and_complete():
    indices = {split: source_split_indices(split) for split in SPLITS}
    assert [len(indices[split]) for split in SPLITS] == [4000, 500, 500]
    assert not set(indices["train"]) & set(indices["val"])
    assert not set(indices["train"]) & set(indices["test"])
    assert not set(indices["val"]) & set(indices["test"])
    assert len(set(np.concatenate(list(indices.values())))) == 5000
    _, labels = load_source_digits()
    assert np.bincount(labels[indices["val"]]).tolist() == [50] * 10


def test_scenes_use_only_their_split_digits_with_matching_labels(data_folder):
    _, labels = load_source_digits()
    for split in SPLITS:
        dataset = DigitScenes(split, length=15)
        allowed = set(dataset.source_indices.tolist())
        assert allowed == set(source_split_indices(split).tolist())
        for index in range(15):
            scene = dataset.sample(index)
            mask, instances, sources = scene["mask"], scene["instances"], scene["source_ids"]
            assert set(sources.tolist()) <= allowed
            assert int(instances.max()) == len(sources) >= 1
            assert torch.equal(instances == 0, mask == 0)
            for identity, source in enumerate(sources.tolist(), start=1):
                under = mask[instances == identity].unique().tolist()
                assert under == [int(labels[source]) + 1]  # digit d -> class d + 1


def test_item_contract(data_folder):
    gray = DigitScenes("val", length=4)
    assert gray.num_classes == 11 and gray.class_names == ("background",) + tuple("0123456789")
    image, mask = gray[0]
    assert image.shape == (1, 64, 64) and image.dtype == torch.float32
    assert mask.shape == (64, 64) and mask.dtype == torch.int64
    assert 0.0 <= image.min() and image.max() <= 1.0 and int(mask.max()) <= 10
    color = DigitScenes("val", length=4, channels=3, size=48)
    image, mask = color[3]
    assert color.channels == 3 and image.shape == (3, 48, 48) and mask.shape == (48, 48)
    assert len(DigitScenes("test")) == 200


def test_cache_equals_a_fresh_render(data_folder):
    dataset = DigitScenes("val", length=6)
    for index in range(6):
        rendered, cached = dataset.render(index), dataset.sample(index)
        assert np.array_equal(cached["mask"].numpy(), rendered["mask"])
        assert np.array_equal(cached["instances"].numpy(), rendered["instances"])
        assert np.array_equal(cached["source_ids"].numpy(), rendered["source_ids"])
        assert np.array_equal(np.round(cached["image"].numpy() * 255), rendered["image"].transpose(2, 0, 1))


def test_reproducible_across_folders(tmp_path, data_folder):
    # tests/system/test_datasets_fresh_process.py checks the same file from a fresh process.
    first = DigitScenes("test", length=5, seed=3)
    second = DigitScenes("test", length=5, seed=3, root=tmp_path / "elsewhere")
    assert _same(first, second)
    assert first.cache_path.read_bytes() == second.cache_path.read_bytes()  # byte-identical files


def test_seed_changes_the_scenes(data_folder):
    assert not _same(DigitScenes("val", length=3, seed=0), DigitScenes("val", length=3, seed=1))


def test_cache_lives_in_the_data_folder_and_is_reused(data_folder, monkeypatch):
    first = DigitScenes("val", length=5)
    assert first.cache_status == "built"
    assert first.cache_path.parent == data_folder / "digits"
    assert sorted(path.suffix for path in first.cache_path.parent.iterdir()) == [".json", ".npz"]  # no temp files
    modified = first.cache_path.stat().st_mtime_ns

    def must_not_render(self):
        raise AssertionError("the cache should have been reused")

    monkeypatch.setattr(DigitScenes, "_render_all", must_not_render)
    second = DigitScenes("val", length=5)
    assert second.cache_status == "loaded"
    assert second.cache_path.stat().st_mtime_ns == modified
    assert _same(first, second)


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_one_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _change_parameters(path):
    sidecar = path.with_suffix(".json")
    content = json.loads(sidecar.read_text())
    content["parameters"]["size"] = 32
    sidecar.write_text(json.dumps(content))


def _remove_sidecar(path):
    path.with_suffix(".json").unlink()


def _garble_sidecar(path):
    path.with_suffix(".json").write_text("{not json")


@pytest.mark.parametrize("damage", [_truncate, _flip_one_byte, _change_parameters, _remove_sidecar, _garble_sidecar])
def test_damaged_cache_is_detected_and_rebuilt(tmp_path, data_folder, damage):
    original = DigitScenes("val", length=4)
    damage(original.cache_path)
    with pytest.warns(UserWarning, match="rebuilding"):
        repaired = DigitScenes("val", length=4)
    assert repaired.cache_status == "rebuilt"
    fresh = DigitScenes("val", length=4, root=tmp_path / "fresh")
    assert _same(repaired, fresh)
    assert DigitScenes("val", length=4).cache_status == "loaded"  # the repair was saved


def test_unwritable_folder_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(PermissionError, match="SEGEDU_DATA_DIR"):
        DigitScenes("val", length=2, root=blocker / "digits")


def test_folder_refusing_new_files_gives_a_clear_error(tmp_path, monkeypatch):
    # Root-proof stand-in for a read-only folder: the write probe itself is refused.
    folder = tmp_path / "read-only"
    folder.mkdir()

    def refuse(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr("tempfile.TemporaryFile", refuse)
    with pytest.raises(PermissionError, match="chmod") as error:
        DigitScenes("val", length=2, root=folder)
    assert str(folder) in str(error.value) and "SEGEDU_DATA_DIR" in str(error.value)
    assert list(folder.iterdir()) == []  # nothing half-written


def test_valid_cache_loads_from_a_read_only_folder(tmp_path, monkeypatch):
    DigitScenes("val", length=2, root=tmp_path)

    def refuse(directory):
        raise PermissionError("read-only")

    monkeypatch.setattr("segedu.datasets.digits.ensure_writable", refuse)
    assert DigitScenes("val", length=2, root=tmp_path).cache_status == "loaded"


@pytest.mark.parametrize(
    "arguments, words",
    [
        (dict(split="holdout"), "split"),
        (dict(size=16), "size"),
        (dict(channels=4), "channels"),
        (dict(min_digits=3, max_digits=2), "min_digits"),
        (dict(max_digits=9), "max_digits"),
        (dict(length=0), "length"),
    ],
)
def test_rejects_bad_arguments(data_folder, arguments, words):
    with pytest.raises(ValueError, match=words):
        DigitScenes(**arguments)


def test_index_out_of_range(data_folder):
    dataset = DigitScenes("val", length=2)
    with pytest.raises(IndexError):
        dataset[2]


def test_uncached_scenes_equal_cached_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGEDU_DATA_DIR", str(tmp_path))
    for channels in (1, 3):
        cached = DigitScenes("val", length=5, size=32, channels=channels, seed=3)
        uncached = DigitScenes("val", length=5, size=32, channels=channels, seed=3, cache=False)
        assert uncached.cache_status == "off"
        for index in range(5):
            first, second = cached.sample(index), uncached.sample(index)
            for name in ("image", "mask", "instances", "source_ids"):
                assert torch.equal(first[name], second[name]), (channels, index, name)
    assert not (tmp_path / "digits" / "train").exists()
