"""Coverage thresholds read off the collection's own near misses: they give back the sample
pages' hand-set values there, rise on a collection whose papers crowd one topic, are stored at
ingest and shown by `stats`, and stay fixed for a collection too small to read them from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core.tuning import Tuning
from assistant.face.cli.main import main
from assistant.retrieve.calibrate import META_KEY, Calibration, calibrated, measure
from assistant.session import Session
from assistant.store.data_dir import Store
from tests.conftest import ScriptedModel, daily_page, fake_papers


def test_the_sample_pages_get_back_their_hand_set_thresholds(sample_store: Store) -> None:
    calibration = measure(sample_store)
    assert calibration is not None and calibration.papers == sample_store.catalog.size()
    fixed, tuned = Tuning(), calibration.thresholds(Tuning())
    for name, value in tuned.items():
        assert value == pytest.approx(getattr(fixed, name), abs=0.03), name
    assert measure(sample_store) == calibration  # the same collection, the same thresholds


def crowded_papers(count: int) -> list[dict[str, object]]:
    """Papers on one narrow topic, with sentences as long as real abstracts have."""
    return [{"title": f"Graph neural network variant {i} for molecular property prediction",
             "abstract": f"We study graph neural networks for predicting molecular properties. "
                         f"Variant {i} of our message passing graph network predicts molecular solubility and "
                         f"toxicity from atom graphs with learned edge features and attention pooling. "
                         f"On benchmark molecular datasets the graph network improves prediction accuracy by "
                         f"{i + 3} points over earlier message passing graph neural networks."}
            for i in range(count)]


def test_a_crowded_collection_raises_the_bar(make_store) -> None:  # noqa: ANN001
    """Papers that all share one topic's words bring a near miss closer to some paper, so the
    thresholds rise above the sample pages' ones."""
    store: Store = make_store("crowded")
    page = store.settings.data_dir / "crowded.txt"
    page.write_text(daily_page(crowded_papers(60)))
    session = Session(store.settings, store, ScriptedModel("unused"))
    session.ingest([page])
    stored = Calibration.from_json(store.catalog.get_meta(META_KEY))
    assert stored is not None and stored.papers == 60
    assert stored.thresholds(Tuning())["coverage_threshold"] > Tuning().coverage_threshold + 0.1
    assert session.collection_tuning.coverage_threshold == stored.thresholds(Tuning())["coverage_threshold"]


def test_a_small_collection_keeps_the_fixed_thresholds(make_store) -> None:  # noqa: ANN001
    store: Store = make_store("small")
    page = store.settings.data_dir / "small.txt"
    page.write_text(daily_page(fake_papers(5)))
    session = Session(store.settings, store, ScriptedModel("unused"))
    session.ingest([page])
    assert measure(store) is None and store.catalog.get_meta(META_KEY) is None
    assert calibrated(store, Tuning()) == (Tuning(), None)
    assert session.coverage()["calibrated"] is False


def test_stats_shows_where_the_thresholds_come_from(sample_store: Store, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    session = Session(sample_store.settings, sample_store, ScriptedModel("unused"))
    coverage = session.stats()["coverage"]
    assert coverage["calibrated"] is True and coverage["papers"] == sample_store.catalog.size()
    assert main(["--data-dir", str(sample_store.settings.data_dir), "stats"]) == 0
    assert "calibrated on" in capsys.readouterr().out


@pytest.mark.parametrize("text", [None, "", "[]", '{"format": 99}', json.dumps({"format": 1, "near_miss": []})])
def test_an_unreadable_calibration_is_measured_again(text: str | None) -> None:
    assert Calibration.from_json(text) is None


def test_a_calibration_of_another_size_or_embedder_is_stale(sample_store: Store) -> None:
    size = sample_store.catalog.size()
    name = sample_store.embedder.name
    assert not Calibration(size, name, (0.5,)).stale(sample_store)
    assert Calibration(size * 2, name, (0.5,)).stale(sample_store)
    assert Calibration(size, "another-embedder", (0.5,)).stale(sample_store)
