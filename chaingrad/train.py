"""The three commands: train, evaluate and draw, built only from autograd, nn and optim.

Training is the loop every course text writes down: for each mini-batch,
forward to the logits, softmax cross-entropy loss, ``backward()``, one
optimizer step; after each epoch, accuracy on the training and validation
rows in evaluation mode (no dropout, batch norm's running statistics).
"""
import functools
import os
import shlex
import sys
import time

import numpy as np

from . import checkpoint, claim, datasets, pages, preflight, report, resume
from .checkpoint import check_fields, is_count, is_finite
from .errors import CLIError, ModelFileError, OutputError, one_line

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adadelta", "adam")
# Learning rates that work for every built-in dataset with the default batch size.
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "rmsprop": 0.001, "adadelta": 1.0, "adam": 0.003}
# The options that define a run, with their defaults. The parser leaves them None when they are
# not given, so that `--resume` can tell an option given on purpose from a default.
RUN_DEFAULTS = {"dataset": None, "hidden": [64, 32], "activation": "relu", "batchnorm": False, "dropout": 0.0,
                "optimizer": "adam", "lr": None, "batch_size": 32, "seed": 0, "dtype": "float32"}
# What a resume record's settings must hold (its architecture is checked by checkpoint's schema).
SETTINGS_SCHEMA = {
    "optimizer": (lambda v: isinstance(v, str) and v in OPTIMIZERS, f"one of {', '.join(OPTIMIZERS)}"),
    "lr": (lambda v: is_finite(v) and v > 0, "a finite number > 0"),
    "seed": (lambda v: is_count(v, 0), "an integer >= 0"),
    "epochs": (is_count, "a positive integer"),
    "hidden": (lambda v: isinstance(v, list) and all(map(is_count, v)), "a list of positive integers"),
}


def _imports():
    """The library, imported on first use, on purpose: autograd, nn and optim take most of a
    second to import, and the parser (`chaingrad --help`, argument errors) imports this module."""
    from chaingrad import autograd as ag  # lazy: see the docstring
    from chaingrad import nn  # lazy: see the docstring
    from chaingrad import optim  # lazy: see the docstring
    return ag, nn, optim


def make_optimizer(name, params, lr):
    _, _, optim = _imports()
    if name == "sgd":
        return optim.SGD(params, lr=lr)
    if name == "momentum":
        return optim.SGD(params, lr=lr, momentum=0.9)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr)
    if name == "adadelta":
        return optim.Adadelta(params, lr=lr)
    return optim.Adam(params, lr=lr)


def count_parameters(model):
    return int(sum(np.asarray(p.data).size for p in model.parameters()))


def accuracy(model, X, y, chunk=1000):
    """Fraction of rows whose largest logit is the label; evaluation mode, no graph."""
    ag, _, _ = _imports()
    model.eval()
    correct = 0
    with ag.no_grad():
        for i in range(0, len(X), chunk):
            logits = model(ag.tensor(X[i:i + chunk]))
            correct += int((np.asarray(logits.data).argmax(axis=1) == y[i:i + chunk]).sum())
    return correct, len(X)


def _load_data(name, dtype, explicit, mean=None, std=None):
    """Load a dataset; a bare `chaingrad train` falls back to a generated one if a package is missing."""
    try:
        return datasets.load(name, dtype, mean, std)
    except ImportError as e:
        reason = " ".join(str(e).split()) or "a package is missing"
    if explicit:
        raise CLIError(f"dataset {name!r} is not available: {reason}")
    fallback = datasets.FALLBACK_DATASET
    print(f"note: dataset {name!r} is not available ({reason}); using --dataset {fallback}", file=sys.stderr)
    try:
        return datasets.load(fallback, dtype)
    except ImportError as e:
        raise CLIError(f"dataset {fallback!r} is not available either: {' '.join(str(e).split())}") from None


def _progress(iterable, total, desc):
    """A tqdm bar on stderr that disappears at the end of the epoch (the epoch line replaces it).

    Only on a terminal: in a log file (CI, ``2> log``) its frames would be noise.
    """
    from tqdm import tqdm
    return tqdm(iterable, total=total, desc=desc, unit="batch", leave=False, file=sys.stderr,
                dynamic_ncols=True, mininterval=0.1, disable=not sys.stderr.isatty())


