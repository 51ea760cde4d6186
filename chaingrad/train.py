"""The three commands: train, evaluate and draw, built only from autograd, nn and optim.

Training is the loop every course text writes down: for each mini-batch,
forward to the logits, softmax cross-entropy loss, ``backward()``, one
optimizer step; after each epoch, accuracy on the training and validation
rows in evaluation mode (no dropout, batch norm's running statistics).
"""
import os
import shlex
import sys
import time

import numpy as np

from . import checkpoint, datasets, pages, report
from .cli import CLIError

# Learning rates that work for every built-in dataset with the default batch size.
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "rmsprop": 0.001, "adadelta": 1.0, "adam": 0.003}


def _imports():
    """Import the library lazily so that `chaingrad --help` and argument errors stay instant."""
    from chaingrad import autograd as ag
    from chaingrad import nn
    from chaingrad import optim
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
    """A tqdm bar on stderr that disappears at the end of the epoch (the epoch line replaces it)."""
    from tqdm import tqdm
    return tqdm(iterable, total=total, desc=desc, unit="batch", leave=False, file=sys.stderr,
                dynamic_ncols=True, mininterval=0.1)


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


def run_train(args):
    ag, nn, _ = _imports()
    t_start = time.perf_counter()
    dtype = np.dtype(args.dtype)
    if args.out is not None:
        _prepare_dir(args.out)          # fail before the work, not after it
    data = _load_data(args.dataset or datasets.DEFAULT_DATASET, dtype, explicit=args.dataset is not None)
    name = data.name
    epochs = args.epochs or datasets.DATASETS[name].epochs
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    out = args.out or _prepare_dir(report.default_dir(name))

    ag.set_default_dtype(dtype)            # the DataLoader hands out batches in this dtype
    ag.manual_seed(args.seed)              # initialisation and dropout masks
    sizes = [data.features, *args.hidden, data.classes]
    meta = {"dataset": name, "sizes": sizes, "activation": args.activation, "batchnorm": args.batchnorm,
            "dropout": args.dropout, "dtype": args.dtype, "data_mean": data.mean, "data_std": data.std,
            "batch_size": args.batch_size}
    model = checkpoint.build_model(meta)
    optimizer = make_optimizer(args.optimizer, model.parameters(), lr)
    loss_fn = nn.CrossEntropyLoss()
    n_params = count_parameters(model)
    loader = nn.data.DataLoader(*data.train, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    arch = "MLP " + "-".join(map(str, sizes))
    recorder = pages.recorder(args, data)       # --html on 2-D data: the playground's epochs

    print(f"data:  {name}: {len(data.train[0]):,} train / {len(data.val[0]):,} validation / "
          f"{len(data.test[0]):,} test rows, {data.features} features, {data.classes} classes")
    print(f"model: {arch}, {args.activation}{', batch norm' if args.batchnorm else ''}"
          f"{f', dropout {args.dropout:g}' if args.dropout else ''}; {n_params:,} parameters, {args.dtype}")
    print(f"train: {args.optimizer} lr {lr:g}, batch {args.batch_size}, "
          f"{epochs} epoch{'s' * (epochs != 1)}, seed {args.seed}")

    history, width = [], len(str(epochs))
    t_train = time.perf_counter()
    for epoch in range(1, epochs + 1):
        t_epoch = time.perf_counter()
        loss = train_epoch(model, loss_fn, optimizer, loader, f"epoch {epoch:{width}d}/{epochs}")
        (tc, tn), (vc, vn) = accuracy(model, *data.train), accuracy(model, *data.val)
        history.append({"epoch": epoch, "loss": loss, "train_accuracy": tc / tn, "val_accuracy": vc / vn,
                        "seconds": time.perf_counter() - t_epoch})
        print(f"epoch {epoch:{width}d}/{epochs}  loss {loss:.4f}  train acc {_pct(tc / tn)}  "
              f"val acc {_pct(vc / vn)}  ({history[-1]['seconds']:.1f} s)", flush=True)
        pages.record_epoch(recorder, model, history[-1])
    train_seconds = time.perf_counter() - t_train
    correct, test_rows = accuracy(model, *data.test)
    checkpoint.save(model, meta, os.path.join(out, "model.npz"))

    # The pictures come after the model is saved: drawing runs one more (training-mode) batch.
    files, warnings = ["model.npz"], []
    try:
        n = min(args.batch_size, len(data.train[0]))
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
    n = min(args.batch_size, len(data.train[0]))      # --html: graph.html, playground.html
    html_files, html_warnings = pages.write_pages(args, os.path.join(out, "graph.svg"), model, loss_fn,
                                                  data.train[0][:n], data.train[1][:n],
                                                  _graph_title(name, sizes, n), recorder)
    files, warnings = files + html_files, warnings + html_warnings
    if report.write_curves(os.path.join(out, "curves.png"), history, f"{name}: {arch}, {args.optimizer} lr {lr:g}",
                           correct / test_rows):
        files.append("curves.png")
    else:
        warnings.append("warning: matplotlib is not installed, curves.png not written (pip install matplotlib)")
    files.append("run.json")

    seconds = time.perf_counter() - t_start
    settings = {k: getattr(args, k) for k in ("hidden", "activation", "batchnorm", "dropout", "optimizer",
                                              "batch_size", "seed", "dtype")}
    settings.update(dataset=name, lr=lr, epochs=epochs, out=out)
    report.write_json(os.path.join(out, "run.json"), {
        "command": " ".join(["chaingrad", *map(shlex.quote, sys.argv[1:])]),
        "settings": settings,
        "data": {"train_rows": len(data.train[0]), "val_rows": len(data.val[0]), "test_rows": test_rows,
                 "features": data.features, "classes": data.classes, "split_seed": datasets.DATA_SEED,
                 "mean": data.mean, "std": data.std},
        "model": {"sizes": sizes, "parameters": n_params, "summary": repr(model)},
        "history": history,
        "results": {"train_accuracy": history[-1]["train_accuracy"], "val_accuracy": history[-1]["val_accuracy"],
                    "test_accuracy": correct / test_rows, "test_correct": correct, "test_rows": test_rows,
                    "train_seconds": train_seconds, "seconds": seconds},
        "files": files,
    })
    if args.out is None:
        report.point_latest(out)

    for w in warnings:
        print(w, file=sys.stderr)
    print(f"done:  test accuracy {100 * correct / test_rows:.2f}% ({correct}/{test_rows}), "
          f"{n_params:,} parameters, trained in {train_seconds:.1f} s ({seconds:.1f} s in all)")
    print(f"wrote: {out}/  {'  '.join(files)}")
    print(f"next:  chaingrad evaluate {os.path.join(out, 'model.npz')}")
    return 0


def _prepare_dir(path):
    try:
        return report.prepare_dir(path)
    except report.OutputError as e:
        raise CLIError(str(e)) from None


def _load_model(path):
    try:
        return checkpoint.load(path)
    except checkpoint.ModelFileError as e:
        raise CLIError(str(e)) from None


def _data_for(meta, path):
    """The dataset the model was trained on, standardised as it was; check that it fits the model."""
    if meta["dataset"] not in datasets.DATASETS:
        raise CLIError(f"{path}: trained on an unknown dataset {meta['dataset']!r}")
    data = _load_data(meta["dataset"], np.dtype(meta["dtype"]), True, meta["data_mean"], meta["data_std"])
    if (data.features, data.classes) != (meta["sizes"][0], meta["sizes"][-1]):
        raise CLIError(f"{path}: the model maps {meta['sizes'][0]} features to {meta['sizes'][-1]} classes, "
                       f"but {meta['dataset']} has {data.features} features and {data.classes} classes")
    return data


def run_evaluate(args):
    ag, _, _ = _imports()
    model, meta = _load_model(args.model)
    ag.set_default_dtype(np.dtype(meta["dtype"]))
    data = _data_for(meta, args.model)
    correct, total = accuracy(model, *data.test)
    print(f"test accuracy {100 * correct / total:.2f}% ({correct}/{total}) on the {meta['dataset']} test split; "
          f"MLP {'-'.join(map(str, meta['sizes']))}")
    return 0


def run_draw(args):
    ag, nn, _ = _imports()
    model, meta = _load_model(args.model)
    ag.set_default_dtype(np.dtype(meta["dtype"]))
    data = _data_for(meta, args.model)
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.model)), "graph.svg")
    _prepare_dir(os.path.dirname(os.path.abspath(out)))
    ag.manual_seed(0)       # dropout masks: the same picture every time
    n = meta.get("batch_size", 32)
    X, y = data.train
    picture = _draw_graph(model, nn.CrossEntropyLoss(), X[:n], y[:n], args.depth,
                          _graph_title(meta["dataset"], meta["sizes"], min(n, len(X))))
    try:
        svg = picture.svg()
    except ag.viz.DotNotFoundError as e:
        raise CLIError(f"cannot draw the graph: {e}") from None
    try:
        report.write_text(out, svg)
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
