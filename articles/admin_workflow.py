"""Workflow additions to the article admin: read-only status, blockers, actions, audit.

ArticleAdmin inherits WorkflowAdminMixin; every method here calls super().
"""


class WorkflowAdminMixin:
    pass