def quiet_numpy(command):
    """Run ``command`` without numpy's floating-point warnings (overflow in matmul, ...).

    They name library source lines a command-line user cannot act on; a
    training that blows up is reported once, as "training diverged".
    """
    @functools.wraps(command)
    def run(args):
        with np.errstate(all="ignore"):
            return command(args)
    return run


def keep_engine_settings(command):
    """Run ``command``, then put back the engine's default dtype and random generator state.

    A command sets both for its run (``--dtype``, ``--seed``); called from
    Python (``cli.main([...])`` in a notebook or a test) it must not leave
    the caller's engine in float32 with a reseeded generator.
    """
    @functools.wraps(command)
    def run(args):
        ag, _, _ = _imports()
        dtype, rng = ag.get_default_dtype(), ag.get_rng().bit_generator.state
        try:
            return command(args)
        finally:
            ag.set_default_dtype(dtype)
            ag.get_rng().bit_generator.state = rng     # manual_seed made a new generator: give it the old state
    return run


def _draw_graph(model, loss_fn, X, y, depth, title):
    """Forward, loss and backward on one batch; the picture of that graph, with module clusters.

    ``record_grads`` keeps the gradients of inner tensors too, so the picture
    shows what backward computed at every node, not only at the weights.
    """
    ag, _, _ = _imports()
    model.train()
    with ag.viz.record_grads() as grads:
        loss = loss_fn(model(ag.tensor(X, name="X")), ag.tensor(y, name="y"))
        loss.backward(retain_graph=True)        # keep the saved values: the picture shows them
    model.zero_grad()
    return ag.viz.draw(loss, model=model, depth=depth, grads=grads, title=title)


def _graph_title(dataset, sizes, rows):
    return (f"MLP {'-'.join(map(str, sizes))} on one batch of {rows} {dataset} rows: "
            f"forward, cross-entropy loss, backward")


def _pct(x):
    return f"{100 * x:6.2f}%"


def train_epoch(model, loss_fn, optimizer, loader, desc):
    """One pass over the loader: forward, loss, backward, step per batch. Returns the mean loss."""
    model.train()
    bar = _progress(loader, len(loader), desc)
    total, rows = 0.0, 0
    try:
        for xb, yb in bar:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()      # backward ADDS into .grad: clear last step's gradients first
            loss.backward()
            optimizer.step()
            value, n = loss.item(), yb.shape[0]
            if not np.isfinite(value):
                raise CLIError(f"training diverged ({desc}: the loss is {value}); try a smaller --lr")
            total, rows = total + value * n, rows + n
            bar.set_postfix_str(f"loss {total / rows:.4f}", refresh=False)
    finally:
        bar.close()
    return total / rows


class Progress:
    """What training has finished so far: ``(history, snapshot)``, the per-epoch records and a
    ``resume.snapshot`` (weights, optimizer state, dropout's generator) of the last finished epoch.

    Both are replaced by ONE assignment per epoch, so a Ctrl-C at any moment
    leaves a consistent pair: the history and the state of the same epoch.
    """

    def __init__(self, history=(), snap=None):
        self.done = (list(history), snap)

    def finish_epoch(self, record, snap):
        self.done = (self.done[0] + [record], snap)


def fit(model, loss_fn, optimizer, loader, data, epochs, progress, on_epoch=None):
    """The epochs after those ``progress`` holds: train on every batch, then accuracy on the
    training and validation rows.

    ``on_epoch(record)`` runs after each epoch (the --html playground keeps its picture).
    """
    width = len(str(epochs))
    for epoch in range(len(progress.done[0]) + 1, epochs + 1):
        t_epoch = time.perf_counter()
        loss = train_epoch(model, loss_fn, optimizer, loader, f"epoch {epoch:{width}d}/{epochs}")
        (tc, tn), (vc, vn) = accuracy(model, *data.train), accuracy(model, *data.val)
        record = {"epoch": epoch, "loss": loss, "train_accuracy": tc / tn, "val_accuracy": vc / vn,
                  "seconds": time.perf_counter() - t_epoch}
        progress.finish_epoch(record, resume.snapshot(model, optimizer))
        print(f"epoch {epoch:{width}d}/{epochs}  loss {loss:.4f}  train acc {_pct(tc / tn)}  "
              f"val acc {_pct(vc / vn)}  ({record['seconds']:.1f} s)", flush=True)
        if on_epoch is not None:
            on_epoch(record)


