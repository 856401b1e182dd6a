"""Demo content for `make run`: two articles in Psychly's own words, their sources, three accounts.

The sources' Crossref metadata is stored beside this file, so loading needs
no network. The references carry the real DOIs of published studies.
"""

ZORUMSKI = "10.1523/jneurosci.1547-16.2016"
WECKMANN = "10.1159/000493425"
FEDER = "10.1176/appi.ajp.2020.20050596"
KRYST = "10.1007/s43440-020-00097-z"
SADASIVAN = "10.1371/journal.pone.0033693"

DEMO_DOIS = [ZORUMSKI, WECKMANN, FEDER, KRYST, SADASIVAN]

TOPICS = {"depression": "Depression", "ptsd": "PTSD", "adhd": "ADHD", "treatments": "Treatments"}

# Each paragraph is pasted into its section as an editor would: sentences
# become claims, [doi:...] markers become citations, and a paragraph that
# starts with "(context)" is a context statement that needs no source.
KETAMINE = {
    "title": "Ketamine for depression and PTSD: what the studies show",
    "slug": "ketamine-depression-ptsd-evidence",
    "summary": (
        "Ketamine acts on the brain's glutamate system and can ease symptoms of depression and "
        "post-traumatic stress disorder within days. Here is what clinical studies have found, and what "
        "they have not yet shown."
    ),
    "byline": "Dana Reyes, PhD, clinical psychologist",
    "topics": ["depression", "ptsd", "treatments"],
    "sections": [
        ("How ketamine acts in the brain", [
            f"Ketamine blocks NMDA receptors, one of the brain's main receptors for the chemical messenger "
            f"glutamate [doi:{ZORUMSKI}]. Its antidepressant effect seems to involve more than this blockade "
            f"alone, including later changes in how synapses signal and adapt [doi:{ZORUMSKI}].",
            f"In mice, a single dose of ketamine changed proteins and metabolites of both the glutamate and "
            f"the GABA systems [doi:{WECKMANN}].",
        ]),
        ("Ketamine for post-traumatic stress disorder", [
            f"In a randomised controlled trial in adults with chronic PTSD, six ketamine infusions over two "
            f"weeks reduced symptom severity more than infusions of midazolam, an active comparison drug "
            f"[doi:{FEDER}].",
            "(context) A single trial is a starting point; the sections below say where the evidence is thinner.",
        ]),
        ("Single and repeated doses in depression", [
            f"A meta-analysis of randomised clinical trials found that ketamine reduced depressive symptoms in "
            f"both unipolar and bipolar depression [doi:{KRYST}]. Repeated administration was linked to "
            f"longer-lasting improvement than a single dose [doi:{KRYST}].",
        ]),
        ("Talking to a clinician", [
            "(context) If you are thinking about ketamine treatment, discuss it with a psychiatrist who knows "
            "your history and your other medicines.",
        ]),
    ],
}

STIMULANTS = {
    "title": "Stimulant medication and animal studies: reading the evidence with care",
    "slug": "stimulants-animal-studies",
    "summary": (
        "Headlines about ADHD medication often rest on studies in mice. This article explains one such study, "
        "the correction published after it, and why animal findings need careful reading."
    ),
    "byline": "Dana Reyes, PhD, clinical psychologist",
    "topics": ["adhd", "treatments"],
    "sections": [
        ("What one mouse study reported", [
            f"In mice, exposure to methylphenidate was followed by a loss of dopamine neurons and by activation "
            f"of microglia in the basal ganglia [doi:{SADASIVAN}].",
            "(context) The publisher later issued a correction to this paper, which reviewers can see beside it.",
        ]),
        ("What it does not tell us", [
            "(context) Findings in mice do not show that the same happens in people; never change a prescribed "
            "medicine without talking to your prescriber.",
        ]),
    ],
}

ARTICLES = [KETAMINE, STIMULANTS]

ACCOUNTS = {
    "editor": {"group": "Editors", "first_name": "Dana", "last_name": "Reyes", "credentials": "PhD"},
    "reviewer": {"group": "Reviewers", "first_name": "Sam", "last_name": "Okafor", "credentials": "MD, psychiatrist"},
    "admin": {"group": None, "first_name": "Alex", "last_name": "Admin", "credentials": ""},
}
