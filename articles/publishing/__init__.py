"""Publishing and serving: rendering revisions, stored pages, the page cache, search, feeds, sitemaps and the
public views.

May use the models and references only: it knows nothing of writing, review or importing.
"""
