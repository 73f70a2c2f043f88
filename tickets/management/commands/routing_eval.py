from django.core.management.base import BaseCommand, CommandError

from routing.classifier import corpus_load, evaluate
from tickets.selectors import training_samples

MIN_EVAL_SAMPLES = 20
SHORT = 6  # column headers: the first letters of each slug


class Command(BaseCommand):
    help = (
        "Measure the request-type classifier on a held-out part of the samples: "
        "top-1 accuracy and a confusion table. Stores nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--corpus",
            action="store_true",
            help="Add the German demo corpus shipped with the project to the samples.",
        )
        parser.add_argument(
            "--test-size",
            type=float,
            default=0.2,
            help="Share of the samples held out for testing (default 0.2).",
        )
        parser.add_argument(
            "--seed", type=int, default=42, help="Seed of the random split (default 42)."
        )

    def handle(self, *args, **options):
        if not 0 < options["test_size"] < 1:
            raise CommandError("--test-size must be between 0 and 1, e.g. 0.2.")
        samples = training_samples()
        if options["corpus"]:
            samples += corpus_load()
        if len(samples) < MIN_EVAL_SAMPLES:
            raise CommandError(
                f"Only {len(samples)} samples; at least {MIN_EVAL_SAMPLES} are needed to "
                "evaluate. Try --corpus."
            )
        try:
            evaluation = evaluate(samples, test_size=options["test_size"], seed=options["seed"])
        except ValueError as error:
            raise CommandError(f"Evaluation failed: {error}") from error
        self.stdout.write(
            f"top-1 accuracy: {evaluation.accuracy:.3f} "
            f"({evaluation.correct} of {evaluation.test_count})"
        )
        self.stdout.write("")
        self.stdout.write("Confusion table (rows: true type, columns: predicted type):")
        for line in confusion_lines(evaluation.labels, evaluation.confusion):
            self.stdout.write(line)


def confusion_lines(labels: list[str], confusion: list[list[int]]) -> list[str]:
    """The matrix as aligned text: full slugs on the left, short heads on top."""
    first = max(len(label) for label in labels)
    width = max(SHORT, *(len(str(cell)) for row in confusion for cell in row))
    lines = [" " * first + "".join(f" {label[:SHORT]:>{width}}" for label in labels)]
    for label, row in zip(labels, confusion, strict=True):
        lines.append(f"{label:<{first}}" + "".join(f" {cell:>{width}}" for cell in row))
    return lines
