"""Worked textbook answers, every number read from a network and computed by cnncalc."""

from cnncalc.answers.modern import grouped, section  # registers the modern-CNN answers
from cnncalc.answers.worked import Answer, Entry, Note, Step, answer, entries

__all__ = ["Answer", "Entry", "Note", "Step", "answer", "entries", "grouped", "section"]
