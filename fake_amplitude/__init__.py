"""A real HTTP server on 127.0.0.1 that behaves like Amplitude's read APIs, in the recorded formats."""

from fake_amplitude.dataset import Dataset
from fake_amplitude.server import FakeAmplitude, Fault

__all__ = ["Dataset", "FakeAmplitude", "Fault"]
