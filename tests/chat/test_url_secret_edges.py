"""`has_secret_parts`/`url_identity`/`url_secrets` at their edges: a URL that does not even parse is assumed to
hold a secret (nothing says where one could not be), so its stored identity never spells it; and `url_secrets`
lists a secret before any shorter one inside it, so replacing them in turn leaves no tail of the longer one."""

from __future__ import annotations

from rolegraph.chat.spec import has_secret_parts, url_identity, url_secrets

UNPARSABLE = "https://u:hunter2secret@[::1/v1?key=SECRET2"  # an unclosed IPv6 bracket: urlsplit refuses it


def test_an_unparsable_url_is_taken_to_hold_a_secret_and_its_identity_spells_none():
    assert has_secret_parts(UNPARSABLE) is True
    identity = url_identity(UNPARSABLE)
    assert "hunter2secret" not in identity and "SECRET2" not in identity


def test_replacing_the_secrets_in_the_listed_order_leaves_no_part_of_a_longer_one():
    url = "https://tokenA:tokenA-and-more-secret@api.example.com/v1"  # the user name is the password's head
    text = "server says: bad credentials tokenA-and-more-secret"
    for secret in url_secrets(url):
        text = text.replace(secret, "***")
    assert text == "server says: bad credentials ***"
