import time

from django.core.management.base import BaseCommand, CommandError

from routing.classifier import (
    MIN_SAMPLES,
    corpus_load,
    evaluate,
    model_save,
    train,
)
from tickets.selectors import training_samples


class Command(BaseCommand):
    help = (
        "Train the request-type classifier on resolved and closed requests "
        "(optionally plus the demo corpus) and store it as the current model."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--corpus",
            action="store_true",
            help="Add the German demo corpus shipped with the project to the samples.",
        )
        parser.add_argument(
            "--min-samples",
            type=int,
            default=MIN_SAMPLES,
            help=f"Train only with at least this many samples (default {MIN_SAMPLES}).",
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        samples = training_samples()
        from_tickets = len(samples)
        if options["corpus"]:
            samples += corpus_load()
        if len(samples) < options["min_samples"]:
            self.stdout.write(
                f"Only {len(samples)} samples ({from_tickets} from requests); at least "
                f"{options['min_samples']} are needed. No model was trained; suggestions "
                "keep using the keyword list."
            )
            return
        try:
            # The accuracy figure comes from a held-out part; the stored model
            # then learns from everything.
            evaluation = evaluate(samples)
            pipeline = train(samples)
        except ValueError as error:
            raise CommandError(f"Training failed: {error}") from error
        model = model_save(pipeline=pipeline, samples=len(samples), accuracy=evaluation.accuracy)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Model {model.pk} saved: {len(samples)} samples ({from_tickets} from requests), "
                f"held-out top-1 accuracy {evaluation.accuracy:.3f} "
                f"({evaluation.correct} of {evaluation.test_count}), {elapsed:.1f} s."
            )
        )
