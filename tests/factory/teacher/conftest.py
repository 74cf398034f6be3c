"""Fixtures of the teacher tests."""

from tests.factory.teacher.scripted import scripted

__all__ = ["scripted"]
