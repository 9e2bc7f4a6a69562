"""Who said it: a quotation's speaker is shown apart from the outlet, and never guessed."""

from index.chunk import sentence_spans
from index.service import Newsdesk
from index.speakers import speakers
from index.terminal import format_answer


def said(text: str) -> list[str | None]:
    return speakers(text, [(s.start, s.end) for s in sentence_spans(text)])


def test_a_name_beside_a_quotation_is_its_speaker_a_surname_stands_for_the_full_name() -> None:
    text = ("Vice President Mike Pence visited the plant on Monday. \"We will build it here,\" Pence said. "
            "Later, \"It is a good day for the town,\" said Maria Lopez, the mayor.")
    assert said(text) == [None, "Mike Pence", "Maria Lopez"]


def test_no_speaker_is_invented_for_a_pronoun_an_organisation_or_a_paraphrase() -> None:
    text = ("\"We are not leaving,\" he said. \"Prices will rise next year,\" the central bank said. "
            "Pence said the plant would open soon. \"Short,\" Lopez said.")
    assert said(text) == [None, None, None, None]


def test_quotes_carry_the_speaker_apart_from_the_outlet(coverage_desk: Newsdesk, seeds_desk: Newsdesk) -> None:
    answer = coverage_desk.ask("What did the mayor of Port Avery say about the bridge risk?")
    voss = [q for q in answer.quotes if "We cannot take any risk" in q.text]
    assert voss and voss[0].speakers == ["Elena Voss"] and voss[0].outlet in {"Harbour Daily", "Coastal Wire"}
    assert "Elena Voss, quoted by " in format_answer(answer, coverage_desk.prompts)
    pompeo = seeds_desk.ask("What did Pompeo say about inviting Russia back into the G8?")
    quote = next(q for q in pompeo.quotes if "Yeah, the President thinks so" in q.text)
    assert quote.speakers == ["Mike Pompeo"] and quote.outlet == "RT"
    weiss = next(q for q in pompeo.quotes + seeds_desk.ask("What did Andrew Weiss say about Trump's gambit?").quotes
                 if q.speakers == ["Andrew S. Weiss"])
    assert weiss.outlet is None
    assert "Andrew S. Weiss, quoted in untitled" in format_answer(seeds_desk.ask("What did Andrew Weiss say about "
                                                                                 "Trump's gambit?"), seeds_desk.prompts)
