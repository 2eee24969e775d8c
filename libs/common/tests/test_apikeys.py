from gateway_common.apikeys import KEY_PREFIX, display_parts, generate_key, is_well_formed, key_digest


def test_generated_keys_are_well_formed_and_unique() -> None:
    keys = {generate_key() for _ in range(200)}
    assert len(keys) == 200
    assert all(k.startswith(KEY_PREFIX) and is_well_formed(k) for k in keys)


def test_checksum_catches_a_changed_character() -> None:
    key = generate_key()
    pos = len(KEY_PREFIX) + 3
    flipped = key[:pos] + ("A" if key[pos] != "A" else "B") + key[pos + 1 :]
    assert not is_well_formed(flipped)
    assert not is_well_formed(key[:-1])
    assert not is_well_formed("sk-xx-" + key[6:])
    assert not is_well_formed("")


def test_digest_depends_on_pepper_and_never_contains_the_key() -> None:
    key = generate_key()
    a, b = key_digest(b"pepper-a", key), key_digest(b"pepper-b", key)
    assert a != b
    assert len(a) == 64
    assert key not in a


def test_display_parts() -> None:
    key = generate_key()
    prefix, last4 = display_parts(key)
    assert prefix.startswith("sk-gw-")
    assert len(prefix) == 10
    assert key.endswith(last4)
    assert len(last4) == 4