class RunFolder:
    """The output folder of one run: created if needed, claimed while the run writes into it
    (``claim.py``), released at the end, and removed again when the run ends without having
    written anything (a diverged run leaves no empty folder)."""

    def __init__(self):
        self.path, self.created, self.claim = None, [], None

    def open(self, path, created=None):
        """Create (unless ``created`` says it was) and claim ``path``; returns it."""
        self.path = path
        self.created = _prepare_dir(path) if created is None else created
        self.claim = claim.take(path)
        return path

    def check(self):
        """Before writing results: is the folder still ours?"""
        self.claim.check()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.claim is not None:
            self.claim.release()
        report.remove_empty(self.created)      # only the folders this run made, only if empty


@keep_engine_settings
@quiet_numpy
def run_train(args):
    with RunFolder() as folder:
        return _train(args, folder)


def _flag(key):
    return "--" + key.replace("_", "-")


def _settings(args):
    """The run-defining options as given, the defaults filled in (``dataset`` and ``lr`` later)."""
    return {k: getattr(args, k) if getattr(args, k) is not None else d for k, d in RUN_DEFAULTS.items()}


def _check_history(history):
    """A resume record's history: one record of finite numbers per finished epoch, in order."""
    if not isinstance(history, list) or not history:
        raise ValueError("its history of finished epochs is missing")
    for i, h in enumerate(history, 1):
        if not isinstance(h, dict) or h.get("epoch") != i or not all(
                is_finite(h.get(k)) for k in ("loss", "train_accuracy", "val_accuracy", "seconds")):
            raise ValueError(f"its history entry {i} is not the record of epoch {i}")


def _read_resume(args):
    """``(settings, meta, history, snapshot)`` of the run in ``args.resume``; options given with
    --resume must agree with the run's own settings."""
    folder = args.resume
    path = os.path.join(folder, resume.RESUME_FILE)
    if not os.path.isfile(path):
        raise CLIError(f"--resume {folder}: no {resume.RESUME_FILE} there (a run writes it when it ends "
                       f"or is interrupted after its first epoch)", status=2, prog="chaingrad train")
    try:
        meta, run, snap = resume.read(path)
    except ModelFileError as e:
        raise CLIError(str(e)) from None
    try:
        saved = check_fields(dict(run.get("settings") or {}), SETTINGS_SCHEMA)
        _check_history(run.get("history"))
        if saved["hidden"] != meta["sizes"][1:-1]:
            raise ValueError("its settings and its architecture record differ")
    except ValueError as e:
        raise CLIError(f"{path}: damaged resume record: {e}") from None
    settings = {"dataset": meta["dataset"], "hidden": meta["sizes"][1:-1], "activation": meta["activation"],
                "batchnorm": meta["batchnorm"], "dropout": meta["dropout"], "optimizer": saved["optimizer"],
                "lr": saved["lr"], "batch_size": meta["batch_size"], "seed": saved["seed"], "dtype": meta["dtype"]}
    for key in RUN_DEFAULTS:
        given = getattr(args, key)
        if given is not None and given != settings[key]:
            raise CLIError(f"--resume continues the run in {folder} with its own settings: it has "
                           f"{_flag(key)} {settings[key]}, not {given}; drop {_flag(key)} or start a new run",
                           status=2, prog="chaingrad train")
    epochs = args.epochs or saved["epochs"]
    if len(run["history"]) >= epochs:
        raise CLIError(f"--resume {folder}: the run has finished its {len(run['history'])} epochs; "
                       f"give --epochs N (more than {len(run['history'])}) to train on",
                       status=2, prog="chaingrad train")
    return {**settings, "epochs": epochs}, meta, run["history"], snap


def _continue(path, snap, model, optimizer, loader, history):
    """Put the resumed run's state back; returns the Progress to train on from."""
    try:
        resume.restore(snap, model, optimizer)
    except (ValueError, KeyError, TypeError) as e:
        raise CLIError(f"{path}: damaged resume record: {one_line(e)}") from None
    for _ in history:     # each pass of the loader first draws its order: replay one draw per finished epoch
        next(iter(loader), None)
    return Progress(history, snap)


