from keys.passwords import PasswordPolicy, Passwords


def test_hash_is_argon2id_and_verifies():
    pw = Passwords(time_cost=1, memory_cost=1024, parallelism=1)
    stored = pw.hash("Correct-Horse-9")
    assert stored.startswith("$argon2id$")
    assert pw.verify(stored, "Correct-Horse-9")
    assert not pw.verify(stored, "correct-horse-9")
    assert not pw.verify(None, "anything")  # unknown user: same work, False
    assert not pw.verify("garbage", "x")


def test_rehash_when_parameters_change():
    old = Passwords(time_cost=1, memory_cost=1024, parallelism=1).hash("Correct-Horse-9")
    assert Passwords(time_cost=2, memory_cost=1024, parallelism=1).needs_rehash(old)
    assert not Passwords(time_cost=1, memory_cost=1024, parallelism=1).needs_rehash(old)


def test_policy():
    policy = PasswordPolicy()
    assert policy.acceptable("Abcdefgh12")
    assert not policy.acceptable("abcdefgh12")
    assert not policy.acceptable("Short1a")
    assert not policy.acceptable("ABCDEFGHIJ1")
