import os

import numpy as np
import pytest

from mira.core import Annotation, Categories, ImageSource, Label, Scene, SceneCollection
from mira.core.image import encode_image
from mira.errors import ImageError, ValidationError
from tests.conftest import make_image


def test_image_is_decoded_lazily_and_masks_applied_on_read(scene):
    assert scene.dimensions == (64, 48)
    assert scene.image_source.changed is False
    image = scene.image
    assert image.shape == (48, 64, 3)
    assert image[1, 5].tolist() == [0, 0, 0]  # inside the hidden triangle
    assert scene.unmasked_image[1, 5].tolist() != [0, 0, 0]
    image[:] = 1  # a copy: the scene is untouched
    assert scene.image[30, 40].tolist() != [1, 1, 1]


def test_visible_masks_show_only_their_area(categories):
    pixels = np.full((10, 10, 3), 200, np.uint8)
    visible = {"visible": True, "name": "v", "contour": [[0, 0], [4, 0], [4, 4], [0, 4]]}
    hidden = {"visible": False, "name": "h", "contour": [[0, 0], [2, 0], [2, 2], [0, 2]]}
    image = Scene(categories, pixels, masks=[visible, hidden]).image
    assert image[3, 3].tolist() == [200] * 3  # visible
    assert image[1, 1].tolist() == [0] * 3  # hidden wins over visible
    assert image[8, 8].tolist() == [0] * 3  # outside every visible mask


def test_scene_validation_names_the_problem(categories):
    other = Categories(["bird"])
    with pytest.raises(
        ValidationError,
        match=r"^scene k1: annotation 0: category 'bird' is not in the scene's categories",
    ):
        Scene(
            categories, make_image(), annotations=[Annotation(other["bird"], 0, 0, 1, 1)], key="k1"
        )
    with pytest.raises(ValidationError, match=r"^scene: label 0: category 'bird'"):
        Scene(categories, make_image(), labels=[Label(other["bird"])])
    with pytest.raises(ValidationError, match="scene key 'a.b' is invalid"):
        Scene(categories, make_image(), key="a.b")
    with pytest.raises(ValidationError, match="scene image must be an array, a path, encoded"):
        Scene(categories, 3)
    with pytest.raises(
        ValidationError,
        match=r"expected an HxW or HxWxC array with 1 to 4 channels, got shape \(2, 2, 5\)",
    ):
        Scene(categories, np.zeros((2, 2, 5), np.uint8))


def test_path_images_and_missing_files(tmp_path, categories):
    path = tmp_path / "a.png"
    path.write_bytes(encode_image(make_image(), "png"))
    scene = Scene(categories, str(path))
    assert scene.dimensions == (64, 48) and scene.filepath() == str(path)
    np.testing.assert_array_equal(scene.image, make_image())
    with pytest.raises(ImageError, match=r"missing.png: image file not found$"):
        Scene(categories, tmp_path / "missing.png").image


def test_filepath_writes_masked_png_once(scene, tmp_path):
    first = scene.filepath(tmp_path)
    assert first == scene.filepath(tmp_path) and os.path.dirname(first) == str(tmp_path)
    assert ImageSource.from_path(first).decode()[1, 5].tolist() == [0, 0, 0]


def test_cache_keeps_decoded_pixels(categories):
    scene = Scene(categories, encode_image(make_image(), "png"), cache=True)
    assert scene.image_source.decode(keep=True) is scene.image_source.decode()
    with pytest.raises(ValidationError, match="cache must be True or False"):
        Scene(categories, make_image(), cache=1)


def test_assign_with_categories_drops_and_rebinds(scene):
    new = Categories(["cat", "bird"])
    with pytest.warns(UserWarning, match=r"dropped 1 annotations of categories \['dog'\]"):
        converted = scene.assign(categories=new)
    assert [a.category.name for a in converted.annotations] == ["cat"]
    assert converted.annotations[0].category is new["cat"]
    assert converted.labels[0].category is new["cat"]
    assert converted.image_source is scene.image_source
    with pytest.raises(ValidationError, match=r"unknown fields: \['colour'\]"):
        scene.assign(colour=1)


def test_scores_and_bboxes(scene):
    assert scene.scores().tolist() == [None, 0.25]
    assert scene.scores("label").tolist() == [0.9]
    assert scene.bboxes().tolist() == [[1.5, 2.25, 10.125, 20.0, 0], [0, 0, 5.5, 5, 1]]
    with pytest.raises(ValidationError, match="level must be 'annotation' or 'label'"):
        scene.scores("pixel")


def test_collection_checks_and_helpers(scene, categories):
    with pytest.raises(ValidationError, match="an empty SceneCollection needs explicit categories"):
        SceneCollection([])
    assert len(SceneCollection([], categories=["dog", "cat"])) == 0
    with pytest.raises(ValidationError, match=r"scene 1 of 2 \(no key\) has categories \['x'\]"):
        SceneCollection([scene, Scene(["x"], make_image())])
    other = scene.assign(key="000001", metadata={"source": "camera-2"})
    c = SceneCollection([scene, other], categories=["dog", "cat"])
    assert [s.key for s in c.filter("source", "camera-2")] == ["000001"]
    assert [s.key for s in c.filter("nested.a", [1, 2])] == ["000000"]
    assert c.image_sizes().tolist() == [[64, 48], [64, 48]] and c.uniform()
    assert c.onehot().tolist() == [[0, 1], [0, 1]]
    assert c.onehot(binary=False)[0, 1] == pytest.approx(0.9)
    assert [a.shape for a in c.annotation_sizes()] == [(2, 2), (2, 2)]
    assert c.annotation_sizes()[0][0].tolist() == [8.625, 17.75]
    assert [s.key for s in c.sample(4, random_state=1)] == [
        s.key for s in c.sample(4, random_state=1)
    ]
    assert len(c[0:1]) == 1 and c.consistent()
