from django import template

from articles.publishing import rendering

register = template.Library()


@register.simple_tag
def revision_body(snapshot, body_html=""):
    """A revision's body: the HTML pre-rendered at publication if given, else rendered from the snapshot."""
    return body_html or rendering.render_body(snapshot)
