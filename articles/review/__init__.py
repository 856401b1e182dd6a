"""Review: the workflow (the only code that changes an article's status), the publish gate, reviewer credits,
notifications and the reviewers' desk.

May use articles.publishing services (rendering, stored pages, search), the models and references.
"""
