"""QR codes drawn by the hub for the page (frontend/qr_svg)."""

from __future__ import annotations

from xml.etree import ElementTree

from linli.testing.http import HubClient
from linli_frontend.qr import MAX_TEXT, qr_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_a_qr_code_is_an_svg_drawing_that_depends_on_its_text() -> None:
    one = qr_svg("LQR-0123456789abcdef", title="Visitor code")
    tree = ElementTree.fromstring(one)
    assert tree.tag == f"{SVG}svg"
    assert tree.find(f"{SVG}title").text == "Visitor code"  # type: ignore[union-attr]
    assert tree.find(f"{SVG}path") is not None
    assert qr_svg("LQR-0123456789abcdef", title="Visitor code") == one
    assert qr_svg("LQR-0123456789abcdeg", title="Visitor code") != one
    assert "http" not in one.replace("http://www.w3.org/2000/svg", "")


async def test_any_signed_in_user_may_draw_one_and_long_text_is_refused(
    hub_client: HubClient,
) -> None:
    resident = await hub_client.as_user("resident")
    async with resident.ws_client() as ws:
        answer = await ws.result("frontend/qr_svg", text="LQR-abc")
        assert answer["svg"].startswith("<svg")
        assert await ws.error("frontend/qr_svg", text="x" * (MAX_TEXT + 1)) == "invalid_format"
