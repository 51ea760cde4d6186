"""nn.save / nn.load: safetensors (default) or .npz, no pickle, atomic writes with the usual
permissions, clear one-line errors that leave the model untouched."""
import json
import os
import stat
import struct
import zipfile

import numpy as np
import pytest
import safetensors.numpy

import chaingrad
from chaingrad import autograd as ag
from chaingrad import nn
from chaingrad.nn.serialization import load_metadata

FORMATS = ["model.safetensors", "model.npz", "model.weights"]     # the last: safetensors by default


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


def _is_safetensors(path):
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    return isinstance(json.loads(data[8:8 + n]), dict)


@pytest.mark.parametrize("name", FORMATS)
def test_round_trip_module_and_state(tmp_path, name):
    src, dst = _model(0), _model(1)
    path = tmp_path / name
    nn.save(src, path)
    state = nn.load(path)
    assert isinstance(state, dict) and sorted(state) == sorted(src.state_dict())
    assert {k: v.dtype for k, v in state.items()} == {k: v.dtype for k, v in src.state_dict().items()}
    assert nn.load(path, dst) is dst
    _assert_same_state(src, dst)
    nn.save(src.state_dict(), tmp_path / ("state-" + name))     # a state dict works as well
    np.testing.assert_array_equal(nn.load(str(tmp_path / ("state-" + name)))["layers.1.running_var"],
                                  src.layers[1].running_var.data)
    src.eval(), dst.eval()
    x = ag.randn(4, 3)
    np.testing.assert_array_equal(src(x).data, dst(x).data)


def test_the_format_follows_the_name(tmp_path):
    nn.save(_model(), tmp_path / "a.safetensors")
    nn.save(_model(), tmp_path / "b.npz")
    nn.save(_model(), tmp_path / "c")
    assert _is_safetensors(tmp_path / "a.safetensors") and _is_safetensors(tmp_path / "c")
    assert zipfile.is_zipfile(tmp_path / "b.npz")
    # load looks at the content, not the name
    os.rename(tmp_path / "b.npz", tmp_path / "renamed.safetensors")
    assert sorted(nn.load(tmp_path / "renamed.safetensors")) == sorted(_model().state_dict())


def test_safetensors_file_is_readable_by_the_safetensors_library(tmp_path):
    path = tmp_path / "m.safetensors"
    nn.save(_model(), path, metadata={"note": "three inputs"})
    arrays = safetensors.numpy.load_file(str(path))
    np.testing.assert_array_equal(arrays["layers.0.weight"], _model().layers[0].weight.data)
    from safetensors import safe_open
    with safe_open(str(path), framework="np") as f:
        assert f.metadata() == {"note": "three inputs", "chaingrad.format": "2", "chaingrad.layout": "out_in",
                                "chaingrad.version": chaingrad.__version__}


def test_npz_file_is_plain_npz_without_pickle(tmp_path):
    path = tmp_path / "m.npz"
    nn.save(_model(), path)
    with zipfile.ZipFile(path) as z:        # the arrays, and the metadata (the layout record) as JSON bytes
        assert sorted(z.namelist()) == sorted([k + ".npy" for k in _model().state_dict()] + ["__metadata__.npy"])
    with np.load(path, allow_pickle=False) as f:          # readable by numpy alone, no code runs
        assert f["layers.0.weight"].shape == (6, 3)
        assert json.loads(f["__metadata__"].tobytes())["chaingrad.layout"] == "out_in"
    assert os.listdir(tmp_path) == ["m.npz"]               # no temporary file left behind


@pytest.mark.parametrize("name", FORMATS)
def test_metadata_round_trip(tmp_path, name):
    path = tmp_path / name
    meta = {"architecture": json.dumps({"sizes": [3, 6, 2]}), "note": "ünïcode ok"}
    nn.save(_model(), path, metadata=meta)
    assert load_metadata(path) == meta
    assert sorted(nn.load(path)) == sorted(_model().state_dict())      # the metadata is not an array
    nn.save(_model(), tmp_path / ("plain-" + name))
    assert load_metadata(tmp_path / ("plain-" + name)) == {}


