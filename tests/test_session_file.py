"""Saved sessions: a restored session continues exactly as the original would; a mismatched or
corrupt file raises GGUFError naming the problem."""
import numpy as np
import pytest

import pyllama_edge as ple


@pytest.fixture(scope="module")
def model(tiny_llama3_q8):
    return ple.Model(tiny_llama3_q8, n_ctx=256)


def test_restored_session_continues_identically(model, tmp_path):
    prompt = "The river runs through the old town"
    original = model.session()
    original.generate(prompt, max_tokens=1, temperature=0)  # prefill; history = prompt
    path = tmp_path / "s.ples"
    original.save(path)
    restored = model.load_session(path)
    assert restored.history == original.history
    np.testing.assert_array_equal(restored._native.last_logits(), original._native.last_logits())
    # Continuing: the same prompt is fully reused from the restored cache.
    a = original.generate(prompt, max_tokens=20, temperature=0)
    b = restored.generate(prompt, max_tokens=20, temperature=0)
    assert a == b
    assert restored.last_prompt_evaluated == 1  # only the last prompt token is re-run for logits
    c = model.session().generate(prompt, max_tokens=20, temperature=0)
    assert a == c


def test_mismatched_and_corrupt_files(model, tiny_f32, tmp_path):
    s = model.session()
    s.generate("Hello there", max_tokens=1, temperature=0)
    path = tmp_path / "s.ples"
    s.save(path)
    other = ple.Model(tiny_f32, n_ctx=256)
    with pytest.raises(ple.GGUFError, match="different model"):
        other.load_session(path)
    data = bytearray(path.read_bytes())
    bad = tmp_path / "bad.ples"
    bad.write_bytes(bytes(data[:-100]))
    with pytest.raises(ple.GGUFError, match="size"):
        model.load_session(bad)
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0xFF
    bad.write_bytes(bytes(flipped))
    with pytest.raises(ple.GGUFError, match="checksum"):
        model.load_session(bad)
    bad.write_bytes(b"XXXXXXXX" + bytes(data[8:]))
    with pytest.raises(ple.GGUFError, match="not a pyllama_edge session"):
        model.load_session(bad)
    version = bytearray(data)
    version[8] = 99
    bad.write_bytes(bytes(version))
    with pytest.raises(ple.GGUFError, match="version"):
        model.load_session(bad)
    with pytest.raises(ple.GGUFError, match="do not fit"):
        model.load_session(path, n_ctx=1)
    with pytest.raises(FileNotFoundError):
        model.load_session(tmp_path / "missing.ples")


def test_save_never_writes_through_a_planted_temporary_symlink(model, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    path = tmp_path / "s.ples"
    (tmp_path / "s.ples.tmp").symlink_to(victim)  # the name older versions wrote to
    s = model.session()
    s.generate("A planted link", max_tokens=2, temperature=0)
    s.save(path)
    assert victim.read_text() == "precious"
    assert model.load_session(path).history == s.history


def test_concurrent_saves_to_one_path_leave_one_loadable_file(model, tmp_path):
    import threading
    path = tmp_path / "shared.ples"
    sessions = []
    for prompt in ("First conversation about rivers", "Second conversation, a longer one about mountains and snow"):
        s = model.session()
        s.generate(prompt, max_tokens=3, temperature=0)
        sessions.append(s)
    errors = []

    def save_many(s):
        try:
            for _ in range(15):
                s.save(path)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=save_many, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    loaded = model.load_session(path)  # complete and valid: its checksum holds
    assert loaded.history in ([s.history for s in sessions])
    assert [p.name for p in tmp_path.iterdir()] == ["shared.ples"]
