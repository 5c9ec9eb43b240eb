"""``manage.py promotions_evaluate FILE``: the offline evaluation protocol (temporal-v1) on a CSV file;
``--protocol v2`` scores under version 2 (buy-again: repeat items kept, repeat and new slices).

A thin wrapper: the work is done by ``promotions.evaluation``, which has no Django in it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from promotions.conf import app_settings
from promotions.evaluation import (
    WINDOWS,
    DataFormatError,
    SplitError,
    evaluate,
    paired_bootstrap,
    read_interactions,
    read_items,
    rolling,
    temporal_split,
    tune,
    validation_splits,
)
from promotions.evaluation.repeat import BASELINES, as_json_v2, evaluate_v2, repeat_split, table_v2
from promotions.evaluation.report import as_json, session_table, table
from promotions.evaluation.selection import select
from promotions.evaluation.session import next_item, session_points
from promotions.recommenders import MODELS, REPEAT_MODELS
from promotions.recommenders.threads import limited_threads, resolve_threads


def known_models(protocol: str) -> list[str]:
    """The models a protocol scores: ours, and under v2 also the buy-again models and its reference baselines."""
    return [*MODELS, *REPEAT_MODELS, *BASELINES] if protocol == "v2" else list(MODELS)


def model_names(value: str, known: list[str]) -> list[str]:
    """``--models``: comma-separated names of ``known``, or all of them."""
    names = list(known) if value.strip() == "all" else [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise CommandError(
            f"unknown model(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(known)} or all",
            returncode=2,
        )
    return names


class Command(BaseCommand):
    help = "Evaluate the recommenders on an interactions CSV under the temporal-v1 protocol (or --protocol v2)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="interactions CSV (.csv or .csv.gz): user_id, item_id, timestamp, ...")
        parser.add_argument("--items", help="items CSV: item_id, title, category, price (for content features)")
        parser.add_argument("--k", type=int, default=10, help="list length K (default 10)")
        parser.add_argument(
            "--models",
            default="all",
            help=f"comma-separated, or all: {', '.join(MODELS)} "
            f"(with --protocol v2 also {', '.join([*REPEAT_MODELS, *BASELINES])})",
        )
        parser.add_argument(
            "--protocol",
            choices=("v1", "v2"),
            default="v1",
            help="v1 (default): discovery, the user's own items excluded; v2: buy-again, own items kept in the "
            "ground truth and allowed in the lists, with repeat and new slices and the v2 reference baselines",
        )
        parser.add_argument("--tune", action="store_true", help="tune each model on validation windows first")
        parser.add_argument("--json", dest="json_path", help="also write the results as JSON to this file")
        parser.add_argument(
            "--compare",
            metavar="A,B",
            help="offline A/B: paired bootstrap of B's per-user NDCG against A's on the test users "
            "(both are evaluated even if --models leaves them out)",
        )
        parser.add_argument("--resamples", type=int, default=10_000, help="bootstrap resamples for --compare")
        parser.add_argument(
            "--threads",
            type=int,
            help="BLAS/OpenMP threads for fitting and scoring (default: PROMOTIONS['TRAINING_THREADS'], "
            "automatic: every core)",
        )
        parser.add_argument(
            "--rolling",
            type=int,
            metavar="N",
            help="rolling-origin evaluation: the v1 protocol at the log's latest N monthly cut points (each "
            "trained on the rows before the month and tested on it), per cut point and mean with its spread, "
            "popularity always scored, plus the model training's selection would activate at each cut point "
            "(row 'selected', chosen among PROMOTIONS['TRAINING_MODELS'])",
        )
        parser.add_argument(
            "--sessions",
            action="store_true",
            help="also measure next-item prediction within the test part's sessions (HR@K, MRR@K), "
            "from the session alone and with the user's stored history",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        v2 = options["protocol"] == "v2"
        if v2 and (options["tune"] or options["sessions"]):
            raise CommandError("--tune and --sessions are for --protocol v1 only", returncode=2)
        known = known_models(options["protocol"])
        names = model_names(options["models"], known)
        if options["k"] < 1:
            raise CommandError("--k must be at least 1", returncode=2)
        pair = self._pair(options["compare"], known) if options["compare"] is not None else None
        if pair is not None:
            names = list(dict.fromkeys([*names, *pair]))
        if options["resamples"] < 1:
            raise CommandError("--resamples must be at least 1", returncode=2)
        if options["rolling"] is not None:
            if v2 or options["tune"] or options["sessions"] or pair is not None:
                raise CommandError(
                    "--rolling is for --protocol v1 without --tune, --sessions or --compare", returncode=2
                )
            if options["rolling"] < 1:
                raise CommandError("--rolling must be at least 1", returncode=2)
            self._rolling(names, options)
            return
        try:
            split = temporal_split(read_interactions(options["file"]))
            items = read_items(options["items"]) if options["items"] else []
            windows = validation_splits(split, WINDOWS) if options["tune"] else []
        except (DataFormatError, SplitError) as error:
            raise CommandError(str(error), returncode=2) from error
        threads = self._threads(options)
        self._note(f"BLAS/OpenMP threads: {threads}")
        if v2:
            split = repeat_split(split)
        with limited_threads(threads):
            if v2:
                results = self._evaluate_v2(names, split, items, options)
            else:
                results = self._evaluate(names, split, items, windows, options)
        self._report(split, results, pair, options)

    def _threads(self, options: dict[str, Any]) -> int | None:
        try:
            return resolve_threads(
                options["threads"] if options["threads"] is not None else app_settings.TRAINING_THREADS, False
            )
        except ValueError as error:
            raise CommandError(str(error).replace("TRAINING_THREADS", "--threads"), returncode=2) from error

    def _rolling(self, names: list[str], options: dict[str, Any]) -> None:
        k = options["k"]
        try:
            log = read_interactions(options["file"])
            items = read_items(options["items"]) if options["items"] else []
            cuts = rolling.monthly_cuts(log, options["rolling"])
        except (DataFormatError, SplitError) as error:
            raise CommandError(str(error), returncode=2) from error
        threads = self._threads(options)
        self._note(f"BLAS/OpenMP threads: {threads}")
        names = list(dict.fromkeys(["popularity", *names]))
        results = []
        with limited_threads(threads):
            for cut in cuts:
                split = rolling.cut_split(log, cut)
                if not split.truth:
                    self._note(f"{cut.label}: no user to evaluate, cut point left out")
                    continue
                self._note(f"{cut.label}: {len(split.train)} train rows, {len(split.truth)} users to evaluate")
                scored = {name: evaluate(MODELS[name](), split, items, k) for name in names}
                chosen = {}
                windows = [w for w in validation_splits(split, WINDOWS) if w.truth] if len(split.train) > 1 else []
                if windows:
                    name, params, _scores = select(app_settings.TRAINING_MODELS, windows, items, k)
                    self._note(f"{cut.label}: training would activate {name} {params or ''}")
                    same = name in scored and not params
                    scored["selected"] = scored[name] if same else evaluate(MODELS[name](**params), split, items, k)
                    chosen["selected"] = name
                results.append(rolling.CutResult(cut, split, scored, chosen))
        if not results:
            raise CommandError("no cut point has users to evaluate", returncode=2)
        self.stdout.write(rolling.table(results, k))
        if options["json_path"]:
            document = rolling.as_json(results, k)
            Path(options["json_path"]).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")

    def _evaluate(self, names: list[str], split: Any, items: list, windows: list, options: dict[str, Any]) -> list:
        points = session_points(split) if options["sessions"] else []
        results = []
        for name in names:
            params = {}
            if options["tune"]:
                params = tune(name, windows, items, options["k"], progress=self._note).params
            self._note(f"{name}: fitting and scoring {len(split.truth)} users")
            model = MODELS[name](**params)
            results.append(evaluate(model, split, items, options["k"], progress=self._progress))
            if options["sessions"]:
                self._note(f"{name}: next item at {len(points)} points within sessions")
                results[-1].sessions = {
                    "session_only": next_item(model, points, options["k"]).as_json(),
                    "with_user": next_item(model, points, options["k"], with_user=True).as_json(),
                }
        return results

    def _evaluate_v2(self, names: list[str], split: Any, items: list, options: dict[str, Any]) -> list:
        results = []
        for name in names:
            self._note(f"{name}: fitting and scoring {len(split.truth)} users (protocol v2)")
            model = name if name in BASELINES else {**MODELS, **REPEAT_MODELS}[name]()
            results.append(evaluate_v2(model, split, items, options["k"], progress=self._progress))
        return results

    def _report(self, split: Any, results: list, pair: tuple[str, str] | None, options: dict[str, Any]) -> None:
        v2 = options["protocol"] == "v2"
        self.stdout.write((table_v2 if v2 else table)(results, options["k"]))
        if options["sessions"]:
            self.stdout.write(session_table(results, options["k"]))
        comparison = None
        if pair is not None:
            by_name = {result.name: result for result in results}
            try:
                comparison = paired_bootstrap(
                    by_name[pair[0]].user_ndcg, by_name[pair[1]].user_ndcg, pair, options["resamples"]
                )
            except ValueError as error:  # e.g. a single evaluated user
                raise CommandError(f"--compare: {error}", returncode=2) from error
            self.stdout.write(comparison.summary(f"NDCG@{options['k']}"))
        if options["json_path"]:
            document = (as_json_v2 if v2 else as_json)(split, results, options["k"])
            if comparison is not None:
                document["comparison"] = comparison.as_json()
            Path(options["json_path"]).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")

    def _pair(self, value: str, known: list[str]) -> tuple[str, str]:
        names = [name.strip() for name in value.split(",")]
        if len(names) != 2 or names[0] == names[1] or not all(names):
            raise CommandError("--compare takes two different model names: A,B", returncode=2)
        unknown = [name for name in names if name not in known]
        if unknown:
            raise CommandError(
                f"--compare: unknown model(s) {', '.join(unknown)}; choose from {', '.join(known)}", returncode=2
            )
        return names[0], names[1]

    def _note(self, message: str) -> None:
        self.stderr.write(message)

    def _progress(self, done: int, total: int) -> None:
        """A one-line progress bar on a terminal; silent otherwise (logs stay readable)."""
        if not sys.stderr.isatty():
            return
        width = 30
        filled = width * done // total
        end = "\n" if done == total else ""
        self.stderr.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending=end)
