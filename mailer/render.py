"""One function renders every named template set (`mailer/templates/<name>/subject.txt, body.txt, body.html`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError as JinjaError, select_autoescape

from mailer.errors import TemplateError

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@functools.lru_cache(maxsize=8)
def _environment(override_dir: Path | None) -> Environment:
    """One environment per template folder: Jinja2 compiles each template once and keeps it
    (and notices when a secretariat edits a template file, by its modification time)."""
    loaders = [FileSystemLoader(str(override_dir))] if override_dir else []
    loaders.append(FileSystemLoader(str(PACKAGE_TEMPLATES)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def render(name: str, context: dict[str, Any], override_dir: Path | None = None) -> Rendered:
    """Render a template set; a secretariat may override any file in `override_dir/<name>/`."""
    env = _environment(override_dir)
    try:
        subject = env.get_template(f"{name}/subject.txt").render(context)
        text = env.get_template(f"{name}/body.txt").render(context)
        html = env.get_template(f"{name}/body.html").render(context)
    except JinjaError as exc:
        raise TemplateError(name, str(exc)) from exc
    return Rendered(" ".join(subject.split()), text, html)


def template_names() -> list[str]:
    return sorted(p.name for p in PACKAGE_TEMPLATES.iterdir() if (p / "subject.txt").exists())