def _start(args, folder):
    """Where the run starts: ``(settings, epochs, resumed)``, and the claim of its folder.

    A new run takes its settings from the options (``epochs`` None means the
    dataset's default); a resumed one from its folder, with ``resumed`` =
    ``(meta, history, snapshot)``. A folder named by --out or --resume is
    claimed before it is looked at, so no other run can slip in between.
    """
    if args.resume is None:
        if args.out is not None:
            folder.open(args.out)
            preflight.check_out(args.out, args.force)
        return _settings(args), args.epochs, None
    if args.out is not None and os.path.abspath(args.out) != os.path.abspath(args.resume):
        raise CLIError("--resume DIR writes into DIR: leave --out out", status=2, prog="chaingrad train")
    if not os.path.isdir(args.resume):
        raise CLIError(f"--resume {args.resume}: no such folder", status=2, prog="chaingrad train")
    folder.open(args.resume)                # a run still writing there holds it: refused
    settings, meta, history, snap = _read_resume(args)
    return settings, settings["epochs"], (meta, history, snap)


def _announce(data, settings, arch, n_params, history, out):
    """The three lines before the first epoch (four when resumed)."""
    s, epochs, dropout = settings, settings["epochs"], settings["dropout"]
    print(f"data:  {data.name}: {len(data.train[0]):,} train / {len(data.val[0]):,} validation / "
          f"{len(data.test[0]):,} test rows, {data.features} features, {data.classes} classes")
    print(f"model: {arch}, {s['activation']}{', batch norm' if s['batchnorm'] else ''}"
          f"{f', dropout {dropout:g}' if dropout else ''}; {n_params:,} parameters, {s['dtype']}")
    print(f"train: {s['optimizer']} lr {s['lr']:g}, batch {s['batch_size']}, "
          f"{epochs} epoch{'s' * (epochs != 1)}, seed {s['seed']}")
    if history:
        print(f"resume: from epoch {len(history)}/{epochs} in {out}")


