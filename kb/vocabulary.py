"""The words kb's file format allows for a source's kind and an evidence's stance and kind.

kb.model declares them as the types of those fields; here they are plain tuples, so that the
command line can offer them as choices without loading the models (and pydantic) for commands
that need neither, such as ``kb --help``. A test keeps the two the same.
"""

from __future__ import annotations

SOURCE_KINDS = ("study", "review", "guide", "article", "blog", "forum", "other")
EVIDENCE_KINDS = ("study", "mechanism", "expert-opinion", "experience", "testimonial")
STANCES = ("supports", "opposes")
