from care_superb.downstream import splits
from care_superb.downstream.emobox import corpus
from care_superb.downstream.objectives import Classification
from care_superb.downstream.registry import Task


def objective(classes: list[str], selection: str = "unweighted_accuracy") -> Classification:
    """The classes of the dataset's label map; EmoBox ranks by unweighted accuracy (UA), so UA
    selects dev-best and is the row's primary metric unless ``objective.selection`` says otherwise."""
    return Classification(classes, selection)


def protocol(utterances, datarc):
    """EmoBox's published fold (test exactly its list), dev speakers drawn from its train list."""
    drawn, description = splits.published_fold_held_out_dev(utterances, datarc)
    return drawn, {**description, "dataset": datarc["dataset"]}


TASK = Task("emobox", corpus, objective, protocol,
            "EmoBox's 32 corpora: its published folds and label maps, dev drawn from each fold's training speakers",
            classes=corpus.classes)