def _train(args, folder):
    ag, nn, _ = _imports()
    t_start = time.perf_counter()
    settings, epochs, resumed = _start(args, folder)
    saved, history, snap = resumed or (None, [], None)
    dtype = np.dtype(settings["dtype"])
    mean, std = (saved["data_mean"], saved["data_std"]) if resumed else (None, None)     # as the run had them
    data = _load_data(settings["dataset"] or datasets.DEFAULT_DATASET, dtype, settings["dataset"] is not None,
                      mean, std)
    name = settings["dataset"] = data.name
    epochs = epochs or datasets.DATASETS[name].epochs
    lr = settings["lr"] = settings["lr"] if settings["lr"] is not None else DEFAULT_LR[settings["optimizer"]]
    sizes = [data.features, *settings["hidden"], data.classes]
    if resumed and sizes != saved["sizes"]:
        raise CLIError(f"--resume {args.resume}: the run's {checkpoint.architecture(saved['sizes'])} does not "
                       f"fit {name}'s {data.features} features and {data.classes} classes")
    batch_size, optimizer_name = settings["batch_size"], settings["optimizer"]
    preflight.check_memory(sizes, batch_size, dtype, optimizer_name)
    new_folder = folder.path is None          # runs/<dataset>-<date>-<time>: runs/latest will point to it
    out = folder.path or folder.open(*_new_run_dir(name))
    settings.update(epochs=epochs, out=out)

    ag.set_default_dtype(dtype)            # the DataLoader hands out batches in this dtype
    ag.manual_seed(settings["seed"])       # initialisation and dropout masks
    meta = {"dataset": name, "sizes": sizes, "activation": settings["activation"],
            "batchnorm": settings["batchnorm"], "dropout": settings["dropout"], "dtype": settings["dtype"],
            "data_mean": data.mean, "data_std": data.std, "batch_size": batch_size}
    model = checkpoint.build_model(meta)
    optimizer = make_optimizer(optimizer_name, model.parameters(), lr)
    loss_fn = nn.CrossEntropyLoss()
    n_params = count_parameters(model)
    loader = nn.data.DataLoader(*data.train, batch_size=batch_size, shuffle=True, seed=settings["seed"])
    progress = Progress()
    if resumed:
        progress = _continue(os.path.join(out, resume.RESUME_FILE), snap, model, optimizer, loader, history)
    arch = checkpoint.architecture(sizes)
    recorder = pages.recorder(args, data)       # --html on 2-D data: the playground's epochs
    _announce(data, settings, arch, n_params, history, out)

    record = {
        "command": " ".join(["chaingrad", *map(shlex.quote, sys.argv[1:])]),
        "versions": report.versions(),
        "settings": settings,
        "data": {"train_rows": len(data.train[0]), "val_rows": len(data.val[0]), "test_rows": len(data.test[0]),
                 "features": data.features, "classes": data.classes, "split_seed": datasets.DATA_SEED,
                 "mean": data.mean, "std": data.std},
        "model": {"sizes": sizes, "parameters": n_params, "summary": repr(model)},
        **({"resumed_from_epoch": len(history)} if resumed else {}),
    }
    t_train = time.perf_counter()
    try:
        fit(model, loss_fn, optimizer, loader, data, epochs, progress,
            on_epoch=lambda entry: pages.record_epoch(recorder, model, entry))
    except KeyboardInterrupt:
        return _keep_interrupted(model, meta, folder, record, progress, epochs, latest=new_folder)
    history, snap = progress.done
    train_seconds = time.perf_counter() - t_train
    correct, test_rows = accuracy(model, *data.test)
    folder.check()                               # still ours? (then nobody else writes here)
    checkpoint.save(model, meta, os.path.join(out, checkpoint.MODEL_FILE))
    resume.save(os.path.join(out, resume.RESUME_FILE), snap, meta, {"settings": settings, "history": history})

    # The pictures come after the model is saved: drawing runs one more (training-mode) batch.
    files, warnings = [checkpoint.MODEL_FILE], []
    try:
        n = min(batch_size, len(data.train[0]))
        picture = _draw_graph(model, loss_fn, data.train[0][:n], data.train[1][:n], None,
                              _graph_title(name, sizes, n))
        report.write_text(os.path.join(out, "graph.svg"), picture.svg())
        files.append("graph.svg")
    except ag.viz.DotNotFoundError:
        report.write_text(os.path.join(out, "graph.dot"), picture.source)
        files.append("graph.dot")
        warnings.append("warning: graph.svg not written: Graphviz's `dot` program is missing "
                        "(sudo apt-get install graphviz); graph.dot holds the picture's DOT source")
    except Exception as e:     # the run itself is still good: say what went wrong and go on
        warnings.append(f"warning: graph.svg not written: {' '.join(str(e).split())}")
    n = min(batch_size, len(data.train[0]))      # --html: graph.html, playground.html
    html_files, html_warnings = pages.write_pages(args, os.path.join(out, "graph.svg"), model, loss_fn,
                                                  data.train[0][:n], data.train[1][:n],
                                                  _graph_title(name, sizes, n), recorder)
    files, warnings = files + html_files, warnings + html_warnings
    if report.write_curves(os.path.join(out, "curves.png"), history, f"{name}: {arch}, {optimizer_name} lr {lr:g}",
                           correct / test_rows):
        files.append("curves.png")
    else:
        warnings.append("warning: matplotlib is not installed, curves.png not written (pip install matplotlib)")
    files += [resume.RESUME_FILE, "run.json"]

    folder.check()
    seconds = time.perf_counter() - t_start
    report.write_json(os.path.join(out, "run.json"), {
        **record,
        "history": history,
        "results": {"train_accuracy": history[-1]["train_accuracy"], "val_accuracy": history[-1]["val_accuracy"],
                    "test_accuracy": correct / test_rows, "test_correct": correct, "test_rows": test_rows,
                    "train_seconds": train_seconds, "seconds": seconds},
        "files": files,
    })
    report.remove_other_run_files(out, files)      # what an earlier run replaced by --force left
    if new_folder:
        report.point_latest(out)

    for w in warnings:
        print(w, file=sys.stderr)
    print(f"done:  test accuracy {100 * correct / test_rows:.2f}% ({correct}/{test_rows}), "
          f"{n_params:,} parameters, trained in {train_seconds:.1f} s ({seconds:.1f} s in all)")
    print(f"wrote: {out}/  {'  '.join(files)}")
    print(f"next:  chaingrad evaluate {os.path.join(out, checkpoint.MODEL_FILE)}")
    return 0