def test_metadata_must_be_strings_and_the_key_is_reserved(tmp_path):
    with pytest.raises(TypeError, match="strings to strings"):
        nn.save(_model(), tmp_path / "m.safetensors", metadata={"sizes": [3, 6, 2]})
    with pytest.raises(ValueError, match="reserved"):
        nn.save({"__metadata__": np.zeros(2)}, tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []


def test_contiguity_and_dtypes_survive(tmp_path):
    state = {"t": np.arange(6.0).reshape(2, 3).T, "f32": np.ones(3, np.float32), "i": np.arange(4),
             "b": np.array([True, False]), "s": np.float64(2.5)}
    for name in ("x.safetensors", "x.npz"):
        nn.save(state, tmp_path / name)
        back = nn.load(tmp_path / name)
        for k, v in state.items():
            np.testing.assert_array_equal(back[k], v, err_msg=k)
            assert back[k].dtype == np.asarray(v).dtype and back[k].shape == np.shape(v)


# --- atomic writes and permissions ---------------------------------------------------------------

@pytest.mark.parametrize("name, target, attribute", [
    ("m.npz", np, "savez"), ("m.safetensors", safetensors.numpy, "save")])
def test_save_is_atomic(tmp_path, monkeypatch, name, target, attribute):
    path = tmp_path / name
    nn.save(_model(0), path)
    good = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut in the middle of writing")
    monkeypatch.setattr(target, attribute, crash)
    with pytest.raises(KeyboardInterrupt):
        nn.save(_model(1), path)
    assert path.read_bytes() == good                       # the old file is intact
    assert os.listdir(tmp_path) == [name]                  # and the temporary file is gone


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("name", ["m.safetensors", "m.npz"])
def test_saved_files_get_the_usual_permissions(tmp_path, umask_022, name):
    path = tmp_path / name

    def mode():
        return stat.S_IMODE(os.stat(path).st_mode)
    nn.save(_model(), path)
    assert mode() == 0o644                                 # not mkstemp's private 0600
    nn.save(_model(1), path)
    assert mode() == 0o644                                 # replacing it keeps 0644
    os.chmod(path, 0o640)
    nn.save(_model(2), path)
    assert mode() == 0o640                                 # a file keeps the permissions its owner gave it


def test_save_rejects_non_numeric_state(tmp_path):
    with pytest.raises(ValueError, match="only numeric"):
        nn.save({"w": np.array(["x"])}, tmp_path / "bad.safetensors")
    assert not (tmp_path / "bad.safetensors").exists()


# --- damaged files: one clear ValueError, the model untouched -------------------------------------

def _check_untouched_after(path, match):
    model = _model(5)
    before = model.state_dict()
    with pytest.raises(ValueError, match=match) as info:
        nn.load(path, model)
    message = str(info.value)
    assert str(path) in message                            # the error names the file
    assert "allow_pickle" not in message
    assert "\n" not in message or "does not fit" in message      # load_state_dict lists keys on lines
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    return message


@pytest.mark.parametrize("name", ["m.safetensors", "m.npz"])
def test_truncated_file(tmp_path, name):
    path = tmp_path / name
    nn.save(_model(), path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 5, 0):
        path.write_bytes(data[:cut])
        _check_untouched_after(path, "damaged")


def test_damaged_npz_bytes(tmp_path):
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


@pytest.mark.parametrize("content", [b"these are not weights", b"\x00" * 64, b"PK\x03\x04 not a zip after all"])
def test_not_a_state_file(tmp_path, content):
    path = tmp_path / "notes.npz"
    path.write_bytes(content)
    _check_untouched_after(path, "damaged or not a safetensors or .npz")


def test_single_npy_and_missing_file(tmp_path):
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    _check_untouched_after(single, "damaged")
    with pytest.raises(FileNotFoundError, match="no such file"):
        nn.load(tmp_path / "missing.npz")
    with pytest.raises(IsADirectoryError, match="directory"):
        nn.load(tmp_path)


def test_pickled_object_arrays_are_refused_without_a_hint_to_allow_pickle(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"layers.0.weight": np.array([object()], dtype=object)})
    message = _check_untouched_after(path, "pickle")
    assert "only numeric arrays" in message


def _forged_npz(path, shape, data):
    """An .npz whose one array header claims ``shape`` float64 values but holds ``data``."""
    import io
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": shape})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("layers.0.weight.npy", member.getvalue() + data)


def _forged_safetensors(path, shape, nbytes, data):
    header = json.dumps({"layers.0.weight": {"dtype": "F64", "shape": shape, "data_offsets": [0, nbytes]}})
    path.write_bytes(struct.pack("<Q", len(header)) + header.encode() + data)


def test_a_header_claiming_more_data_than_the_file_holds(tmp_path):
    """Refused from the header alone: no attempt to allocate 80 GB, no MemoryError."""
    path = tmp_path / "big.npz"
    _forged_npz(path, (10 ** 10,), b"\x00" * 8)
    assert "claims" in _check_untouched_after(path, "damaged")
    path = tmp_path / "big.safetensors"
    _forged_safetensors(path, [10 ** 10], 8 * 10 ** 10, b"\x00" * 8)
    _check_untouched_after(path, "damaged")
    path.write_bytes(struct.pack("<Q", 10 ** 15) + b"{}")         # a header length of a petabyte
    _check_untouched_after(path, "damaged")


def test_load_metadata_of_a_damaged_file(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(ValueError, match="damaged"):
        load_metadata(path)
    path = tmp_path / "m.npz"
    np.savez(path, __metadata__=np.frombuffer(b"[1, 2]", dtype=np.uint8))
    with pytest.raises(ValueError, match="not a JSON object"):
        load_metadata(path)


@pytest.mark.parametrize("name", ["small.safetensors", "small.npz"])
def test_wrong_architecture(tmp_path, name):
    path = tmp_path / name
    nn.save(nn.MLP([3, 4, 2]), path)
    _check_untouched_after(path, "does not fit this MLP")
    state = nn.load(path)
    assert "layers.0.bias" in state                        # the file itself is fine


def test_load_non_strict_into_model(tmp_path):
    path = tmp_path / "first_layer.safetensors"
    src = _model(0)
    nn.save({"layers.0.weight": src.layers[0].weight}, path)  # Tensors are accepted
    dst = _model(1)
    nn.load(path, dst, strict=False)
    np.testing.assert_array_equal(dst.layers[0].weight.data, src.layers[0].weight.data)
