from source_amplitude.source import SourceAmplitude

__all__ = ["SourceAmplitude"]