def _keep_interrupted(model, meta, folder, record, progress, epochs, latest):
    """Ctrl-C during training: keep the last finished epoch (model, resume state) and run.json marked
    interrupted; `chaingrad train --resume` goes on from there."""
    history, snap = progress.done
    out = folder.path
    folder.check()
    files = []
    if snap is not None:
        model.load_state_dict(snap["model"])           # undo the unfinished epoch's steps
        checkpoint.save(model, meta, os.path.join(out, checkpoint.MODEL_FILE))
        resume.save(os.path.join(out, resume.RESUME_FILE), snap, meta,
                    {"settings": record["settings"], "history": history})
        files += [checkpoint.MODEL_FILE, resume.RESUME_FILE]
    files.append("run.json")
    last = history[-1] if history else {}
    report.write_json(os.path.join(out, "run.json"), {
        **record, "interrupted": True, "history": history,
        "results": {"epochs_finished": len(history), "train_accuracy": last.get("train_accuracy"),
                    "val_accuracy": last.get("val_accuracy")},
        "files": files,
    })
    report.remove_other_run_files(out, files)
    if latest and snap is not None:
        report.point_latest(out)
    kept = (f"kept the model of epoch {len(history)}/{epochs} (go on with: chaingrad train --resume "
            f"{shlex.quote(out)})" if snap is not None else "no epoch had finished, so there is no model")
    print(f"chaingrad: interrupted; {kept}: {out}/  {'  '.join(files)}", file=sys.stderr)
    return 130


def _prepare_dir(path):
    try:
        return report.prepare_dir(path)
    except OutputError as e:
        raise CLIError(str(e)) from None


def _new_run_dir(dataset):
    try:
        return report.new_run_dir(dataset)
    except OutputError as e:
        raise CLIError(str(e)) from None


def _load_model(path):
    try:
        return checkpoint.load(path)
    except ModelFileError as e:
        raise CLIError(str(e)) from None


def _data_for(meta, path):
    """The dataset the model was trained on, standardised as it was; check that it fits the model.

    (``checkpoint``'s schema check has made sure the dataset is one we know.)
    """
    data = _load_data(meta["dataset"], np.dtype(meta["dtype"]), True, meta["data_mean"], meta["data_std"])
    if (data.features, data.classes) != (meta["sizes"][0], meta["sizes"][-1]):
        raise CLIError(f"{path}: the model maps {meta['sizes'][0]} features to {meta['sizes'][-1]} classes, "
                       f"but {meta['dataset']} has {data.features} features and {data.classes} classes")
    return data


@keep_engine_settings
@quiet_numpy
def run_evaluate(args):
    ag, _, _ = _imports()
    model, meta = _load_model(args.model)
    ag.set_default_dtype(np.dtype(meta["dtype"]))
    data = _data_for(meta, args.model)
    correct, total = accuracy(model, *data.test)
    print(f"test accuracy {100 * correct / total:.2f}% ({correct}/{total}) on the {meta['dataset']} test split; "
          f"MLP {'-'.join(map(str, meta['sizes']))}")
    return 0


@keep_engine_settings
@quiet_numpy
def run_draw(args):
    ag, nn, _ = _imports()
    model, meta = _load_model(args.model)
    ag.set_default_dtype(np.dtype(meta["dtype"]))
    data = _data_for(meta, args.model)
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.model)), "graph.svg")
    _prepare_dir(os.path.dirname(os.path.abspath(out)))
    ag.manual_seed(0)       # dropout masks: the same picture every time
    n = meta["batch_size"]
    X, y = data.train
    picture = _draw_graph(model, nn.CrossEntropyLoss(), X[:n], y[:n], args.depth,
                          _graph_title(meta["dataset"], meta["sizes"], min(n, len(X))))
    fmt = report.picture_format(out)
    try:
        content = picture.source if fmt == "dot" else picture.pipe(format=fmt)   # dot renders the others
    except ag.viz.DotNotFoundError as e:
        raise CLIError(f"cannot draw the graph: {e}") from None
    try:
        report.write_text(out, content)
    except OSError as e:
        raise CLIError(f"cannot write {out}: {e.strerror or e}") from None
    print(f"wrote {out} (one batch of {min(n, len(X))} {meta['dataset']} rows, "
          f"MLP {'-'.join(map(str, meta['sizes']))})")
    html_files, html_warnings = pages.write_pages(     # --html: graph.html beside the picture
        args, out, model, nn.CrossEntropyLoss(), X[:n], y[:n],
        _graph_title(meta["dataset"], meta["sizes"], min(n, len(X))))
    for line in [f"wrote {os.path.join(os.path.dirname(out), f)}" for f in html_files] + html_warnings:
        print(line, file=sys.stderr if line.startswith("warning") else sys.stdout)
    return 0
