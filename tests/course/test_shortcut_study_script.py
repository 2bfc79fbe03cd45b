"""The shortcut study never overwrites a shipped record unless asked to, and a tiny run writes a complete record."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from experiments import shortcut_study
from segedu.course import experiments
from segedu.course.experiments import RESULTS_DIR
from segedu.models.shortcut_variants import SHORTCUTS


def test_a_shipped_record_is_protected(tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "shortcut_study.json").write_text("{}")
    monkeypatch.setattr(experiments, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(sys, "argv", ["shortcut_study", "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        shortcut_study.main()  # refuses before any training
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / "shortcut_study.json").read_text() == "{}"


def test_a_default_run_writes_outside_the_package() -> None:
    arguments = shortcut_study.build_parser().parse_args([])
    assert arguments.output == Path("runs") and not arguments.overwrite
    assert arguments.seeds == [0, 1, 2] and arguments.workers == 2


def test_every_shortcut_starts_from_the_same_encoder_within_a_seed() -> None:
    encoders = [shortcut_study.build(shortcut, seed=5).encoder.state_dict() for shortcut in SHORTCUTS]
    assert all(all((state[key] == encoders[0][key]).all() for key in state) for state in encoders[1:])


def _tiny_run(monkeypatch, tmp_path: Path, *arguments: str) -> None:
    """Run the study's main() on 16 training and 4 test scenes for 2 steps, one worker, into tmp_path."""
    for key, value in (("train_scenes", 16), ("test_scenes", 4), ("steps", 2), ("curve_every", 1)):
        monkeypatch.setitem(shortcut_study.SETTINGS, key, value)
    monkeypatch.setattr(shortcut_study, "PARTS_DIR", tmp_path / "parts")
    monkeypatch.setattr(sys, "argv", ["shortcut_study", "--steps", "2", "--workers", "1", "--output", str(tmp_path),
                                      *arguments])
    shortcut_study.main()


def test_a_tiny_study_writes_a_record_with_every_shortcut_and_seed(tmp_path: Path, monkeypatch) -> None:
    _tiny_run(monkeypatch, tmp_path, "--seeds", "0", "1")
    record = json.loads((tmp_path / "shortcut_study.json").read_text())
    runs = record["results"]["runs"]
    assert list(runs) == list(SHORTCUTS) and all(list(runs[name]) == ["0", "1"] for name in SHORTCUTS)
    run = runs["indices"]["1"]
    assert len(run["confusion"]) == 4 and len(run["band_confusion"]) == 4
    assert sum(map(sum, run["confusion"])) == 4 * 64 * 64  # every test pixel counted once
    assert 0 < sum(map(sum, run["band_confusion"])) < 4 * 64 * 64
    assert [step for step, _ in run["loss_curve"]] == [1, 2]
    assert runs["concat"]["0"]["parameters"] > runs["none"]["0"]["parameters"] > runs["indices"]["0"]["parameters"]
    assert len(list((tmp_path / "parts").glob("*.json"))) == 8  # resumable: one part per run


def test_the_shipped_record_has_every_shortcut_and_three_seeds() -> None:
    record = json.loads((RESULTS_DIR / "shortcut_study.json").read_text())
    runs = record["results"]["runs"]
    assert sorted(runs) == sorted(SHORTCUTS)
    assert all(len(runs[name]) >= 3 for name in SHORTCUTS)


