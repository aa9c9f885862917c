"""The browsable site: the knowledge base as Markdown pages and SVG pictures, rendered by MkDocs.

- ``kb.site.text``: the one escaping helper every string from a knowledge base goes through;
- ``kb.site.svg``: the graph neighbourhood of a claim and the agreement heat map, as SVG;
- ``kb.site.pages``: pure functions from a weighed knowledge base to ``{relative path: text}``;
- ``kb.site.build``: assembles the docs folder, runs MkDocs, swaps the result into place;
- ``kb.site.serve``: live preview that regenerates the pages when the knowledge base changes.
"""
