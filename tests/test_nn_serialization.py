"""nn.save / nn.load: .npz without pickle, atomic writes, clear errors that leave the model untouched."""
import os
import zipfile

import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad import nn


def _model(seed=0):
    ag.manual_seed(seed)
    m = nn.MLP([3, 6, 2], batchnorm=True)
    m(ag.randn(8, 3))                   # running statistics differ from their initial values
    return m


def _assert_same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        np.testing.assert_array_equal(sa[k], sb[k], err_msg=k)


def test_round_trip_module_and_state(tmp_path):
    src, dst = _model(0), _model(1)
    path = tmp_path / "model.npz"
    nn.save(src, path)
    state = nn.load(path)
    assert isinstance(state, dict) and list(state) == list(src.state_dict())
    assert nn.load(path, dst) is dst
    _assert_same_state(src, dst)
    nn.save(src.state_dict(), tmp_path / "state.npz")          # a state dict works as well
    np.testing.assert_array_equal(nn.load(str(tmp_path / "state.npz"))["layers.1.running_var"],
                                  src.layers[1].running_var.data)
    src.eval(), dst.eval()
    x = ag.randn(4, 3)
    np.testing.assert_array_equal(src(x).data, dst(x).data)


def test_file_is_plain_npz_without_pickle(tmp_path):
    path = tmp_path / "m.npz"
    nn.save(_model(), path)
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == sorted(k + ".npy" for k in _model().state_dict())
    with np.load(path, allow_pickle=False) as f:          # readable by numpy alone, no code runs
        assert f["layers.0.weight"].shape == (3, 6)
    assert os.listdir(tmp_path) == ["m.npz"]               # no temporary file left behind


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    nn.save(_model(0), path)
    good = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut in the middle of writing")
    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        nn.save(_model(1), path)
    assert path.read_bytes() == good                       # the old file is intact
    assert os.listdir(tmp_path) == ["m.npz"]               # and the temporary file is gone


def test_save_rejects_non_numeric_state(tmp_path):
    with pytest.raises(ValueError, match="only numeric"):
        nn.save({"w": np.array(["x"])}, tmp_path / "bad.npz")
    assert not (tmp_path / "bad.npz").exists()


def _check_untouched_after(path, match):
    model = _model(5)
    before = model.state_dict()
    with pytest.raises(ValueError, match=match) as info:
        nn.load(path, model)
    assert str(path) in str(info.value)                    # the error names the file
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_truncated_file(tmp_path):
    path = tmp_path / "m.npz"
    nn.save(_model(), path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 5):
        path.write_bytes(data[:cut])
        _check_untouched_after(path, "damaged")


def test_damaged_bytes(tmp_path):
    path = tmp_path / "m.npz"
    nn.save(_model(), path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("layers.0.weight.npy")
    # Flip a byte inside the stored array data: the zip CRC check must catch it.
    # The local header is 30 bytes plus the name and its own extra field (lengths at bytes 26-29).
    name_len, extra_len = np.frombuffer(bytes(data[info.header_offset + 26:info.header_offset + 30]), "<u2")
    offset = info.header_offset + 30 + int(name_len) + int(extra_len) + info.file_size - 3
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    _check_untouched_after(path, "damaged")


def test_not_an_npz(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("these are not weights")
    _check_untouched_after(path, "damaged or not an .npz")
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    _check_untouched_after(single, "single array")
    with pytest.raises(FileNotFoundError, match="no such file"):
        nn.load(tmp_path / "missing.npz")


def test_pickled_object_arrays_are_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"layers.0.weight": np.array([object()], dtype=object)})
    _check_untouched_after(path, "pickle")


def test_wrong_architecture(tmp_path):
    path = tmp_path / "small.npz"
    nn.save(nn.MLP([3, 4, 2]), path)
    _check_untouched_after(path, "does not fit this MLP")
    state = nn.load(path)
    assert "layers.0.bias" in state                        # the file itself is fine


def test_load_non_strict_into_model(tmp_path):
    path = tmp_path / "first_layer.npz"
    src = _model(0)
    nn.save({"layers.0.weight": src.layers[0].weight}, path)  # Tensors are accepted
    dst = _model(1)
    nn.load(path, dst, strict=False)
    np.testing.assert_array_equal(dst.layers[0].weight.data, src.layers[0].weight.data)
