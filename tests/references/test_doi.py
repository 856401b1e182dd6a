"""DOIs in every form people paste them."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from references.doi import InvalidDOI, find_doi, normalise_doi

AJP = "10.1176/appi.ajp.2020.20050596"


@pytest.mark.parametrize(
    "pasted",
    [
        "10.1176/appi.ajp.2020.20050596",
        "10.1176/APPI.AJP.2020.20050596",
        "  10.1176/appi.ajp.2020.20050596\n",
        "doi:10.1176/appi.ajp.2020.20050596",
        "DOI: 10.1176/appi.ajp.2020.20050596",
        "doi: 10.1176/appi.ajp.2020.20050596.",
        "https://doi.org/10.1176/appi.ajp.2020.20050596",
        "http://dx.doi.org/10.1176/appi.ajp.2020.20050596",
        "doi.org/10.1176/appi.ajp.2020.20050596",
        "info:doi/10.1176/appi.ajp.2020.20050596",
        "https://doi.org/10.1176%2Fappi.ajp.2020.20050596",
        "https://ajp.psychiatryonline.org/doi/full/10.1176/appi.ajp.2020.20050596",
        "https://ajp.psychiatryonline.org/doi/10.1176/appi.ajp.2020.20050596?role=tab",
        "<https://doi.org/10.1176/appi.ajp.2020.20050596>",
    ],
)
def test_every_pasted_form_normalises_to_the_lower_cased_doi(pasted):
    assert normalise_doi(pasted) == AJP


def test_a_doi_in_a_query_string_is_found():
    url = "https://journals.plos.org/plosone/article?id=10.1371/journal.pone.0033693"
    assert normalise_doi(url) == "10.1371/journal.pone.0033693"


def test_old_wiley_dois_with_angle_brackets_are_accepted_from_an_encoded_url():
    url = "https://doi.org/10.1002/(SICI)1097-4571(199806)49:8%3C693::AID-ASI4%3E3.0.CO;2-0"
    assert normalise_doi(url) == "10.1002/(sici)1097-4571(199806)49:8<693::aid-asi4>3.0.co;2-0"


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("", "the input is empty"),
        ("   ", "the input is empty"),
        ("doi:", "nothing follows the prefix"),
        ("ketamine", "a DOI starts with '10.'"),
        ("10.12/abc", "4 to 9 digits, but it is '10.12'"),
        ("10.1176", "no '/' between the prefix"),
        ("10.1176/", "nothing follows the '/'"),
        ("10.1176/appi ajp", "characters a DOI cannot have: ' '"),
        ("https://example.org/article/42", "No DOI found in the URL"),
    ],
)
def test_invalid_input_gets_a_message_naming_what_is_wrong(pasted, message):
    with pytest.raises(InvalidDOI) as raised:
        normalise_doi(pasted)
    assert message in str(raised.value)


def test_invalid_doi_is_a_value_error():
    assert issubclass(InvalidDOI, ValueError)


def test_find_doi_reads_free_text_and_urls():
    assert find_doi("As shown (https://doi.org/10.1159/000493425), ketamine...") == "10.1159/000493425"
    assert find_doi("https://link.springer.com/article/10.1007/S43440-020-00097-Z") == "10.1007/s43440-020-00097-z"
    assert find_doi("no identifier here") is None
    assert find_doi("") is None


registrants = st.integers(min_value=1000, max_value=999_999_999).map(str)
suffixes = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._;()/:",
                   min_size=1, max_size=40).filter(lambda s: s[-1] not in ".;," and s[0] != "/")
prefixes = st.sampled_from(["", "doi:", "DOI: ", "https://doi.org/", "http://dx.doi.org/", "info:doi/",
                            "https://publisher.example/doi/full/"])


@given(registrant=registrants, suffix=suffixes, prefix=prefixes)
def test_any_valid_doi_survives_any_prefix_and_comes_back_lower_cased(registrant, suffix, prefix):
    doi = f"10.{registrant}/{suffix}"
    assert normalise_doi(prefix + doi) == doi.lower()


@given(registrant=registrants, suffix=suffixes)
def test_normalising_is_idempotent_and_case_blind(registrant, suffix):
    doi = normalise_doi(f"10.{registrant}/{suffix}")
    assert normalise_doi(doi) == doi
    assert normalise_doi(doi.upper()) == doi


@given(st.text(max_size=60))
def test_arbitrary_text_either_normalises_to_a_valid_doi_or_raises_invalid_doi(text):
    try:
        doi = normalise_doi(text)
    except InvalidDOI as exc:
        assert str(exc)
    else:
        assert doi.startswith("10.") and doi == doi.lower() and "/" in doi
