"""mira: prepare object-detection datasets as SceneCollection tarballs."""

__version__ = "0.1.0"