def test_the_control_needs_its_own_record_name(tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["shortcut_study", "--shortcuts", "fixed_unpool", "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        shortcut_study.main()  # refuses before any training
    assert "--suffix" in capsys.readouterr().err


def test_a_tiny_control_run_writes_its_own_record(tmp_path: Path, monkeypatch) -> None:
    _tiny_run(monkeypatch, tmp_path, "--seeds", "0", "--shortcuts", "fixed_unpool", "--suffix", "control")
    record = json.loads((tmp_path / "shortcut_study_control.json").read_text())
    assert list(record["results"]["runs"]) == ["fixed_unpool"] and list(record["results"]["runs"]["fixed_unpool"]) == ["0"]
    assert not (tmp_path / "shortcut_study.json").exists()


def test_kept_models_load_by_hash_and_score_like_their_record(tmp_path: Path, monkeypatch) -> None:
    import torch

    from segedu.training.checkpoints import load_checkpoint
    from segedu.training.quick import score_on_pool

    monkeypatch.setattr(shortcut_study, "MODELS_DIR", None)  # main() sets it; keep the module clean for other tests
    _tiny_run(monkeypatch, tmp_path, "--seeds", "0", "--shortcuts", "add", "--suffix", "models", "--keep-models")
    run = json.loads((tmp_path / "shortcut_study_models.json").read_text())["results"]["runs"]["add"]["0"]
    checkpoint = load_checkpoint(tmp_path / shortcut_study.model_file("shortcut_study_models", "add", 0),
                                 expected_sha256=run["checkpoint_sha256"])
    model = shortcut_study.build("add", seed=0)
    model.load_state_dict(checkpoint["state_dict"])
    _, _, test_images, test_masks = shortcut_study._pools()
    with torch.no_grad():
        rescored = score_on_pool(model.eval(), test_images, test_masks, 4, band_width=2)
    differing = sum(abs(a - b) for row_a, row_b in zip(rescored["confusion"], run["confusion"])
                    for a, b in zip(row_a, row_b))
    assert differing <= 8  # float16 storage may flip a few pixels out of 4 x 64 x 64


def test_keeping_models_needs_a_record_name_of_its_own(tmp_path: Path, monkeypatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["shortcut_study", "--keep-models", "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        shortcut_study.main()
    assert "--suffix" in capsys.readouterr().err


def test_the_one_version_record_holds_every_variant_over_eight_seeds_on_one_machine_and_setting() -> None:
    """`shortcut_study_oneversion` retrains all five variants, seeds 0 to 7, in one invocation of today's code, so lesson
    11 can read its comparisons without the records that span two code versions; its settings are the study's."""
    record = experiments.load_experiment("shortcut_study_oneversion")
    runs = record["results"]["runs"]
    assert sorted(runs) == sorted([*SHORTCUTS, "fixed_unpool"])
    assert all(sorted(runs[name], key=int) == [str(seed) for seed in range(8)] for name in runs)
    assert record["settings"] == {**shortcut_study.SETTINGS, "steps": 1000}
    assert record["settings"] == experiments.load_experiment("shortcut_study_moreseeds")["settings"]
    assert "--seeds 0 1 2 3 4 5 6 7 --steps 1000" in record["command"] and "--suffix oneversion" in record["command"]
    assert record["ran_on"].endswith("1 threads") and record["settings"]["threads"] == 1
    within_seed = {name: {runs[name][seed]["parameters"] for seed in runs[name]} for name in runs}
    assert all(len(counts) == 1 for counts in within_seed.values())  # one architecture per variant
    assert all(sum(map(sum, run["confusion"])) == 200 * 64 * 64 for name in runs for run in runs[name].values())


@pytest.mark.parametrize("rate", ["0", "1.5"])
def test_a_learning_rate_outside_zero_to_one_is_refused_by_value(tmp_path: Path, monkeypatch, rate: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["shortcut_study", "--peak-lr", rate, "--suffix", "lrcheck",
                                      "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        shortcut_study.main()
    assert f"got {float(rate)}" in capsys.readouterr().err


def test_another_learning_rate_needs_its_own_record_name(tmp_path: Path, monkeypatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["shortcut_study", "--peak-lr", "0.01", "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        shortcut_study.main()
    assert "--suffix" in capsys.readouterr().err


def test_a_tiny_run_at_another_rate_records_it_and_keeps_its_own_parts(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(shortcut_study.SETTINGS, "peak_lr", shortcut_study.DEFAULT_PEAK_LR)
    _tiny_run(monkeypatch, tmp_path, "--seeds", "0", "--shortcuts", "none", "--suffix", "lrhigh", "--peak-lr", "0.01")
    high = json.loads((tmp_path / "shortcut_study_lrhigh.json").read_text())
    assert high["settings"]["peak_lr"] == 0.01
    _tiny_run(monkeypatch, tmp_path, "--seeds", "0", "--shortcuts", "none", "--suffix", "lrdefault")
    default = json.loads((tmp_path / "shortcut_study_lrdefault.json").read_text())
    assert default["settings"]["peak_lr"] == shortcut_study.DEFAULT_PEAK_LR
    assert len(list((tmp_path / "parts").glob("none_0_2_*.json"))) == 2  # one part per rate, none reused
    assert high["results"]["runs"]["none"]["0"]["loss_curve"] != default["results"]["runs"]["none"]["0"]["loss_curve"]


@pytest.mark.parametrize(("suffix", "rate", "variants"), [
    ("lrlow", 0.001, ["none", "indices", "fixed_unpool"]), ("lrhigh", 0.01, ["none", "indices", "fixed_unpool"]),
    ("lrlowfeature", 0.001, ["add", "concat"]), ("lrhighfeature", 0.01, ["add", "concat"])])
def test_the_learning_rate_checks_change_only_the_rate(suffix: str, rate: float, variants: list[str]) -> None:
    """Lesson 11's learning-rate check: all five variants (two records per rate), seeds 0 to 5, with the one-version
    record's settings but the peak rate; every test pixel counted once."""
    record = experiments.load_experiment(f"shortcut_study_{suffix}")
    runs = record["results"]["runs"]
    assert sorted(runs) == sorted(variants)
    assert all(sorted(runs[name], key=int) == [str(seed) for seed in range(6)] for name in runs)
    oneversion = experiments.load_experiment("shortcut_study_oneversion")["settings"]
    assert record["settings"] == {**oneversion, "peak_lr": rate}
    assert f"--peak-lr {rate:g}" in record["command"] and f"--suffix {suffix}" in record["command"]
    assert all(sum(map(sum, run["confusion"])) == 200 * 64 * 64 for name in runs for run in runs[name].values())


@pytest.mark.parametrize(("suffix", "rate", "seeds"), [
    ("lrhighall", 0.01, list(range(8))), ("lrhighmodels", 0.01, [0]), ("lrtop", 0.03, list(range(6)))])
def test_the_records_of_lesson_11_at_0_01_and_0_03_change_only_the_rate(suffix: str, rate: float,
                                                                         seeds: list[int]) -> None:
    """Lesson 11's earlier main study (`lrhighall`, still read by its optional checks as the runs the course first chose
    the rate from), its kept networks (`lrhighmodels`) and the check at 0.03 (`lrtop`): all five variants from one
    command each, with the one-version record's settings but the peak rate."""
    record = experiments.load_experiment(f"shortcut_study_{suffix}")
    runs = record["results"]["runs"]
    assert sorted(runs) == sorted([*SHORTCUTS, "fixed_unpool"])
    assert record["seeds"] == seeds
    assert all(sorted(runs[name], key=int) == [str(seed) for seed in seeds] for name in runs)
    oneversion = experiments.load_experiment("shortcut_study_oneversion")["settings"]
    assert record["settings"] == {**oneversion, "peak_lr": rate}
    assert record["command"].startswith("python -m experiments.shortcut_study --steps 1000 --shortcuts none add "
                                        "indices concat fixed_unpool --output segedu/course/experiment_results")
    assert f"--seeds {' '.join(map(str, seeds))} --peak-lr {rate:g} --suffix {suffix}" in record["command"]
    assert ("--keep-models" in record["command"]) == (suffix == "lrhighmodels")
    assert all(sum(map(sum, run["confusion"])) == 200 * 64 * 64 for name in runs for run in runs[name].values())


FRESH_SEEDS = list(range(6, 16))  # lesson 11's main study: seeds that played no part in choosing the rate
VALIDATION_RECORDS = {"valthree": 0.003, "valone": 0.01, "valtop": 0.03}  # the rate chosen on their validation scores


def test_lesson_11s_main_study_holds_every_variant_over_ten_fresh_seeds_at_0_01() -> None:
    """`freshseeds`: all five variants over seeds 6 to 15, from one command, with the one-version record's settings at
    peak rate 0.01 and no validation scenes; every test pixel counted once."""
    record = experiments.load_experiment("shortcut_study_freshseeds")
    runs = record["results"]["runs"]
    assert list(runs) == [*SHORTCUTS, "fixed_unpool"] and record["seeds"] == FRESH_SEEDS
    assert all(sorted(runs[name], key=int) == [str(seed) for seed in FRESH_SEEDS] for name in runs)
    oneversion = experiments.load_experiment("shortcut_study_oneversion")["settings"]
    assert record["settings"] == {**oneversion, "peak_lr": 0.01} and "validation_scenes" not in record["settings"]
    assert "--shortcuts none add indices concat fixed_unpool --peak-lr 0.01 --seeds 6 7 8 9 10 11 12 13 14 15 " \
           "--suffix freshseeds" in record["command"] and "--validation-scenes" not in record["command"]
    assert all("validation" not in run for name in runs for run in runs[name].values())
    assert all(sum(map(sum, run["confusion"])) == 200 * 64 * 64 for name in runs for run in runs[name].values())


def test_the_longer_check_doubles_only_the_steps() -> None:
    """`longer`: none, add, indices and concat over seeds 6 to 8 at 2,000 steps, settings otherwise the main study's;
    its loss curves reach step 2,000."""
    record = experiments.load_experiment("shortcut_study_longer")
    runs = record["results"]["runs"]
    assert list(runs) == list(SHORTCUTS) and record["seeds"] == [6, 7, 8]
    fresh = experiments.load_experiment("shortcut_study_freshseeds")["settings"]
    assert record["settings"] == {**fresh, "steps": 2000}
    assert "--steps 2000 " in record["command"] and "--suffix longer" in record["command"]
    assert all(run["loss_curve"][-1][0] == 2000 for name in runs for run in runs[name].values())


@pytest.mark.parametrize(("suffix", "rate"), VALIDATION_RECORDS.items())
def test_the_validation_records_that_chose_the_rate_change_only_the_rate_and_score_validation(suffix: str,
                                                                                              rate: float) -> None:
    """`valthree`, `valone`, `valtop`: all five variants over seeds 0 to 5 (none of the main study's) at one rate each,
    every run also scored on 200 validation scenes; settings otherwise the main study's."""
    record = experiments.load_experiment(f"shortcut_study_{suffix}")
    runs = record["results"]["runs"]
    assert list(runs) == [*SHORTCUTS, "fixed_unpool"] and record["seeds"] == list(range(6))
    assert all(sorted(runs[name], key=int) == [str(seed) for seed in range(6)] for name in runs)
    assert not set(record["seeds"]) & set(FRESH_SEEDS)
    fresh = experiments.load_experiment("shortcut_study_freshseeds")["settings"]
    assert record["settings"] == {**fresh, "peak_lr": rate, "validation_scenes": 200}
    assert "--validation-scenes 200" in record["command"]
    assert f"--seeds 0 1 2 3 4 5 --peak-lr {rate:g} --suffix {suffix}" in record["command"]
    for run in (run for name in runs for run in runs[name].values()):
        assert sum(map(sum, run["confusion"])) == 200 * 64 * 64
        assert sum(map(sum, run["validation"]["confusion"])) == 200 * 64 * 64  # every validation pixel once
        assert 0 < sum(map(sum, run["validation"]["band_confusion"])) < 200 * 64 * 64
        assert run["validation"]["confusion"] != run["confusion"]  # other scenes, not the test pool again


def test_scoring_validation_changes_none_of_the_runs_at_0_01() -> None:
    """`valone`'s runs are `lrhighall`'s seeds 0 to 5 (same seeds and rate), with the validation scores added."""
    valone = experiments.load_experiment("shortcut_study_valone")["results"]["runs"]
    lrhighall = experiments.load_experiment("shortcut_study_lrhighall")["results"]["runs"]
    for key in ("confusion", "band_confusion", "loss_curve"):
        assert all(valone[name][seed][key] == lrhighall[name][seed][key] for name in valone for seed in valone[name])


def test_lesson_11s_kept_networks_are_the_main_studys_seed_6() -> None:
    """`freshmodels`: seed 6 of all five variants retrained with weights kept (sha256 in the record, files shipped);
    its test confusion matrices equal `freshseeds`' seed 6."""
    from segedu.training.checkpoints import file_sha256

    record = experiments.load_experiment("shortcut_study_freshmodels")
    runs = record["results"]["runs"]
    fresh = experiments.load_experiment("shortcut_study_freshseeds")
    assert list(runs) == [*SHORTCUTS, "fixed_unpool"] and record["seeds"] == [6]
    assert all(list(runs[name]) == ["6"] for name in runs)
    assert record["settings"] == fresh["settings"] and "--keep-models" in record["command"]
    assert "--seeds 6 --peak-lr 0.01 --suffix freshmodels" in record["command"]
    for name, by_seed in runs.items():
        run = by_seed["6"]
        assert file_sha256(RESULTS_DIR / shortcut_study.model_file(record["name"], name, 6)) == run["checkpoint_sha256"]
        for key in ("confusion", "band_confusion"):
            assert run[key] == fresh["results"]["runs"][name]["6"][key]


def test_the_main_study_at_0_01_reuses_the_learning_rate_check_runs() -> None:
    """`lrhighall`'s seeds 0 to 5 are the runs of `lrhigh` and `lrhighfeature` (the script's parts folder)."""
    runs = experiments.load_experiment("shortcut_study_lrhighall")["results"]["runs"]
    earlier = {**experiments.load_experiment("shortcut_study_lrhigh")["results"]["runs"],
               **experiments.load_experiment("shortcut_study_lrhighfeature")["results"]["runs"]}
    assert all(runs[name][seed]["confusion"] == earlier[name][seed]["confusion"] for name in earlier for seed in earlier[name])


def test_validation_scenes_are_scored_apart_and_leave_the_test_scores_alone(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(shortcut_study.SETTINGS, "validation_scenes", 0)  # removed again after the test
    _tiny_run(monkeypatch, tmp_path / "plain", "--seeds", "0", "--shortcuts", "add", "--suffix", "plain")
    _tiny_run(monkeypatch, tmp_path / "scored", "--seeds", "0", "--shortcuts", "add", "--suffix", "scored",
              "--validation-scenes", "3")
    plain = json.loads((tmp_path / "plain" / "shortcut_study_plain.json").read_text())
    scored = json.loads((tmp_path / "scored" / "shortcut_study_scored.json").read_text())
    assert "validation_scenes" not in plain["settings"] and scored["settings"]["validation_scenes"] == 3
    run, plain_run = scored["results"]["runs"]["add"]["0"], plain["results"]["runs"]["add"]["0"]
    assert sum(map(sum, run["validation"]["confusion"])) == 3 * 64 * 64  # every validation pixel counted once
    assert run["confusion"] == plain_run["confusion"] and run["loss_curve"] == plain_run["loss_curve"]
    assert run["validation"]["confusion"] != run["confusion"]  # other scenes (3 against 4), not the test pool again


@pytest.mark.parametrize("arguments", [["--validation-scenes", "5"], ["--validation-scenes", "-1", "--suffix", "x"]])
def test_bad_validation_options_are_refused(monkeypatch, capsys: pytest.CaptureFixture[str], arguments) -> None:
    monkeypatch.setattr(sys, "argv", ["shortcut_study", *arguments])
    with pytest.raises(SystemExit):
        shortcut_study.main()
    assert "--validation-scenes" in capsys.readouterr().err
