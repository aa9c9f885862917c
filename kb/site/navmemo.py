"""Material's navigation rendered once per folder for the pages that are not in it.

Material renders its primary navigation (``partials/nav.html``) into every page. A page that is not
in the navigation (kb's claim, source and topic pages and the parts of long pages: all but a few) has
no active item in it, and the navigation then depends on the page only through the ``url`` filter,
which makes each link relative to the page's folder. Rendering it again for each such page was about
a sixth of the theme's work (at 10,000 claims, 8 s of a cold build's 250 s of processor time). So
the plugin below renders it once per folder and gives that text to the other pages of the folder;
the pages in the navigation render it as before.

Only for Material's own templates: a theme with a folder of its own templates (``custom_dir``), which
could override these with templates that read more of the page, renders every page's navigation.
"""

from __future__ import annotations

from typing import Any

from kb.site import fastpath

PLUGIN_NAME = "kb-nav-memo"
_TEMPLATE = "partials/nav.html"
_ORIGINAL = "kb-theme-original"
# Renders the theme's own partials/nav.html, or gives the text it rendered for the page's folder. Every
# newline between the tags is taken out by "-", so the wrapper adds nothing to what it includes.
_WRAPPER = (
    "{%- set kb_key = kb_nav_key(page, nav) -%}"
    "{%- set kb_found = kb_nav_found(kb_key) -%}"
    "{%- if kb_found is none -%}"
    '{%- set kb_html -%}{% include "' + _ORIGINAL + "/" + _TEMPLATE + '" %}{%- endset -%}'
    "{{- kb_nav_keep(kb_key, kb_html) -}}"
    "{%- else -%}{{- kb_found -}}{%- endif -%}"
)


def _active(items: Any) -> bool:
    return any(
        getattr(item, "active", False) or _active(getattr(item, "children", None) or ()) for item in items
    )


def folder_key(page: Any, nav: Any) -> str | None:
    """What the navigation depends on for ``page``: the folder its links are made relative to (as
    ``mkdocs.utils.get_relative_url`` takes it from the page's URL), or None for a page in the
    navigation or while any item of it is active."""
    if page is None or nav is None or page in nav.pages or _active(nav.items):
        return None
    return fastpath.url_folder(page.url)


def applies(config: Any) -> bool:
    """Whether the site's theme is Material's own templates, with no folder of the site's."""
    theme = config.theme
    return getattr(theme, "name", None) == "material" and not getattr(theme, "custom_dir", None)


def make_plugin() -> Any:
    from mkdocs.plugins import BasePlugin

    class NavMemo(BasePlugin):
        def __init__(self) -> None:
            super().__init__()
            self.memo: dict[str, Any] = {}
            self.served = 0  # pages given a navigation rendered for another page

        def on_env(self, env: Any, config: Any, files: Any) -> Any:
            import jinja2

            if not applies(config):
                return env
            self.memo = {}
            original = env.loader
            env.loader = jinja2.ChoiceLoader(
                [
                    jinja2.DictLoader({_TEMPLATE: _WRAPPER}),
                    jinja2.PrefixLoader({_ORIGINAL: original}),
                    original,
                ]
            )
            env.globals["kb_nav_key"] = folder_key
            env.globals["kb_nav_found"] = self._found
            env.globals["kb_nav_keep"] = self._keep
            return env

        def _found(self, key: str | None) -> Any:
            found = None if key is None else self.memo.get(key)
            if found is not None:
                self.served += 1
            return found

        def _keep(self, key: str | None, html: Any) -> Any:
            if key is not None:
                self.memo[key] = html
            return html

    return NavMemo()
