"""Writing: the citation reader, editing an article's claims and citations, and who changed which words.

May use articles.review (the gate, to show blockers while writing), articles.publishing services, the models and
references; never a view of another room.
"""
